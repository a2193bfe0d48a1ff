from enum import StrEnum


class LinkUpdatedEventType(StrEnum):
    LINK_UPDATED = "link.updated"

    def __str__(self) -> str:
        return str(self.value)

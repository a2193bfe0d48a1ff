from enum import StrEnum


class LinkCreatedEventType(StrEnum):
    LINK_CREATED = "link.created"

    def __str__(self) -> str:
        return str(self.value)

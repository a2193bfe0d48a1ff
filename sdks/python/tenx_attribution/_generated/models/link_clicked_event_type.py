from enum import StrEnum


class LinkClickedEventType(StrEnum):
    LINK_CLICKED = "link.clicked"

    def __str__(self) -> str:
        return str(self.value)

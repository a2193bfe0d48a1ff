from enum import StrEnum


class Device(StrEnum):
    DESKTOP = "desktop"
    MOBILE = "mobile"
    OTHER = "other"
    TABLET = "tablet"

    def __str__(self) -> str:
        return str(self.value)

from enum import StrEnum


class ClaimStatus(StrEnum):
    APPROVED = "approved"
    DENIED = "denied"
    OPEN = "open"

    def __str__(self) -> str:
        return str(self.value)

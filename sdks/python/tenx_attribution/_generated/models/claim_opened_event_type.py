from enum import StrEnum


class ClaimOpenedEventType(StrEnum):
    CLAIM_OPENED = "claim.opened"

    def __str__(self) -> str:
        return str(self.value)

from enum import StrEnum


class PayoutCreatedEventType(StrEnum):
    PAYOUT_CREATED = "payout.created"

    def __str__(self) -> str:
        return str(self.value)

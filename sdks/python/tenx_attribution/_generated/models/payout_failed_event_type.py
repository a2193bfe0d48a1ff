from enum import StrEnum


class PayoutFailedEventType(StrEnum):
    PAYOUT_FAILED = "payout.failed"

    def __str__(self) -> str:
        return str(self.value)

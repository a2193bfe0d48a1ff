from enum import StrEnum


class PayoutReturnedEventType(StrEnum):
    PAYOUT_RETURNED = "payout.returned"

    def __str__(self) -> str:
        return str(self.value)

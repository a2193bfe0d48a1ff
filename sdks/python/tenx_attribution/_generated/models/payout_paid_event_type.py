from enum import StrEnum


class PayoutPaidEventType(StrEnum):
    PAYOUT_PAID = "payout.paid"

    def __str__(self) -> str:
        return str(self.value)

from enum import StrEnum


class PayoutStatus(StrEnum):
    CANCELED = "canceled"
    FAILED = "failed"
    PAID = "paid"
    PENDING = "pending"
    RETURNED = "returned"
    SENDING = "sending"

    def __str__(self) -> str:
        return str(self.value)

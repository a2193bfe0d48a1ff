from enum import StrEnum


class CommissionStatus(StrEnum):
    APPROVED = "approved"
    CAPPED = "capped"
    HELD = "held"
    PAID = "paid"
    PENDING = "pending"
    REJECTED = "rejected"

    def __str__(self) -> str:
        return str(self.value)

from enum import StrEnum


class CommissionRejectedEventType(StrEnum):
    COMMISSION_REJECTED = "commission.rejected"

    def __str__(self) -> str:
        return str(self.value)

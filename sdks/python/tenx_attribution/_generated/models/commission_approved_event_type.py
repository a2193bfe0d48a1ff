from enum import StrEnum


class CommissionApprovedEventType(StrEnum):
    COMMISSION_APPROVED = "commission.approved"

    def __str__(self) -> str:
        return str(self.value)

from enum import StrEnum


class CommissionEventType(StrEnum):
    COMMISSION_APPROVED = "commission.approved"
    COMMISSION_CREATED = "commission.created"
    COMMISSION_REJECTED = "commission.rejected"
    COMMISSION_REVERSED = "commission.reversed"
    PLAN_CHANGED = "plan.changed"

    def __str__(self) -> str:
        return str(self.value)

from enum import StrEnum


class CommissionCreatedEventType(StrEnum):
    COMMISSION_CREATED = "commission.created"

    def __str__(self) -> str:
        return str(self.value)

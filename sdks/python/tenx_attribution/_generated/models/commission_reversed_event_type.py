from enum import StrEnum


class CommissionReversedEventType(StrEnum):
    COMMISSION_REVERSED = "commission.reversed"

    def __str__(self) -> str:
        return str(self.value)

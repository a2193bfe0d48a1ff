from enum import StrEnum


class CommissionKind(StrEnum):
    ADJUSTMENT = "adjustment"
    BONUS = "bonus"
    CLAIM = "claim"
    CLAWBACK = "clawback"
    CLICK_DAY = "click_day"
    CONVERSION = "conversion"
    IMPORTED = "imported"
    MANUAL = "manual"

    def __str__(self) -> str:
        return str(self.value)

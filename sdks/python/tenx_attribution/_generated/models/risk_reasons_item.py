from enum import StrEnum


class RiskReasonsItem(StrEnum):
    PER_CLICK_CAP = "per_click_cap"
    TOO_FAST = "too_fast"
    UNVERIFIED = "unverified"
    VALUE_ABOVE_LIMIT = "value_above_limit"

    def __str__(self) -> str:
        return str(self.value)

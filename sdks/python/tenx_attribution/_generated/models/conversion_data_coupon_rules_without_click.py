from enum import StrEnum


class ConversionDataCouponRulesWithoutClick(StrEnum):
    HOLD = "hold"
    NONE = "none"
    PAY = "pay"
    REDUCE = "reduce"

    def __str__(self) -> str:
        return str(self.value)

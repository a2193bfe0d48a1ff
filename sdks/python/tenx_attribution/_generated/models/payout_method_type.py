from enum import StrEnum


class PayoutMethodType(StrEnum):
    MANUAL = "manual"
    PAYPAL = "paypal"
    SEPA = "sepa"
    WISE = "wise"

    def __str__(self) -> str:
        return str(self.value)

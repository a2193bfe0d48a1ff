from enum import StrEnum


class PayoutProviderName(StrEnum):
    PAYPAL = "paypal"
    STRIPE = "stripe"

    def __str__(self) -> str:
        return str(self.value)

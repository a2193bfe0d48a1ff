from enum import StrEnum


class PayoutMethodType(StrEnum):
    MANUAL = "manual"
    PAYPAL = "paypal"
    SEPA = "sepa"
    STRIPE_CONNECT = "stripe_connect"
    WISE = "wise"

    def __str__(self) -> str:
        return str(self.value)

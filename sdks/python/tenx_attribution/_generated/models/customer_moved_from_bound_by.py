from enum import StrEnum


class CustomerMovedFromBoundBy(StrEnum):
    CLAIM = "claim"
    COUPON = "coupon"
    CTX = "ctx"
    IMPORT = "import"
    MANUAL = "manual"
    SHOPIFY = "shopify"
    STRIPE = "stripe"

    def __str__(self) -> str:
        return str(self.value)

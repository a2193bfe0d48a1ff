from enum import StrEnum


class CouponLeakSuspectedEventType(StrEnum):
    COUPON_LEAK_SUSPECTED = "coupon.leak_suspected"

    def __str__(self) -> str:
        return str(self.value)

from enum import StrEnum


class CouponLeakReasonsItem(StrEnum):
    COUPON_FEW_SALES = "coupon_few_sales"
    COUPON_SALES_WITHOUT_PARTNER_CLICK = "coupon_sales_without_partner_click"
    COUPON_SITE_REFERRER = "coupon_site_referrer"

    def __str__(self) -> str:
        return str(self.value)

from enum import StrEnum


class EventType(StrEnum):
    CLAIM_DECIDED = "claim.decided"
    CLAIM_OPENED = "claim.opened"
    COMMISSION_APPROVED = "commission.approved"
    COMMISSION_CREATED = "commission.created"
    COMMISSION_REJECTED = "commission.rejected"
    COMMISSION_REVERSED = "commission.reversed"
    CONVERSION_CREATED = "conversion.created"
    CONVERSION_REVERSED = "conversion.reversed"
    CONVERSION_TESTED = "conversion.tested"
    COUPON_LEAK_SUSPECTED = "coupon.leak_suspected"
    CUSTOMER_BOUND = "customer.bound"
    LINK_CLICKED = "link.clicked"
    LINK_CREATED = "link.created"
    LINK_UPDATED = "link.updated"
    PARTNER_APPLIED = "partner.applied"
    PARTNER_APPROVED = "partner.approved"
    PARTNER_UPDATED = "partner.updated"
    PAYOUT_CREATED = "payout.created"
    PAYOUT_FAILED = "payout.failed"
    PAYOUT_PAID = "payout.paid"
    PAYOUT_RETURNED = "payout.returned"
    PAYOUT_SENT = "payout.sent"
    PLAN_CHANGED = "plan.changed"
    WEBHOOK_TEST = "webhook.test"

    def __str__(self) -> str:
        return str(self.value)

from enum import StrEnum


class PayoutWaitingReason(StrEnum):
    CURRENCY_NOT_SUPPORTED = "currency_not_supported"
    IN_LIVE_BATCH = "in_live_batch"
    MANUAL = "manual"
    NO_PAYOUT_METHOD = "no_payout_method"
    OTHER_METHOD = "other_method"
    PAYOUT_FRAUD_HOLD = "payout_fraud_hold"
    PAYOUT_METHOD_DISPUTED = "payout_method_disputed"
    PAYOUT_METHOD_INVALID = "payout_method_invalid"
    PAYOUT_METHOD_UNCONFIRMED = "payout_method_unconfirmed"
    PAYOUT_MIN_CUSTOMERS = "payout_min_customers"
    PAYOUT_TAX_PROFILE_MISSING = "payout_tax_profile_missing"
    PAYOUT_TAX_PROFILE_NOT_ACCEPTED = "payout_tax_profile_not_accepted"

    def __str__(self) -> str:
        return str(self.value)

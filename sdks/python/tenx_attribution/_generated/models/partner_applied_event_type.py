from enum import StrEnum


class PartnerAppliedEventType(StrEnum):
    PARTNER_APPLIED = "partner.applied"

    def __str__(self) -> str:
        return str(self.value)

from enum import StrEnum


class PartnerApprovedEventType(StrEnum):
    PARTNER_APPROVED = "partner.approved"

    def __str__(self) -> str:
        return str(self.value)

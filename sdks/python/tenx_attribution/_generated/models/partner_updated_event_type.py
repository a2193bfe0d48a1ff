from enum import StrEnum


class PartnerUpdatedEventType(StrEnum):
    PARTNER_UPDATED = "partner.updated"

    def __str__(self) -> str:
        return str(self.value)

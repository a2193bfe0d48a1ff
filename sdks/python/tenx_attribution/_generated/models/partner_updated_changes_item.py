from enum import StrEnum


class PartnerUpdatedChangesItem(StrEnum):
    PAYOUTMETHOD = "payoutMethod"

    def __str__(self) -> str:
        return str(self.value)

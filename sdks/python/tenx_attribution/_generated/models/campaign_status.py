from enum import StrEnum


class CampaignStatus(StrEnum):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"
    PAUSED = "PAUSED"

    def __str__(self) -> str:
        return str(self.value)

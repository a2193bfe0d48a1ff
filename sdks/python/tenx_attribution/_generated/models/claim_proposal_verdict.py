from enum import StrEnum


class ClaimProposalVerdict(StrEnum):
    APPROVE = "approve"
    DENY = "deny"
    UNSURE = "unsure"

    def __str__(self) -> str:
        return str(self.value)

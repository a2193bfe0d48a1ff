from enum import StrEnum


class PayoutSentEventType(StrEnum):
    PAYOUT_SENT = "payout.sent"

    def __str__(self) -> str:
        return str(self.value)

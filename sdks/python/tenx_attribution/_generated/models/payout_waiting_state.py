from enum import StrEnum


class PayoutWaitingState(StrEnum):
    HELD = "held"
    RETRYING = "retrying"

    def __str__(self) -> str:
        return str(self.value)

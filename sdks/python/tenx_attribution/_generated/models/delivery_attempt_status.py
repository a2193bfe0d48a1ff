from enum import StrEnum


class DeliveryAttemptStatus(StrEnum):
    FAILED = "failed"
    SENDING = "sending"
    SUCCEEDED = "succeeded"

    def __str__(self) -> str:
        return str(self.value)

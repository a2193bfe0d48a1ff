from enum import StrEnum


class CustomerBoundEventType(StrEnum):
    CUSTOMER_BOUND = "customer.bound"

    def __str__(self) -> str:
        return str(self.value)

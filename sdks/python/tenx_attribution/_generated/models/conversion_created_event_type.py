from enum import StrEnum


class ConversionCreatedEventType(StrEnum):
    CONVERSION_CREATED = "conversion.created"

    def __str__(self) -> str:
        return str(self.value)

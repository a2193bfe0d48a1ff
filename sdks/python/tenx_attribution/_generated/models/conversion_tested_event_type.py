from enum import StrEnum


class ConversionTestedEventType(StrEnum):
    CONVERSION_TESTED = "conversion.tested"

    def __str__(self) -> str:
        return str(self.value)

from enum import StrEnum


class ConversionReversedEventType(StrEnum):
    CONVERSION_REVERSED = "conversion.reversed"

    def __str__(self) -> str:
        return str(self.value)

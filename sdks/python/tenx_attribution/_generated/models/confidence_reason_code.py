from enum import StrEnum


class ConfidenceReasonCode(StrEnum):
    BOT_RATIO_ELEVATED = "bot_ratio_elevated"
    BOT_RATIO_HIGH = "bot_ratio_high"
    CONVERSIONS_EXCEED_QUALIFIED_CLICKS = "conversions_exceed_qualified_clicks"
    FLAGGED_CONVERSIONS_HIGH = "flagged_conversions_high"
    STALE_DATA = "stale_data"
    UNVERIFIED_CONVERSIONS_HIGH = "unverified_conversions_high"

    def __str__(self) -> str:
        return str(self.value)

from enum import StrEnum


class BotReason(StrEnum):
    HEAD_REQUEST = "head_request"
    LINK_PREVIEW = "link_preview"
    MALFORMED_USER_AGENT = "malformed_user_agent"
    MISSING_USER_AGENT = "missing_user_agent"
    USER_AGENT = "user_agent"

    def __str__(self) -> str:
        return str(self.value)

from enum import StrEnum


class ErrorCode(StrEnum):
    CONFLICT = "conflict"
    CSRF = "csrf"
    FORBIDDEN = "forbidden"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    INSUFFICIENT_ROLE = "insufficient_role"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    INTERNAL = "internal"
    INVALID_CTX = "invalid_ctx"
    INVALID_REQUEST = "invalid_request"
    INVALID_SIGNATURE = "invalid_signature"
    INVALID_STATE = "invalid_state"
    LINK_EXPIRED = "link_expired"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_FOUND = "not_found"
    NOT_VERIFIED = "not_verified"
    PASSKEY_REQUIRED = "passkey_required"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    PRECONDITION_FAILED = "precondition_failed"
    RATE_LIMITED = "rate_limited"
    UNAUTHORIZED = "unauthorized"
    UNAVAILABLE = "unavailable"
    VERIFICATION_REQUIRED = "verification_required"

    def __str__(self) -> str:
        return str(self.value)

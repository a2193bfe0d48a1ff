"""The errors of tenx_attribution: the API's words, typed."""

from __future__ import annotations

import json
from collections.abc import Mapping


class TenxError(Exception):
    """An answer of the API that is not a success, with the API's own words (its error envelope).

    ``code``: the API's error code (``invalid_request``, ``not_found``, ``rate_limited``, …) or
    ``network_error``; ``message``: its words; ``status``: the HTTP status (None when no answer
    came); ``request_id``: the request's id (the envelope's ``requestId``, else ``x-request-id``).
    """

    def __init__(self, code: str, message: str, status: int | None = None, request_id: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.request_id = request_id

    @property
    def requestId(self) -> str | None:  # noqa: N802 — the API's spelling, as in the TypeScript library
        return self.request_id

    def __repr__(self) -> str:
        return f"TenxError(code={self.code!r}, status={self.status!r}, message={self.message!r}, request_id={self.request_id!r})"

    @classmethod
    def from_answer(cls, status: int, content: bytes, headers: Mapping[str, str]) -> TenxError:
        """The error of an answer, from its ``{error: {code, message, requestId}}`` body when it has one."""
        envelope = None
        try:
            body = json.loads(content) if content else None
            if isinstance(body, dict) and isinstance(body.get("error"), dict):
                envelope = body["error"]
        except ValueError:
            pass
        header_id = headers.get("x-request-id")
        if envelope is not None and isinstance(envelope.get("code"), str):
            request_id = envelope.get("requestId") if isinstance(envelope.get("requestId"), str) else header_id
            return cls(envelope["code"], str(envelope.get("message", "")), status, request_id)
        text = content[:200].decode("utf-8", "replace")
        return cls("http_error", f"HTTP {status}" + (f": {text}" if text else ""), status, header_id)


class TenxVersionError(TenxError):
    """A server of another major API version than this library's (``x-tenx-api-version``)."""

    def __init__(self, message: str, server_version: str, status: int | None = None):
        super().__init__("api_version_mismatch", message, status)
        self.server_version = server_version


class WebhookVerificationError(Exception):
    """A webhook that did not verify; its message is the same words as the TypeScript library's."""

"""Standard Webhooks verification of 10x deliveries."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from typing import Any

from ._errors import WebhookVerificationError


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    getter = getattr(headers, "get", None)
    value = getter(name) if getter is not None else None
    if value is None:
        for key, v in headers.items():
            if key.lower() == name:
                value = v
                break
    if isinstance(value, list | tuple):
        value = " ".join(value)
    return value


def verify_webhook(
    payload: bytes | str,
    headers: Mapping[str, Any],
    secret: str,
    *,
    tolerance_seconds: int = 300,
    now: float | None = None,
) -> dict[str, Any]:
    """Verifies a 10x webhook delivery (Standard Webhooks) and returns its event (the parsed body).

    ``payload`` is the raw body exactly as received (never re-serialized JSON); ``secret`` is the
    subscription's ``whsec_…`` secret. The signature header may hold several space-separated
    ``v1,<base64>`` signatures (during a secret rotation); one match is enough. Raises
    ``WebhookVerificationError`` with the same words as the TypeScript library.
    """
    msg_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if not msg_id or not timestamp or not signatures:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header")
    timestamp = timestamp.strip()
    if not re.fullmatch(r"\d{1,15}", timestamp):
        raise WebhookVerificationError("invalid webhook-timestamp")
    sent = int(timestamp)
    current = int(time.time() if now is None else now)
    if current - sent > tolerance_seconds:
        raise WebhookVerificationError(f"webhook timestamp too old (more than {tolerance_seconds} seconds)")
    if sent - current > tolerance_seconds:
        raise WebhookVerificationError(f"webhook timestamp too new (more than {tolerance_seconds} seconds ahead)")
    encoded = secret[len("whsec_") :] if secret.startswith("whsec_") else secret
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise WebhookVerificationError("the secret is not whsec_ followed by base64")
    body = payload if isinstance(payload, bytes) else payload.encode("utf-8")
    mac = hmac.new(key, msg_id.encode() + b"." + timestamp.encode() + b"." + body, hashlib.sha256).digest()
    expected = base64.b64encode(mac).decode()
    matched = False
    for candidate in signatures.split(" "):
        version, _, signature = candidate.partition(",")
        if version != "v1" or not signature:
            continue
        # Every candidate is compared, matched or not: the time taken says nothing about which.
        if hmac.compare_digest(signature.encode(), expected.encode()):
            matched = True
    if not matched:
        raise WebhookVerificationError("no signature in webhook-signature matches the payload")
    try:
        event = json.loads(body)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        raise WebhookVerificationError("the payload is not a JSON event")
    return event

"""tenx-attribution: the 10x attribution API from Python (sync and async).

Typed routes generated from the API's OpenAPI document (``tenx_attribution._generated``, by
openapi-python-client), and a thin layer: safe conversion retries, pagination, CSV streaming,
the API's errors as ``TenxError``, Standard Webhooks verification, and a refusal of a server of
another major API version.
"""

from ._client import AsyncTenx, RetryPolicy, Tenx, retry_after_seconds
from ._errors import TenxError, TenxVersionError, WebhookVerificationError
from ._generated import api
from ._version import API_VERSION, LIBRARY_VERSION, check_api_version, major_of
from ._webhooks import verify_webhook

__all__ = [
    "API_VERSION",
    "LIBRARY_VERSION",
    "AsyncTenx",
    "RetryPolicy",
    "Tenx",
    "TenxError",
    "TenxVersionError",
    "WebhookVerificationError",
    "api",
    "check_api_version",
    "major_of",
    "retry_after_seconds",
    "verify_webhook",
]
__version__ = LIBRARY_VERSION

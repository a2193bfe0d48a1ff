"""The library's and the API's versions, and the major-version rule."""

from __future__ import annotations

import re

from ._errors import TenxVersionError

LIBRARY_VERSION = "0.1.0"
# The 10x API version (openapi.yaml's info.version) this library was generated from.
API_VERSION = "0.1.0"

_VERSION = re.compile(r"^\s*v?(\d+)(?:\.\d+)*(?:[-+].*)?\s*$")


def major_of(version: str) -> int | None:
    """The major version: the first number, also for 0.x (0.1 and 0.2 are both major 0)."""
    m = _VERSION.match(version)
    return int(m.group(1)) if m else None


def check_api_version(server_version: str | None, status: int | None = None) -> None:
    """Refuses an answer whose x-tenx-api-version names another major version than this library's.

    An answer without the header (a proxy's own error page, say) is let through: nothing says it
    differs.
    """
    if not server_version:
        return
    server = major_of(server_version)
    ours = major_of(API_VERSION)
    if server == ours:
        return
    raise TenxVersionError(
        f"the server speaks 10x API {server_version} (x-tenx-api-version) but tenx-attribution "
        f"{LIBRARY_VERSION} speaks API {API_VERSION}: the major versions differ "
        f"({'unreadable' if server is None else server} and {ours}); use a tenx-attribution "
        f"release made for API {server_version if server is None else server}.x",
        server_version,
        status,
    )

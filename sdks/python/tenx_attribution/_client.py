"""The hand-written layer over the generated client (``tenx_attribution._generated``)."""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx

from ._errors import TenxError
from ._generated.api.analytics import export_analytics
from ._generated.api.commissions import create_partner, get_balances
from ._generated.api.conversions import get_conversion, list_conversions, submit_verified_conversion
from ._generated.api.links import get_link, list_links, upsert_link
from ._generated.api.webhooks import create_webhook, list_webhooks
from ._generated.client import AuthenticatedClient, Client
from ._generated.models.conversion_receipt import ConversionReceipt
from ._generated.models.conversion_request import ConversionRequest
from ._generated.models.link_spec import LinkSpec
from ._generated.models.partner_create_request import PartnerCreateRequest
from ._generated.models.subscription_create_request import SubscriptionCreateRequest
from ._generated.types import UNSET
from ._version import check_api_version


@dataclass(frozen=True)
class RetryPolicy:
    """How a keyed request is retried: ``max_attempts`` tries in all; the backoff starts at
    ``base_delay`` seconds, doubles each try up to ``max_delay``, with full jitter; a
    ``Retry-After`` is waited for instead, unless longer than ``max_retry_after`` (then the error
    is raised)."""

    max_attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_retry_after: float = 60.0


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds (``120``) or an HTTP date; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        at = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, at - (time.time() if now is None else now))


def _raise_for(response: httpx.Response | Any) -> None:
    status = response.status_code
    if status >= 400:
        raise TenxError.from_answer(int(status), response.content, response.headers)


def _network_error(error: Exception) -> TenxError:
    return TenxError("network_error", f"no answer from the server ({type(error).__name__}: {error})")


def _retryable(status: int | None) -> bool:
    return status is None or status == 429 or status >= 500


def _backoff(policy: RetryPolicy, attempt: int, response: httpx.Response | None) -> float | None:
    """Seconds to wait before the next try, or None: do not retry (a Retry-After too long)."""
    after = retry_after_seconds(response.headers.get("retry-after")) if response is not None else None
    if after is not None:
        return None if after > policy.max_retry_after else after
    return random.uniform(0, min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1)))


def _conversion_kwargs(handle: str, conversion: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    body = dict(conversion)
    key = body.get("idempotencyKey") or str(uuid.uuid4())
    body["idempotencyKey"] = key
    kwargs = submit_verified_conversion._get_kwargs(handle, body=ConversionRequest.from_dict(body))
    kwargs["headers"]["idempotency-key"] = key
    return key, kwargs


def _receipt(response: httpx.Response) -> ConversionReceipt:
    return ConversionReceipt.from_dict(response.json())


class _Base:
    def __init__(self, handle: str | None) -> None:
        self.handle = handle

    def _need(self, handle: str | None) -> str:
        h = handle or self.handle
        if not h:
            raise TypeError("no handle: pass one to Tenx(handle=...) or to the call")
        return h


class Tenx(_Base):
    """The 10x client (sync): the generated functions (``tenx.call(get_link, handle=..., slug=...)``,
    every route of the library) on a client that sends the token and refuses another major API
    version, and helpers for what generation does not give: safe conversion retries, pagination,
    CSV streaming. ``AsyncTenx`` is the same with ``await``."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        handle: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(handle)
        self.retry = retry

        def check(response: httpx.Response) -> None:
            check_api_version(response.headers.get("x-tenx-api-version"), response.status_code)

        args: dict[str, Any] = {"event_hooks": {"response": [check]}}
        if transport is not None:
            args["transport"] = transport
        common: dict[str, Any] = {"base_url": base_url.rstrip("/"), "timeout": httpx.Timeout(timeout), "httpx_args": args}
        self.client: AuthenticatedClient | Client = (
            AuthenticatedClient(token=token, **common) if token else Client(**common)
        )
        self.links = _Links(self)
        self.conversions = _Conversions(self)
        self.partners = _Partners(self)
        self.webhooks = _Webhooks(self)
        self.analytics = _Analytics(self)

    def close(self) -> None:
        self.client.get_httpx_client().close()

    def __enter__(self) -> Tenx:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, fn: ModuleType, **kwargs: Any) -> Any:
        """Calls a generated function (its module, e.g. ``_generated.api.links.get_link``) on this
        client; its parsed answer, or a TenxError. Never retried."""
        try:
            response = fn.sync_detailed(client=self.client, **kwargs)
        except httpx.TransportError as error:
            raise _network_error(error) from error
        _raise_for(response)
        return response.parsed

    def paginate(self, fn: ModuleType, **kwargs: Any) -> Iterator[Any]:
        """Every item of a cursor-paginated list, page after page (``nextCursor``)."""
        cursor = kwargs.pop("cursor", UNSET)
        while True:
            page = self.call(fn, cursor=cursor, **kwargs)
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def with_retries(self, idempotency_key: str, send: Callable[[], httpx.Response]) -> httpx.Response:
        """Runs one keyed request, retrying it safely: the same key on every try; a network
        error, a timeout, 429 or 5xx is tried again after an exponential backoff with full jitter
        (or the answer's Retry-After), at most ``retry.max_attempts`` tries. Only keyed requests
        come here: a request without an idempotency key is never retried."""
        if not idempotency_key:
            raise TypeError("with_retries needs an idempotency key")
        attempt = 0
        while True:
            attempt += 1
            response: httpx.Response | None = None
            try:
                response = send()
            except httpx.TransportError as error:
                if attempt >= self.retry.max_attempts:
                    raise _network_error(error) from error
            if response is not None and response.status_code < 400:
                return response
            status = response.status_code if response is not None else None
            wait = _backoff(self.retry, attempt, response) if _retryable(status) else None
            if wait is None or attempt >= self.retry.max_attempts:
                assert response is not None
                _raise_for(response)
            time.sleep(wait or 0)


class AsyncTenx(_Base):
    """``Tenx`` with ``await``: the same helpers on httpx's AsyncClient."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        handle: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(handle)
        self.retry = retry

        async def check(response: httpx.Response) -> None:
            check_api_version(response.headers.get("x-tenx-api-version"), response.status_code)

        args: dict[str, Any] = {"event_hooks": {"response": [check]}}
        if transport is not None:
            args["transport"] = transport
        common: dict[str, Any] = {"base_url": base_url.rstrip("/"), "timeout": httpx.Timeout(timeout), "httpx_args": args}
        self.client: AuthenticatedClient | Client = (
            AuthenticatedClient(token=token, **common) if token else Client(**common)
        )

    async def aclose(self) -> None:
        await self.client.get_async_httpx_client().aclose()

    async def __aenter__(self) -> AsyncTenx:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def call(self, fn: ModuleType, **kwargs: Any) -> Any:
        try:
            response = await fn.asyncio_detailed(client=self.client, **kwargs)
        except httpx.TransportError as error:
            raise _network_error(error) from error
        _raise_for(response)
        return response.parsed

    async def paginate(self, fn: ModuleType, **kwargs: Any) -> AsyncIterator[Any]:
        cursor = kwargs.pop("cursor", UNSET)
        while True:
            page = await self.call(fn, cursor=cursor, **kwargs)
            for item in page.items:
                yield item
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    async def record_conversion(self, conversion: dict[str, Any], handle: str | None = None) -> ConversionReceipt:
        """``Tenx.conversions.record``, awaited: the same key on every try, retried safely."""
        key, kwargs = _conversion_kwargs(self._need(handle), conversion)
        http = self.client.get_async_httpx_client()
        attempt = 0
        while True:
            attempt += 1
            response: httpx.Response | None = None
            try:
                response = await http.request(**kwargs)
            except httpx.TransportError as error:
                if attempt >= self.retry.max_attempts:
                    raise _network_error(error) from error
            if response is not None and response.status_code < 400:
                return _receipt(response)
            status = response.status_code if response is not None else None
            wait = _backoff(self.retry, attempt, response) if _retryable(status) else None
            if wait is None or attempt >= self.retry.max_attempts:
                assert response is not None
                _raise_for(response)
            await asyncio.sleep(wait or 0)

    async def export_csv(self, handle: str | None = None, **query: Any) -> AsyncIterator[str]:
        """The analytics CSV export, streamed as text chunks."""
        kwargs = export_analytics._get_kwargs(self._need(handle), **query)
        async with self.client.get_async_httpx_client().stream(**kwargs) as response:
            if response.status_code >= 400:
                await response.aread()
                _raise_for(response)
            async for chunk in response.aiter_text():
                yield chunk


class _Links:
    def __init__(self, tenx: Tenx) -> None:
        self._t = tenx

    def upsert(self, slug: str, link: dict[str, Any], handle: str | None = None) -> Any:
        """Creates or replaces the link ``slug`` (``PUT …/links/{slug}``)."""
        return self._t.call(upsert_link, handle=self._t._need(handle), slug=slug, body=LinkSpec.from_dict(link))

    def get(self, slug: str, handle: str | None = None) -> Any:
        return self._t.call(get_link, handle=self._t._need(handle), slug=slug)

    def list(self, limit: int | None = None, handle: str | None = None) -> Iterator[Any]:
        """Every link, page after page."""
        return self._t.paginate(list_links, handle=self._t._need(handle), limit=UNSET if limit is None else limit)


class _Conversions:
    def __init__(self, tenx: Tenx) -> None:
        self._t = tenx

    def record(self, conversion: dict[str, Any], handle: str | None = None) -> ConversionReceipt:
        """Records a sale your server saw (``POST …/conversions``, verified): always with an
        idempotency key (a random one when you give none: keep your order id there), sent in the
        body and as ``idempotency-key``, and retried safely. A replay answers the first
        conversion (``deduped``, the same ``conversion_id``)."""
        key, kwargs = _conversion_kwargs(self._t._need(handle), conversion)
        http = self._t.client.get_httpx_client()
        return _receipt(self._t.with_retries(key, lambda: http.request(**kwargs)))

    def get(self, conversion_id: str, handle: str | None = None) -> Any:
        return self._t.call(get_conversion, handle=self._t._need(handle), conversion_id=conversion_id)

    def list(self, handle: str | None = None, **query: Any) -> Iterator[Any]:
        return self._t.paginate(list_conversions, handle=self._t._need(handle), **query)


class _Partners:
    def __init__(self, tenx: Tenx) -> None:
        self._t = tenx

    def create(self, partner: dict[str, Any], handle: str | None = None) -> Any:
        return self._t.call(create_partner, handle=self._t._need(handle), body=PartnerCreateRequest.from_dict(partner))

    def balances(self, partner_id: str | None = None, handle: str | None = None) -> Any:
        """The balances per partner and currency (one partner's with ``partner_id``)."""
        return self._t.call(get_balances, handle=self._t._need(handle), partner_id=partner_id or UNSET)


class _Webhooks:
    def __init__(self, tenx: Tenx) -> None:
        self._t = tenx

    def create(self, subscription: dict[str, Any], handle: str | None = None) -> Any:
        """A subscription; its ``secret`` (``whsec_…``) is in this answer only."""
        return self._t.call(
            create_webhook, handle=self._t._need(handle), body=SubscriptionCreateRequest.from_dict(subscription)
        )

    def list(self, handle: str | None = None) -> Any:
        return self._t.call(list_webhooks, handle=self._t._need(handle))


class _Analytics:
    def __init__(self, tenx: Tenx) -> None:
        self._t = tenx

    def export_csv(self, handle: str | None = None, **query: Any) -> Iterator[str]:
        """The analytics CSV export (RFC 4180, a header row), streamed: text chunks as they
        arrive, never the whole file in memory."""
        kwargs = export_analytics._get_kwargs(self._t._need(handle), **query)
        with self._t.client.get_httpx_client().stream(**kwargs) as response:
            if response.status_code >= 400:
                response.read()
                _raise_for(response)
            yield from response.iter_text()

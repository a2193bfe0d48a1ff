from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.conversion_receipt import ConversionReceipt
from ...models.conversion_request import ConversionRequest
from ...models.error_envelope import ErrorEnvelope
from ...types import Response


def _get_kwargs(
    *,
    body: ConversionRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v2/public/conversions",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ConversionReceipt | ErrorEnvelope:
    if response.status_code == 200:
        response_200 = ConversionReceipt.from_dict(response.json())

        return response_200

    if response.status_code == 202:
        response_202 = ConversionReceipt.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = ErrorEnvelope.from_dict(response.json())

        return response_400

    if response.status_code == 403:
        response_403 = ErrorEnvelope.from_dict(response.json())

        return response_403

    if response.status_code == 409:
        response_409 = ErrorEnvelope.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = ErrorEnvelope.from_dict(response.json())

        return response_413

    if response.status_code == 429:
        response_429 = ErrorEnvelope.from_dict(response.json())

        return response_429

    response_default = ErrorEnvelope.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ConversionReceipt | ErrorEnvelope]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ConversionRequest,
) -> Response[ConversionReceipt | ErrorEnvelope]:
    """Record a conversion exactly once per idempotency key.

     Keys are scoped to the ctx's handle and kept 365 days. Rate-limited per handle
    (`TENX_RATE_LIMIT_CONVERSIONS`), per click (`TENX_RATE_LIMIT_CONVERSIONS_PER_CLICK`, 30 a minute)
    and per client address (`TENX_RATE_LIMIT_CONVERSIONS_PER_ADDRESS`, 600 a minute); replays are not
    counted. `verified: false`; the handle's conversion policy may flag or refuse it. Emits
    `conversion.created` (or `conversion.tested` with `test: true`).

    Args:
        body (ConversionRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConversionReceipt | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: ConversionRequest,
) -> ConversionReceipt | ErrorEnvelope | None:
    """Record a conversion exactly once per idempotency key.

     Keys are scoped to the ctx's handle and kept 365 days. Rate-limited per handle
    (`TENX_RATE_LIMIT_CONVERSIONS`), per click (`TENX_RATE_LIMIT_CONVERSIONS_PER_CLICK`, 30 a minute)
    and per client address (`TENX_RATE_LIMIT_CONVERSIONS_PER_ADDRESS`, 600 a minute); replays are not
    counted. `verified: false`; the handle's conversion policy may flag or refuse it. Emits
    `conversion.created` (or `conversion.tested` with `test: true`).

    Args:
        body (ConversionRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConversionReceipt | ErrorEnvelope
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ConversionRequest,
) -> Response[ConversionReceipt | ErrorEnvelope]:
    """Record a conversion exactly once per idempotency key.

     Keys are scoped to the ctx's handle and kept 365 days. Rate-limited per handle
    (`TENX_RATE_LIMIT_CONVERSIONS`), per click (`TENX_RATE_LIMIT_CONVERSIONS_PER_CLICK`, 30 a minute)
    and per client address (`TENX_RATE_LIMIT_CONVERSIONS_PER_ADDRESS`, 600 a minute); replays are not
    counted. `verified: false`; the handle's conversion policy may flag or refuse it. Emits
    `conversion.created` (or `conversion.tested` with `test: true`).

    Args:
        body (ConversionRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConversionReceipt | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: ConversionRequest,
) -> ConversionReceipt | ErrorEnvelope | None:
    """Record a conversion exactly once per idempotency key.

     Keys are scoped to the ctx's handle and kept 365 days. Rate-limited per handle
    (`TENX_RATE_LIMIT_CONVERSIONS`), per click (`TENX_RATE_LIMIT_CONVERSIONS_PER_CLICK`, 30 a minute)
    and per client address (`TENX_RATE_LIMIT_CONVERSIONS_PER_ADDRESS`, 600 a minute); replays are not
    counted. `verified: false`; the handle's conversion policy may flag or refuse it. Emits
    `conversion.created` (or `conversion.tested` with `test: true`).

    Args:
        body (ConversionRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConversionReceipt | ErrorEnvelope
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed

from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.conversion_receipt import ConversionReceipt
from ...models.conversion_request import ConversionRequest
from ...models.error_envelope import ErrorEnvelope
from ...types import Response


def _get_kwargs(
    handle: str,
    *,
    body: ConversionRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v2/handles/{handle}/conversions".format(
            handle=quote(str(handle), safe=""),
        ),
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

    if response.status_code == 401:
        response_401 = ErrorEnvelope.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorEnvelope.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ErrorEnvelope.from_dict(response.json())

        return response_404

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
    handle: str,
    *,
    client: AuthenticatedClient,
    body: ConversionRequest,
) -> Response[ConversionReceipt | ErrorEnvelope]:
    """Record a merchant-verified conversion (server to server).

     The public route's body and semantics (same idempotency keyspace: a key accepted on one route
    replays on the other), `verified: true`. The ctx must be one of `{handle}`'s clicks (`400
    invalid_ctx` otherwise). Scored against the handle's conversion policy. With `customerId` and no
    ctx, the conversion is attributed by the customer's binding; a customer bound to no one, sent
    without ctx or `couponCode`, is recorded unattributed (`campaignId` null, an empty `slug`, no
    commission). With both, the customer is bound to the ctx's click first (first binding wins).

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        body (ConversionRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConversionReceipt | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        handle=handle,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    handle: str,
    *,
    client: AuthenticatedClient,
    body: ConversionRequest,
) -> ConversionReceipt | ErrorEnvelope | None:
    """Record a merchant-verified conversion (server to server).

     The public route's body and semantics (same idempotency keyspace: a key accepted on one route
    replays on the other), `verified: true`. The ctx must be one of `{handle}`'s clicks (`400
    invalid_ctx` otherwise). Scored against the handle's conversion policy. With `customerId` and no
    ctx, the conversion is attributed by the customer's binding; a customer bound to no one, sent
    without ctx or `couponCode`, is recorded unattributed (`campaignId` null, an empty `slug`, no
    commission). With both, the customer is bound to the ctx's click first (first binding wins).

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        body (ConversionRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConversionReceipt | ErrorEnvelope
    """

    return sync_detailed(
        handle=handle,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    handle: str,
    *,
    client: AuthenticatedClient,
    body: ConversionRequest,
) -> Response[ConversionReceipt | ErrorEnvelope]:
    """Record a merchant-verified conversion (server to server).

     The public route's body and semantics (same idempotency keyspace: a key accepted on one route
    replays on the other), `verified: true`. The ctx must be one of `{handle}`'s clicks (`400
    invalid_ctx` otherwise). Scored against the handle's conversion policy. With `customerId` and no
    ctx, the conversion is attributed by the customer's binding; a customer bound to no one, sent
    without ctx or `couponCode`, is recorded unattributed (`campaignId` null, an empty `slug`, no
    commission). With both, the customer is bound to the ctx's click first (first binding wins).

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        body (ConversionRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConversionReceipt | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        handle=handle,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    handle: str,
    *,
    client: AuthenticatedClient,
    body: ConversionRequest,
) -> ConversionReceipt | ErrorEnvelope | None:
    """Record a merchant-verified conversion (server to server).

     The public route's body and semantics (same idempotency keyspace: a key accepted on one route
    replays on the other), `verified: true`. The ctx must be one of `{handle}`'s clicks (`400
    invalid_ctx` otherwise). Scored against the handle's conversion policy. With `customerId` and no
    ctx, the conversion is attributed by the customer's binding; a customer bound to no one, sent
    without ctx or `couponCode`, is recorded unattributed (`campaignId` null, an empty `slug`, no
    commission). With both, the customer is bound to the ctx's click first (first binding wins).

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        body (ConversionRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConversionReceipt | ErrorEnvelope
    """

    return (
        await asyncio_detailed(
            handle=handle,
            client=client,
            body=body,
        )
    ).parsed

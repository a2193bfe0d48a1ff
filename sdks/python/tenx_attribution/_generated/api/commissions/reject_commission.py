from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.commission import Commission
from ...models.error_envelope import ErrorEnvelope
from ...models.reject_request import RejectRequest
from ...types import Response


def _get_kwargs(
    handle: str,
    commission_id: str,
    *,
    body: RejectRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v2/handles/{handle}/commissions/{commission_id}/reject".format(
            handle=quote(str(handle), safe=""),
            commission_id=quote(str(commission_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Commission | ErrorEnvelope:
    if response.status_code == 200:
        response_200 = Commission.from_dict(response.json())

        return response_200

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
) -> Response[Commission | ErrorEnvelope]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    handle: str,
    commission_id: str,
    *,
    client: AuthenticatedClient,
    body: RejectRequest,
) -> Response[Commission | ErrorEnvelope]:
    """Reject a commission.

     A `pending`, `held` or `approved` line becomes `rejected` (never paid); a `rejected` one is answered
    as it is. A line already in a payout (a reversal claws it back instead), or in any other state, is
    `409 invalid_state`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        commission_id (str):
        body (RejectRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Commission | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        handle=handle,
        commission_id=commission_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    handle: str,
    commission_id: str,
    *,
    client: AuthenticatedClient,
    body: RejectRequest,
) -> Commission | ErrorEnvelope | None:
    """Reject a commission.

     A `pending`, `held` or `approved` line becomes `rejected` (never paid); a `rejected` one is answered
    as it is. A line already in a payout (a reversal claws it back instead), or in any other state, is
    `409 invalid_state`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        commission_id (str):
        body (RejectRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Commission | ErrorEnvelope
    """

    return sync_detailed(
        handle=handle,
        commission_id=commission_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    handle: str,
    commission_id: str,
    *,
    client: AuthenticatedClient,
    body: RejectRequest,
) -> Response[Commission | ErrorEnvelope]:
    """Reject a commission.

     A `pending`, `held` or `approved` line becomes `rejected` (never paid); a `rejected` one is answered
    as it is. A line already in a payout (a reversal claws it back instead), or in any other state, is
    `409 invalid_state`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        commission_id (str):
        body (RejectRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Commission | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        handle=handle,
        commission_id=commission_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    handle: str,
    commission_id: str,
    *,
    client: AuthenticatedClient,
    body: RejectRequest,
) -> Commission | ErrorEnvelope | None:
    """Reject a commission.

     A `pending`, `held` or `approved` line becomes `rejected` (never paid); a `rejected` one is answered
    as it is. A line already in a payout (a reversal claws it back instead), or in any other state, is
    `409 invalid_state`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        commission_id (str):
        body (RejectRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Commission | ErrorEnvelope
    """

    return (
        await asyncio_detailed(
            handle=handle,
            commission_id=commission_id,
            client=client,
            body=body,
        )
    ).parsed

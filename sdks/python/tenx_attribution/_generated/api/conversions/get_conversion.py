from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.conversion_data import ConversionData
from ...models.error_envelope import ErrorEnvelope
from ...types import Response


def _get_kwargs(
    handle: str,
    conversion_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v2/handles/{handle}/conversions/{conversion_id}".format(
            handle=quote(str(handle), safe=""),
            conversion_id=quote(str(conversion_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ConversionData | ErrorEnvelope:
    if response.status_code == 200:
        response_200 = ConversionData.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = ErrorEnvelope.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorEnvelope.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ErrorEnvelope.from_dict(response.json())

        return response_404

    response_default = ErrorEnvelope.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ConversionData | ErrorEnvelope]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    handle: str,
    conversion_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[ConversionData | ErrorEnvelope]:
    """One conversion, with its attribution, risk and reversal.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        conversion_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConversionData | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        handle=handle,
        conversion_id=conversion_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    handle: str,
    conversion_id: str,
    *,
    client: AuthenticatedClient,
) -> ConversionData | ErrorEnvelope | None:
    """One conversion, with its attribution, risk and reversal.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        conversion_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConversionData | ErrorEnvelope
    """

    return sync_detailed(
        handle=handle,
        conversion_id=conversion_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    handle: str,
    conversion_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[ConversionData | ErrorEnvelope]:
    """One conversion, with its attribution, risk and reversal.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        conversion_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConversionData | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        handle=handle,
        conversion_id=conversion_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    handle: str,
    conversion_id: str,
    *,
    client: AuthenticatedClient,
) -> ConversionData | ErrorEnvelope | None:
    """One conversion, with its attribution, risk and reversal.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        conversion_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConversionData | ErrorEnvelope
    """

    return (
        await asyncio_detailed(
            handle=handle,
            conversion_id=conversion_id,
            client=client,
        )
    ).parsed

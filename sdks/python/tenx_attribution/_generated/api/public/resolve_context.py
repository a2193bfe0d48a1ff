from http import HTTPStatus
from typing import Any

import httpx

from ...client import AuthenticatedClient, Client
from ...models.context import Context
from ...models.error_envelope import ErrorEnvelope
from ...types import UNSET, Response


def _get_kwargs(
    *,
    ctx: str,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["ctx"] = ctx

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v2/public/context",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Context | ErrorEnvelope:
    if response.status_code == 200:
        response_200 = Context.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorEnvelope.from_dict(response.json())

        return response_400

    response_default = ErrorEnvelope.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Context | ErrorEnvelope]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    ctx: str,
) -> Response[Context | ErrorEnvelope]:
    """Verify a ctx token and return its claims (no database read).

    Args:
        ctx (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Context | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        ctx=ctx,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    ctx: str,
) -> Context | ErrorEnvelope | None:
    """Verify a ctx token and return its claims (no database read).

    Args:
        ctx (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Context | ErrorEnvelope
    """

    return sync_detailed(
        client=client,
        ctx=ctx,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    ctx: str,
) -> Response[Context | ErrorEnvelope]:
    """Verify a ctx token and return its claims (no database read).

    Args:
        ctx (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Context | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        ctx=ctx,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    ctx: str,
) -> Context | ErrorEnvelope | None:
    """Verify a ctx token and return its claims (no database read).

    Args:
        ctx (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Context | ErrorEnvelope
    """

    return (
        await asyncio_detailed(
            client=client,
            ctx=ctx,
        )
    ).parsed

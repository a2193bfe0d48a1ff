from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.error_envelope import ErrorEnvelope
from ...models.link import Link
from ...models.link_spec import LinkSpec
from ...types import UNSET, Response, Unset


def _get_kwargs(
    handle: str,
    slug: str,
    *,
    body: LinkSpec,
    if_match: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_match, Unset):
        headers["if-match"] = if_match

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/v2/handles/{handle}/links/{slug}".format(
            handle=quote(str(handle), safe=""),
            slug=quote(str(slug), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorEnvelope | Link:
    if response.status_code == 200:
        response_200 = Link.from_dict(response.json())

        return response_200

    if response.status_code == 201:
        response_201 = Link.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = ErrorEnvelope.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorEnvelope.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorEnvelope.from_dict(response.json())

        return response_403

    if response.status_code == 409:
        response_409 = ErrorEnvelope.from_dict(response.json())

        return response_409

    if response.status_code == 412:
        response_412 = ErrorEnvelope.from_dict(response.json())

        return response_412

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
) -> Response[ErrorEnvelope | Link]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    handle: str,
    slug: str,
    *,
    client: AuthenticatedClient,
    body: LinkSpec,
    if_match: str | Unset = UNSET,
) -> Response[ErrorEnvelope | Link]:
    """Create or replace a link.

     201 when created, 200 when replaced (`version` + 1). Emits `link.created` or `link.updated`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        slug (str): A link's slug, the first path segment of its short URL: 1–64 of `[a-z0-9-]`,
            starting and ending with a letter or digit; reserved: `v2`, `api`, `health`, `healthz`,
            `static`, `assets`, `_`.
        if_match (str | Unset):
        body (LinkSpec):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | Link]
    """

    kwargs = _get_kwargs(
        handle=handle,
        slug=slug,
        body=body,
        if_match=if_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    handle: str,
    slug: str,
    *,
    client: AuthenticatedClient,
    body: LinkSpec,
    if_match: str | Unset = UNSET,
) -> ErrorEnvelope | Link | None:
    """Create or replace a link.

     201 when created, 200 when replaced (`version` + 1). Emits `link.created` or `link.updated`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        slug (str): A link's slug, the first path segment of its short URL: 1–64 of `[a-z0-9-]`,
            starting and ending with a letter or digit; reserved: `v2`, `api`, `health`, `healthz`,
            `static`, `assets`, `_`.
        if_match (str | Unset):
        body (LinkSpec):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | Link
    """

    return sync_detailed(
        handle=handle,
        slug=slug,
        client=client,
        body=body,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    handle: str,
    slug: str,
    *,
    client: AuthenticatedClient,
    body: LinkSpec,
    if_match: str | Unset = UNSET,
) -> Response[ErrorEnvelope | Link]:
    """Create or replace a link.

     201 when created, 200 when replaced (`version` + 1). Emits `link.created` or `link.updated`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        slug (str): A link's slug, the first path segment of its short URL: 1–64 of `[a-z0-9-]`,
            starting and ending with a letter or digit; reserved: `v2`, `api`, `health`, `healthz`,
            `static`, `assets`, `_`.
        if_match (str | Unset):
        body (LinkSpec):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | Link]
    """

    kwargs = _get_kwargs(
        handle=handle,
        slug=slug,
        body=body,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    handle: str,
    slug: str,
    *,
    client: AuthenticatedClient,
    body: LinkSpec,
    if_match: str | Unset = UNSET,
) -> ErrorEnvelope | Link | None:
    """Create or replace a link.

     201 when created, 200 when replaced (`version` + 1). Emits `link.created` or `link.updated`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        slug (str): A link's slug, the first path segment of its short URL: 1–64 of `[a-z0-9-]`,
            starting and ending with a letter or digit; reserved: `v2`, `api`, `health`, `healthz`,
            `static`, `assets`, `_`.
        if_match (str | Unset):
        body (LinkSpec):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | Link
    """

    return (
        await asyncio_detailed(
            handle=handle,
            slug=slug,
            client=client,
            body=body,
            if_match=if_match,
        )
    ).parsed

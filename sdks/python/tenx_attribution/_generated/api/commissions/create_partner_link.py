from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.create_partner_link_body import CreatePartnerLinkBody
from ...models.error_envelope import ErrorEnvelope
from ...models.link import Link
from ...types import Response


def _get_kwargs(
    handle: str,
    partner_id: str,
    *,
    body: CreatePartnerLinkBody,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v2/handles/{handle}/partners/{partner_id}/links".format(
            handle=quote(str(handle), safe=""),
            partner_id=quote(str(partner_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorEnvelope | Link:
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
) -> Response[ErrorEnvelope | Link]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    handle: str,
    partner_id: str,
    *,
    client: AuthenticatedClient,
    body: CreatePartnerLinkBody,
) -> Response[ErrorEnvelope | Link]:
    """A partner's own short link to a destination its program allows (issue 61).

     By the partner itself (its token or any of its users), or the program's operators for it.
    `destinationUrl` must be under one of the program's `allowedDestinations` (the origin compared
    exactly, the path segment by segment; credentials, a host ending in a dot, encoded dots or slashes
    and backslashes are refused): else `400` naming `destinationUrl` with the allowed prefixes. The link
    is `{partnerId}-{slug}` (a random `slug` when none is sent), only ever created (a taken slug is `409
    conflict`), on the partner's first campaign, so its clicks and sales are the partner's; `409
    invalid_state` when the partner has no campaign or made 100 links already. Another partner's id
    answers `404`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        partner_id (str): Chosen by the merchant; the shape of a campaign id, 1–64 of
            `[a-z0-9_-]`, starting with a letter or digit.
        body (CreatePartnerLinkBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | Link]
    """

    kwargs = _get_kwargs(
        handle=handle,
        partner_id=partner_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    handle: str,
    partner_id: str,
    *,
    client: AuthenticatedClient,
    body: CreatePartnerLinkBody,
) -> ErrorEnvelope | Link | None:
    """A partner's own short link to a destination its program allows (issue 61).

     By the partner itself (its token or any of its users), or the program's operators for it.
    `destinationUrl` must be under one of the program's `allowedDestinations` (the origin compared
    exactly, the path segment by segment; credentials, a host ending in a dot, encoded dots or slashes
    and backslashes are refused): else `400` naming `destinationUrl` with the allowed prefixes. The link
    is `{partnerId}-{slug}` (a random `slug` when none is sent), only ever created (a taken slug is `409
    conflict`), on the partner's first campaign, so its clicks and sales are the partner's; `409
    invalid_state` when the partner has no campaign or made 100 links already. Another partner's id
    answers `404`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        partner_id (str): Chosen by the merchant; the shape of a campaign id, 1–64 of
            `[a-z0-9_-]`, starting with a letter or digit.
        body (CreatePartnerLinkBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | Link
    """

    return sync_detailed(
        handle=handle,
        partner_id=partner_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    handle: str,
    partner_id: str,
    *,
    client: AuthenticatedClient,
    body: CreatePartnerLinkBody,
) -> Response[ErrorEnvelope | Link]:
    """A partner's own short link to a destination its program allows (issue 61).

     By the partner itself (its token or any of its users), or the program's operators for it.
    `destinationUrl` must be under one of the program's `allowedDestinations` (the origin compared
    exactly, the path segment by segment; credentials, a host ending in a dot, encoded dots or slashes
    and backslashes are refused): else `400` naming `destinationUrl` with the allowed prefixes. The link
    is `{partnerId}-{slug}` (a random `slug` when none is sent), only ever created (a taken slug is `409
    conflict`), on the partner's first campaign, so its clicks and sales are the partner's; `409
    invalid_state` when the partner has no campaign or made 100 links already. Another partner's id
    answers `404`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        partner_id (str): Chosen by the merchant; the shape of a campaign id, 1–64 of
            `[a-z0-9_-]`, starting with a letter or digit.
        body (CreatePartnerLinkBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | Link]
    """

    kwargs = _get_kwargs(
        handle=handle,
        partner_id=partner_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    handle: str,
    partner_id: str,
    *,
    client: AuthenticatedClient,
    body: CreatePartnerLinkBody,
) -> ErrorEnvelope | Link | None:
    """A partner's own short link to a destination its program allows (issue 61).

     By the partner itself (its token or any of its users), or the program's operators for it.
    `destinationUrl` must be under one of the program's `allowedDestinations` (the origin compared
    exactly, the path segment by segment; credentials, a host ending in a dot, encoded dots or slashes
    and backslashes are refused): else `400` naming `destinationUrl` with the allowed prefixes. The link
    is `{partnerId}-{slug}` (a random `slug` when none is sent), only ever created (a taken slug is `409
    conflict`), on the partner's first campaign, so its clicks and sales are the partner's; `409
    invalid_state` when the partner has no campaign or made 100 links already. Another partner's id
    answers `404`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        partner_id (str): Chosen by the merchant; the shape of a campaign id, 1–64 of
            `[a-z0-9_-]`, starting with a letter or digit.
        body (CreatePartnerLinkBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | Link
    """

    return (
        await asyncio_detailed(
            handle=handle,
            partner_id=partner_id,
            client=client,
            body=body,
        )
    ).parsed

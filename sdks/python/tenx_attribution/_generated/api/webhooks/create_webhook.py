from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.error_envelope import ErrorEnvelope
from ...models.subscription_create_request import SubscriptionCreateRequest
from ...models.subscription_created import SubscriptionCreated
from ...types import Response


def _get_kwargs(
    handle: str,
    *,
    body: SubscriptionCreateRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v2/handles/{handle}/webhooks".format(
            handle=quote(str(handle), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorEnvelope | SubscriptionCreated:
    if response.status_code == 201:
        response_201 = SubscriptionCreated.from_dict(response.json())

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
) -> Response[ErrorEnvelope | SubscriptionCreated]:
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
    body: SubscriptionCreateRequest,
) -> Response[ErrorEnvelope | SubscriptionCreated]:
    """Subscribe an endpoint to event types.

     `endpointUrl` must be public: an address, or a host name that resolves to one, that is loopback
    (`localhost`, `*.localhost`, `127.0.0.0/8`, `::1`), private, link-local, unique-local or otherwise
    not publicly routable is `400 invalid_request` unless `TENX_WEBHOOKS_ALLOW_PRIVATE=true`; the cloud
    metadata service (`169.254.0.0/16`, `fd00:ec2::254`) is refused in every mode. A name that does not
    resolve yet is accepted (every delivery checks again). The refusal never says which address a name
    resolved to. At most 100 subscriptions per handle (`409 conflict`).

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        body (SubscriptionCreateRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | SubscriptionCreated]
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
    body: SubscriptionCreateRequest,
) -> ErrorEnvelope | SubscriptionCreated | None:
    """Subscribe an endpoint to event types.

     `endpointUrl` must be public: an address, or a host name that resolves to one, that is loopback
    (`localhost`, `*.localhost`, `127.0.0.0/8`, `::1`), private, link-local, unique-local or otherwise
    not publicly routable is `400 invalid_request` unless `TENX_WEBHOOKS_ALLOW_PRIVATE=true`; the cloud
    metadata service (`169.254.0.0/16`, `fd00:ec2::254`) is refused in every mode. A name that does not
    resolve yet is accepted (every delivery checks again). The refusal never says which address a name
    resolved to. At most 100 subscriptions per handle (`409 conflict`).

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        body (SubscriptionCreateRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | SubscriptionCreated
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
    body: SubscriptionCreateRequest,
) -> Response[ErrorEnvelope | SubscriptionCreated]:
    """Subscribe an endpoint to event types.

     `endpointUrl` must be public: an address, or a host name that resolves to one, that is loopback
    (`localhost`, `*.localhost`, `127.0.0.0/8`, `::1`), private, link-local, unique-local or otherwise
    not publicly routable is `400 invalid_request` unless `TENX_WEBHOOKS_ALLOW_PRIVATE=true`; the cloud
    metadata service (`169.254.0.0/16`, `fd00:ec2::254`) is refused in every mode. A name that does not
    resolve yet is accepted (every delivery checks again). The refusal never says which address a name
    resolved to. At most 100 subscriptions per handle (`409 conflict`).

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        body (SubscriptionCreateRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | SubscriptionCreated]
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
    body: SubscriptionCreateRequest,
) -> ErrorEnvelope | SubscriptionCreated | None:
    """Subscribe an endpoint to event types.

     `endpointUrl` must be public: an address, or a host name that resolves to one, that is loopback
    (`localhost`, `*.localhost`, `127.0.0.0/8`, `::1`), private, link-local, unique-local or otherwise
    not publicly routable is `400 invalid_request` unless `TENX_WEBHOOKS_ALLOW_PRIVATE=true`; the cloud
    metadata service (`169.254.0.0/16`, `fd00:ec2::254`) is refused in every mode. A name that does not
    resolve yet is accepted (every delivery checks again). The refusal never says which address a name
    resolved to. At most 100 subscriptions per handle (`409 conflict`).

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        body (SubscriptionCreateRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | SubscriptionCreated
    """

    return (
        await asyncio_detailed(
            handle=handle,
            client=client,
            body=body,
        )
    ).parsed

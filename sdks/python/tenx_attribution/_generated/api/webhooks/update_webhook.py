from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.error_envelope import ErrorEnvelope
from ...models.subscription import Subscription
from ...models.update_webhook_body import UpdateWebhookBody
from ...types import Response


def _get_kwargs(
    handle: str,
    subscription_id: str,
    *,
    body: UpdateWebhookBody,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v2/handles/{handle}/webhooks/{subscription_id}".format(
            handle=quote(str(handle), safe=""),
            subscription_id=quote(str(subscription_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorEnvelope | Subscription:
    if response.status_code == 200:
        response_200 = Subscription.from_dict(response.json())

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

    if response.status_code == 429:
        response_429 = ErrorEnvelope.from_dict(response.json())

        return response_429

    response_default = ErrorEnvelope.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorEnvelope | Subscription]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    handle: str,
    subscription_id: str,
    *,
    client: AuthenticatedClient,
    body: UpdateWebhookBody,
) -> Response[ErrorEnvelope | Subscription]:
    """Resume (or pause) a subscription.

     `{"status": "active"}` resumes a subscription that was disabled, either because its endpoint
    answered `410 Gone` (the one deliberate exception to "every non-2xx is retried 5 times": the
    receiver said it will never accept again), because every attempt to it failed for the auto-disable
    period (5 days by default, `TENX_WEBHOOK_AUTO_DISABLE_SECS`), or because an operator paused it with
    `{"status": "disabled"}`. Resuming starts the endpoint's failure period over. Deliveries that were
    due while it was disabled are recorded as failed without being sent; `POST …/recover` re-sends them.
    The write is conditioned on the version read; a concurrent change answers `409`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        subscription_id (str):
        body (UpdateWebhookBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | Subscription]
    """

    kwargs = _get_kwargs(
        handle=handle,
        subscription_id=subscription_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    handle: str,
    subscription_id: str,
    *,
    client: AuthenticatedClient,
    body: UpdateWebhookBody,
) -> ErrorEnvelope | Subscription | None:
    """Resume (or pause) a subscription.

     `{"status": "active"}` resumes a subscription that was disabled, either because its endpoint
    answered `410 Gone` (the one deliberate exception to "every non-2xx is retried 5 times": the
    receiver said it will never accept again), because every attempt to it failed for the auto-disable
    period (5 days by default, `TENX_WEBHOOK_AUTO_DISABLE_SECS`), or because an operator paused it with
    `{"status": "disabled"}`. Resuming starts the endpoint's failure period over. Deliveries that were
    due while it was disabled are recorded as failed without being sent; `POST …/recover` re-sends them.
    The write is conditioned on the version read; a concurrent change answers `409`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        subscription_id (str):
        body (UpdateWebhookBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | Subscription
    """

    return sync_detailed(
        handle=handle,
        subscription_id=subscription_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    handle: str,
    subscription_id: str,
    *,
    client: AuthenticatedClient,
    body: UpdateWebhookBody,
) -> Response[ErrorEnvelope | Subscription]:
    """Resume (or pause) a subscription.

     `{"status": "active"}` resumes a subscription that was disabled, either because its endpoint
    answered `410 Gone` (the one deliberate exception to "every non-2xx is retried 5 times": the
    receiver said it will never accept again), because every attempt to it failed for the auto-disable
    period (5 days by default, `TENX_WEBHOOK_AUTO_DISABLE_SECS`), or because an operator paused it with
    `{"status": "disabled"}`. Resuming starts the endpoint's failure period over. Deliveries that were
    due while it was disabled are recorded as failed without being sent; `POST …/recover` re-sends them.
    The write is conditioned on the version read; a concurrent change answers `409`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        subscription_id (str):
        body (UpdateWebhookBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | Subscription]
    """

    kwargs = _get_kwargs(
        handle=handle,
        subscription_id=subscription_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    handle: str,
    subscription_id: str,
    *,
    client: AuthenticatedClient,
    body: UpdateWebhookBody,
) -> ErrorEnvelope | Subscription | None:
    """Resume (or pause) a subscription.

     `{"status": "active"}` resumes a subscription that was disabled, either because its endpoint
    answered `410 Gone` (the one deliberate exception to "every non-2xx is retried 5 times": the
    receiver said it will never accept again), because every attempt to it failed for the auto-disable
    period (5 days by default, `TENX_WEBHOOK_AUTO_DISABLE_SECS`), or because an operator paused it with
    `{"status": "disabled"}`. Resuming starts the endpoint's failure period over. Deliveries that were
    due while it was disabled are recorded as failed without being sent; `POST …/recover` re-sends them.
    The write is conditioned on the version read; a concurrent change answers `409`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        subscription_id (str):
        body (UpdateWebhookBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | Subscription
    """

    return (
        await asyncio_detailed(
            handle=handle,
            subscription_id=subscription_id,
            client=client,
            body=body,
        )
    ).parsed

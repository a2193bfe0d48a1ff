import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.error_envelope import ErrorEnvelope
from ...models.partner_summary import PartnerSummary
from ...types import UNSET, Response, Unset


def _get_kwargs(
    handle: str,
    partner_id: str,
    *,
    from_: datetime.date | Unset = UNSET,
    to: datetime.date | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_from_: str | Unset = UNSET
    if not isinstance(from_, Unset):
        json_from_ = from_.isoformat()
    params["from"] = json_from_

    json_to: str | Unset = UNSET
    if not isinstance(to, Unset):
        json_to = to.isoformat()
    params["to"] = json_to

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v2/handles/{handle}/partners/{partner_id}/summary".format(
            handle=quote(str(handle), safe=""),
            partner_id=quote(str(partner_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorEnvelope | PartnerSummary:
    if response.status_code == 200:
        response_200 = PartnerSummary.from_dict(response.json())

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

    response_default = ErrorEnvelope.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorEnvelope | PartnerSummary]:
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
    from_: datetime.date | Unset = UNSET,
    to: datetime.date | Unset = UNSET,
) -> Response[ErrorEnvelope | PartnerSummary]:
    """The partner's earnings per day, balance and next payout with its reasons in words (issue 61).

     One reconciliation rule: `balance.approved` is what the balances answer as approved, `owedBack`
    their open negative lines as a positive amount, and `nextPayout.amount` is what is in payouts made
    and not yet paid plus the lines approved by the end of the last whole month net of what is owed back
    (when positive). `earnings` has one entry per day of the window (lines created that day, by their
    status now), in the partner's currency (the one most of its lines are in). `unreadMessages` is 0
    until messages land. The partner (token or user) reads its own; another partner's id answers `404`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        partner_id (str): Chosen by the merchant; the shape of a campaign id, 1–64 of
            `[a-z0-9_-]`, starting with a letter or digit.
        from_ (datetime.date | Unset):
        to (datetime.date | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | PartnerSummary]
    """

    kwargs = _get_kwargs(
        handle=handle,
        partner_id=partner_id,
        from_=from_,
        to=to,
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
    from_: datetime.date | Unset = UNSET,
    to: datetime.date | Unset = UNSET,
) -> ErrorEnvelope | PartnerSummary | None:
    """The partner's earnings per day, balance and next payout with its reasons in words (issue 61).

     One reconciliation rule: `balance.approved` is what the balances answer as approved, `owedBack`
    their open negative lines as a positive amount, and `nextPayout.amount` is what is in payouts made
    and not yet paid plus the lines approved by the end of the last whole month net of what is owed back
    (when positive). `earnings` has one entry per day of the window (lines created that day, by their
    status now), in the partner's currency (the one most of its lines are in). `unreadMessages` is 0
    until messages land. The partner (token or user) reads its own; another partner's id answers `404`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        partner_id (str): Chosen by the merchant; the shape of a campaign id, 1–64 of
            `[a-z0-9_-]`, starting with a letter or digit.
        from_ (datetime.date | Unset):
        to (datetime.date | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | PartnerSummary
    """

    return sync_detailed(
        handle=handle,
        partner_id=partner_id,
        client=client,
        from_=from_,
        to=to,
    ).parsed


async def asyncio_detailed(
    handle: str,
    partner_id: str,
    *,
    client: AuthenticatedClient,
    from_: datetime.date | Unset = UNSET,
    to: datetime.date | Unset = UNSET,
) -> Response[ErrorEnvelope | PartnerSummary]:
    """The partner's earnings per day, balance and next payout with its reasons in words (issue 61).

     One reconciliation rule: `balance.approved` is what the balances answer as approved, `owedBack`
    their open negative lines as a positive amount, and `nextPayout.amount` is what is in payouts made
    and not yet paid plus the lines approved by the end of the last whole month net of what is owed back
    (when positive). `earnings` has one entry per day of the window (lines created that day, by their
    status now), in the partner's currency (the one most of its lines are in). `unreadMessages` is 0
    until messages land. The partner (token or user) reads its own; another partner's id answers `404`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        partner_id (str): Chosen by the merchant; the shape of a campaign id, 1–64 of
            `[a-z0-9_-]`, starting with a letter or digit.
        from_ (datetime.date | Unset):
        to (datetime.date | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | PartnerSummary]
    """

    kwargs = _get_kwargs(
        handle=handle,
        partner_id=partner_id,
        from_=from_,
        to=to,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    handle: str,
    partner_id: str,
    *,
    client: AuthenticatedClient,
    from_: datetime.date | Unset = UNSET,
    to: datetime.date | Unset = UNSET,
) -> ErrorEnvelope | PartnerSummary | None:
    """The partner's earnings per day, balance and next payout with its reasons in words (issue 61).

     One reconciliation rule: `balance.approved` is what the balances answer as approved, `owedBack`
    their open negative lines as a positive amount, and `nextPayout.amount` is what is in payouts made
    and not yet paid plus the lines approved by the end of the last whole month net of what is owed back
    (when positive). `earnings` has one entry per day of the window (lines created that day, by their
    status now), in the partner's currency (the one most of its lines are in). `unreadMessages` is 0
    until messages land. The partner (token or user) reads its own; another partner's id answers `404`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        partner_id (str): Chosen by the merchant; the shape of a campaign id, 1–64 of
            `[a-z0-9_-]`, starting with a letter or digit.
        from_ (datetime.date | Unset):
        to (datetime.date | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | PartnerSummary
    """

    return (
        await asyncio_detailed(
            handle=handle,
            partner_id=partner_id,
            client=client,
            from_=from_,
            to=to,
        )
    ).parsed

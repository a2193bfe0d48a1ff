import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.commission_kind import CommissionKind
from ...models.commission_list import CommissionList
from ...models.commission_status import CommissionStatus
from ...models.error_envelope import ErrorEnvelope
from ...models.list_commissions_test import ListCommissionsTest
from ...types import UNSET, Response, Unset


def _get_kwargs(
    handle: str,
    *,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    campaign_id: str | Unset = UNSET,
    partner_id: str | Unset = UNSET,
    status: CommissionStatus | Unset = UNSET,
    kind: CommissionKind | Unset = UNSET,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    test: ListCommissionsTest | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["cursor"] = cursor

    params["campaignId"] = campaign_id

    params["partnerId"] = partner_id

    json_status: str | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = status.value

    params["status"] = json_status

    json_kind: str | Unset = UNSET
    if not isinstance(kind, Unset):
        json_kind = kind.value

    params["kind"] = json_kind

    json_from_: str | Unset = UNSET
    if not isinstance(from_, Unset):
        json_from_ = from_.isoformat()
    params["from"] = json_from_

    json_to: str | Unset = UNSET
    if not isinstance(to, Unset):
        json_to = to.isoformat()
    params["to"] = json_to

    json_test: str | Unset = UNSET
    if not isinstance(test, Unset):
        json_test = test.value

    params["test"] = json_test

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v2/handles/{handle}/commissions".format(
            handle=quote(str(handle), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> CommissionList | ErrorEnvelope:
    if response.status_code == 200:
        response_200 = CommissionList.from_dict(response.json())

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

    response_default = ErrorEnvelope.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[CommissionList | ErrorEnvelope]:
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
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    campaign_id: str | Unset = UNSET,
    partner_id: str | Unset = UNSET,
    status: CommissionStatus | Unset = UNSET,
    kind: CommissionKind | Unset = UNSET,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    test: ListCommissionsTest | Unset = UNSET,
) -> Response[CommissionList | ErrorEnvelope]:
    """The commission ledger, filtered.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        limit (int | Unset):  Default: 50.
        cursor (str | Unset): A `nextCursor` (base64url without padding, canonical).
        campaign_id (str | Unset): 1–64 of `[a-z0-9_-]`, starting with a letter or digit.
        partner_id (str | Unset): Chosen by the merchant; the shape of a campaign id, 1–64 of
            `[a-z0-9_-]`, starting with a letter or digit.
        status (CommissionStatus | Unset):
        kind (CommissionKind | Unset):
        from_ (datetime.datetime | Unset): RFC 3339, UTC.
        to (datetime.datetime | Unset): RFC 3339, UTC.
        test (ListCommissionsTest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CommissionList | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        handle=handle,
        limit=limit,
        cursor=cursor,
        campaign_id=campaign_id,
        partner_id=partner_id,
        status=status,
        kind=kind,
        from_=from_,
        to=to,
        test=test,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    handle: str,
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    campaign_id: str | Unset = UNSET,
    partner_id: str | Unset = UNSET,
    status: CommissionStatus | Unset = UNSET,
    kind: CommissionKind | Unset = UNSET,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    test: ListCommissionsTest | Unset = UNSET,
) -> CommissionList | ErrorEnvelope | None:
    """The commission ledger, filtered.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        limit (int | Unset):  Default: 50.
        cursor (str | Unset): A `nextCursor` (base64url without padding, canonical).
        campaign_id (str | Unset): 1–64 of `[a-z0-9_-]`, starting with a letter or digit.
        partner_id (str | Unset): Chosen by the merchant; the shape of a campaign id, 1–64 of
            `[a-z0-9_-]`, starting with a letter or digit.
        status (CommissionStatus | Unset):
        kind (CommissionKind | Unset):
        from_ (datetime.datetime | Unset): RFC 3339, UTC.
        to (datetime.datetime | Unset): RFC 3339, UTC.
        test (ListCommissionsTest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CommissionList | ErrorEnvelope
    """

    return sync_detailed(
        handle=handle,
        client=client,
        limit=limit,
        cursor=cursor,
        campaign_id=campaign_id,
        partner_id=partner_id,
        status=status,
        kind=kind,
        from_=from_,
        to=to,
        test=test,
    ).parsed


async def asyncio_detailed(
    handle: str,
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    campaign_id: str | Unset = UNSET,
    partner_id: str | Unset = UNSET,
    status: CommissionStatus | Unset = UNSET,
    kind: CommissionKind | Unset = UNSET,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    test: ListCommissionsTest | Unset = UNSET,
) -> Response[CommissionList | ErrorEnvelope]:
    """The commission ledger, filtered.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        limit (int | Unset):  Default: 50.
        cursor (str | Unset): A `nextCursor` (base64url without padding, canonical).
        campaign_id (str | Unset): 1–64 of `[a-z0-9_-]`, starting with a letter or digit.
        partner_id (str | Unset): Chosen by the merchant; the shape of a campaign id, 1–64 of
            `[a-z0-9_-]`, starting with a letter or digit.
        status (CommissionStatus | Unset):
        kind (CommissionKind | Unset):
        from_ (datetime.datetime | Unset): RFC 3339, UTC.
        to (datetime.datetime | Unset): RFC 3339, UTC.
        test (ListCommissionsTest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CommissionList | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        handle=handle,
        limit=limit,
        cursor=cursor,
        campaign_id=campaign_id,
        partner_id=partner_id,
        status=status,
        kind=kind,
        from_=from_,
        to=to,
        test=test,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    handle: str,
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    campaign_id: str | Unset = UNSET,
    partner_id: str | Unset = UNSET,
    status: CommissionStatus | Unset = UNSET,
    kind: CommissionKind | Unset = UNSET,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    test: ListCommissionsTest | Unset = UNSET,
) -> CommissionList | ErrorEnvelope | None:
    """The commission ledger, filtered.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        limit (int | Unset):  Default: 50.
        cursor (str | Unset): A `nextCursor` (base64url without padding, canonical).
        campaign_id (str | Unset): 1–64 of `[a-z0-9_-]`, starting with a letter or digit.
        partner_id (str | Unset): Chosen by the merchant; the shape of a campaign id, 1–64 of
            `[a-z0-9_-]`, starting with a letter or digit.
        status (CommissionStatus | Unset):
        kind (CommissionKind | Unset):
        from_ (datetime.datetime | Unset): RFC 3339, UTC.
        to (datetime.datetime | Unset): RFC 3339, UTC.
        test (ListCommissionsTest | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CommissionList | ErrorEnvelope
    """

    return (
        await asyncio_detailed(
            handle=handle,
            client=client,
            limit=limit,
            cursor=cursor,
            campaign_id=campaign_id,
            partner_id=partner_id,
            status=status,
            kind=kind,
            from_=from_,
            to=to,
            test=test,
        )
    ).parsed

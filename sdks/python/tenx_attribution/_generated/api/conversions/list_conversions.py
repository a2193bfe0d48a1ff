import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.conversion_list import ConversionList
from ...models.error_envelope import ErrorEnvelope
from ...models.list_conversions_flagged import ListConversionsFlagged
from ...models.list_conversions_reversed import ListConversionsReversed
from ...models.list_conversions_verified import ListConversionsVerified
from ...types import UNSET, Response, Unset


def _get_kwargs(
    handle: str,
    *,
    campaign_id: str | Unset = UNSET,
    from_: datetime.date | datetime.datetime | Unset = UNSET,
    to: datetime.date | datetime.datetime | Unset = UNSET,
    verified: ListConversionsVerified | Unset = UNSET,
    flagged: ListConversionsFlagged | Unset = UNSET,
    reversed_: ListConversionsReversed | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["campaignId"] = campaign_id

    json_from_: str | Unset
    if isinstance(from_, Unset):
        json_from_ = UNSET
    elif isinstance(from_, datetime.date):
        json_from_ = from_.isoformat()
    else:
        json_from_ = from_.isoformat()

    params["from"] = json_from_

    json_to: str | Unset
    if isinstance(to, Unset):
        json_to = UNSET
    elif isinstance(to, datetime.date):
        json_to = to.isoformat()
    else:
        json_to = to.isoformat()

    params["to"] = json_to

    json_verified: str | Unset = UNSET
    if not isinstance(verified, Unset):
        json_verified = verified.value

    params["verified"] = json_verified

    json_flagged: str | Unset = UNSET
    if not isinstance(flagged, Unset):
        json_flagged = flagged.value

    params["flagged"] = json_flagged

    json_reversed_: str | Unset = UNSET
    if not isinstance(reversed_, Unset):
        json_reversed_ = reversed_.value

    params["reversed"] = json_reversed_

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v2/handles/{handle}/conversions".format(
            handle=quote(str(handle), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ConversionList | ErrorEnvelope:
    if response.status_code == 200:
        response_200 = ConversionList.from_dict(response.json())

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
) -> Response[ConversionList | ErrorEnvelope]:
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
    campaign_id: str | Unset = UNSET,
    from_: datetime.date | datetime.datetime | Unset = UNSET,
    to: datetime.date | datetime.datetime | Unset = UNSET,
    verified: ListConversionsVerified | Unset = UNSET,
    flagged: ListConversionsFlagged | Unset = UNSET,
    reversed_: ListConversionsReversed | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Response[ConversionList | ErrorEnvelope]:
    """The audit trail, newest first.

     Every conversion with its click attribution, `verified`, `risk` and `reversal`. Filters combine;
    `from`/`to` are UTC days (default: the last 30 days, at most 366).

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        campaign_id (str | Unset): 1–64 of `[a-z0-9_-]`, starting with a letter or digit.
        from_ (datetime.date | datetime.datetime | Unset): A UTC day (`2026-02-25`) or an RFC 3339
            timestamp (its UTC day counts).
        to (datetime.date | datetime.datetime | Unset): A UTC day (`2026-02-25`) or an RFC 3339
            timestamp (its UTC day counts).
        verified (ListConversionsVerified | Unset):
        flagged (ListConversionsFlagged | Unset):
        reversed_ (ListConversionsReversed | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset): A `nextCursor` (base64url without padding, canonical).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConversionList | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        handle=handle,
        campaign_id=campaign_id,
        from_=from_,
        to=to,
        verified=verified,
        flagged=flagged,
        reversed_=reversed_,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    handle: str,
    *,
    client: AuthenticatedClient,
    campaign_id: str | Unset = UNSET,
    from_: datetime.date | datetime.datetime | Unset = UNSET,
    to: datetime.date | datetime.datetime | Unset = UNSET,
    verified: ListConversionsVerified | Unset = UNSET,
    flagged: ListConversionsFlagged | Unset = UNSET,
    reversed_: ListConversionsReversed | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> ConversionList | ErrorEnvelope | None:
    """The audit trail, newest first.

     Every conversion with its click attribution, `verified`, `risk` and `reversal`. Filters combine;
    `from`/`to` are UTC days (default: the last 30 days, at most 366).

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        campaign_id (str | Unset): 1–64 of `[a-z0-9_-]`, starting with a letter or digit.
        from_ (datetime.date | datetime.datetime | Unset): A UTC day (`2026-02-25`) or an RFC 3339
            timestamp (its UTC day counts).
        to (datetime.date | datetime.datetime | Unset): A UTC day (`2026-02-25`) or an RFC 3339
            timestamp (its UTC day counts).
        verified (ListConversionsVerified | Unset):
        flagged (ListConversionsFlagged | Unset):
        reversed_ (ListConversionsReversed | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset): A `nextCursor` (base64url without padding, canonical).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConversionList | ErrorEnvelope
    """

    return sync_detailed(
        handle=handle,
        client=client,
        campaign_id=campaign_id,
        from_=from_,
        to=to,
        verified=verified,
        flagged=flagged,
        reversed_=reversed_,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    handle: str,
    *,
    client: AuthenticatedClient,
    campaign_id: str | Unset = UNSET,
    from_: datetime.date | datetime.datetime | Unset = UNSET,
    to: datetime.date | datetime.datetime | Unset = UNSET,
    verified: ListConversionsVerified | Unset = UNSET,
    flagged: ListConversionsFlagged | Unset = UNSET,
    reversed_: ListConversionsReversed | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> Response[ConversionList | ErrorEnvelope]:
    """The audit trail, newest first.

     Every conversion with its click attribution, `verified`, `risk` and `reversal`. Filters combine;
    `from`/`to` are UTC days (default: the last 30 days, at most 366).

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        campaign_id (str | Unset): 1–64 of `[a-z0-9_-]`, starting with a letter or digit.
        from_ (datetime.date | datetime.datetime | Unset): A UTC day (`2026-02-25`) or an RFC 3339
            timestamp (its UTC day counts).
        to (datetime.date | datetime.datetime | Unset): A UTC day (`2026-02-25`) or an RFC 3339
            timestamp (its UTC day counts).
        verified (ListConversionsVerified | Unset):
        flagged (ListConversionsFlagged | Unset):
        reversed_ (ListConversionsReversed | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset): A `nextCursor` (base64url without padding, canonical).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConversionList | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        handle=handle,
        campaign_id=campaign_id,
        from_=from_,
        to=to,
        verified=verified,
        flagged=flagged,
        reversed_=reversed_,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    handle: str,
    *,
    client: AuthenticatedClient,
    campaign_id: str | Unset = UNSET,
    from_: datetime.date | datetime.datetime | Unset = UNSET,
    to: datetime.date | datetime.datetime | Unset = UNSET,
    verified: ListConversionsVerified | Unset = UNSET,
    flagged: ListConversionsFlagged | Unset = UNSET,
    reversed_: ListConversionsReversed | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
) -> ConversionList | ErrorEnvelope | None:
    """The audit trail, newest first.

     Every conversion with its click attribution, `verified`, `risk` and `reversal`. Filters combine;
    `from`/`to` are UTC days (default: the last 30 days, at most 366).

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        campaign_id (str | Unset): 1–64 of `[a-z0-9_-]`, starting with a letter or digit.
        from_ (datetime.date | datetime.datetime | Unset): A UTC day (`2026-02-25`) or an RFC 3339
            timestamp (its UTC day counts).
        to (datetime.date | datetime.datetime | Unset): A UTC day (`2026-02-25`) or an RFC 3339
            timestamp (its UTC day counts).
        verified (ListConversionsVerified | Unset):
        flagged (ListConversionsFlagged | Unset):
        reversed_ (ListConversionsReversed | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset): A `nextCursor` (base64url without padding, canonical).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConversionList | ErrorEnvelope
    """

    return (
        await asyncio_detailed(
            handle=handle,
            client=client,
            campaign_id=campaign_id,
            from_=from_,
            to=to,
            verified=verified,
            flagged=flagged,
            reversed_=reversed_,
            limit=limit,
            cursor=cursor,
        )
    ).parsed

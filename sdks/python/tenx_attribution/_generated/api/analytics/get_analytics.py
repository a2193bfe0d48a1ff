import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.error_envelope import ErrorEnvelope
from ...models.funnel_report import FunnelReport
from ...models.get_analytics_funnel import GetAnalyticsFunnel
from ...models.get_analytics_group_by import GetAnalyticsGroupBy
from ...models.get_analytics_orphans import GetAnalyticsOrphans
from ...models.group_report import GroupReport
from ...models.orphan_report import OrphanReport
from ...types import UNSET, Response, Unset


def _get_kwargs(
    handle: str,
    *,
    funnel: GetAnalyticsFunnel | Unset = UNSET,
    group_by: GetAnalyticsGroupBy | Unset = UNSET,
    campaign_id: str | Unset = UNSET,
    partner_id: str | Unset = UNSET,
    from_: datetime.date | datetime.datetime | Unset = UNSET,
    to: datetime.date | datetime.datetime | Unset = UNSET,
    orphans: GetAnalyticsOrphans | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_funnel: str | Unset = UNSET
    if not isinstance(funnel, Unset):
        json_funnel = funnel.value

    params["funnel"] = json_funnel

    json_group_by: str | Unset = UNSET
    if not isinstance(group_by, Unset):
        json_group_by = group_by.value

    params["groupBy"] = json_group_by

    params["campaignId"] = campaign_id

    params["partnerId"] = partner_id

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

    json_orphans: str | Unset = UNSET
    if not isinstance(orphans, Unset):
        json_orphans = orphans.value

    params["orphans"] = json_orphans

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v2/handles/{handle}/analytics".format(
            handle=quote(str(handle), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorEnvelope | FunnelReport | GroupReport | OrphanReport:
    if response.status_code == 200:

        def _parse_response_200(
            data: object,
        ) -> FunnelReport | GroupReport | OrphanReport:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_report_type_0 = FunnelReport.from_dict(data)

                return componentsschemas_report_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_report_type_1 = GroupReport.from_dict(data)

                return componentsschemas_report_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_report_type_2 = OrphanReport.from_dict(data)

            return componentsschemas_report_type_2

        response_200 = _parse_response_200(response.json())

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
) -> Response[ErrorEnvelope | FunnelReport | GroupReport | OrphanReport]:
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
    funnel: GetAnalyticsFunnel | Unset = UNSET,
    group_by: GetAnalyticsGroupBy | Unset = UNSET,
    campaign_id: str | Unset = UNSET,
    partner_id: str | Unset = UNSET,
    from_: datetime.date | datetime.datetime | Unset = UNSET,
    to: datetime.date | datetime.datetime | Unset = UNSET,
    orphans: GetAnalyticsOrphans | Unset = UNSET,
) -> Response[ErrorEnvelope | FunnelReport | GroupReport | OrphanReport]:
    """The per-campaign funnel (default) or a breakdown (`groupBy`).

     `funnel=true` (or neither parameter) gives a `FunnelReport`; `groupBy` gives a `GroupReport`;
    `orphans=true` gives the `OrphanReport` (visits to unknown slugs and the bare domain, by day and
    kind, bots apart; only `from`/`to` apply). Both at once, `funnel=false` without `groupBy`, an
    unknown parameter or a bad date is `400 invalid_request`; an unknown `campaignId` is `404`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        funnel (GetAnalyticsFunnel | Unset):
        group_by (GetAnalyticsGroupBy | Unset):
        campaign_id (str | Unset): 1–64 of `[a-z0-9_-]`, starting with a letter or digit.
        partner_id (str | Unset): Chosen by the merchant; the shape of a campaign id, 1–64 of
            `[a-z0-9_-]`, starting with a letter or digit.
        from_ (datetime.date | datetime.datetime | Unset): A UTC day (`2026-02-25`) or an RFC 3339
            timestamp (its UTC day counts).
        to (datetime.date | datetime.datetime | Unset): A UTC day (`2026-02-25`) or an RFC 3339
            timestamp (its UTC day counts).
        orphans (GetAnalyticsOrphans | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | FunnelReport | GroupReport | OrphanReport]
    """

    kwargs = _get_kwargs(
        handle=handle,
        funnel=funnel,
        group_by=group_by,
        campaign_id=campaign_id,
        partner_id=partner_id,
        from_=from_,
        to=to,
        orphans=orphans,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    handle: str,
    *,
    client: AuthenticatedClient,
    funnel: GetAnalyticsFunnel | Unset = UNSET,
    group_by: GetAnalyticsGroupBy | Unset = UNSET,
    campaign_id: str | Unset = UNSET,
    partner_id: str | Unset = UNSET,
    from_: datetime.date | datetime.datetime | Unset = UNSET,
    to: datetime.date | datetime.datetime | Unset = UNSET,
    orphans: GetAnalyticsOrphans | Unset = UNSET,
) -> ErrorEnvelope | FunnelReport | GroupReport | OrphanReport | None:
    """The per-campaign funnel (default) or a breakdown (`groupBy`).

     `funnel=true` (or neither parameter) gives a `FunnelReport`; `groupBy` gives a `GroupReport`;
    `orphans=true` gives the `OrphanReport` (visits to unknown slugs and the bare domain, by day and
    kind, bots apart; only `from`/`to` apply). Both at once, `funnel=false` without `groupBy`, an
    unknown parameter or a bad date is `400 invalid_request`; an unknown `campaignId` is `404`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        funnel (GetAnalyticsFunnel | Unset):
        group_by (GetAnalyticsGroupBy | Unset):
        campaign_id (str | Unset): 1–64 of `[a-z0-9_-]`, starting with a letter or digit.
        partner_id (str | Unset): Chosen by the merchant; the shape of a campaign id, 1–64 of
            `[a-z0-9_-]`, starting with a letter or digit.
        from_ (datetime.date | datetime.datetime | Unset): A UTC day (`2026-02-25`) or an RFC 3339
            timestamp (its UTC day counts).
        to (datetime.date | datetime.datetime | Unset): A UTC day (`2026-02-25`) or an RFC 3339
            timestamp (its UTC day counts).
        orphans (GetAnalyticsOrphans | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | FunnelReport | GroupReport | OrphanReport
    """

    return sync_detailed(
        handle=handle,
        client=client,
        funnel=funnel,
        group_by=group_by,
        campaign_id=campaign_id,
        partner_id=partner_id,
        from_=from_,
        to=to,
        orphans=orphans,
    ).parsed


async def asyncio_detailed(
    handle: str,
    *,
    client: AuthenticatedClient,
    funnel: GetAnalyticsFunnel | Unset = UNSET,
    group_by: GetAnalyticsGroupBy | Unset = UNSET,
    campaign_id: str | Unset = UNSET,
    partner_id: str | Unset = UNSET,
    from_: datetime.date | datetime.datetime | Unset = UNSET,
    to: datetime.date | datetime.datetime | Unset = UNSET,
    orphans: GetAnalyticsOrphans | Unset = UNSET,
) -> Response[ErrorEnvelope | FunnelReport | GroupReport | OrphanReport]:
    """The per-campaign funnel (default) or a breakdown (`groupBy`).

     `funnel=true` (or neither parameter) gives a `FunnelReport`; `groupBy` gives a `GroupReport`;
    `orphans=true` gives the `OrphanReport` (visits to unknown slugs and the bare domain, by day and
    kind, bots apart; only `from`/`to` apply). Both at once, `funnel=false` without `groupBy`, an
    unknown parameter or a bad date is `400 invalid_request`; an unknown `campaignId` is `404`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        funnel (GetAnalyticsFunnel | Unset):
        group_by (GetAnalyticsGroupBy | Unset):
        campaign_id (str | Unset): 1–64 of `[a-z0-9_-]`, starting with a letter or digit.
        partner_id (str | Unset): Chosen by the merchant; the shape of a campaign id, 1–64 of
            `[a-z0-9_-]`, starting with a letter or digit.
        from_ (datetime.date | datetime.datetime | Unset): A UTC day (`2026-02-25`) or an RFC 3339
            timestamp (its UTC day counts).
        to (datetime.date | datetime.datetime | Unset): A UTC day (`2026-02-25`) or an RFC 3339
            timestamp (its UTC day counts).
        orphans (GetAnalyticsOrphans | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | FunnelReport | GroupReport | OrphanReport]
    """

    kwargs = _get_kwargs(
        handle=handle,
        funnel=funnel,
        group_by=group_by,
        campaign_id=campaign_id,
        partner_id=partner_id,
        from_=from_,
        to=to,
        orphans=orphans,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    handle: str,
    *,
    client: AuthenticatedClient,
    funnel: GetAnalyticsFunnel | Unset = UNSET,
    group_by: GetAnalyticsGroupBy | Unset = UNSET,
    campaign_id: str | Unset = UNSET,
    partner_id: str | Unset = UNSET,
    from_: datetime.date | datetime.datetime | Unset = UNSET,
    to: datetime.date | datetime.datetime | Unset = UNSET,
    orphans: GetAnalyticsOrphans | Unset = UNSET,
) -> ErrorEnvelope | FunnelReport | GroupReport | OrphanReport | None:
    """The per-campaign funnel (default) or a breakdown (`groupBy`).

     `funnel=true` (or neither parameter) gives a `FunnelReport`; `groupBy` gives a `GroupReport`;
    `orphans=true` gives the `OrphanReport` (visits to unknown slugs and the bare domain, by day and
    kind, bots apart; only `from`/`to` apply). Both at once, `funnel=false` without `groupBy`, an
    unknown parameter or a bad date is `400 invalid_request`; an unknown `campaignId` is `404`.

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        funnel (GetAnalyticsFunnel | Unset):
        group_by (GetAnalyticsGroupBy | Unset):
        campaign_id (str | Unset): 1–64 of `[a-z0-9_-]`, starting with a letter or digit.
        partner_id (str | Unset): Chosen by the merchant; the shape of a campaign id, 1–64 of
            `[a-z0-9_-]`, starting with a letter or digit.
        from_ (datetime.date | datetime.datetime | Unset): A UTC day (`2026-02-25`) or an RFC 3339
            timestamp (its UTC day counts).
        to (datetime.date | datetime.datetime | Unset): A UTC day (`2026-02-25`) or an RFC 3339
            timestamp (its UTC day counts).
        orphans (GetAnalyticsOrphans | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | FunnelReport | GroupReport | OrphanReport
    """

    return (
        await asyncio_detailed(
            handle=handle,
            client=client,
            funnel=funnel,
            group_by=group_by,
            campaign_id=campaign_id,
            partner_id=partner_id,
            from_=from_,
            to=to,
            orphans=orphans,
        )
    ).parsed

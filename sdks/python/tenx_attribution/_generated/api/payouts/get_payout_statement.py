from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...models.error_envelope import ErrorEnvelope
from ...models.get_payout_statement_format import GetPayoutStatementFormat
from ...models.statement import Statement
from ...types import UNSET, Response, Unset


def _get_kwargs(
    handle: str,
    payout_id: str,
    *,
    format_: GetPayoutStatementFormat | Unset = GetPayoutStatementFormat.JSON,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_format_: str | Unset = UNSET
    if not isinstance(format_, Unset):
        json_format_ = format_.value

    params["format"] = json_format_

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v2/handles/{handle}/payouts/{payout_id}/statement".format(
            handle=quote(str(handle), safe=""),
            payout_id=quote(str(payout_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorEnvelope | Statement:
    if response.status_code == 200:
        response_200 = Statement.from_dict(response.json())

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
) -> Response[ErrorEnvelope | Statement]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    handle: str,
    payout_id: str,
    *,
    client: AuthenticatedClient,
    format_: GetPayoutStatementFormat | Unset = GetPayoutStatementFormat.JSON,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Response[ErrorEnvelope | Statement]:
    """The payout's statement, a header and one line per commission.

     `format=csv` answers the lines as RFC 4180 CSV (`text/csv; charset=utf-8`, CRLF line ends, `content-
    disposition: attachment`), with the columns commissionId, kind, adjustsCommissionId, conversionId,
    clickId, clickDay, eventType, sub1 … sub5, campaignId, value, valueCurrency, fxRate, planVersion,
    amount, currency, and last kindWords (the kind in words, from the dictionary of `GET /v2/reasons`;
    issue 62). Without `limit` and `cursor`, a statement of up to 5,000 lines is answered whole; a
    larger one is `400 invalid_request` (it is never silently cut: read it a page at a time). With
    `limit` (1 to 5,000) and the previous page's `nextCursor`, one page of lines in the statement's
    order: a JSON page carries the signed header and JWS, its `offset` and `nextCursor` (null on the
    last page), its own lines' `planVersions` and its `rangeProof`: each page verifies alone against the
    signed Merkle root, and the pages, in order, verify together with the amount (`tenx verify` takes a
    page, or the pages as a JSON list). A CSV page has the header row and the next page's cursor in
    `x-next-cursor` (absent on the last page).

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        payout_id (str):
        format_ (GetPayoutStatementFormat | Unset):  Default: GetPayoutStatementFormat.JSON.
        limit (int | Unset):
        cursor (str | Unset): A `nextCursor` (base64url without padding, canonical).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | Statement]
    """

    kwargs = _get_kwargs(
        handle=handle,
        payout_id=payout_id,
        format_=format_,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    handle: str,
    payout_id: str,
    *,
    client: AuthenticatedClient,
    format_: GetPayoutStatementFormat | Unset = GetPayoutStatementFormat.JSON,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> ErrorEnvelope | Statement | None:
    """The payout's statement, a header and one line per commission.

     `format=csv` answers the lines as RFC 4180 CSV (`text/csv; charset=utf-8`, CRLF line ends, `content-
    disposition: attachment`), with the columns commissionId, kind, adjustsCommissionId, conversionId,
    clickId, clickDay, eventType, sub1 … sub5, campaignId, value, valueCurrency, fxRate, planVersion,
    amount, currency, and last kindWords (the kind in words, from the dictionary of `GET /v2/reasons`;
    issue 62). Without `limit` and `cursor`, a statement of up to 5,000 lines is answered whole; a
    larger one is `400 invalid_request` (it is never silently cut: read it a page at a time). With
    `limit` (1 to 5,000) and the previous page's `nextCursor`, one page of lines in the statement's
    order: a JSON page carries the signed header and JWS, its `offset` and `nextCursor` (null on the
    last page), its own lines' `planVersions` and its `rangeProof`: each page verifies alone against the
    signed Merkle root, and the pages, in order, verify together with the amount (`tenx verify` takes a
    page, or the pages as a JSON list). A CSV page has the header row and the next page's cursor in
    `x-next-cursor` (absent on the last page).

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        payout_id (str):
        format_ (GetPayoutStatementFormat | Unset):  Default: GetPayoutStatementFormat.JSON.
        limit (int | Unset):
        cursor (str | Unset): A `nextCursor` (base64url without padding, canonical).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | Statement
    """

    return sync_detailed(
        handle=handle,
        payout_id=payout_id,
        client=client,
        format_=format_,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    handle: str,
    payout_id: str,
    *,
    client: AuthenticatedClient,
    format_: GetPayoutStatementFormat | Unset = GetPayoutStatementFormat.JSON,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Response[ErrorEnvelope | Statement]:
    """The payout's statement, a header and one line per commission.

     `format=csv` answers the lines as RFC 4180 CSV (`text/csv; charset=utf-8`, CRLF line ends, `content-
    disposition: attachment`), with the columns commissionId, kind, adjustsCommissionId, conversionId,
    clickId, clickDay, eventType, sub1 … sub5, campaignId, value, valueCurrency, fxRate, planVersion,
    amount, currency, and last kindWords (the kind in words, from the dictionary of `GET /v2/reasons`;
    issue 62). Without `limit` and `cursor`, a statement of up to 5,000 lines is answered whole; a
    larger one is `400 invalid_request` (it is never silently cut: read it a page at a time). With
    `limit` (1 to 5,000) and the previous page's `nextCursor`, one page of lines in the statement's
    order: a JSON page carries the signed header and JWS, its `offset` and `nextCursor` (null on the
    last page), its own lines' `planVersions` and its `rangeProof`: each page verifies alone against the
    signed Merkle root, and the pages, in order, verify together with the amount (`tenx verify` takes a
    page, or the pages as a JSON list). A CSV page has the header row and the next page's cursor in
    `x-next-cursor` (absent on the last page).

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        payout_id (str):
        format_ (GetPayoutStatementFormat | Unset):  Default: GetPayoutStatementFormat.JSON.
        limit (int | Unset):
        cursor (str | Unset): A `nextCursor` (base64url without padding, canonical).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | Statement]
    """

    kwargs = _get_kwargs(
        handle=handle,
        payout_id=payout_id,
        format_=format_,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    handle: str,
    payout_id: str,
    *,
    client: AuthenticatedClient,
    format_: GetPayoutStatementFormat | Unset = GetPayoutStatementFormat.JSON,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> ErrorEnvelope | Statement | None:
    """The payout's statement, a header and one line per commission.

     `format=csv` answers the lines as RFC 4180 CSV (`text/csv; charset=utf-8`, CRLF line ends, `content-
    disposition: attachment`), with the columns commissionId, kind, adjustsCommissionId, conversionId,
    clickId, clickDay, eventType, sub1 … sub5, campaignId, value, valueCurrency, fxRate, planVersion,
    amount, currency, and last kindWords (the kind in words, from the dictionary of `GET /v2/reasons`;
    issue 62). Without `limit` and `cursor`, a statement of up to 5,000 lines is answered whole; a
    larger one is `400 invalid_request` (it is never silently cut: read it a page at a time). With
    `limit` (1 to 5,000) and the previous page's `nextCursor`, one page of lines in the statement's
    order: a JSON page carries the signed header and JWS, its `offset` and `nextCursor` (null on the
    last page), its own lines' `planVersions` and its `rangeProof`: each page verifies alone against the
    signed Merkle root, and the pages, in order, verify together with the amount (`tenx verify` takes a
    page, or the pages as a JSON list). A CSV page has the header row and the next page's cursor in
    `x-next-cursor` (absent on the last page).

    Args:
        handle (str): A tenant's handle, the DNS label of its short links: 3–32 of `[a-z0-9-]`,
            starting and ending with a letter or digit, no `--`; reserved: `api`, `app`, `www`,
            `admin`, `root`, `static`, `assets`, `docs`, `status`, `mail`, `localhost`, `v2`,
            `public`, `support`, `help`, `dashboard`, `login`, `auth`, `billing`, `cdn`, `ns1`, `ns2`.
        payout_id (str):
        format_ (GetPayoutStatementFormat | Unset):  Default: GetPayoutStatementFormat.JSON.
        limit (int | Unset):
        cursor (str | Unset): A `nextCursor` (base64url without padding, canonical).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | Statement
    """

    return (
        await asyncio_detailed(
            handle=handle,
            payout_id=payout_id,
            client=client,
            format_=format_,
            limit=limit,
            cursor=cursor,
        )
    ).parsed

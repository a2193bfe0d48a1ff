from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.currency import Currency

T = TypeVar("T", bound="StatementHeader")


@_attrs_define
class StatementHeader:
    """What is signed: the RFC 8785 canonical form of this object is the payload of the statement's `jws`. Its SHA-256 is
    the next statement's `previousStatementHash`.

        Attributes:
            amount (str): A decimal string in the currency (`"24.99"`, `"-3.50"`): an optional `-`, digits and at most one
                point, no exponent; at most the currency's minor-unit decimals (2 for USD, 0 for JPY), at most 1000000000 in
                absolute value. Answers carry exactly the minor-unit decimals.
            currency (Currency): An active ISO 4217 currency or fund code (withdrawn codes, precious metals, bond market
                units, `XTS` and `XXX` are refused).
            handle (str):
            merkle_root (str): The RFC 6962 Merkle tree head (hex) over the lines' leaves, in their order; a leaf is the RFC
                8785 canonical JSON of the line's commissionId, kind, clickId, subIds, value, rate (its fxRate), planVersion and
                amount.
            partner_id (str): Chosen by the merchant; the shape of a campaign id, 1–64 of `[a-z0-9_-]`, starting with a
                letter or digit.
            payout_id (str):
            period_end (datetime.datetime): RFC 3339, UTC.
            period_start (datetime.datetime): RFC 3339, UTC.
            previous_statement_hash (None | str): The SHA-256 (hex) of the partner's previous statement's canonical header;
                null for its first.
            sequence (int):
            tree_size (int): The number of lines.
    """

    amount: str
    currency: Currency
    handle: str
    merkle_root: str
    partner_id: str
    payout_id: str
    period_end: datetime.datetime
    period_start: datetime.datetime
    previous_statement_hash: None | str
    sequence: int
    tree_size: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        currency = self.currency.value

        handle = self.handle

        merkle_root = self.merkle_root

        partner_id = self.partner_id

        payout_id = self.payout_id

        period_end = self.period_end.isoformat()

        period_start = self.period_start.isoformat()

        previous_statement_hash: None | str
        previous_statement_hash = self.previous_statement_hash

        sequence = self.sequence

        tree_size = self.tree_size

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "amount": amount,
                "currency": currency,
                "handle": handle,
                "merkleRoot": merkle_root,
                "partnerId": partner_id,
                "payoutId": payout_id,
                "periodEnd": period_end,
                "periodStart": period_start,
                "previousStatementHash": previous_statement_hash,
                "sequence": sequence,
                "treeSize": tree_size,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        amount = d.pop("amount")

        currency = Currency(d.pop("currency"))

        handle = d.pop("handle")

        merkle_root = d.pop("merkleRoot")

        partner_id = d.pop("partnerId")

        payout_id = d.pop("payoutId")

        period_end = datetime.datetime.fromisoformat(d.pop("periodEnd"))

        period_start = datetime.datetime.fromisoformat(d.pop("periodStart"))

        def _parse_previous_statement_hash(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        previous_statement_hash = _parse_previous_statement_hash(
            d.pop("previousStatementHash")
        )

        sequence = d.pop("sequence")

        tree_size = d.pop("treeSize")

        statement_header = cls(
            amount=amount,
            currency=currency,
            handle=handle,
            merkle_root=merkle_root,
            partner_id=partner_id,
            payout_id=payout_id,
            period_end=period_end,
            period_start=period_start,
            previous_statement_hash=previous_statement_hash,
            sequence=sequence,
            tree_size=tree_size,
        )

        statement_header.additional_properties = d
        return statement_header

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties

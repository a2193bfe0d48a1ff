from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.currency import Currency
from ..models.payout_status import PayoutStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.payout_provider import PayoutProvider
    from ..models.payout_waiting import PayoutWaiting


T = TypeVar("T", bound="Payout")


@_attrs_define
class Payout:
    """
    Attributes:
        amount (str): A decimal string in the currency (`"24.99"`, `"-3.50"`): an optional `-`, digits and at most one
            point, no exponent; at most the currency's minor-unit decimals (2 for USD, 0 for JPY), at most 1000000000 in
            absolute value. Answers carry exactly the minor-unit decimals.
        commission_count (int):
        created_at (datetime.datetime): RFC 3339, UTC.
        created_by (str):
        currency (Currency): An active ISO 4217 currency or fund code (withdrawn codes, precious metals, bond market
            units, `XTS` and `XXX` are refused).
        paid_at (datetime.datetime | None):
        partner_id (str): Chosen by the merchant; the shape of a campaign id, 1–64 of `[a-z0-9_-]`, starting with a
            letter or digit.
        payout_id (str):
        period_end (datetime.datetime): RFC 3339, UTC.
        period_start (datetime.datetime): RFC 3339, UTC.
        reason (None | str): Why it failed, was returned or was canceled, in words.
        reference (None | str): The payment's reference (`mark-paid`).
        sequence (int): The partner's payout number (1, 2, …).
        status (PayoutStatus): `sending`: handed to the partner's payment provider (Stripe Connect, PayPal Payouts), not
            yet confirmed by it; `returned`: sent and given back by the provider (its lines back on the partner's balance).
        provider (PayoutProvider | Unset): A payout sent through a payment provider.
        test (bool | Unset): A payout of test money (test mode's); present only when true. Marked paid by hand, never
            sent, never in a file.
        waiting (PayoutWaiting | Unset): Why a payout sent through a payment provider has not left yet, for a manager
            only (never in a partner's read or an event): the program holds it (`held`, `reason` the hold's code), or the
            provider has not taken it yet (`retrying`, tried again by itself).
    """

    amount: str
    commission_count: int
    created_at: datetime.datetime
    created_by: str
    currency: Currency
    paid_at: datetime.datetime | None
    partner_id: str
    payout_id: str
    period_end: datetime.datetime
    period_start: datetime.datetime
    reason: None | str
    reference: None | str
    sequence: int
    status: PayoutStatus
    provider: PayoutProvider | Unset = UNSET
    test: bool | Unset = UNSET
    waiting: PayoutWaiting | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        commission_count = self.commission_count

        created_at = self.created_at.isoformat()

        created_by = self.created_by

        currency = self.currency.value

        paid_at: None | str
        if isinstance(self.paid_at, datetime.datetime):
            paid_at = self.paid_at.isoformat()
        else:
            paid_at = self.paid_at

        partner_id = self.partner_id

        payout_id = self.payout_id

        period_end = self.period_end.isoformat()

        period_start = self.period_start.isoformat()

        reason: None | str
        reason = self.reason

        reference: None | str
        reference = self.reference

        sequence = self.sequence

        status = self.status.value

        provider: dict[str, Any] | Unset = UNSET
        if not isinstance(self.provider, Unset):
            provider = self.provider.to_dict()

        test = self.test

        waiting: dict[str, Any] | Unset = UNSET
        if not isinstance(self.waiting, Unset):
            waiting = self.waiting.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "amount": amount,
                "commissionCount": commission_count,
                "createdAt": created_at,
                "createdBy": created_by,
                "currency": currency,
                "paidAt": paid_at,
                "partnerId": partner_id,
                "payoutId": payout_id,
                "periodEnd": period_end,
                "periodStart": period_start,
                "reason": reason,
                "reference": reference,
                "sequence": sequence,
                "status": status,
            }
        )
        if provider is not UNSET:
            field_dict["provider"] = provider
        if test is not UNSET:
            field_dict["test"] = test
        if waiting is not UNSET:
            field_dict["waiting"] = waiting

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.payout_provider import PayoutProvider
        from ..models.payout_waiting import PayoutWaiting

        d = dict(src_dict)
        amount = d.pop("amount")

        commission_count = d.pop("commissionCount")

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        created_by = d.pop("createdBy")

        currency = Currency(d.pop("currency"))

        def _parse_paid_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                paid_at_type_0 = datetime.datetime.fromisoformat(data)

                return paid_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        paid_at = _parse_paid_at(d.pop("paidAt"))

        partner_id = d.pop("partnerId")

        payout_id = d.pop("payoutId")

        period_end = datetime.datetime.fromisoformat(d.pop("periodEnd"))

        period_start = datetime.datetime.fromisoformat(d.pop("periodStart"))

        def _parse_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reason = _parse_reason(d.pop("reason"))

        def _parse_reference(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reference = _parse_reference(d.pop("reference"))

        sequence = d.pop("sequence")

        status = PayoutStatus(d.pop("status"))

        _provider = d.pop("provider", UNSET)
        provider: PayoutProvider | Unset
        if isinstance(_provider, Unset):
            provider = UNSET
        else:
            provider = PayoutProvider.from_dict(_provider)

        test = d.pop("test", UNSET)

        _waiting = d.pop("waiting", UNSET)
        waiting: PayoutWaiting | Unset
        if isinstance(_waiting, Unset):
            waiting = UNSET
        else:
            waiting = PayoutWaiting.from_dict(_waiting)

        payout = cls(
            amount=amount,
            commission_count=commission_count,
            created_at=created_at,
            created_by=created_by,
            currency=currency,
            paid_at=paid_at,
            partner_id=partner_id,
            payout_id=payout_id,
            period_end=period_end,
            period_start=period_start,
            reason=reason,
            reference=reference,
            sequence=sequence,
            status=status,
            provider=provider,
            test=test,
            waiting=waiting,
        )

        payout.additional_properties = d
        return payout

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

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.currency import Currency
from ..types import UNSET, Unset

T = TypeVar("T", bound="ManualCommissionRequest")


@_attrs_define
class ManualCommissionRequest:
    """
    Attributes:
        amount (str): A decimal string in the currency (`"24.99"`, `"-3.50"`): an optional `-`, digits and at most one
            point, no exponent; at most the currency's minor-unit decimals (2 for USD, 0 for JPY), at most 1000000000 in
            absolute value. Answers carry exactly the minor-unit decimals.
        currency (Currency): An active ISO 4217 currency or fund code (withdrawn codes, precious metals, bond market
            units, `XTS` and `XXX` are refused).
        partner_id (str): Chosen by the merchant; the shape of a campaign id, 1–64 of `[a-z0-9_-]`, starting with a
            letter or digit.
        reason (str): 1 to 500 characters once trimmed (Unicode white space, U+0085 included).
        campaign_id (None | str | Unset):
    """

    amount: str
    currency: Currency
    partner_id: str
    reason: str
    campaign_id: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        currency = self.currency.value

        partner_id = self.partner_id

        reason = self.reason

        campaign_id: None | str | Unset
        if isinstance(self.campaign_id, Unset):
            campaign_id = UNSET
        else:
            campaign_id = self.campaign_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "amount": amount,
                "currency": currency,
                "partnerId": partner_id,
                "reason": reason,
            }
        )
        if campaign_id is not UNSET:
            field_dict["campaignId"] = campaign_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        amount = d.pop("amount")

        currency = Currency(d.pop("currency"))

        partner_id = d.pop("partnerId")

        reason = d.pop("reason")

        def _parse_campaign_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        campaign_id = _parse_campaign_id(d.pop("campaignId", UNSET))

        manual_commission_request = cls(
            amount=amount,
            currency=currency,
            partner_id=partner_id,
            reason=reason,
            campaign_id=campaign_id,
        )

        return manual_commission_request

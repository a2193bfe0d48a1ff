from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.commission_kind import CommissionKind
from ..models.currency import Currency
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.sub_ids import SubIds


T = TypeVar("T", bound="StatementLine")


@_attrs_define
class StatementLine:
    """
    Attributes:
        adjusts_commission_id (None | str):
        amount (str): A decimal string in the currency (`"24.99"`, `"-3.50"`): an optional `-`, digits and at most one
            point, no exponent; at most the currency's minor-unit decimals (2 for USD, 0 for JPY), at most 1000000000 in
            absolute value. Answers carry exactly the minor-unit decimals.
        campaign_id (None | str):
        click_day (None | str):
        click_id (None | str):
        commission_id (str):
        conversion_id (None | str):
        currency (Currency): An active ISO 4217 currency or fund code (withdrawn codes, precious metals, bond market
            units, `XTS` and `XXX` are refused).
        earned_at (datetime.datetime): When the line was earned; not in the line's leaf.
        event_type (None | str):
        fx_rate (None | str):
        kind (CommissionKind):
        plan_version (int | None):
        sub_ids (SubIds): The partner's `sub1` … `sub5` from the short URL (only those given): control characters
            removed, trimmed, at most 100 bytes each as the ctx carries them (UTF-8, a `"` or `\\` counting two: the ctx
            token's 2,048-byte bound always holds), cut on a character boundary; the first of a repeated name wins.
        value (None | str):
        value_currency (None | str):
        claim_decision (str | Unset): The claim's signed decision (compact JWS, `tenx-claim-decision+jws`) approving
            this line for this amount; `tenx verify` checks it. Not part of the line's leaf.
        claim_id (str | Unset): A `claim` line's claim (absent on other lines and on statements made before claims were
            shown).
    """

    adjusts_commission_id: None | str
    amount: str
    campaign_id: None | str
    click_day: None | str
    click_id: None | str
    commission_id: str
    conversion_id: None | str
    currency: Currency
    earned_at: datetime.datetime
    event_type: None | str
    fx_rate: None | str
    kind: CommissionKind
    plan_version: int | None
    sub_ids: SubIds
    value: None | str
    value_currency: None | str
    claim_decision: str | Unset = UNSET
    claim_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        adjusts_commission_id: None | str
        adjusts_commission_id = self.adjusts_commission_id

        amount = self.amount

        campaign_id: None | str
        campaign_id = self.campaign_id

        click_day: None | str
        click_day = self.click_day

        click_id: None | str
        click_id = self.click_id

        commission_id = self.commission_id

        conversion_id: None | str
        conversion_id = self.conversion_id

        currency = self.currency.value

        earned_at = self.earned_at.isoformat()

        event_type: None | str
        event_type = self.event_type

        fx_rate: None | str
        fx_rate = self.fx_rate

        kind = self.kind.value

        plan_version: int | None
        plan_version = self.plan_version

        sub_ids = self.sub_ids.to_dict()

        value: None | str
        value = self.value

        value_currency: None | str
        value_currency = self.value_currency

        claim_decision = self.claim_decision

        claim_id = self.claim_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "adjustsCommissionId": adjusts_commission_id,
                "amount": amount,
                "campaignId": campaign_id,
                "clickDay": click_day,
                "clickId": click_id,
                "commissionId": commission_id,
                "conversionId": conversion_id,
                "currency": currency,
                "earnedAt": earned_at,
                "eventType": event_type,
                "fxRate": fx_rate,
                "kind": kind,
                "planVersion": plan_version,
                "subIds": sub_ids,
                "value": value,
                "valueCurrency": value_currency,
            }
        )
        if claim_decision is not UNSET:
            field_dict["claimDecision"] = claim_decision
        if claim_id is not UNSET:
            field_dict["claimId"] = claim_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.sub_ids import SubIds

        d = dict(src_dict)

        def _parse_adjusts_commission_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        adjusts_commission_id = _parse_adjusts_commission_id(
            d.pop("adjustsCommissionId")
        )

        amount = d.pop("amount")

        def _parse_campaign_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        campaign_id = _parse_campaign_id(d.pop("campaignId"))

        def _parse_click_day(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        click_day = _parse_click_day(d.pop("clickDay"))

        def _parse_click_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        click_id = _parse_click_id(d.pop("clickId"))

        commission_id = d.pop("commissionId")

        def _parse_conversion_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        conversion_id = _parse_conversion_id(d.pop("conversionId"))

        currency = Currency(d.pop("currency"))

        earned_at = datetime.datetime.fromisoformat(d.pop("earnedAt"))

        def _parse_event_type(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        event_type = _parse_event_type(d.pop("eventType"))

        def _parse_fx_rate(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        fx_rate = _parse_fx_rate(d.pop("fxRate"))

        kind = CommissionKind(d.pop("kind"))

        def _parse_plan_version(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        plan_version = _parse_plan_version(d.pop("planVersion"))

        sub_ids = SubIds.from_dict(d.pop("subIds"))

        def _parse_value(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        value = _parse_value(d.pop("value"))

        def _parse_value_currency(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        value_currency = _parse_value_currency(d.pop("valueCurrency"))

        claim_decision = d.pop("claimDecision", UNSET)

        claim_id = d.pop("claimId", UNSET)

        statement_line = cls(
            adjusts_commission_id=adjusts_commission_id,
            amount=amount,
            campaign_id=campaign_id,
            click_day=click_day,
            click_id=click_id,
            commission_id=commission_id,
            conversion_id=conversion_id,
            currency=currency,
            earned_at=earned_at,
            event_type=event_type,
            fx_rate=fx_rate,
            kind=kind,
            plan_version=plan_version,
            sub_ids=sub_ids,
            value=value,
            value_currency=value_currency,
            claim_decision=claim_decision,
            claim_id=claim_id,
        )

        statement_line.additional_properties = d
        return statement_line

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

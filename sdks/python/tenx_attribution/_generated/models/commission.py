from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.commission_kind import CommissionKind
from ..models.commission_status import CommissionStatus
from ..models.currency import Currency
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.commission_confidence_type_0 import CommissionConfidenceType0
    from ..models.sub_ids import SubIds


T = TypeVar("T", bound="Commission")


@_attrs_define
class Commission:
    """
    Attributes:
        adjusted_by (None | str): The adjustment or clawback line that corrects this one.
        adjusts_commission_id (None | str): The line an adjustment or clawback corrects.
        amount (None | str): In `currency`; null while the exchange rate it needs is not known.
        available_at (datetime.datetime): RFC 3339, UTC.
        campaign_id (None | str):
        click_day (None | str):
        click_id (None | str):
        commission_id (str):
        confidence (CommissionConfidenceType0 | None): The campaign's confidence when it held the line (below 50), and
            over which window.
        conversion_id (None | str):
        created_at (datetime.datetime): RFC 3339, UTC.
        currency (Currency): An active ISO 4217 currency or fund code (withdrawn codes, precious metals, bond market
            units, `XTS` and `XXX` are refused).
        event_type (None | str):
        fx_rate (None | str): The rate applied (value currency to plan currency), as recorded.
        kind (CommissionKind):
        partner_id (str): Chosen by the merchant; the shape of a campaign id, 1–64 of `[a-z0-9_-]`, starting with a
            letter or digit.
        payout_id (None | str):
        plan_version (int | None):
        reasons (list[str]): Why the line is held, capped or partial.
        receipt (None | str): The conversion's signed receipt (see `ConversionReceipt.receipt`); null for other kinds.
        review_note (None | str):
        reviewed_at (datetime.datetime | None):
        reviewed_by (None | str):
        status (CommissionStatus):
        sub_ids (SubIds): The partner's `sub1` … `sub5` from the short URL (only those given): control characters
            removed, trimmed, at most 100 bytes each as the ctx carries them (UTF-8, a `"` or `\\` counting two: the ctx
            token's 2,048-byte bound always holds), cut on a character boundary; the first of a repeated name wins.
        value (None | str): The conversion's value, in `valueCurrency`.
        value_currency (None | str):
        rule_index (int | Unset): The plan rule that paid the line: its index in the `rules` of version `planVersion` (a
            `bonus` line: its bonus rule). Absent when no rule paid (`no_rule`, `outside_window`, …) and on lines written
            before issue 47.
        test (bool | Unset): A line of test money (test mode's sale); present only when true. Never in a real figure, a
            statement or a file.
        tier_index (int | Unset): The tier of that rule that set the rate (index into its `tiers`); absent when the
            rule's own rate applied.
    """

    adjusted_by: None | str
    adjusts_commission_id: None | str
    amount: None | str
    available_at: datetime.datetime
    campaign_id: None | str
    click_day: None | str
    click_id: None | str
    commission_id: str
    confidence: CommissionConfidenceType0 | None
    conversion_id: None | str
    created_at: datetime.datetime
    currency: Currency
    event_type: None | str
    fx_rate: None | str
    kind: CommissionKind
    partner_id: str
    payout_id: None | str
    plan_version: int | None
    reasons: list[str]
    receipt: None | str
    review_note: None | str
    reviewed_at: datetime.datetime | None
    reviewed_by: None | str
    status: CommissionStatus
    sub_ids: SubIds
    value: None | str
    value_currency: None | str
    rule_index: int | Unset = UNSET
    test: bool | Unset = UNSET
    tier_index: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.commission_confidence_type_0 import CommissionConfidenceType0

        adjusted_by: None | str
        adjusted_by = self.adjusted_by

        adjusts_commission_id: None | str
        adjusts_commission_id = self.adjusts_commission_id

        amount: None | str
        amount = self.amount

        available_at = self.available_at.isoformat()

        campaign_id: None | str
        campaign_id = self.campaign_id

        click_day: None | str
        click_day = self.click_day

        click_id: None | str
        click_id = self.click_id

        commission_id = self.commission_id

        confidence: dict[str, Any] | None
        if isinstance(self.confidence, CommissionConfidenceType0):
            confidence = self.confidence.to_dict()
        else:
            confidence = self.confidence

        conversion_id: None | str
        conversion_id = self.conversion_id

        created_at = self.created_at.isoformat()

        currency = self.currency.value

        event_type: None | str
        event_type = self.event_type

        fx_rate: None | str
        fx_rate = self.fx_rate

        kind = self.kind.value

        partner_id = self.partner_id

        payout_id: None | str
        payout_id = self.payout_id

        plan_version: int | None
        plan_version = self.plan_version

        reasons = self.reasons

        receipt: None | str
        receipt = self.receipt

        review_note: None | str
        review_note = self.review_note

        reviewed_at: None | str
        if isinstance(self.reviewed_at, datetime.datetime):
            reviewed_at = self.reviewed_at.isoformat()
        else:
            reviewed_at = self.reviewed_at

        reviewed_by: None | str
        reviewed_by = self.reviewed_by

        status = self.status.value

        sub_ids = self.sub_ids.to_dict()

        value: None | str
        value = self.value

        value_currency: None | str
        value_currency = self.value_currency

        rule_index = self.rule_index

        test = self.test

        tier_index = self.tier_index

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "adjustedBy": adjusted_by,
                "adjustsCommissionId": adjusts_commission_id,
                "amount": amount,
                "availableAt": available_at,
                "campaignId": campaign_id,
                "clickDay": click_day,
                "clickId": click_id,
                "commissionId": commission_id,
                "confidence": confidence,
                "conversionId": conversion_id,
                "createdAt": created_at,
                "currency": currency,
                "eventType": event_type,
                "fxRate": fx_rate,
                "kind": kind,
                "partnerId": partner_id,
                "payoutId": payout_id,
                "planVersion": plan_version,
                "reasons": reasons,
                "receipt": receipt,
                "reviewNote": review_note,
                "reviewedAt": reviewed_at,
                "reviewedBy": reviewed_by,
                "status": status,
                "subIds": sub_ids,
                "value": value,
                "valueCurrency": value_currency,
            }
        )
        if rule_index is not UNSET:
            field_dict["ruleIndex"] = rule_index
        if test is not UNSET:
            field_dict["test"] = test
        if tier_index is not UNSET:
            field_dict["tierIndex"] = tier_index

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.commission_confidence_type_0 import CommissionConfidenceType0
        from ..models.sub_ids import SubIds

        d = dict(src_dict)

        def _parse_adjusted_by(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        adjusted_by = _parse_adjusted_by(d.pop("adjustedBy"))

        def _parse_adjusts_commission_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        adjusts_commission_id = _parse_adjusts_commission_id(
            d.pop("adjustsCommissionId")
        )

        def _parse_amount(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        amount = _parse_amount(d.pop("amount"))

        available_at = datetime.datetime.fromisoformat(d.pop("availableAt"))

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

        def _parse_confidence(data: object) -> CommissionConfidenceType0 | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                confidence_type_0 = CommissionConfidenceType0.from_dict(data)

                return confidence_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CommissionConfidenceType0 | None, data)

        confidence = _parse_confidence(d.pop("confidence"))

        def _parse_conversion_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        conversion_id = _parse_conversion_id(d.pop("conversionId"))

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        currency = Currency(d.pop("currency"))

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

        partner_id = d.pop("partnerId")

        def _parse_payout_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        payout_id = _parse_payout_id(d.pop("payoutId"))

        def _parse_plan_version(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        plan_version = _parse_plan_version(d.pop("planVersion"))

        reasons = cast(list[str], d.pop("reasons"))

        def _parse_receipt(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        receipt = _parse_receipt(d.pop("receipt"))

        def _parse_review_note(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        review_note = _parse_review_note(d.pop("reviewNote"))

        def _parse_reviewed_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                reviewed_at_type_0 = datetime.datetime.fromisoformat(data)

                return reviewed_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        reviewed_at = _parse_reviewed_at(d.pop("reviewedAt"))

        def _parse_reviewed_by(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reviewed_by = _parse_reviewed_by(d.pop("reviewedBy"))

        status = CommissionStatus(d.pop("status"))

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

        rule_index = d.pop("ruleIndex", UNSET)

        test = d.pop("test", UNSET)

        tier_index = d.pop("tierIndex", UNSET)

        commission = cls(
            adjusted_by=adjusted_by,
            adjusts_commission_id=adjusts_commission_id,
            amount=amount,
            available_at=available_at,
            campaign_id=campaign_id,
            click_day=click_day,
            click_id=click_id,
            commission_id=commission_id,
            confidence=confidence,
            conversion_id=conversion_id,
            created_at=created_at,
            currency=currency,
            event_type=event_type,
            fx_rate=fx_rate,
            kind=kind,
            partner_id=partner_id,
            payout_id=payout_id,
            plan_version=plan_version,
            reasons=reasons,
            receipt=receipt,
            review_note=review_note,
            reviewed_at=reviewed_at,
            reviewed_by=reviewed_by,
            status=status,
            sub_ids=sub_ids,
            value=value,
            value_currency=value_currency,
            rule_index=rule_index,
            test=test,
            tier_index=tier_index,
        )

        commission.additional_properties = d
        return commission

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

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.conversion_data_coupon import ConversionDataCoupon
    from ..models.conversion_data_metadata import ConversionDataMetadata
    from ..models.reversal import Reversal
    from ..models.risk import Risk
    from ..models.sub_ids import SubIds


T = TypeVar("T", bound="ConversionData")


@_attrs_define
class ConversionData:
    """
    Attributes:
        campaign_id (None | str):
        click_id (str):
        conversion_id (str):
        country (str):
        currency (None | str):
        device (str):
        event_type (str):
        idempotency_key (str):
        received_at (datetime.datetime): RFC 3339, UTC.
        referrer (str):
        segment (str):
        slug (str):
        source (str):
        test (bool):
        value (float | None):
        coupon (ConversionDataCoupon | Unset): The coupon code the sale named (issue 63): its partner, whether a click
            of that partner came with the sale, the landing referrer's host, and for a sale without a click the program's
            `couponWithoutClick` policy when it arrived.
        customer_id (str | Unset): The merchant's own id for a buyer or account.
        metadata (ConversionDataMetadata | Unset): Present when submitted.
        receipt (str | Unset): The conversion's signed receipt (see `ConversionReceipt.receipt`).
        reversal (Reversal | Unset):
        risk (Risk | Unset):
        sub_ids (SubIds | Unset): The partner's `sub1` … `sub5` from the short URL (only those given): control
            characters removed, trimmed, at most 100 bytes each as the ctx carries them (UTF-8, a `"` or `\\` counting two:
            the ctx token's 2,048-byte bound always holds), cut on a character boundary; the first of a repeated name wins.
        superseded_by (str | Unset): The verified conversion that took this unverified one's idempotency key; a
            superseded conversion is no longer counted (its reversal's reason is `superseded_by_verified`).
        variant (str | Unset): The A/B test variant of the click converted, `{index}@{periodStartMillis}`; absent when
            none.
        verified (bool | Unset):
    """

    campaign_id: None | str
    click_id: str
    conversion_id: str
    country: str
    currency: None | str
    device: str
    event_type: str
    idempotency_key: str
    received_at: datetime.datetime
    referrer: str
    segment: str
    slug: str
    source: str
    test: bool
    value: float | None
    coupon: ConversionDataCoupon | Unset = UNSET
    customer_id: str | Unset = UNSET
    metadata: ConversionDataMetadata | Unset = UNSET
    receipt: str | Unset = UNSET
    reversal: Reversal | Unset = UNSET
    risk: Risk | Unset = UNSET
    sub_ids: SubIds | Unset = UNSET
    superseded_by: str | Unset = UNSET
    variant: str | Unset = UNSET
    verified: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        campaign_id: None | str
        campaign_id = self.campaign_id

        click_id = self.click_id

        conversion_id = self.conversion_id

        country = self.country

        currency: None | str
        currency = self.currency

        device = self.device

        event_type = self.event_type

        idempotency_key = self.idempotency_key

        received_at = self.received_at.isoformat()

        referrer = self.referrer

        segment = self.segment

        slug = self.slug

        source = self.source

        test = self.test

        value: float | None
        value = self.value

        coupon: dict[str, Any] | Unset = UNSET
        if not isinstance(self.coupon, Unset):
            coupon = self.coupon.to_dict()

        customer_id = self.customer_id

        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        receipt = self.receipt

        reversal: dict[str, Any] | Unset = UNSET
        if not isinstance(self.reversal, Unset):
            reversal = self.reversal.to_dict()

        risk: dict[str, Any] | Unset = UNSET
        if not isinstance(self.risk, Unset):
            risk = self.risk.to_dict()

        sub_ids: dict[str, Any] | Unset = UNSET
        if not isinstance(self.sub_ids, Unset):
            sub_ids = self.sub_ids.to_dict()

        superseded_by = self.superseded_by

        variant = self.variant

        verified = self.verified

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "campaignId": campaign_id,
                "clickId": click_id,
                "conversionId": conversion_id,
                "country": country,
                "currency": currency,
                "device": device,
                "eventType": event_type,
                "idempotencyKey": idempotency_key,
                "receivedAt": received_at,
                "referrer": referrer,
                "segment": segment,
                "slug": slug,
                "source": source,
                "test": test,
                "value": value,
            }
        )
        if coupon is not UNSET:
            field_dict["coupon"] = coupon
        if customer_id is not UNSET:
            field_dict["customerId"] = customer_id
        if metadata is not UNSET:
            field_dict["metadata"] = metadata
        if receipt is not UNSET:
            field_dict["receipt"] = receipt
        if reversal is not UNSET:
            field_dict["reversal"] = reversal
        if risk is not UNSET:
            field_dict["risk"] = risk
        if sub_ids is not UNSET:
            field_dict["subIds"] = sub_ids
        if superseded_by is not UNSET:
            field_dict["supersededBy"] = superseded_by
        if variant is not UNSET:
            field_dict["variant"] = variant
        if verified is not UNSET:
            field_dict["verified"] = verified

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.conversion_data_coupon import ConversionDataCoupon
        from ..models.conversion_data_metadata import ConversionDataMetadata
        from ..models.reversal import Reversal
        from ..models.risk import Risk
        from ..models.sub_ids import SubIds

        d = dict(src_dict)

        def _parse_campaign_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        campaign_id = _parse_campaign_id(d.pop("campaignId"))

        click_id = d.pop("clickId")

        conversion_id = d.pop("conversionId")

        country = d.pop("country")

        def _parse_currency(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        currency = _parse_currency(d.pop("currency"))

        device = d.pop("device")

        event_type = d.pop("eventType")

        idempotency_key = d.pop("idempotencyKey")

        received_at = datetime.datetime.fromisoformat(d.pop("receivedAt"))

        referrer = d.pop("referrer")

        segment = d.pop("segment")

        slug = d.pop("slug")

        source = d.pop("source")

        test = d.pop("test")

        def _parse_value(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        value = _parse_value(d.pop("value"))

        _coupon = d.pop("coupon", UNSET)
        coupon: ConversionDataCoupon | Unset
        if isinstance(_coupon, Unset):
            coupon = UNSET
        else:
            coupon = ConversionDataCoupon.from_dict(_coupon)

        customer_id = d.pop("customerId", UNSET)

        _metadata = d.pop("metadata", UNSET)
        metadata: ConversionDataMetadata | Unset
        if isinstance(_metadata, Unset):
            metadata = UNSET
        else:
            metadata = ConversionDataMetadata.from_dict(_metadata)

        receipt = d.pop("receipt", UNSET)

        _reversal = d.pop("reversal", UNSET)
        reversal: Reversal | Unset
        if isinstance(_reversal, Unset):
            reversal = UNSET
        else:
            reversal = Reversal.from_dict(_reversal)

        _risk = d.pop("risk", UNSET)
        risk: Risk | Unset
        if isinstance(_risk, Unset):
            risk = UNSET
        else:
            risk = Risk.from_dict(_risk)

        _sub_ids = d.pop("subIds", UNSET)
        sub_ids: SubIds | Unset
        if isinstance(_sub_ids, Unset):
            sub_ids = UNSET
        else:
            sub_ids = SubIds.from_dict(_sub_ids)

        superseded_by = d.pop("supersededBy", UNSET)

        variant = d.pop("variant", UNSET)

        verified = d.pop("verified", UNSET)

        conversion_data = cls(
            campaign_id=campaign_id,
            click_id=click_id,
            conversion_id=conversion_id,
            country=country,
            currency=currency,
            device=device,
            event_type=event_type,
            idempotency_key=idempotency_key,
            received_at=received_at,
            referrer=referrer,
            segment=segment,
            slug=slug,
            source=source,
            test=test,
            value=value,
            coupon=coupon,
            customer_id=customer_id,
            metadata=metadata,
            receipt=receipt,
            reversal=reversal,
            risk=risk,
            sub_ids=sub_ids,
            superseded_by=superseded_by,
            variant=variant,
            verified=verified,
        )

        conversion_data.additional_properties = d
        return conversion_data

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

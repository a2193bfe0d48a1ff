from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.risk import Risk


T = TypeVar("T", bound="ConversionReceipt")


@_attrs_define
class ConversionReceipt:
    """
    Attributes:
        accepted (bool):
        campaign_id (None | str):
        click_id (str):
        conversion_id (str):
        currency (None | str):
        deduped (bool):
        event_type (str):
        received_at (datetime.datetime): RFC 3339, UTC.
        risk (Risk):
        test (bool):
        value (float | None):
        verified (bool): Submitted by the merchant's server (authenticated route).
        receipt (str | Unset): A compact JWS (`alg: EdDSA`, `typ: tenx-receipt+jws`, a key of `GET /v2/public/keys`)
            over the RFC 8785 form of conversionId, clickId, handle, campaignId, value (a decimal string), currency and
            receivedAt: proof that the conversion was accepted (`tenx verify`).
    """

    accepted: bool
    campaign_id: None | str
    click_id: str
    conversion_id: str
    currency: None | str
    deduped: bool
    event_type: str
    received_at: datetime.datetime
    risk: Risk
    test: bool
    value: float | None
    verified: bool
    receipt: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        accepted = self.accepted

        campaign_id: None | str
        campaign_id = self.campaign_id

        click_id = self.click_id

        conversion_id = self.conversion_id

        currency: None | str
        currency = self.currency

        deduped = self.deduped

        event_type = self.event_type

        received_at = self.received_at.isoformat()

        risk = self.risk.to_dict()

        test = self.test

        value: float | None
        value = self.value

        verified = self.verified

        receipt = self.receipt

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "accepted": accepted,
                "campaignId": campaign_id,
                "clickId": click_id,
                "conversionId": conversion_id,
                "currency": currency,
                "deduped": deduped,
                "eventType": event_type,
                "receivedAt": received_at,
                "risk": risk,
                "test": test,
                "value": value,
                "verified": verified,
            }
        )
        if receipt is not UNSET:
            field_dict["receipt"] = receipt

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.risk import Risk

        d = dict(src_dict)
        accepted = d.pop("accepted")

        def _parse_campaign_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        campaign_id = _parse_campaign_id(d.pop("campaignId"))

        click_id = d.pop("clickId")

        conversion_id = d.pop("conversionId")

        def _parse_currency(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        currency = _parse_currency(d.pop("currency"))

        deduped = d.pop("deduped")

        event_type = d.pop("eventType")

        received_at = datetime.datetime.fromisoformat(d.pop("receivedAt"))

        risk = Risk.from_dict(d.pop("risk"))

        test = d.pop("test")

        def _parse_value(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        value = _parse_value(d.pop("value"))

        verified = d.pop("verified")

        receipt = d.pop("receipt", UNSET)

        conversion_receipt = cls(
            accepted=accepted,
            campaign_id=campaign_id,
            click_id=click_id,
            conversion_id=conversion_id,
            currency=currency,
            deduped=deduped,
            event_type=event_type,
            received_at=received_at,
            risk=risk,
            test=test,
            value=value,
            verified=verified,
            receipt=receipt,
        )

        conversion_receipt.additional_properties = d
        return conversion_receipt

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

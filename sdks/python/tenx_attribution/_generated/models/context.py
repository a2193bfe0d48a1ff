from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.device import Device
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.sub_ids import SubIds


T = TypeVar("T", bound="Context")


@_attrs_define
class Context:
    """
    Attributes:
        campaign_id (None | str):
        click_id (str):
        country (str):
        device (Device):
        expires_at (datetime.datetime): RFC 3339, UTC.
        handle (str):
        issued_at (datetime.datetime): RFC 3339, UTC.
        referrer (str): The referrer's host, or `direct`.
        segment (str): `new-…` or `returning-…` crossed with the device, e.g. `returning-mobile`.
        slug (str):
        source (str):
        sub_ids (SubIds): The partner's `sub1` … `sub5` from the short URL (only those given): control characters
            removed, trimmed, at most 100 bytes each as the ctx carries them (UTF-8, a `"` or `\\` counting two: the ctx
            token's 2,048-byte bound always holds), cut on a character boundary; the first of a repeated name wins.
        test (bool | Unset): `true` for the ctx of a console "try the redirect" click, whose conversions are test ones
            (never counted or paid); absent otherwise.
        variant (str | Unset): The A/B test variant the click was sent to, `{index}@{periodStartMillis}`; absent when no
            split took it.
    """

    campaign_id: None | str
    click_id: str
    country: str
    device: Device
    expires_at: datetime.datetime
    handle: str
    issued_at: datetime.datetime
    referrer: str
    segment: str
    slug: str
    source: str
    sub_ids: SubIds
    test: bool | Unset = UNSET
    variant: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        campaign_id: None | str
        campaign_id = self.campaign_id

        click_id = self.click_id

        country = self.country

        device = self.device.value

        expires_at = self.expires_at.isoformat()

        handle = self.handle

        issued_at = self.issued_at.isoformat()

        referrer = self.referrer

        segment = self.segment

        slug = self.slug

        source = self.source

        sub_ids = self.sub_ids.to_dict()

        test = self.test

        variant = self.variant

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "campaignId": campaign_id,
                "clickId": click_id,
                "country": country,
                "device": device,
                "expiresAt": expires_at,
                "handle": handle,
                "issuedAt": issued_at,
                "referrer": referrer,
                "segment": segment,
                "slug": slug,
                "source": source,
                "subIds": sub_ids,
            }
        )
        if test is not UNSET:
            field_dict["test"] = test
        if variant is not UNSET:
            field_dict["variant"] = variant

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.sub_ids import SubIds

        d = dict(src_dict)

        def _parse_campaign_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        campaign_id = _parse_campaign_id(d.pop("campaignId"))

        click_id = d.pop("clickId")

        country = d.pop("country")

        device = Device(d.pop("device"))

        expires_at = datetime.datetime.fromisoformat(d.pop("expiresAt"))

        handle = d.pop("handle")

        issued_at = datetime.datetime.fromisoformat(d.pop("issuedAt"))

        referrer = d.pop("referrer")

        segment = d.pop("segment")

        slug = d.pop("slug")

        source = d.pop("source")

        sub_ids = SubIds.from_dict(d.pop("subIds"))

        test = d.pop("test", UNSET)

        variant = d.pop("variant", UNSET)

        context = cls(
            campaign_id=campaign_id,
            click_id=click_id,
            country=country,
            device=device,
            expires_at=expires_at,
            handle=handle,
            issued_at=issued_at,
            referrer=referrer,
            segment=segment,
            slug=slug,
            source=source,
            sub_ids=sub_ids,
            test=test,
            variant=variant,
        )

        context.additional_properties = d
        return context

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

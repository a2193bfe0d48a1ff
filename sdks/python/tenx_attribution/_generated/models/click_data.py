from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.bot_reason import BotReason
from ..models.device import Device
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.sub_ids import SubIds


T = TypeVar("T", bound="ClickData")


@_attrs_define
class ClickData:
    """
    Attributes:
        at (datetime.datetime): RFC 3339, UTC.
        bot (bool):
        bot_reason (BotReason | None): Why the click counts as a bot's; null for a human.
        campaign_id (None | str):
        click_id (str):
        country (str):
        destination_url (str): The routed destination (without tracking parameters).
        device (Device):
        referrer (str):
        segment (str): `new-…`, `returning-…` or `bot`.
        slug (str):
        source (str):
        ad_click (str | Unset): The click came from a paid ad: the ad network's click-id parameter (`gclid`, `msclkid`,
            `ttclid`, …; never its value) or its ad server (`doubleclick.net`). Absent on every other click.
        city (str | Unset): The visitor's city as the trusted edge named it; absent otherwise.
        expired (bool | Unset): The link had expired (the click counts in `clicks` and `expiredClicks`, never as
            qualified).
        region (str | Unset): The visitor's region (state, province) as the trusted edge named it (CloudFront's
            `CloudFront-Viewer-Country-Region-Name`, else its code); absent otherwise. Never the visitor's address.
        sub_ids (SubIds | Unset): The partner's `sub1` … `sub5` from the short URL (only those given): control
            characters removed, trimmed, at most 100 bytes each as the ctx carries them (UTF-8, a `"` or `\\` counting two:
            the ctx token's 2,048-byte bound always holds), cut on a character boundary; the first of a repeated name wins.
        test (bool | Unset): A console "try the redirect" click (counted in `testClicks` only); absent for a visitor's
            click.
        user_agent (str | Unset): The visitor's User-Agent as sent (cut to 512 bytes); absent when none was sent.
            Analytics read its OS and browser (`groupBy=os|browser`).
        variant (str | Unset): The A/B test variant the click was sent to, `{index}@{periodStartMillis}`; absent for a
            bot, or when no split took it.
    """

    at: datetime.datetime
    bot: bool
    bot_reason: BotReason | None
    campaign_id: None | str
    click_id: str
    country: str
    destination_url: str
    device: Device
    referrer: str
    segment: str
    slug: str
    source: str
    ad_click: str | Unset = UNSET
    city: str | Unset = UNSET
    expired: bool | Unset = UNSET
    region: str | Unset = UNSET
    sub_ids: SubIds | Unset = UNSET
    test: bool | Unset = UNSET
    user_agent: str | Unset = UNSET
    variant: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        bot = self.bot

        bot_reason: None | str
        if isinstance(self.bot_reason, BotReason):
            bot_reason = self.bot_reason.value
        else:
            bot_reason = self.bot_reason

        campaign_id: None | str
        campaign_id = self.campaign_id

        click_id = self.click_id

        country = self.country

        destination_url = self.destination_url

        device = self.device.value

        referrer = self.referrer

        segment = self.segment

        slug = self.slug

        source = self.source

        ad_click = self.ad_click

        city = self.city

        expired = self.expired

        region = self.region

        sub_ids: dict[str, Any] | Unset = UNSET
        if not isinstance(self.sub_ids, Unset):
            sub_ids = self.sub_ids.to_dict()

        test = self.test

        user_agent = self.user_agent

        variant = self.variant

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "bot": bot,
                "botReason": bot_reason,
                "campaignId": campaign_id,
                "clickId": click_id,
                "country": country,
                "destinationUrl": destination_url,
                "device": device,
                "referrer": referrer,
                "segment": segment,
                "slug": slug,
                "source": source,
            }
        )
        if ad_click is not UNSET:
            field_dict["adClick"] = ad_click
        if city is not UNSET:
            field_dict["city"] = city
        if expired is not UNSET:
            field_dict["expired"] = expired
        if region is not UNSET:
            field_dict["region"] = region
        if sub_ids is not UNSET:
            field_dict["subIds"] = sub_ids
        if test is not UNSET:
            field_dict["test"] = test
        if user_agent is not UNSET:
            field_dict["userAgent"] = user_agent
        if variant is not UNSET:
            field_dict["variant"] = variant

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.sub_ids import SubIds

        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        bot = d.pop("bot")

        def _parse_bot_reason(data: object) -> BotReason | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                bot_reason_type_0 = BotReason(data)

                return bot_reason_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BotReason | None, data)

        bot_reason = _parse_bot_reason(d.pop("botReason"))

        def _parse_campaign_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        campaign_id = _parse_campaign_id(d.pop("campaignId"))

        click_id = d.pop("clickId")

        country = d.pop("country")

        destination_url = d.pop("destinationUrl")

        device = Device(d.pop("device"))

        referrer = d.pop("referrer")

        segment = d.pop("segment")

        slug = d.pop("slug")

        source = d.pop("source")

        ad_click = d.pop("adClick", UNSET)

        city = d.pop("city", UNSET)

        expired = d.pop("expired", UNSET)

        region = d.pop("region", UNSET)

        _sub_ids = d.pop("subIds", UNSET)
        sub_ids: SubIds | Unset
        if isinstance(_sub_ids, Unset):
            sub_ids = UNSET
        else:
            sub_ids = SubIds.from_dict(_sub_ids)

        test = d.pop("test", UNSET)

        user_agent = d.pop("userAgent", UNSET)

        variant = d.pop("variant", UNSET)

        click_data = cls(
            at=at,
            bot=bot,
            bot_reason=bot_reason,
            campaign_id=campaign_id,
            click_id=click_id,
            country=country,
            destination_url=destination_url,
            device=device,
            referrer=referrer,
            segment=segment,
            slug=slug,
            source=source,
            ad_click=ad_click,
            city=city,
            expired=expired,
            region=region,
            sub_ids=sub_ids,
            test=test,
            user_agent=user_agent,
            variant=variant,
        )

        click_data.additional_properties = d
        return click_data

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

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.stored_routing_rule import StoredRoutingRule
    from ..models.tracking import Tracking
    from ..models.variant import Variant


T = TypeVar("T", bound="LinkRecord")


@_attrs_define
class LinkRecord:
    """A link as stored (and as sent in `link.created` / `link.updated`).

    Attributes:
        campaign_id (None | str):
        created_at (datetime.datetime): RFC 3339, UTC.
        destination_url (str):
        forward_query (bool):
        handle (str):
        routing_rules (list[StoredRoutingRule]): Sorted by priority.
        slug (str):
        title (None | str):
        tracking (None | Tracking):
        updated_at (datetime.datetime): RFC 3339, UTC.
        version (int):
        expired_url (None | str | Unset):
        expires_at (datetime.datetime | Unset): RFC 3339, UTC.
        expires_at_unix (int | Unset):
        variants (list[Variant] | Unset): The A/B test's destinations and weights; absent without a test.
        variants_since (datetime.datetime | Unset): RFC 3339, UTC.
        variants_since_millis (int | Unset): `variantsSince` in Unix milliseconds: the period in each click's variant
            tag.
    """

    campaign_id: None | str
    created_at: datetime.datetime
    destination_url: str
    forward_query: bool
    handle: str
    routing_rules: list[StoredRoutingRule]
    slug: str
    title: None | str
    tracking: None | Tracking
    updated_at: datetime.datetime
    version: int
    expired_url: None | str | Unset = UNSET
    expires_at: datetime.datetime | Unset = UNSET
    expires_at_unix: int | Unset = UNSET
    variants: list[Variant] | Unset = UNSET
    variants_since: datetime.datetime | Unset = UNSET
    variants_since_millis: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.tracking import Tracking

        campaign_id: None | str
        campaign_id = self.campaign_id

        created_at = self.created_at.isoformat()

        destination_url = self.destination_url

        forward_query = self.forward_query

        handle = self.handle

        routing_rules = []
        for routing_rules_item_data in self.routing_rules:
            routing_rules_item = routing_rules_item_data.to_dict()
            routing_rules.append(routing_rules_item)

        slug = self.slug

        title: None | str
        title = self.title

        tracking: dict[str, Any] | None
        if isinstance(self.tracking, Tracking):
            tracking = self.tracking.to_dict()
        else:
            tracking = self.tracking

        updated_at = self.updated_at.isoformat()

        version = self.version

        expired_url: None | str | Unset
        if isinstance(self.expired_url, Unset):
            expired_url = UNSET
        else:
            expired_url = self.expired_url

        expires_at: str | Unset = UNSET
        if not isinstance(self.expires_at, Unset):
            expires_at = self.expires_at.isoformat()

        expires_at_unix = self.expires_at_unix

        variants: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.variants, Unset):
            variants = []
            for variants_item_data in self.variants:
                variants_item = variants_item_data.to_dict()
                variants.append(variants_item)

        variants_since: str | Unset = UNSET
        if not isinstance(self.variants_since, Unset):
            variants_since = self.variants_since.isoformat()

        variants_since_millis = self.variants_since_millis

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "campaignId": campaign_id,
                "createdAt": created_at,
                "destinationUrl": destination_url,
                "forwardQuery": forward_query,
                "handle": handle,
                "routingRules": routing_rules,
                "slug": slug,
                "title": title,
                "tracking": tracking,
                "updatedAt": updated_at,
                "version": version,
            }
        )
        if expired_url is not UNSET:
            field_dict["expiredUrl"] = expired_url
        if expires_at is not UNSET:
            field_dict["expiresAt"] = expires_at
        if expires_at_unix is not UNSET:
            field_dict["expiresAtUnix"] = expires_at_unix
        if variants is not UNSET:
            field_dict["variants"] = variants
        if variants_since is not UNSET:
            field_dict["variantsSince"] = variants_since
        if variants_since_millis is not UNSET:
            field_dict["variantsSinceMillis"] = variants_since_millis

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.stored_routing_rule import StoredRoutingRule
        from ..models.tracking import Tracking
        from ..models.variant import Variant

        d = dict(src_dict)

        def _parse_campaign_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        campaign_id = _parse_campaign_id(d.pop("campaignId"))

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        destination_url = d.pop("destinationUrl")

        forward_query = d.pop("forwardQuery")

        handle = d.pop("handle")

        routing_rules = []
        _routing_rules = d.pop("routingRules")
        for routing_rules_item_data in _routing_rules:
            routing_rules_item = StoredRoutingRule.from_dict(routing_rules_item_data)

            routing_rules.append(routing_rules_item)

        slug = d.pop("slug")

        def _parse_title(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        title = _parse_title(d.pop("title"))

        def _parse_tracking(data: object) -> None | Tracking:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                tracking_type_0 = Tracking.from_dict(data)

                return tracking_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Tracking, data)

        tracking = _parse_tracking(d.pop("tracking"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        version = d.pop("version")

        def _parse_expired_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        expired_url = _parse_expired_url(d.pop("expiredUrl", UNSET))

        _expires_at = d.pop("expiresAt", UNSET)
        expires_at: datetime.datetime | Unset
        if isinstance(_expires_at, Unset):
            expires_at = UNSET
        else:
            expires_at = datetime.datetime.fromisoformat(_expires_at)

        expires_at_unix = d.pop("expiresAtUnix", UNSET)

        _variants = d.pop("variants", UNSET)
        variants: list[Variant] | Unset = UNSET
        if _variants is not UNSET:
            variants = []
            for variants_item_data in _variants:
                variants_item = Variant.from_dict(variants_item_data)

                variants.append(variants_item)

        _variants_since = d.pop("variantsSince", UNSET)
        variants_since: datetime.datetime | Unset
        if isinstance(_variants_since, Unset):
            variants_since = UNSET
        else:
            variants_since = datetime.datetime.fromisoformat(_variants_since)

        variants_since_millis = d.pop("variantsSinceMillis", UNSET)

        link_record = cls(
            campaign_id=campaign_id,
            created_at=created_at,
            destination_url=destination_url,
            forward_query=forward_query,
            handle=handle,
            routing_rules=routing_rules,
            slug=slug,
            title=title,
            tracking=tracking,
            updated_at=updated_at,
            version=version,
            expired_url=expired_url,
            expires_at=expires_at,
            expires_at_unix=expires_at_unix,
            variants=variants,
            variants_since=variants_since,
            variants_since_millis=variants_since_millis,
        )

        link_record.additional_properties = d
        return link_record

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

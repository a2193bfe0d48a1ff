from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.routing_rule import RoutingRule
    from ..models.tracking import Tracking
    from ..models.variant import Variant


T = TypeVar("T", bound="LinkSpec")


@_attrs_define
class LinkSpec:
    """
    Attributes:
        destination_url (str): An absolute `http` or `https` URL with a host and without a username or password, no
            control characters and no surrounding whitespace; anything else is `400 invalid_request`. Stored as the URL
            parser serializes it (IDN as punycode, percent-encoded).
        campaign_id (None | str | Unset): An existing campaign of the handle (an unknown one is `400 invalid_request`).
        expired_url (None | str | Unset): Validated like `destinationUrl`; without a (non-null) `expiresAt` it is `400
            invalid_request`.
        expires_at (datetime.datetime | None | Unset): From this instant on, the redirect sends visitors to `expiredUrl`
            (or answers 410) with no ctx, and counts their clicks as expired.
        forward_query (bool | None | Unset): Forward the short URL's query to the destination. Precedence: the
            destination's own parameters, then the link's `tracking` (utm_*), then the visitor's; `ctx` is always the
            redirect's. At most 50 pairs and 2048 encoded bytes; a pair beyond is dropped whole. Default: True.
        routing_rules (list[RoutingRule] | Unset):
        title (None | str | Unset):
        tracking (None | Tracking | Unset):
        variants (list[Variant] | None | Unset): An A/B test: 2 to 4 destinations splitting the visits no routing rule
            takes, with whole weights (percent of visitors) summing to 100; no two the same destination. `[]` or `null`
            removes the test. Bad input is `400 invalid_request` naming `variants` or the entry (`variants[2].weight: …`).
            Changing the variants or their weights starts a new period (`variantsSince`).
    """

    destination_url: str
    campaign_id: None | str | Unset = UNSET
    expired_url: None | str | Unset = UNSET
    expires_at: datetime.datetime | None | Unset = UNSET
    forward_query: bool | None | Unset = True
    routing_rules: list[RoutingRule] | Unset = UNSET
    title: None | str | Unset = UNSET
    tracking: None | Tracking | Unset = UNSET
    variants: list[Variant] | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.tracking import Tracking

        destination_url = self.destination_url

        campaign_id: None | str | Unset
        if isinstance(self.campaign_id, Unset):
            campaign_id = UNSET
        else:
            campaign_id = self.campaign_id

        expired_url: None | str | Unset
        if isinstance(self.expired_url, Unset):
            expired_url = UNSET
        else:
            expired_url = self.expired_url

        expires_at: None | str | Unset
        if isinstance(self.expires_at, Unset):
            expires_at = UNSET
        elif isinstance(self.expires_at, datetime.datetime):
            expires_at = self.expires_at.isoformat()
        else:
            expires_at = self.expires_at

        forward_query: bool | None | Unset
        if isinstance(self.forward_query, Unset):
            forward_query = UNSET
        else:
            forward_query = self.forward_query

        routing_rules: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.routing_rules, Unset):
            routing_rules = []
            for routing_rules_item_data in self.routing_rules:
                routing_rules_item = routing_rules_item_data.to_dict()
                routing_rules.append(routing_rules_item)

        title: None | str | Unset
        if isinstance(self.title, Unset):
            title = UNSET
        else:
            title = self.title

        tracking: dict[str, Any] | None | Unset
        if isinstance(self.tracking, Unset):
            tracking = UNSET
        elif isinstance(self.tracking, Tracking):
            tracking = self.tracking.to_dict()
        else:
            tracking = self.tracking

        variants: list[dict[str, Any]] | None | Unset
        if isinstance(self.variants, Unset):
            variants = UNSET
        elif isinstance(self.variants, list):
            variants = []
            for variants_type_0_item_data in self.variants:
                variants_type_0_item = variants_type_0_item_data.to_dict()
                variants.append(variants_type_0_item)

        else:
            variants = self.variants

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "destinationUrl": destination_url,
            }
        )
        if campaign_id is not UNSET:
            field_dict["campaignId"] = campaign_id
        if expired_url is not UNSET:
            field_dict["expiredUrl"] = expired_url
        if expires_at is not UNSET:
            field_dict["expiresAt"] = expires_at
        if forward_query is not UNSET:
            field_dict["forwardQuery"] = forward_query
        if routing_rules is not UNSET:
            field_dict["routingRules"] = routing_rules
        if title is not UNSET:
            field_dict["title"] = title
        if tracking is not UNSET:
            field_dict["tracking"] = tracking
        if variants is not UNSET:
            field_dict["variants"] = variants

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.routing_rule import RoutingRule
        from ..models.tracking import Tracking
        from ..models.variant import Variant

        d = dict(src_dict)
        destination_url = d.pop("destinationUrl")

        def _parse_campaign_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        campaign_id = _parse_campaign_id(d.pop("campaignId", UNSET))

        def _parse_expired_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        expired_url = _parse_expired_url(d.pop("expiredUrl", UNSET))

        def _parse_expires_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                expires_at_type_0 = datetime.datetime.fromisoformat(data)

                return expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        expires_at = _parse_expires_at(d.pop("expiresAt", UNSET))

        def _parse_forward_query(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        forward_query = _parse_forward_query(d.pop("forwardQuery", UNSET))

        _routing_rules = d.pop("routingRules", UNSET)
        routing_rules: list[RoutingRule] | Unset = UNSET
        if _routing_rules is not UNSET:
            routing_rules = []
            for routing_rules_item_data in _routing_rules:
                routing_rules_item = RoutingRule.from_dict(routing_rules_item_data)

                routing_rules.append(routing_rules_item)

        def _parse_title(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        title = _parse_title(d.pop("title", UNSET))

        def _parse_tracking(data: object) -> None | Tracking | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                tracking_type_0 = Tracking.from_dict(data)

                return tracking_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Tracking | Unset, data)

        tracking = _parse_tracking(d.pop("tracking", UNSET))

        def _parse_variants(data: object) -> list[Variant] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                variants_type_0 = []
                _variants_type_0 = data
                for variants_type_0_item_data in _variants_type_0:
                    variants_type_0_item = Variant.from_dict(variants_type_0_item_data)

                    variants_type_0.append(variants_type_0_item)

                return variants_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[Variant] | None | Unset, data)

        variants = _parse_variants(d.pop("variants", UNSET))

        link_spec = cls(
            destination_url=destination_url,
            campaign_id=campaign_id,
            expired_url=expired_url,
            expires_at=expires_at,
            forward_query=forward_query,
            routing_rules=routing_rules,
            title=title,
            tracking=tracking,
            variants=variants,
        )

        return link_spec

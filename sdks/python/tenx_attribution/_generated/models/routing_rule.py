from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.route_conditions import RouteConditions


T = TypeVar("T", bound="RoutingRule")


@_attrs_define
class RoutingRule:
    """
    Attributes:
        conditions (RouteConditions): At least one list (null is the same as absent); each is an OR of 1–50 values
            (case-insensitive, surrounding whitespace trimmed); all lists must match.
        destination_url (str): An absolute `http` or `https` URL with a host and without a username or password, no
            control characters and no surrounding whitespace; anything else is `400 invalid_request`. Stored as the URL
            parser serializes it (IDN as punycode, percent-encoded).
        priority (int): Unique within the link (a repeated priority is `400 invalid_request`); rules are tried in
            ascending order.
    """

    conditions: RouteConditions
    destination_url: str
    priority: int

    def to_dict(self) -> dict[str, Any]:
        conditions = self.conditions.to_dict()

        destination_url = self.destination_url

        priority = self.priority

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "conditions": conditions,
                "destinationUrl": destination_url,
                "priority": priority,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.route_conditions import RouteConditions

        d = dict(src_dict)
        conditions = RouteConditions.from_dict(d.pop("conditions"))

        destination_url = d.pop("destinationUrl")

        priority = d.pop("priority")

        routing_rule = cls(
            conditions=conditions,
            destination_url=destination_url,
            priority=priority,
        )

        return routing_rule

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.route_conditions import RouteConditions


T = TypeVar("T", bound="StoredRoutingRule")


@_attrs_define
class StoredRoutingRule:
    """A routing rule as stored (values normalized, the URL as the parser serializes it).

    Attributes:
        conditions (RouteConditions): At least one list (null is the same as absent); each is an OR of 1–50 values
            (case-insensitive, surrounding whitespace trimmed); all lists must match.
        destination_url (str):
        priority (int):
    """

    conditions: RouteConditions
    destination_url: str
    priority: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        conditions = self.conditions.to_dict()

        destination_url = self.destination_url

        priority = self.priority

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
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

        stored_routing_rule = cls(
            conditions=conditions,
            destination_url=destination_url,
            priority=priority,
        )

        stored_routing_rule.additional_properties = d
        return stored_routing_rule

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

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.event_type import EventType
from ..models.subscription_status import SubscriptionStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="Subscription")


@_attrs_define
class Subscription:
    """
    Attributes:
        created_at (datetime.datetime): RFC 3339, UTC.
        description (None | str):
        endpoint_url (str): The endpoint; for a partner's postback, its URL template with `{macros}`.
        event_types (list[EventType]):
        status (SubscriptionStatus):
        subscription_id (str):
        updated_at (datetime.datetime): RFC 3339, UTC.
        disabled_at (datetime.datetime | Unset): RFC 3339, UTC.
        disabled_reason (str | Unset):
        partner_id (str | Unset): Chosen by the merchant; the shape of a campaign id, 1–64 of `[a-z0-9_-]`, starting
            with a letter or digit.
    """

    created_at: datetime.datetime
    description: None | str
    endpoint_url: str
    event_types: list[EventType]
    status: SubscriptionStatus
    subscription_id: str
    updated_at: datetime.datetime
    disabled_at: datetime.datetime | Unset = UNSET
    disabled_reason: str | Unset = UNSET
    partner_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        description: None | str
        description = self.description

        endpoint_url = self.endpoint_url

        event_types = []
        for event_types_item_data in self.event_types:
            event_types_item = event_types_item_data.value
            event_types.append(event_types_item)

        status = self.status.value

        subscription_id = self.subscription_id

        updated_at = self.updated_at.isoformat()

        disabled_at: str | Unset = UNSET
        if not isinstance(self.disabled_at, Unset):
            disabled_at = self.disabled_at.isoformat()

        disabled_reason = self.disabled_reason

        partner_id = self.partner_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "createdAt": created_at,
                "description": description,
                "endpointUrl": endpoint_url,
                "eventTypes": event_types,
                "status": status,
                "subscriptionId": subscription_id,
                "updatedAt": updated_at,
            }
        )
        if disabled_at is not UNSET:
            field_dict["disabledAt"] = disabled_at
        if disabled_reason is not UNSET:
            field_dict["disabledReason"] = disabled_reason
        if partner_id is not UNSET:
            field_dict["partnerId"] = partner_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        def _parse_description(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        description = _parse_description(d.pop("description"))

        endpoint_url = d.pop("endpointUrl")

        event_types = []
        _event_types = d.pop("eventTypes")
        for event_types_item_data in _event_types:
            event_types_item = EventType(event_types_item_data)

            event_types.append(event_types_item)

        status = SubscriptionStatus(d.pop("status"))

        subscription_id = d.pop("subscriptionId")

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        _disabled_at = d.pop("disabledAt", UNSET)
        disabled_at: datetime.datetime | Unset
        if isinstance(_disabled_at, Unset):
            disabled_at = UNSET
        else:
            disabled_at = datetime.datetime.fromisoformat(_disabled_at)

        disabled_reason = d.pop("disabledReason", UNSET)

        partner_id = d.pop("partnerId", UNSET)

        subscription = cls(
            created_at=created_at,
            description=description,
            endpoint_url=endpoint_url,
            event_types=event_types,
            status=status,
            subscription_id=subscription_id,
            updated_at=updated_at,
            disabled_at=disabled_at,
            disabled_reason=disabled_reason,
            partner_id=partner_id,
        )

        subscription.additional_properties = d
        return subscription

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

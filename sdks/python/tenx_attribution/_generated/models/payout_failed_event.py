from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.payout_failed_event_type import PayoutFailedEventType

if TYPE_CHECKING:
    from ..models.webhook_event_data import WebhookEventData


T = TypeVar("T", bound="PayoutFailedEvent")


@_attrs_define
class PayoutFailedEvent:
    """
    Attributes:
        created_at (datetime.datetime): RFC 3339, UTC.
        data (WebhookEventData):
        handle (str):
        id (str): Equals `webhook-id`.
        type_ (PayoutFailedEventType):
    """

    created_at: datetime.datetime
    data: WebhookEventData
    handle: str
    id: str
    type_: PayoutFailedEventType
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        data = self.data.to_dict()

        handle = self.handle

        id = self.id

        type_ = self.type_.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "createdAt": created_at,
                "data": data,
                "handle": handle,
                "id": id,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.webhook_event_data import WebhookEventData

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        data = WebhookEventData.from_dict(d.pop("data"))

        handle = d.pop("handle")

        id = d.pop("id")

        type_ = PayoutFailedEventType(d.pop("type"))

        payout_failed_event = cls(
            created_at=created_at,
            data=data,
            handle=handle,
            id=id,
            type_=type_,
        )

        payout_failed_event.additional_properties = d
        return payout_failed_event

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

from __future__ import annotations

from collections.abc import Mapping
from typing import (
    Any,
    Literal,
    Self,
    TypeVar,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ResendDispatch")


@_attrs_define
class ResendDispatch:
    """
    Attributes:
        attempt (int):
        delivery_id (str): `{eventId}:{subscriptionId}`.
        event_id (str):
        status (Literal['queued']):
    """

    attempt: int
    delivery_id: str
    event_id: str
    status: Literal["queued"]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempt = self.attempt

        delivery_id = self.delivery_id

        event_id = self.event_id

        status = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempt": attempt,
                "deliveryId": delivery_id,
                "eventId": event_id,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        attempt = d.pop("attempt")

        delivery_id = d.pop("deliveryId")

        event_id = d.pop("eventId")

        status = cast(Literal["queued"], d.pop("status"))
        if status != "queued":
            raise ValueError(f"status must match const 'queued', got '{status}'")

        resend_dispatch = cls(
            attempt=attempt,
            delivery_id=delivery_id,
            event_id=event_id,
            status=status,
        )

        resend_dispatch.additional_properties = d
        return resend_dispatch

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

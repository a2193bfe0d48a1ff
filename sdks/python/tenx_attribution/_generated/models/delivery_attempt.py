from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.delivery_attempt_status import DeliveryAttemptStatus
from ..models.event_type import EventType

T = TypeVar("T", bound="DeliveryAttempt")


@_attrs_define
class DeliveryAttempt:
    """
    Attributes:
        attempt (int):
        attempted_at (datetime.datetime): RFC 3339, UTC.
        delivery_id (str):
        duration_ms (int | None):
        error (None | str):
        event_id (str):
        event_type (EventType):
        manual (bool): A re-send.
        next_attempt_at (datetime.datetime | None):
        status (DeliveryAttemptStatus):
        status_code (int | None):
    """

    attempt: int
    attempted_at: datetime.datetime
    delivery_id: str
    duration_ms: int | None
    error: None | str
    event_id: str
    event_type: EventType
    manual: bool
    next_attempt_at: datetime.datetime | None
    status: DeliveryAttemptStatus
    status_code: int | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempt = self.attempt

        attempted_at = self.attempted_at.isoformat()

        delivery_id = self.delivery_id

        duration_ms: int | None
        duration_ms = self.duration_ms

        error: None | str
        error = self.error

        event_id = self.event_id

        event_type = self.event_type.value

        manual = self.manual

        next_attempt_at: None | str
        if isinstance(self.next_attempt_at, datetime.datetime):
            next_attempt_at = self.next_attempt_at.isoformat()
        else:
            next_attempt_at = self.next_attempt_at

        status = self.status.value

        status_code: int | None
        status_code = self.status_code

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempt": attempt,
                "attemptedAt": attempted_at,
                "deliveryId": delivery_id,
                "durationMs": duration_ms,
                "error": error,
                "eventId": event_id,
                "eventType": event_type,
                "manual": manual,
                "nextAttemptAt": next_attempt_at,
                "status": status,
                "statusCode": status_code,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        attempt = d.pop("attempt")

        attempted_at = datetime.datetime.fromisoformat(d.pop("attemptedAt"))

        delivery_id = d.pop("deliveryId")

        def _parse_duration_ms(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        duration_ms = _parse_duration_ms(d.pop("durationMs"))

        def _parse_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))

        event_id = d.pop("eventId")

        event_type = EventType(d.pop("eventType"))

        manual = d.pop("manual")

        def _parse_next_attempt_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                next_attempt_at_type_0 = datetime.datetime.fromisoformat(data)

                return next_attempt_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        next_attempt_at = _parse_next_attempt_at(d.pop("nextAttemptAt"))

        status = DeliveryAttemptStatus(d.pop("status"))

        def _parse_status_code(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        status_code = _parse_status_code(d.pop("statusCode"))

        delivery_attempt = cls(
            attempt=attempt,
            attempted_at=attempted_at,
            delivery_id=delivery_id,
            duration_ms=duration_ms,
            error=error,
            event_id=event_id,
            event_type=event_type,
            manual=manual,
            next_attempt_at=next_attempt_at,
            status=status,
            status_code=status_code,
        )

        delivery_attempt.additional_properties = d
        return delivery_attempt

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

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.commission_event_type import CommissionEventType
from ..models.partner_status import PartnerStatus

T = TypeVar("T", bound="Partner")


@_attrs_define
class Partner:
    """
    Attributes:
        created_at (datetime.datetime): RFC 3339, UTC.
        email (None | str):
        name (str):
        partner_id (str): Chosen by the merchant; the shape of a campaign id, 1–64 of `[a-z0-9_-]`, starting with a
            letter or digit.
        postback_events (list[CommissionEventType]):
        postback_url (None | str):
        status (PartnerStatus): A suspended partner's new commissions are held for review.
        updated_at (datetime.datetime): RFC 3339, UTC.
        version (int):
    """

    created_at: datetime.datetime
    email: None | str
    name: str
    partner_id: str
    postback_events: list[CommissionEventType]
    postback_url: None | str
    status: PartnerStatus
    updated_at: datetime.datetime
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        email: None | str
        email = self.email

        name = self.name

        partner_id = self.partner_id

        postback_events = []
        for postback_events_item_data in self.postback_events:
            postback_events_item = postback_events_item_data.value
            postback_events.append(postback_events_item)

        postback_url: None | str
        postback_url = self.postback_url

        status = self.status.value

        updated_at = self.updated_at.isoformat()

        version = self.version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "createdAt": created_at,
                "email": email,
                "name": name,
                "partnerId": partner_id,
                "postbackEvents": postback_events,
                "postbackUrl": postback_url,
                "status": status,
                "updatedAt": updated_at,
                "version": version,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        def _parse_email(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        email = _parse_email(d.pop("email"))

        name = d.pop("name")

        partner_id = d.pop("partnerId")

        postback_events = []
        _postback_events = d.pop("postbackEvents")
        for postback_events_item_data in _postback_events:
            postback_events_item = CommissionEventType(postback_events_item_data)

            postback_events.append(postback_events_item)

        def _parse_postback_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        postback_url = _parse_postback_url(d.pop("postbackUrl"))

        status = PartnerStatus(d.pop("status"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        version = d.pop("version")

        partner = cls(
            created_at=created_at,
            email=email,
            name=name,
            partner_id=partner_id,
            postback_events=postback_events,
            postback_url=postback_url,
            status=status,
            updated_at=updated_at,
            version=version,
        )

        partner.additional_properties = d
        return partner

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

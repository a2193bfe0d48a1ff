from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.commission_event_type import CommissionEventType
from ..models.partner_status import PartnerStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="PartnerCreateRequest")


@_attrs_define
class PartnerCreateRequest:
    """
    Attributes:
        name (str): 1 to 200 characters once trimmed.
        email (None | str | Unset): An email address (at most 254 characters); null clears it. Checked as an address
            (issue 57): RFC 5321's shape (a local part of at most 64 characters, domain labels of at most 63, a top-level
            domain), none of `< > " ` \\ ( ) [ ] , ; :`; compared without case, in Unicode NFC and without the local part's
            `+tag`.
        partner_id (str | Unset): Chosen by the merchant; the shape of a campaign id, 1–64 of `[a-z0-9_-]`, starting
            with a letter or digit.
        postback_events (list[CommissionEventType] | Unset): Which commission events are posted back (duplicates
            dropped). Default `commission.approved`, `commission.reversed`.
        postback_url (None | str | Unset): A URL template the partner's postbacks are sent to: an `https` URL (`http`
            only where the server allows local receivers) whose `{macro}`s are among `{click_id}`, `{sub1}` … `{sub5}`,
            `{conversion_id}`, `{commission_id}`, `{event_type}`, `{commission}`, `{currency}`, `{status}`, `{campaign_id}`;
            null clears it.
        status (PartnerStatus | Unset): A suspended partner's new commissions are held for review.
    """

    name: str
    email: None | str | Unset = UNSET
    partner_id: str | Unset = UNSET
    postback_events: list[CommissionEventType] | Unset = UNSET
    postback_url: None | str | Unset = UNSET
    status: PartnerStatus | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        email: None | str | Unset
        if isinstance(self.email, Unset):
            email = UNSET
        else:
            email = self.email

        partner_id = self.partner_id

        postback_events: list[str] | Unset = UNSET
        if not isinstance(self.postback_events, Unset):
            postback_events = []
            for postback_events_item_data in self.postback_events:
                postback_events_item = postback_events_item_data.value
                postback_events.append(postback_events_item)

        postback_url: None | str | Unset
        if isinstance(self.postback_url, Unset):
            postback_url = UNSET
        else:
            postback_url = self.postback_url

        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = self.status.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
            }
        )
        if email is not UNSET:
            field_dict["email"] = email
        if partner_id is not UNSET:
            field_dict["partnerId"] = partner_id
        if postback_events is not UNSET:
            field_dict["postbackEvents"] = postback_events
        if postback_url is not UNSET:
            field_dict["postbackUrl"] = postback_url
        if status is not UNSET:
            field_dict["status"] = status

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name")

        def _parse_email(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        email = _parse_email(d.pop("email", UNSET))

        partner_id = d.pop("partnerId", UNSET)

        _postback_events = d.pop("postbackEvents", UNSET)
        postback_events: list[CommissionEventType] | Unset = UNSET
        if _postback_events is not UNSET:
            postback_events = []
            for postback_events_item_data in _postback_events:
                postback_events_item = CommissionEventType(postback_events_item_data)

                postback_events.append(postback_events_item)

        def _parse_postback_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        postback_url = _parse_postback_url(d.pop("postbackUrl", UNSET))

        _status = d.pop("status", UNSET)
        status: PartnerStatus | Unset
        if isinstance(_status, Unset):
            status = UNSET
        else:
            status = PartnerStatus(_status)

        partner_create_request = cls(
            name=name,
            email=email,
            partner_id=partner_id,
            postback_events=postback_events,
            postback_url=postback_url,
            status=status,
        )

        return partner_create_request

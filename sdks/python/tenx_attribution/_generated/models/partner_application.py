from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.partner_application_status import PartnerApplicationStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="PartnerApplication")


@_attrs_define
class PartnerApplication:
    """An application. `email` is kept as the applicant gave it (they gave it to the merchant to be contacted) and shown
    only on these operator routes and in the merchant's own signed events; `emailMasked` is the form for lists and
    screens.

        Attributes:
            application_id (str):
            campaign_id (None | str):
            created_at (datetime.datetime): RFC 3339, UTC.
            decided_at (datetime.datetime | None):
            decided_by (None | str):
            email (str):
            email_masked (str):
            message (None | str):
            name (str):
            partner_id (None | str):
            reason (None | str):
            status (PartnerApplicationStatus):
            version (int):
            website (None | str):
            throwaway_domain (str | Unset): Present when the address is at a listed throwaway-mail domain (the domain, such
                as `mailinator.com`), for the manager deciding; never shown to the applicant.
    """

    application_id: str
    campaign_id: None | str
    created_at: datetime.datetime
    decided_at: datetime.datetime | None
    decided_by: None | str
    email: str
    email_masked: str
    message: None | str
    name: str
    partner_id: None | str
    reason: None | str
    status: PartnerApplicationStatus
    version: int
    website: None | str
    throwaway_domain: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        application_id = self.application_id

        campaign_id: None | str
        campaign_id = self.campaign_id

        created_at = self.created_at.isoformat()

        decided_at: None | str
        if isinstance(self.decided_at, datetime.datetime):
            decided_at = self.decided_at.isoformat()
        else:
            decided_at = self.decided_at

        decided_by: None | str
        decided_by = self.decided_by

        email = self.email

        email_masked = self.email_masked

        message: None | str
        message = self.message

        name = self.name

        partner_id: None | str
        partner_id = self.partner_id

        reason: None | str
        reason = self.reason

        status = self.status.value

        version = self.version

        website: None | str
        website = self.website

        throwaway_domain = self.throwaway_domain

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "applicationId": application_id,
                "campaignId": campaign_id,
                "createdAt": created_at,
                "decidedAt": decided_at,
                "decidedBy": decided_by,
                "email": email,
                "emailMasked": email_masked,
                "message": message,
                "name": name,
                "partnerId": partner_id,
                "reason": reason,
                "status": status,
                "version": version,
                "website": website,
            }
        )
        if throwaway_domain is not UNSET:
            field_dict["throwawayDomain"] = throwaway_domain

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        application_id = d.pop("applicationId")

        def _parse_campaign_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        campaign_id = _parse_campaign_id(d.pop("campaignId"))

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        def _parse_decided_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                decided_at_type_1 = datetime.datetime.fromisoformat(data)

                return decided_at_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        decided_at = _parse_decided_at(d.pop("decidedAt"))

        def _parse_decided_by(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        decided_by = _parse_decided_by(d.pop("decidedBy"))

        email = d.pop("email")

        email_masked = d.pop("emailMasked")

        def _parse_message(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        message = _parse_message(d.pop("message"))

        name = d.pop("name")

        def _parse_partner_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        partner_id = _parse_partner_id(d.pop("partnerId"))

        def _parse_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reason = _parse_reason(d.pop("reason"))

        status = PartnerApplicationStatus(d.pop("status"))

        version = d.pop("version")

        def _parse_website(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        website = _parse_website(d.pop("website"))

        throwaway_domain = d.pop("throwawayDomain", UNSET)

        partner_application = cls(
            application_id=application_id,
            campaign_id=campaign_id,
            created_at=created_at,
            decided_at=decided_at,
            decided_by=decided_by,
            email=email,
            email_masked=email_masked,
            message=message,
            name=name,
            partner_id=partner_id,
            reason=reason,
            status=status,
            version=version,
            website=website,
            throwaway_domain=throwaway_domain,
        )

        partner_application.additional_properties = d
        return partner_application

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

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.issued_partner_token import IssuedPartnerToken


T = TypeVar("T", bound="PartnerApproved")


@_attrs_define
class PartnerApproved:
    """
    Attributes:
        application_id (str):
        campaign_id (str):
        email (str):
        name (str):
        partner_id (str): Chosen by the merchant; the shape of a campaign id, 1–64 of `[a-z0-9_-]`, starting with a
            letter or digit.
        partner_token (IssuedPartnerToken): A partner token (`tenx_ptk_…`), shown this once.
        short_url (str):
        slug (str):
    """

    application_id: str
    campaign_id: str
    email: str
    name: str
    partner_id: str
    partner_token: IssuedPartnerToken
    short_url: str
    slug: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        application_id = self.application_id

        campaign_id = self.campaign_id

        email = self.email

        name = self.name

        partner_id = self.partner_id

        partner_token = self.partner_token.to_dict()

        short_url = self.short_url

        slug = self.slug

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "applicationId": application_id,
                "campaignId": campaign_id,
                "email": email,
                "name": name,
                "partnerId": partner_id,
                "partnerToken": partner_token,
                "shortUrl": short_url,
                "slug": slug,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.issued_partner_token import IssuedPartnerToken

        d = dict(src_dict)
        application_id = d.pop("applicationId")

        campaign_id = d.pop("campaignId")

        email = d.pop("email")

        name = d.pop("name")

        partner_id = d.pop("partnerId")

        partner_token = IssuedPartnerToken.from_dict(d.pop("partnerToken"))

        short_url = d.pop("shortUrl")

        slug = d.pop("slug")

        partner_approved = cls(
            application_id=application_id,
            campaign_id=campaign_id,
            email=email,
            name=name,
            partner_id=partner_id,
            partner_token=partner_token,
            short_url=short_url,
            slug=slug,
        )

        partner_approved.additional_properties = d
        return partner_approved

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

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="CreatePartnerLinkBody")


@_attrs_define
class CreatePartnerLinkBody:
    """
    Attributes:
        destination_url (str):
        slug (str | Unset):
    """

    destination_url: str
    slug: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        destination_url = self.destination_url

        slug = self.slug

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "destinationUrl": destination_url,
            }
        )
        if slug is not UNSET:
            field_dict["slug"] = slug

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        destination_url = d.pop("destinationUrl")

        slug = d.pop("slug", UNSET)

        create_partner_link_body = cls(
            destination_url=destination_url,
            slug=slug,
        )

        return create_partner_link_body

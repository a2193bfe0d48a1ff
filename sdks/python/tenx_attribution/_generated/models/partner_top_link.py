from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="PartnerTopLink")


@_attrs_define
class PartnerTopLink:
    """
    Attributes:
        clicks (int):
        conversions (int):
        earned (str): Pending, approved and paid, in the summary's currency.
        slug (str):
    """

    clicks: int
    conversions: int
    earned: str
    slug: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        clicks = self.clicks

        conversions = self.conversions

        earned = self.earned

        slug = self.slug

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "clicks": clicks,
                "conversions": conversions,
                "earned": earned,
                "slug": slug,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        clicks = d.pop("clicks")

        conversions = d.pop("conversions")

        earned = d.pop("earned")

        slug = d.pop("slug")

        partner_top_link = cls(
            clicks=clicks,
            conversions=conversions,
            earned=earned,
            slug=slug,
        )

        partner_top_link.additional_properties = d
        return partner_top_link

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

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.partner_top_link import PartnerTopLink


T = TypeVar("T", bound="PartnerSummaryTrafficTopLinks")


@_attrs_define
class PartnerSummaryTrafficTopLinks:
    """
    Attributes:
        by_clicks (list[PartnerTopLink]):
        by_earnings (list[PartnerTopLink]):
        earned_before_links (str | Unset): What the window's sales earned through lines recorded before lines carried
            their link (in no link above), by the same rule; absent when nothing.
    """

    by_clicks: list[PartnerTopLink]
    by_earnings: list[PartnerTopLink]
    earned_before_links: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        by_clicks = []
        for by_clicks_item_data in self.by_clicks:
            by_clicks_item = by_clicks_item_data.to_dict()
            by_clicks.append(by_clicks_item)

        by_earnings = []
        for by_earnings_item_data in self.by_earnings:
            by_earnings_item = by_earnings_item_data.to_dict()
            by_earnings.append(by_earnings_item)

        earned_before_links = self.earned_before_links

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "byClicks": by_clicks,
                "byEarnings": by_earnings,
            }
        )
        if earned_before_links is not UNSET:
            field_dict["earnedBeforeLinks"] = earned_before_links

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.partner_top_link import PartnerTopLink

        d = dict(src_dict)
        by_clicks = []
        _by_clicks = d.pop("byClicks")
        for by_clicks_item_data in _by_clicks:
            by_clicks_item = PartnerTopLink.from_dict(by_clicks_item_data)

            by_clicks.append(by_clicks_item)

        by_earnings = []
        _by_earnings = d.pop("byEarnings")
        for by_earnings_item_data in _by_earnings:
            by_earnings_item = PartnerTopLink.from_dict(by_earnings_item_data)

            by_earnings.append(by_earnings_item)

        earned_before_links = d.pop("earnedBeforeLinks", UNSET)

        partner_summary_traffic_top_links = cls(
            by_clicks=by_clicks,
            by_earnings=by_earnings,
            earned_before_links=earned_before_links,
        )

        partner_summary_traffic_top_links.additional_properties = d
        return partner_summary_traffic_top_links

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

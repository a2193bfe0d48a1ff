from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.partner_summary_traffic_top_links import PartnerSummaryTrafficTopLinks


T = TypeVar("T", bound="PartnerSummaryTraffic")


@_attrs_define
class PartnerSummaryTraffic:
    """Over the same days as `earnings`: the partner's clicks and conversions (the funnel's totals of its campaigns) and
    its top links, from counters (the analytics counters' `link` dimension and the ledger's earnings per link, by the
    summary's rule).

        Attributes:
            clicks (int):
            conversion_rate (float | None):
            conversions (int):
            qualified_clicks (int):
            top_links (PartnerSummaryTrafficTopLinks):
    """

    clicks: int
    conversion_rate: float | None
    conversions: int
    qualified_clicks: int
    top_links: PartnerSummaryTrafficTopLinks
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        clicks = self.clicks

        conversion_rate: float | None
        conversion_rate = self.conversion_rate

        conversions = self.conversions

        qualified_clicks = self.qualified_clicks

        top_links = self.top_links.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "clicks": clicks,
                "conversionRate": conversion_rate,
                "conversions": conversions,
                "qualifiedClicks": qualified_clicks,
                "topLinks": top_links,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.partner_summary_traffic_top_links import (
            PartnerSummaryTrafficTopLinks,
        )

        d = dict(src_dict)
        clicks = d.pop("clicks")

        def _parse_conversion_rate(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        conversion_rate = _parse_conversion_rate(d.pop("conversionRate"))

        conversions = d.pop("conversions")

        qualified_clicks = d.pop("qualifiedClicks")

        top_links = PartnerSummaryTrafficTopLinks.from_dict(d.pop("topLinks"))

        partner_summary_traffic = cls(
            clicks=clicks,
            conversion_rate=conversion_rate,
            conversions=conversions,
            qualified_clicks=qualified_clicks,
            top_links=top_links,
        )

        partner_summary_traffic.additional_properties = d
        return partner_summary_traffic

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

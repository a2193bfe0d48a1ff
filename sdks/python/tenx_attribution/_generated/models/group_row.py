from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.revenue import Revenue


T = TypeVar("T", bound="GroupRow")


@_attrs_define
class GroupRow:
    """
    Attributes:
        bot_clicks (int):
        clicks (int): Every click, bots included.
        conversions (int): Test conversions are never counted.
        customers (int): Leads that were their customer's first (customers bound through a lead in the period).
        expired_clicks (int): Clicks on links past their `expiresAt`.
        flagged_conversions (int): With at least one fraud signal.
        flagged_revenue (Revenue): Per currency, the exact decimal sum as a string, e.g. `{"USD": "24.99"}`.
        leads (int): Conversions of type `lead`.
        qualified_clicks (int): Clicks minus bots.
        recurring_revenue (Revenue): Per currency, the exact decimal sum as a string, e.g. `{"USD": "24.99"}`.
        revenue (Revenue): Per currency, the exact decimal sum as a string, e.g. `{"USD": "24.99"}`.
        reversed_revenue (Revenue): Per currency, the exact decimal sum as a string, e.g. `{"USD": "24.99"}`.
        test_clicks (int): The console's "try the redirect" clicks (`POST …/links/{slug}/try`), in no other count: never
            in `clicks` or `qualifiedClicks`.
        verified_conversions (int): Submitted by the merchant's server.
        verified_revenue (Revenue): Per currency, the exact decimal sum as a string, e.g. `{"USD": "24.99"}`.
        bot_ratio (float | None): botClicks / clicks, 4 decimal places; null without clicks.
        conversion_rate (float | None): conversions / qualifiedClicks, 4 decimal places; null without qualified clicks.
        key (str):
    """

    bot_clicks: int
    clicks: int
    conversions: int
    customers: int
    expired_clicks: int
    flagged_conversions: int
    flagged_revenue: Revenue
    leads: int
    qualified_clicks: int
    recurring_revenue: Revenue
    revenue: Revenue
    reversed_revenue: Revenue
    test_clicks: int
    verified_conversions: int
    verified_revenue: Revenue
    bot_ratio: float | None
    conversion_rate: float | None
    key: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bot_clicks = self.bot_clicks

        clicks = self.clicks

        conversions = self.conversions

        customers = self.customers

        expired_clicks = self.expired_clicks

        flagged_conversions = self.flagged_conversions

        flagged_revenue = self.flagged_revenue.to_dict()

        leads = self.leads

        qualified_clicks = self.qualified_clicks

        recurring_revenue = self.recurring_revenue.to_dict()

        revenue = self.revenue.to_dict()

        reversed_revenue = self.reversed_revenue.to_dict()

        test_clicks = self.test_clicks

        verified_conversions = self.verified_conversions

        verified_revenue = self.verified_revenue.to_dict()

        bot_ratio: float | None
        bot_ratio = self.bot_ratio

        conversion_rate: float | None
        conversion_rate = self.conversion_rate

        key = self.key

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "botClicks": bot_clicks,
                "clicks": clicks,
                "conversions": conversions,
                "customers": customers,
                "expiredClicks": expired_clicks,
                "flaggedConversions": flagged_conversions,
                "flaggedRevenue": flagged_revenue,
                "leads": leads,
                "qualifiedClicks": qualified_clicks,
                "recurringRevenue": recurring_revenue,
                "revenue": revenue,
                "reversedRevenue": reversed_revenue,
                "testClicks": test_clicks,
                "verifiedConversions": verified_conversions,
                "verifiedRevenue": verified_revenue,
                "botRatio": bot_ratio,
                "conversionRate": conversion_rate,
                "key": key,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.revenue import Revenue

        d = dict(src_dict)
        bot_clicks = d.pop("botClicks")

        clicks = d.pop("clicks")

        conversions = d.pop("conversions")

        customers = d.pop("customers")

        expired_clicks = d.pop("expiredClicks")

        flagged_conversions = d.pop("flaggedConversions")

        flagged_revenue = Revenue.from_dict(d.pop("flaggedRevenue"))

        leads = d.pop("leads")

        qualified_clicks = d.pop("qualifiedClicks")

        recurring_revenue = Revenue.from_dict(d.pop("recurringRevenue"))

        revenue = Revenue.from_dict(d.pop("revenue"))

        reversed_revenue = Revenue.from_dict(d.pop("reversedRevenue"))

        test_clicks = d.pop("testClicks")

        verified_conversions = d.pop("verifiedConversions")

        verified_revenue = Revenue.from_dict(d.pop("verifiedRevenue"))

        def _parse_bot_ratio(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        bot_ratio = _parse_bot_ratio(d.pop("botRatio"))

        def _parse_conversion_rate(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        conversion_rate = _parse_conversion_rate(d.pop("conversionRate"))

        key = d.pop("key")

        group_row = cls(
            bot_clicks=bot_clicks,
            clicks=clicks,
            conversions=conversions,
            customers=customers,
            expired_clicks=expired_clicks,
            flagged_conversions=flagged_conversions,
            flagged_revenue=flagged_revenue,
            leads=leads,
            qualified_clicks=qualified_clicks,
            recurring_revenue=recurring_revenue,
            revenue=revenue,
            reversed_revenue=reversed_revenue,
            test_clicks=test_clicks,
            verified_conversions=verified_conversions,
            verified_revenue=verified_revenue,
            bot_ratio=bot_ratio,
            conversion_rate=conversion_rate,
            key=key,
        )

        group_row.additional_properties = d
        return group_row

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

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.partner_summary_balance import PartnerSummaryBalance
    from ..models.partner_summary_earnings_item import PartnerSummaryEarningsItem
    from ..models.partner_summary_next_payout import PartnerSummaryNextPayout
    from ..models.partner_summary_traffic import PartnerSummaryTraffic


T = TypeVar("T", bound="PartnerSummary")


@_attrs_define
class PartnerSummary:
    """
    Attributes:
        balance (PartnerSummaryBalance):
        currency (str):
        earnings (list[PartnerSummaryEarningsItem]):
        next_payout (PartnerSummaryNextPayout):
        traffic (PartnerSummaryTraffic): Over the same days as `earnings`: the partner's clicks and conversions (the
            funnel's totals of its campaigns) and its top links, from counters (the analytics counters' `link` dimension and
            the ledger's earnings per link, by the summary's rule).
        unread_messages (int):
    """

    balance: PartnerSummaryBalance
    currency: str
    earnings: list[PartnerSummaryEarningsItem]
    next_payout: PartnerSummaryNextPayout
    traffic: PartnerSummaryTraffic
    unread_messages: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        balance = self.balance.to_dict()

        currency = self.currency

        earnings = []
        for earnings_item_data in self.earnings:
            earnings_item = earnings_item_data.to_dict()
            earnings.append(earnings_item)

        next_payout = self.next_payout.to_dict()

        traffic = self.traffic.to_dict()

        unread_messages = self.unread_messages

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "balance": balance,
                "currency": currency,
                "earnings": earnings,
                "nextPayout": next_payout,
                "traffic": traffic,
                "unreadMessages": unread_messages,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.partner_summary_balance import PartnerSummaryBalance
        from ..models.partner_summary_earnings_item import PartnerSummaryEarningsItem
        from ..models.partner_summary_next_payout import PartnerSummaryNextPayout
        from ..models.partner_summary_traffic import PartnerSummaryTraffic

        d = dict(src_dict)
        balance = PartnerSummaryBalance.from_dict(d.pop("balance"))

        currency = d.pop("currency")

        earnings = []
        _earnings = d.pop("earnings")
        for earnings_item_data in _earnings:
            earnings_item = PartnerSummaryEarningsItem.from_dict(earnings_item_data)

            earnings.append(earnings_item)

        next_payout = PartnerSummaryNextPayout.from_dict(d.pop("nextPayout"))

        traffic = PartnerSummaryTraffic.from_dict(d.pop("traffic"))

        unread_messages = d.pop("unreadMessages")

        partner_summary = cls(
            balance=balance,
            currency=currency,
            earnings=earnings,
            next_payout=next_payout,
            traffic=traffic,
            unread_messages=unread_messages,
        )

        partner_summary.additional_properties = d
        return partner_summary

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

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.freshness import Freshness
    from ..models.funnel_row import FunnelRow
    from ..models.metrics import Metrics


T = TypeVar("T", bound="FunnelReport")


@_attrs_define
class FunnelReport:
    """
    Attributes:
        campaigns (list[FunnelRow]):
        from_ (datetime.date):
        handle (str):
        to (datetime.date):
        totals (Metrics):
        freshness (Freshness | Unset): How far behind the counts may be: the acceptance time of the oldest event (click,
            conversion, reversal) accepted but not counted yet, over the whole service (the outbox and the click stream past
            its consumer's checkpoint). Left out when it cannot be read at the moment; looked at most every 5 s per process.
    """

    campaigns: list[FunnelRow]
    from_: datetime.date
    handle: str
    to: datetime.date
    totals: Metrics
    freshness: Freshness | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        campaigns = []
        for campaigns_item_data in self.campaigns:
            campaigns_item = campaigns_item_data.to_dict()
            campaigns.append(campaigns_item)

        from_ = self.from_.isoformat()

        handle = self.handle

        to = self.to.isoformat()

        totals = self.totals.to_dict()

        freshness: dict[str, Any] | Unset = UNSET
        if not isinstance(self.freshness, Unset):
            freshness = self.freshness.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "campaigns": campaigns,
                "from": from_,
                "handle": handle,
                "to": to,
                "totals": totals,
            }
        )
        if freshness is not UNSET:
            field_dict["freshness"] = freshness

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.freshness import Freshness
        from ..models.funnel_row import FunnelRow
        from ..models.metrics import Metrics

        d = dict(src_dict)
        campaigns = []
        _campaigns = d.pop("campaigns")
        for campaigns_item_data in _campaigns:
            campaigns_item = FunnelRow.from_dict(campaigns_item_data)

            campaigns.append(campaigns_item)

        from_ = datetime.date.fromisoformat(d.pop("from"))

        handle = d.pop("handle")

        to = datetime.date.fromisoformat(d.pop("to"))

        totals = Metrics.from_dict(d.pop("totals"))

        _freshness = d.pop("freshness", UNSET)
        freshness: Freshness | Unset
        if isinstance(_freshness, Unset):
            freshness = UNSET
        else:
            freshness = Freshness.from_dict(_freshness)

        funnel_report = cls(
            campaigns=campaigns,
            from_=from_,
            handle=handle,
            to=to,
            totals=totals,
            freshness=freshness,
        )

        funnel_report.additional_properties = d
        return funnel_report

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

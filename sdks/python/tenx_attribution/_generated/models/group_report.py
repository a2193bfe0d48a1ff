from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.group_report_group_by import GroupReportGroupBy

if TYPE_CHECKING:
    from ..models.group_row import GroupRow
    from ..models.metrics import Metrics


T = TypeVar("T", bound="GroupReport")


@_attrs_define
class GroupReport:
    """
    Attributes:
        campaign_id (None | str):
        from_ (datetime.date):
        group_by (GroupReportGroupBy):
        handle (str):
        rows (list[GroupRow]): Most clicks first (by date for `day`).
        to (datetime.date):
        totals (Metrics):
    """

    campaign_id: None | str
    from_: datetime.date
    group_by: GroupReportGroupBy
    handle: str
    rows: list[GroupRow]
    to: datetime.date
    totals: Metrics
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        campaign_id: None | str
        campaign_id = self.campaign_id

        from_ = self.from_.isoformat()

        group_by = self.group_by.value

        handle = self.handle

        rows = []
        for rows_item_data in self.rows:
            rows_item = rows_item_data.to_dict()
            rows.append(rows_item)

        to = self.to.isoformat()

        totals = self.totals.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "campaignId": campaign_id,
                "from": from_,
                "groupBy": group_by,
                "handle": handle,
                "rows": rows,
                "to": to,
                "totals": totals,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.group_row import GroupRow
        from ..models.metrics import Metrics

        d = dict(src_dict)

        def _parse_campaign_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        campaign_id = _parse_campaign_id(d.pop("campaignId"))

        from_ = datetime.date.fromisoformat(d.pop("from"))

        group_by = GroupReportGroupBy(d.pop("groupBy"))

        handle = d.pop("handle")

        rows = []
        _rows = d.pop("rows")
        for rows_item_data in _rows:
            rows_item = GroupRow.from_dict(rows_item_data)

            rows.append(rows_item)

        to = datetime.date.fromisoformat(d.pop("to"))

        totals = Metrics.from_dict(d.pop("totals"))

        group_report = cls(
            campaign_id=campaign_id,
            from_=from_,
            group_by=group_by,
            handle=handle,
            rows=rows,
            to=to,
            totals=totals,
        )

        group_report.additional_properties = d
        return group_report

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

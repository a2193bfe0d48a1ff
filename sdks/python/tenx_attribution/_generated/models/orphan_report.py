from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.orphan_report_rows_item import OrphanReportRowsItem


T = TypeVar("T", bound="OrphanReport")


@_attrs_define
class OrphanReport:
    """
    Attributes:
        from_ (datetime.date):
        handle (str):
        rows (list[OrphanReportRowsItem]):
        to (datetime.date):
        total_bot_visits (int):
        total_visits (int):
    """

    from_: datetime.date
    handle: str
    rows: list[OrphanReportRowsItem]
    to: datetime.date
    total_bot_visits: int
    total_visits: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from_ = self.from_.isoformat()

        handle = self.handle

        rows = []
        for rows_item_data in self.rows:
            rows_item = rows_item_data.to_dict()
            rows.append(rows_item)

        to = self.to.isoformat()

        total_bot_visits = self.total_bot_visits

        total_visits = self.total_visits

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "from": from_,
                "handle": handle,
                "rows": rows,
                "to": to,
                "totalBotVisits": total_bot_visits,
                "totalVisits": total_visits,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.orphan_report_rows_item import OrphanReportRowsItem

        d = dict(src_dict)
        from_ = datetime.date.fromisoformat(d.pop("from"))

        handle = d.pop("handle")

        rows = []
        _rows = d.pop("rows")
        for rows_item_data in _rows:
            rows_item = OrphanReportRowsItem.from_dict(rows_item_data)

            rows.append(rows_item)

        to = datetime.date.fromisoformat(d.pop("to"))

        total_bot_visits = d.pop("totalBotVisits")

        total_visits = d.pop("totalVisits")

        orphan_report = cls(
            from_=from_,
            handle=handle,
            rows=rows,
            to=to,
            total_bot_visits=total_bot_visits,
            total_visits=total_visits,
        )

        orphan_report.additional_properties = d
        return orphan_report

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

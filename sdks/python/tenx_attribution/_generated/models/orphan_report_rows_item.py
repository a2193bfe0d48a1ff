from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.orphan_report_rows_item_kind import OrphanReportRowsItemKind

T = TypeVar("T", bound="OrphanReportRowsItem")


@_attrs_define
class OrphanReportRowsItem:
    """
    Attributes:
        bot_visits (int):
        day (datetime.date):
        kind (OrphanReportRowsItemKind):
        visits (int):
    """

    bot_visits: int
    day: datetime.date
    kind: OrphanReportRowsItemKind
    visits: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bot_visits = self.bot_visits

        day = self.day.isoformat()

        kind = self.kind.value

        visits = self.visits

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "botVisits": bot_visits,
                "day": day,
                "kind": kind,
                "visits": visits,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        bot_visits = d.pop("botVisits")

        day = datetime.date.fromisoformat(d.pop("day"))

        kind = OrphanReportRowsItemKind(d.pop("kind"))

        visits = d.pop("visits")

        orphan_report_rows_item = cls(
            bot_visits=bot_visits,
            day=day,
            kind=kind,
            visits=visits,
        )

        orphan_report_rows_item.additional_properties = d
        return orphan_report_rows_item

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

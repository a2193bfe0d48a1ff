from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="PlanNoticeDifference30D")


@_attrs_define
class PlanNoticeDifference30D:
    """
    Attributes:
        actual (str):
        conversions (int):
        currency (str):
        difference (str):
        draft (str):
        from_ (datetime.datetime): RFC 3339, UTC.
        to (datetime.datetime): RFC 3339, UTC.
    """

    actual: str
    conversions: int
    currency: str
    difference: str
    draft: str
    from_: datetime.datetime
    to: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        actual = self.actual

        conversions = self.conversions

        currency = self.currency

        difference = self.difference

        draft = self.draft

        from_ = self.from_.isoformat()

        to = self.to.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "actual": actual,
                "conversions": conversions,
                "currency": currency,
                "difference": difference,
                "draft": draft,
                "from": from_,
                "to": to,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        actual = d.pop("actual")

        conversions = d.pop("conversions")

        currency = d.pop("currency")

        difference = d.pop("difference")

        draft = d.pop("draft")

        from_ = datetime.datetime.fromisoformat(d.pop("from"))

        to = datetime.datetime.fromisoformat(d.pop("to"))

        plan_notice_difference_30d = cls(
            actual=actual,
            conversions=conversions,
            currency=currency,
            difference=difference,
            draft=draft,
            from_=from_,
            to=to,
        )

        plan_notice_difference_30d.additional_properties = d
        return plan_notice_difference_30d

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

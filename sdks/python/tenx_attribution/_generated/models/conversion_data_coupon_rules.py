from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.conversion_data_coupon_rules_without_click import (
    ConversionDataCouponRulesWithoutClick,
)
from ..types import UNSET, Unset

T = TypeVar("T", bound="ConversionDataCouponRules")


@_attrs_define
class ConversionDataCouponRules:
    """
    Attributes:
        reduce_percent (int | Unset):
        without_click (ConversionDataCouponRulesWithoutClick | Unset):
    """

    reduce_percent: int | Unset = UNSET
    without_click: ConversionDataCouponRulesWithoutClick | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        reduce_percent = self.reduce_percent

        without_click: str | Unset = UNSET
        if not isinstance(self.without_click, Unset):
            without_click = self.without_click.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if reduce_percent is not UNSET:
            field_dict["reducePercent"] = reduce_percent
        if without_click is not UNSET:
            field_dict["withoutClick"] = without_click

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        reduce_percent = d.pop("reducePercent", UNSET)

        _without_click = d.pop("withoutClick", UNSET)
        without_click: ConversionDataCouponRulesWithoutClick | Unset
        if isinstance(_without_click, Unset):
            without_click = UNSET
        else:
            without_click = ConversionDataCouponRulesWithoutClick(_without_click)

        conversion_data_coupon_rules = cls(
            reduce_percent=reduce_percent,
            without_click=without_click,
        )

        conversion_data_coupon_rules.additional_properties = d
        return conversion_data_coupon_rules

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

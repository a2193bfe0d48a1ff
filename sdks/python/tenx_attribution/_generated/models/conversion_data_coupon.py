from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.conversion_data_coupon_rules import ConversionDataCouponRules


T = TypeVar("T", bound="ConversionDataCoupon")


@_attrs_define
class ConversionDataCoupon:
    """The coupon code the sale named (issue 63): its partner, whether a click of that partner came with the sale, the
    landing referrer's host, and for a sale without a click the program's `couponWithoutClick` policy when it arrived.

        Attributes:
            code (str):
            partner_id (str):
            with_click (bool):
            landing_referrer (str | Unset):
            rules (ConversionDataCouponRules | Unset):
    """

    code: str
    partner_id: str
    with_click: bool
    landing_referrer: str | Unset = UNSET
    rules: ConversionDataCouponRules | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        code = self.code

        partner_id = self.partner_id

        with_click = self.with_click

        landing_referrer = self.landing_referrer

        rules: dict[str, Any] | Unset = UNSET
        if not isinstance(self.rules, Unset):
            rules = self.rules.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "code": code,
                "partnerId": partner_id,
                "withClick": with_click,
            }
        )
        if landing_referrer is not UNSET:
            field_dict["landingReferrer"] = landing_referrer
        if rules is not UNSET:
            field_dict["rules"] = rules

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.conversion_data_coupon_rules import ConversionDataCouponRules

        d = dict(src_dict)
        code = d.pop("code")

        partner_id = d.pop("partnerId")

        with_click = d.pop("withClick")

        landing_referrer = d.pop("landingReferrer", UNSET)

        _rules = d.pop("rules", UNSET)
        rules: ConversionDataCouponRules | Unset
        if isinstance(_rules, Unset):
            rules = UNSET
        else:
            rules = ConversionDataCouponRules.from_dict(_rules)

        conversion_data_coupon = cls(
            code=code,
            partner_id=partner_id,
            with_click=with_click,
            landing_referrer=landing_referrer,
            rules=rules,
        )

        conversion_data_coupon.additional_properties = d
        return conversion_data_coupon

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

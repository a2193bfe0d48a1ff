from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.coupon_leak_reasons_item import CouponLeakReasonsItem

if TYPE_CHECKING:
    from ..models.coupon_leak_sources_item import CouponLeakSourcesItem


T = TypeVar("T", bound="CouponLeak")


@_attrs_define
class CouponLeak:
    """
    Attributes:
        code (str): A partner's coupon code, 1–64 of `[A-Za-z0-9_-]`, unique per handle case-insensitively. On a
            conversion or a customer binding, a code that is not one of the handle's is `400` naming `couponCode`;
            attribution order: the customer's binding, else the ctx, else the code.
        conversions (int): The code's sales of the last 90 days (the newest 1,000 at most).
        partner_id (str): Chosen by the merchant; the shape of a campaign id, 1–64 of `[a-z0-9_-]`, starting with a
            letter or digit.
        reasons (list[CouponLeakReasonsItem]):
        score (int):
        share (float): withoutClick / conversions, two decimals.
        sources (list[CouponLeakSourcesItem]):
        threshold (int):
        without_click (int):
    """

    code: str
    conversions: int
    partner_id: str
    reasons: list[CouponLeakReasonsItem]
    score: int
    share: float
    sources: list[CouponLeakSourcesItem]
    threshold: int
    without_click: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        code = self.code

        conversions = self.conversions

        partner_id = self.partner_id

        reasons = []
        for reasons_item_data in self.reasons:
            reasons_item = reasons_item_data.value
            reasons.append(reasons_item)

        score = self.score

        share = self.share

        sources = []
        for sources_item_data in self.sources:
            sources_item = sources_item_data.to_dict()
            sources.append(sources_item)

        threshold = self.threshold

        without_click = self.without_click

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "code": code,
                "conversions": conversions,
                "partnerId": partner_id,
                "reasons": reasons,
                "score": score,
                "share": share,
                "sources": sources,
                "threshold": threshold,
                "withoutClick": without_click,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.coupon_leak_sources_item import CouponLeakSourcesItem

        d = dict(src_dict)
        code = d.pop("code")

        conversions = d.pop("conversions")

        partner_id = d.pop("partnerId")

        reasons = []
        _reasons = d.pop("reasons")
        for reasons_item_data in _reasons:
            reasons_item = CouponLeakReasonsItem(reasons_item_data)

            reasons.append(reasons_item)

        score = d.pop("score")

        share = d.pop("share")

        sources = []
        _sources = d.pop("sources")
        for sources_item_data in _sources:
            sources_item = CouponLeakSourcesItem.from_dict(sources_item_data)

            sources.append(sources_item)

        threshold = d.pop("threshold")

        without_click = d.pop("withoutClick")

        coupon_leak = cls(
            code=code,
            conversions=conversions,
            partner_id=partner_id,
            reasons=reasons,
            score=score,
            share=share,
            sources=sources,
            threshold=threshold,
            without_click=without_click,
        )

        coupon_leak.additional_properties = d
        return coupon_leak

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

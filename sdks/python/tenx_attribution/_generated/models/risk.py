from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.risk_reasons_item import RiskReasonsItem

T = TypeVar("T", bound="Risk")


@_attrs_define
class Risk:
    """
    Attributes:
        reasons (list[RiskReasonsItem]): `unverified` (40, public under `flag`), `too_fast` (40, sooner than
            `minSecondsAfterClick` after the click), `per_click_cap` (50, beyond `maxConversionsPerClick`),
            `value_above_limit` (30, above `maxValue`). Any reason flags the conversion.
        score (int):
    """

    reasons: list[RiskReasonsItem]
    score: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        reasons = []
        for reasons_item_data in self.reasons:
            reasons_item = reasons_item_data.value
            reasons.append(reasons_item)

        score = self.score

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "reasons": reasons,
                "score": score,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        reasons = []
        _reasons = d.pop("reasons")
        for reasons_item_data in _reasons:
            reasons_item = RiskReasonsItem(reasons_item_data)

            reasons.append(reasons_item)

        score = d.pop("score")

        risk = cls(
            reasons=reasons,
            score=score,
        )

        risk.additional_properties = d
        return risk

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

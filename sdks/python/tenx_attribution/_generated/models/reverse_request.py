from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ReverseRequest")


@_attrs_define
class ReverseRequest:
    """
    Attributes:
        reason (str): Trimmed, then 1–200 characters without control characters.
        amount (float | None | str | Unset): Default the conversion's value; greater than zero and at most that. A
            conversion is reversed once: a second call answers the first reversal.
    """

    reason: str
    amount: float | None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        reason = self.reason

        amount: float | None | str | Unset
        if isinstance(self.amount, Unset):
            amount = UNSET
        else:
            amount = self.amount

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "reason": reason,
            }
        )
        if amount is not UNSET:
            field_dict["amount"] = amount

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        reason = d.pop("reason")

        def _parse_amount(data: object) -> float | None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | str | Unset, data)

        amount = _parse_amount(d.pop("amount", UNSET))

        reverse_request = cls(
            reason=reason,
            amount=amount,
        )

        return reverse_request

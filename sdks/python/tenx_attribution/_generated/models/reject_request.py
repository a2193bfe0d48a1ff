from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="RejectRequest")


@_attrs_define
class RejectRequest:
    """
    Attributes:
        reason (str): 1 to 500 characters once trimmed (Unicode white space, U+0085 included).
        commission_ids (list[str] | Unset): Not used by the one-commission route.
        note (None | str | Unset): Not used when rejecting.
    """

    reason: str
    commission_ids: list[str] | Unset = UNSET
    note: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        reason = self.reason

        commission_ids: list[str] | Unset = UNSET
        if not isinstance(self.commission_ids, Unset):
            commission_ids = self.commission_ids

        note: None | str | Unset
        if isinstance(self.note, Unset):
            note = UNSET
        else:
            note = self.note

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "reason": reason,
            }
        )
        if commission_ids is not UNSET:
            field_dict["commissionIds"] = commission_ids
        if note is not UNSET:
            field_dict["note"] = note

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        reason = d.pop("reason")

        commission_ids = cast(list[str], d.pop("commissionIds", UNSET))

        def _parse_note(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        note = _parse_note(d.pop("note", UNSET))

        reject_request = cls(
            reason=reason,
            commission_ids=commission_ids,
            note=note,
        )

        return reject_request

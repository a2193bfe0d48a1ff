from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Freshness")


@_attrs_define
class Freshness:
    """How far behind the counts may be: the acceptance time of the oldest event (click, conversion, reversal) accepted but
    not counted yet, over the whole service (the outbox and the click stream past its consumer's checkpoint). Left out
    when it cannot be read at the moment; looked at most every 5 s per process.

        Attributes:
            behind_seconds (int):
            pending_since (datetime.datetime | None): `null`: everything accepted is counted.
    """

    behind_seconds: int
    pending_since: datetime.datetime | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        behind_seconds = self.behind_seconds

        pending_since: None | str
        if isinstance(self.pending_since, datetime.datetime):
            pending_since = self.pending_since.isoformat()
        else:
            pending_since = self.pending_since

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "behindSeconds": behind_seconds,
                "pendingSince": pending_since,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        behind_seconds = d.pop("behindSeconds")

        def _parse_pending_since(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                pending_since_type_0 = datetime.datetime.fromisoformat(data)

                return pending_since_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        pending_since = _parse_pending_since(d.pop("pendingSince"))

        freshness = cls(
            behind_seconds=behind_seconds,
            pending_since=pending_since,
        )

        freshness.additional_properties = d
        return freshness

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

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.partner_updated_changes_item import PartnerUpdatedChangesItem

if TYPE_CHECKING:
    from ..models.payout_method_masked import PayoutMethodMasked


T = TypeVar("T", bound="PartnerUpdated")


@_attrs_define
class PartnerUpdated:
    """
    Attributes:
        changed_at (datetime.datetime): RFC 3339, UTC.
        changed_by (str):
        changes (list[PartnerUpdatedChangesItem]):
        current (PayoutMethodMasked):
        held_until (datetime.datetime): RFC 3339, UTC.
        partner_id (str): Chosen by the merchant; the shape of a campaign id, 1–64 of `[a-z0-9_-]`, starting with a
            letter or digit.
        previous (PayoutMethodMasked):
    """

    changed_at: datetime.datetime
    changed_by: str
    changes: list[PartnerUpdatedChangesItem]
    current: PayoutMethodMasked
    held_until: datetime.datetime
    partner_id: str
    previous: PayoutMethodMasked
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        changed_at = self.changed_at.isoformat()

        changed_by = self.changed_by

        changes = []
        for changes_item_data in self.changes:
            changes_item = changes_item_data.value
            changes.append(changes_item)

        current = self.current.to_dict()

        held_until = self.held_until.isoformat()

        partner_id = self.partner_id

        previous = self.previous.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "changedAt": changed_at,
                "changedBy": changed_by,
                "changes": changes,
                "current": current,
                "heldUntil": held_until,
                "partnerId": partner_id,
                "previous": previous,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.payout_method_masked import PayoutMethodMasked

        d = dict(src_dict)
        changed_at = datetime.datetime.fromisoformat(d.pop("changedAt"))

        changed_by = d.pop("changedBy")

        changes = []
        _changes = d.pop("changes")
        for changes_item_data in _changes:
            changes_item = PartnerUpdatedChangesItem(changes_item_data)

            changes.append(changes_item)

        current = PayoutMethodMasked.from_dict(d.pop("current"))

        held_until = datetime.datetime.fromisoformat(d.pop("heldUntil"))

        partner_id = d.pop("partnerId")

        previous = PayoutMethodMasked.from_dict(d.pop("previous"))

        partner_updated = cls(
            changed_at=changed_at,
            changed_by=changed_by,
            changes=changes,
            current=current,
            held_until=held_until,
            partner_id=partner_id,
            previous=previous,
        )

        partner_updated.additional_properties = d
        return partner_updated

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

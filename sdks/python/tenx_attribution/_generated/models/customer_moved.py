from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.customer_moved_from_bound_by import CustomerMovedFromBoundBy

T = TypeVar("T", bound="CustomerMoved")


@_attrs_define
class CustomerMoved:
    """The binding a decision replaced, and the decision that moved it (absent when never moved).

    Attributes:
        claim_id (str):
        from_bound_at (datetime.datetime):
        from_bound_by (CustomerMovedFromBoundBy):
        from_campaign_id (None | str):
        from_partner_id (None | str):
        moved_by (str):
    """

    claim_id: str
    from_bound_at: datetime.datetime
    from_bound_by: CustomerMovedFromBoundBy
    from_campaign_id: None | str
    from_partner_id: None | str
    moved_by: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        claim_id = self.claim_id

        from_bound_at = self.from_bound_at.isoformat()

        from_bound_by = self.from_bound_by.value

        from_campaign_id: None | str
        from_campaign_id = self.from_campaign_id

        from_partner_id: None | str
        from_partner_id = self.from_partner_id

        moved_by = self.moved_by

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "claimId": claim_id,
                "fromBoundAt": from_bound_at,
                "fromBoundBy": from_bound_by,
                "fromCampaignId": from_campaign_id,
                "fromPartnerId": from_partner_id,
                "movedBy": moved_by,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        claim_id = d.pop("claimId")

        from_bound_at = datetime.datetime.fromisoformat(d.pop("fromBoundAt"))

        from_bound_by = CustomerMovedFromBoundBy(d.pop("fromBoundBy"))

        def _parse_from_campaign_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        from_campaign_id = _parse_from_campaign_id(d.pop("fromCampaignId"))

        def _parse_from_partner_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        from_partner_id = _parse_from_partner_id(d.pop("fromPartnerId"))

        moved_by = d.pop("movedBy")

        customer_moved = cls(
            claim_id=claim_id,
            from_bound_at=from_bound_at,
            from_bound_by=from_bound_by,
            from_campaign_id=from_campaign_id,
            from_partner_id=from_partner_id,
            moved_by=moved_by,
        )

        customer_moved.additional_properties = d
        return customer_moved

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

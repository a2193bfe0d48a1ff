from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.customer_bound_by import CustomerBoundBy
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.customer_commissions import CustomerCommissions
    from ..models.customer_moved import CustomerMoved
    from ..models.customer_revenue import CustomerRevenue


T = TypeVar("T", bound="Customer")


@_attrs_define
class Customer:
    """
    Attributes:
        bound_at (datetime.datetime):
        bound_by (CustomerBoundBy): `claim`: moved to the partner by an approved claim or a reassignment (see `moved`).
        campaign_id (None | str):
        click_id (str):
        commissions (CustomerCommissions): Currency → amount (not kept per customer yet; empty).
        conversion_count (int):
        customer_id (str): The merchant's own id for a buyer or account.
        email_masked (None | str):
        flags (list[str]):
        partner_id (None | str):
        revenue (CustomerRevenue): Currency → decimal amount of the customer's conversions.
        moved (CustomerMoved | Unset): The binding a decision replaced, and the decision that moved it (absent when
            never moved).
    """

    bound_at: datetime.datetime
    bound_by: CustomerBoundBy
    campaign_id: None | str
    click_id: str
    commissions: CustomerCommissions
    conversion_count: int
    customer_id: str
    email_masked: None | str
    flags: list[str]
    partner_id: None | str
    revenue: CustomerRevenue
    moved: CustomerMoved | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bound_at = self.bound_at.isoformat()

        bound_by = self.bound_by.value

        campaign_id: None | str
        campaign_id = self.campaign_id

        click_id = self.click_id

        commissions = self.commissions.to_dict()

        conversion_count = self.conversion_count

        customer_id = self.customer_id

        email_masked: None | str
        email_masked = self.email_masked

        flags = self.flags

        partner_id: None | str
        partner_id = self.partner_id

        revenue = self.revenue.to_dict()

        moved: dict[str, Any] | Unset = UNSET
        if not isinstance(self.moved, Unset):
            moved = self.moved.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "boundAt": bound_at,
                "boundBy": bound_by,
                "campaignId": campaign_id,
                "clickId": click_id,
                "commissions": commissions,
                "conversionCount": conversion_count,
                "customerId": customer_id,
                "emailMasked": email_masked,
                "flags": flags,
                "partnerId": partner_id,
                "revenue": revenue,
            }
        )
        if moved is not UNSET:
            field_dict["moved"] = moved

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.customer_commissions import CustomerCommissions
        from ..models.customer_moved import CustomerMoved
        from ..models.customer_revenue import CustomerRevenue

        d = dict(src_dict)
        bound_at = datetime.datetime.fromisoformat(d.pop("boundAt"))

        bound_by = CustomerBoundBy(d.pop("boundBy"))

        def _parse_campaign_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        campaign_id = _parse_campaign_id(d.pop("campaignId"))

        click_id = d.pop("clickId")

        commissions = CustomerCommissions.from_dict(d.pop("commissions"))

        conversion_count = d.pop("conversionCount")

        customer_id = d.pop("customerId")

        def _parse_email_masked(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        email_masked = _parse_email_masked(d.pop("emailMasked"))

        flags = cast(list[str], d.pop("flags"))

        def _parse_partner_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        partner_id = _parse_partner_id(d.pop("partnerId"))

        revenue = CustomerRevenue.from_dict(d.pop("revenue"))

        _moved = d.pop("moved", UNSET)
        moved: CustomerMoved | Unset
        if isinstance(_moved, Unset):
            moved = UNSET
        else:
            moved = CustomerMoved.from_dict(_moved)

        customer = cls(
            bound_at=bound_at,
            bound_by=bound_by,
            campaign_id=campaign_id,
            click_id=click_id,
            commissions=commissions,
            conversion_count=conversion_count,
            customer_id=customer_id,
            email_masked=email_masked,
            flags=flags,
            partner_id=partner_id,
            revenue=revenue,
            moved=moved,
        )

        customer.additional_properties = d
        return customer

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

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="BalanceTest")


@_attrs_define
class BalanceTest:
    """One partner's test money in this currency (test mode's lines), apart from the figures above; only with `partnerId`
    and when it has some.

        Attributes:
            approved (str): A decimal string in the currency (`"24.99"`, `"-3.50"`): an optional `-`, digits and at most one
                point, no exponent; at most the currency's minor-unit decimals (2 for USD, 0 for JPY), at most 1000000000 in
                absolute value. Answers carry exactly the minor-unit decimals.
            held (str): A decimal string in the currency (`"24.99"`, `"-3.50"`): an optional `-`, digits and at most one
                point, no exponent; at most the currency's minor-unit decimals (2 for USD, 0 for JPY), at most 1000000000 in
                absolute value. Answers carry exactly the minor-unit decimals.
            open_negative (str): A decimal string in the currency (`"24.99"`, `"-3.50"`): an optional `-`, digits and at
                most one point, no exponent; at most the currency's minor-unit decimals (2 for USD, 0 for JPY), at most
                1000000000 in absolute value. Answers carry exactly the minor-unit decimals.
            paid (str): A decimal string in the currency (`"24.99"`, `"-3.50"`): an optional `-`, digits and at most one
                point, no exponent; at most the currency's minor-unit decimals (2 for USD, 0 for JPY), at most 1000000000 in
                absolute value. Answers carry exactly the minor-unit decimals.
            pending (str): A decimal string in the currency (`"24.99"`, `"-3.50"`): an optional `-`, digits and at most one
                point, no exponent; at most the currency's minor-unit decimals (2 for USD, 0 for JPY), at most 1000000000 in
                absolute value. Answers carry exactly the minor-unit decimals.
    """

    approved: str
    held: str
    open_negative: str
    paid: str
    pending: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        approved = self.approved

        held = self.held

        open_negative = self.open_negative

        paid = self.paid

        pending = self.pending

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "approved": approved,
                "held": held,
                "openNegative": open_negative,
                "paid": paid,
                "pending": pending,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        approved = d.pop("approved")

        held = d.pop("held")

        open_negative = d.pop("openNegative")

        paid = d.pop("paid")

        pending = d.pop("pending")

        balance_test = cls(
            approved=approved,
            held=held,
            open_negative=open_negative,
            paid=paid,
            pending=pending,
        )

        balance_test.additional_properties = d
        return balance_test

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

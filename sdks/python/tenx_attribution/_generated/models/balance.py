from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.currency import Currency
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.balance_test import BalanceTest


T = TypeVar("T", bound="Balance")


@_attrs_define
class Balance:
    """One partner's sums in one currency.

    Attributes:
        approved (str): A decimal string in the currency (`"24.99"`, `"-3.50"`): an optional `-`, digits and at most one
            point, no exponent; at most the currency's minor-unit decimals (2 for USD, 0 for JPY), at most 1000000000 in
            absolute value. Answers carry exactly the minor-unit decimals.
        currency (Currency): An active ISO 4217 currency or fund code (withdrawn codes, precious metals, bond market
            units, `XTS` and `XXX` are refused).
        held (str): A decimal string in the currency (`"24.99"`, `"-3.50"`): an optional `-`, digits and at most one
            point, no exponent; at most the currency's minor-unit decimals (2 for USD, 0 for JPY), at most 1000000000 in
            absolute value. Answers carry exactly the minor-unit decimals.
        open_negative (str): A decimal string in the currency (`"24.99"`, `"-3.50"`): an optional `-`, digits and at
            most one point, no exponent; at most the currency's minor-unit decimals (2 for USD, 0 for JPY), at most
            1000000000 in absolute value. Answers carry exactly the minor-unit decimals.
        paid (str): A decimal string in the currency (`"24.99"`, `"-3.50"`): an optional `-`, digits and at most one
            point, no exponent; at most the currency's minor-unit decimals (2 for USD, 0 for JPY), at most 1000000000 in
            absolute value. Answers carry exactly the minor-unit decimals.
        partner_id (str): Chosen by the merchant; the shape of a campaign id, 1–64 of `[a-z0-9_-]`, starting with a
            letter or digit.
        pending (str): A decimal string in the currency (`"24.99"`, `"-3.50"`): an optional `-`, digits and at most one
            point, no exponent; at most the currency's minor-unit decimals (2 for USD, 0 for JPY), at most 1000000000 in
            absolute value. Answers carry exactly the minor-unit decimals.
        test (BalanceTest | Unset): One partner's test money in this currency (test mode's lines), apart from the
            figures above; only with `partnerId` and when it has some.
    """

    approved: str
    currency: Currency
    held: str
    open_negative: str
    paid: str
    partner_id: str
    pending: str
    test: BalanceTest | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        approved = self.approved

        currency = self.currency.value

        held = self.held

        open_negative = self.open_negative

        paid = self.paid

        partner_id = self.partner_id

        pending = self.pending

        test: dict[str, Any] | Unset = UNSET
        if not isinstance(self.test, Unset):
            test = self.test.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "approved": approved,
                "currency": currency,
                "held": held,
                "openNegative": open_negative,
                "paid": paid,
                "partnerId": partner_id,
                "pending": pending,
            }
        )
        if test is not UNSET:
            field_dict["test"] = test

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.balance_test import BalanceTest

        d = dict(src_dict)
        approved = d.pop("approved")

        currency = Currency(d.pop("currency"))

        held = d.pop("held")

        open_negative = d.pop("openNegative")

        paid = d.pop("paid")

        partner_id = d.pop("partnerId")

        pending = d.pop("pending")

        _test = d.pop("test", UNSET)
        test: BalanceTest | Unset
        if isinstance(_test, Unset):
            test = UNSET
        else:
            test = BalanceTest.from_dict(_test)

        balance = cls(
            approved=approved,
            currency=currency,
            held=held,
            open_negative=open_negative,
            paid=paid,
            partner_id=partner_id,
            pending=pending,
            test=test,
        )

        balance.additional_properties = d
        return balance

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

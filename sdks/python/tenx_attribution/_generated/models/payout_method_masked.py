from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.payout_method_type import PayoutMethodType
from ..types import UNSET, Unset

T = TypeVar("T", bound="PayoutMethodMasked")


@_attrs_define
class PayoutMethodMasked:
    """
    Attributes:
        type_ (PayoutMethodType): `stripe_connect` is set only by the partner's Stripe onboarding, never by `PUT
            …/payout-method`.
        account (str | Unset): A Stripe account by its last 4, `acct_…WXYZ`.
        account_name (str | Unset):
        bic (str | Unset):
        country (str | Unset): The IBAN's country.
        email (str | Unset): Masked, `a***@example.com`.
        iban (str | Unset): Masked, `DE89 **** **** 3000`.
        payer_id (str | Unset): A PayPal payer ID by its last 4, `…2M3P`.
    """

    type_: PayoutMethodType
    account: str | Unset = UNSET
    account_name: str | Unset = UNSET
    bic: str | Unset = UNSET
    country: str | Unset = UNSET
    email: str | Unset = UNSET
    iban: str | Unset = UNSET
    payer_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        account = self.account

        account_name = self.account_name

        bic = self.bic

        country = self.country

        email = self.email

        iban = self.iban

        payer_id = self.payer_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
            }
        )
        if account is not UNSET:
            field_dict["account"] = account
        if account_name is not UNSET:
            field_dict["accountName"] = account_name
        if bic is not UNSET:
            field_dict["bic"] = bic
        if country is not UNSET:
            field_dict["country"] = country
        if email is not UNSET:
            field_dict["email"] = email
        if iban is not UNSET:
            field_dict["iban"] = iban
        if payer_id is not UNSET:
            field_dict["payerId"] = payer_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        type_ = PayoutMethodType(d.pop("type"))

        account = d.pop("account", UNSET)

        account_name = d.pop("accountName", UNSET)

        bic = d.pop("bic", UNSET)

        country = d.pop("country", UNSET)

        email = d.pop("email", UNSET)

        iban = d.pop("iban", UNSET)

        payer_id = d.pop("payerId", UNSET)

        payout_method_masked = cls(
            type_=type_,
            account=account,
            account_name=account_name,
            bic=bic,
            country=country,
            email=email,
            iban=iban,
            payer_id=payer_id,
        )

        payout_method_masked.additional_properties = d
        return payout_method_masked

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

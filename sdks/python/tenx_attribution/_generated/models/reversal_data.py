from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.conversion_data import ConversionData


T = TypeVar("T", bound="ReversalData")


@_attrs_define
class ReversalData:
    """
    Attributes:
        amount (float | None):
        currency (None | str):
        reason (str):
        reversal_id (str):
        reversed_at (datetime.datetime): RFC 3339, UTC.
        reversed_by (str):
        conversion (ConversionData):
        previous_amount (float | Unset): Present when this reversal replaced a smaller one (a connector's refunds add
            up): what the earlier one reversed. `conversion.reversed` then moves the difference.
    """

    amount: float | None
    currency: None | str
    reason: str
    reversal_id: str
    reversed_at: datetime.datetime
    reversed_by: str
    conversion: ConversionData
    previous_amount: float | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        amount: float | None
        amount = self.amount

        currency: None | str
        currency = self.currency

        reason = self.reason

        reversal_id = self.reversal_id

        reversed_at = self.reversed_at.isoformat()

        reversed_by = self.reversed_by

        conversion = self.conversion.to_dict()

        previous_amount = self.previous_amount

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "amount": amount,
                "currency": currency,
                "reason": reason,
                "reversalId": reversal_id,
                "reversedAt": reversed_at,
                "reversedBy": reversed_by,
                "conversion": conversion,
            }
        )
        if previous_amount is not UNSET:
            field_dict["previousAmount"] = previous_amount

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.conversion_data import ConversionData

        d = dict(src_dict)

        def _parse_amount(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        amount = _parse_amount(d.pop("amount"))

        def _parse_currency(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        currency = _parse_currency(d.pop("currency"))

        reason = d.pop("reason")

        reversal_id = d.pop("reversalId")

        reversed_at = datetime.datetime.fromisoformat(d.pop("reversedAt"))

        reversed_by = d.pop("reversedBy")

        conversion = ConversionData.from_dict(d.pop("conversion"))

        previous_amount = d.pop("previousAmount", UNSET)

        reversal_data = cls(
            amount=amount,
            currency=currency,
            reason=reason,
            reversal_id=reversal_id,
            reversed_at=reversed_at,
            reversed_by=reversed_by,
            conversion=conversion,
            previous_amount=previous_amount,
        )

        reversal_data.additional_properties = d
        return reversal_data

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

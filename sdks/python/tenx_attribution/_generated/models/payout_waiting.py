from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.payout_waiting_reason import PayoutWaitingReason
from ..models.payout_waiting_state import PayoutWaitingState
from ..types import UNSET, Unset

T = TypeVar("T", bound="PayoutWaiting")


@_attrs_define
class PayoutWaiting:
    """Why a payout sent through a payment provider has not left yet, for a manager only (never in a partner's read or an
    event): the program holds it (`held`, `reason` the hold's code), or the provider has not taken it yet (`retrying`,
    tried again by itself).

        Attributes:
            attempts (int): Attempts made at the provider so far.
            next_check_at (datetime.datetime): RFC 3339, UTC.
            state (PayoutWaitingState):
            words (str): Why, in words for the manager.
            reason (PayoutWaitingReason | Unset): The hold's code, for a hold.
    """

    attempts: int
    next_check_at: datetime.datetime
    state: PayoutWaitingState
    words: str
    reason: PayoutWaitingReason | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempts = self.attempts

        next_check_at = self.next_check_at.isoformat()

        state = self.state.value

        words = self.words

        reason: str | Unset = UNSET
        if not isinstance(self.reason, Unset):
            reason = self.reason.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempts": attempts,
                "nextCheckAt": next_check_at,
                "state": state,
                "words": words,
            }
        )
        if reason is not UNSET:
            field_dict["reason"] = reason

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        attempts = d.pop("attempts")

        next_check_at = datetime.datetime.fromisoformat(d.pop("nextCheckAt"))

        state = PayoutWaitingState(d.pop("state"))

        words = d.pop("words")

        _reason = d.pop("reason", UNSET)
        reason: PayoutWaitingReason | Unset
        if isinstance(_reason, Unset):
            reason = UNSET
        else:
            reason = PayoutWaitingReason(_reason)

        payout_waiting = cls(
            attempts=attempts,
            next_check_at=next_check_at,
            state=state,
            words=words,
            reason=reason,
        )

        payout_waiting.additional_properties = d
        return payout_waiting

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

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.claim_decision_decision import ClaimDecisionDecision
from ..types import UNSET, Unset

T = TypeVar("T", bound="ClaimDecision")


@_attrs_define
class ClaimDecision:
    """
    Attributes:
        claim_id (str):
        decided_at (datetime.datetime):
        decided_by (str): Who decided (`system` for the program's rule at the deadline).
        decision (ClaimDecisionDecision):
        handle (str):
        jws (str): Compact JWS (`typ` `tenx-claim-decision+jws`, the statement keys) of the rest of this object in JCS
            form.
        overdue (bool): Decided by the program's rule (`claims.onOverdue`) after the deadline.
        partner_id (str):
        reason (str):
        amount (str | Unset):
        binding (str | Unset): The buyer's binding the approval moved, in words (absent when kept).
        commission_id (str | Unset): The `claim` line an approval wrote.
        currency (str | Unset):
        reversed_commission_id (str | Unset): The line that took back the other partner's commission (a reassignment).
    """

    claim_id: str
    decided_at: datetime.datetime
    decided_by: str
    decision: ClaimDecisionDecision
    handle: str
    jws: str
    overdue: bool
    partner_id: str
    reason: str
    amount: str | Unset = UNSET
    binding: str | Unset = UNSET
    commission_id: str | Unset = UNSET
    currency: str | Unset = UNSET
    reversed_commission_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        claim_id = self.claim_id

        decided_at = self.decided_at.isoformat()

        decided_by = self.decided_by

        decision = self.decision.value

        handle = self.handle

        jws = self.jws

        overdue = self.overdue

        partner_id = self.partner_id

        reason = self.reason

        amount = self.amount

        binding = self.binding

        commission_id = self.commission_id

        currency = self.currency

        reversed_commission_id = self.reversed_commission_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "claimId": claim_id,
                "decidedAt": decided_at,
                "decidedBy": decided_by,
                "decision": decision,
                "handle": handle,
                "jws": jws,
                "overdue": overdue,
                "partnerId": partner_id,
                "reason": reason,
            }
        )
        if amount is not UNSET:
            field_dict["amount"] = amount
        if binding is not UNSET:
            field_dict["binding"] = binding
        if commission_id is not UNSET:
            field_dict["commissionId"] = commission_id
        if currency is not UNSET:
            field_dict["currency"] = currency
        if reversed_commission_id is not UNSET:
            field_dict["reversedCommissionId"] = reversed_commission_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        claim_id = d.pop("claimId")

        decided_at = datetime.datetime.fromisoformat(d.pop("decidedAt"))

        decided_by = d.pop("decidedBy")

        decision = ClaimDecisionDecision(d.pop("decision"))

        handle = d.pop("handle")

        jws = d.pop("jws")

        overdue = d.pop("overdue")

        partner_id = d.pop("partnerId")

        reason = d.pop("reason")

        amount = d.pop("amount", UNSET)

        binding = d.pop("binding", UNSET)

        commission_id = d.pop("commissionId", UNSET)

        currency = d.pop("currency", UNSET)

        reversed_commission_id = d.pop("reversedCommissionId", UNSET)

        claim_decision = cls(
            claim_id=claim_id,
            decided_at=decided_at,
            decided_by=decided_by,
            decision=decision,
            handle=handle,
            jws=jws,
            overdue=overdue,
            partner_id=partner_id,
            reason=reason,
            amount=amount,
            binding=binding,
            commission_id=commission_id,
            currency=currency,
            reversed_commission_id=reversed_commission_id,
        )

        claim_decision.additional_properties = d
        return claim_decision

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

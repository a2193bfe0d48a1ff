from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.claim_status import ClaimStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.claim_attachment import ClaimAttachment
    from ..models.claim_decision import ClaimDecision
    from ..models.claim_evidence import ClaimEvidence
    from ..models.claim_found import ClaimFound
    from ..models.claim_proposal import ClaimProposal


T = TypeVar("T", bound="Claim")


@_attrs_define
class Claim:
    """
    Attributes:
        claim_id (str):
        deadline_at (datetime.datetime):
        occurred_at (datetime.datetime):
        opened_at (datetime.datetime):
        partner_id (str):
        proposal (ClaimProposal):
        status (ClaimStatus):
        amount (str | Unset): What the partner says the sale was.
        attachments (list[ClaimAttachment] | Unset):
        conversion_id (str | Unset):
        currency (str | Unset):
        customer_id (str | Unset):
        decision (ClaimDecision | Unset):
        evidence (ClaimEvidence | Unset): As sent; a ctx is answered as `(kept)`.
        found (ClaimFound | Unset): What 10x found that a decision acts on (the sale, who it is credited to, the claimed
            click and its campaign).
        order_id (str | Unset):
    """

    claim_id: str
    deadline_at: datetime.datetime
    occurred_at: datetime.datetime
    opened_at: datetime.datetime
    partner_id: str
    proposal: ClaimProposal
    status: ClaimStatus
    amount: str | Unset = UNSET
    attachments: list[ClaimAttachment] | Unset = UNSET
    conversion_id: str | Unset = UNSET
    currency: str | Unset = UNSET
    customer_id: str | Unset = UNSET
    decision: ClaimDecision | Unset = UNSET
    evidence: ClaimEvidence | Unset = UNSET
    found: ClaimFound | Unset = UNSET
    order_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        claim_id = self.claim_id

        deadline_at = self.deadline_at.isoformat()

        occurred_at = self.occurred_at.isoformat()

        opened_at = self.opened_at.isoformat()

        partner_id = self.partner_id

        proposal = self.proposal.to_dict()

        status = self.status.value

        amount = self.amount

        attachments: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.attachments, Unset):
            attachments = []
            for attachments_item_data in self.attachments:
                attachments_item = attachments_item_data.to_dict()
                attachments.append(attachments_item)

        conversion_id = self.conversion_id

        currency = self.currency

        customer_id = self.customer_id

        decision: dict[str, Any] | Unset = UNSET
        if not isinstance(self.decision, Unset):
            decision = self.decision.to_dict()

        evidence: dict[str, Any] | Unset = UNSET
        if not isinstance(self.evidence, Unset):
            evidence = self.evidence.to_dict()

        found: dict[str, Any] | Unset = UNSET
        if not isinstance(self.found, Unset):
            found = self.found.to_dict()

        order_id = self.order_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "claimId": claim_id,
                "deadlineAt": deadline_at,
                "occurredAt": occurred_at,
                "openedAt": opened_at,
                "partnerId": partner_id,
                "proposal": proposal,
                "status": status,
            }
        )
        if amount is not UNSET:
            field_dict["amount"] = amount
        if attachments is not UNSET:
            field_dict["attachments"] = attachments
        if conversion_id is not UNSET:
            field_dict["conversionId"] = conversion_id
        if currency is not UNSET:
            field_dict["currency"] = currency
        if customer_id is not UNSET:
            field_dict["customerId"] = customer_id
        if decision is not UNSET:
            field_dict["decision"] = decision
        if evidence is not UNSET:
            field_dict["evidence"] = evidence
        if found is not UNSET:
            field_dict["found"] = found
        if order_id is not UNSET:
            field_dict["orderId"] = order_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.claim_attachment import ClaimAttachment
        from ..models.claim_decision import ClaimDecision
        from ..models.claim_evidence import ClaimEvidence
        from ..models.claim_found import ClaimFound
        from ..models.claim_proposal import ClaimProposal

        d = dict(src_dict)
        claim_id = d.pop("claimId")

        deadline_at = datetime.datetime.fromisoformat(d.pop("deadlineAt"))

        occurred_at = datetime.datetime.fromisoformat(d.pop("occurredAt"))

        opened_at = datetime.datetime.fromisoformat(d.pop("openedAt"))

        partner_id = d.pop("partnerId")

        proposal = ClaimProposal.from_dict(d.pop("proposal"))

        status = ClaimStatus(d.pop("status"))

        amount = d.pop("amount", UNSET)

        _attachments = d.pop("attachments", UNSET)
        attachments: list[ClaimAttachment] | Unset = UNSET
        if _attachments is not UNSET:
            attachments = []
            for attachments_item_data in _attachments:
                attachments_item = ClaimAttachment.from_dict(attachments_item_data)

                attachments.append(attachments_item)

        conversion_id = d.pop("conversionId", UNSET)

        currency = d.pop("currency", UNSET)

        customer_id = d.pop("customerId", UNSET)

        _decision = d.pop("decision", UNSET)
        decision: ClaimDecision | Unset
        if isinstance(_decision, Unset):
            decision = UNSET
        else:
            decision = ClaimDecision.from_dict(_decision)

        _evidence = d.pop("evidence", UNSET)
        evidence: ClaimEvidence | Unset
        if isinstance(_evidence, Unset):
            evidence = UNSET
        else:
            evidence = ClaimEvidence.from_dict(_evidence)

        _found = d.pop("found", UNSET)
        found: ClaimFound | Unset
        if isinstance(_found, Unset):
            found = UNSET
        else:
            found = ClaimFound.from_dict(_found)

        order_id = d.pop("orderId", UNSET)

        claim = cls(
            claim_id=claim_id,
            deadline_at=deadline_at,
            occurred_at=occurred_at,
            opened_at=opened_at,
            partner_id=partner_id,
            proposal=proposal,
            status=status,
            amount=amount,
            attachments=attachments,
            conversion_id=conversion_id,
            currency=currency,
            customer_id=customer_id,
            decision=decision,
            evidence=evidence,
            found=found,
            order_id=order_id,
        )

        claim.additional_properties = d
        return claim

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

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.claim_proposal_verdict import ClaimProposalVerdict
from ..types import UNSET, Unset

T = TypeVar("T", bound="ClaimProposal")


@_attrs_define
class ClaimProposal:
    """
    Attributes:
        reasons (list[str]):
        verdict (ClaimProposalVerdict):
        for_managers (list[str] | Unset): The reasons about risk (the sale's risk signals, the partner's own risk):
            answered to the program's people only, never to the partner.
    """

    reasons: list[str]
    verdict: ClaimProposalVerdict
    for_managers: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        reasons = self.reasons

        verdict = self.verdict.value

        for_managers: list[str] | Unset = UNSET
        if not isinstance(self.for_managers, Unset):
            for_managers = self.for_managers

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "reasons": reasons,
                "verdict": verdict,
            }
        )
        if for_managers is not UNSET:
            field_dict["forManagers"] = for_managers

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        reasons = cast(list[str], d.pop("reasons"))

        verdict = ClaimProposalVerdict(d.pop("verdict"))

        for_managers = cast(list[str], d.pop("forManagers", UNSET))

        claim_proposal = cls(
            reasons=reasons,
            verdict=verdict,
            for_managers=for_managers,
        )

        claim_proposal.additional_properties = d
        return claim_proposal

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

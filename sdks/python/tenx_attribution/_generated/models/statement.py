from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.statement_header import StatementHeader
    from ..models.statement_line import StatementLine
    from ..models.statement_plan_versions_item import StatementPlanVersionsItem


T = TypeVar("T", bound="Statement")


@_attrs_define
class Statement:
    """
    Attributes:
        header (StatementHeader): What is signed: the RFC 8785 canonical form of this object is the payload of the
            statement's `jws`. Its SHA-256 is the next statement's `previousStatementHash`.
        jws (str): A compact JWS (`alg: EdDSA`, `typ: tenx-statement+jws`, `kid` of a key in `GET /v2/public/keys`) over
            the canonical header, made when the payout was created.
        lines (list[StatementLine]):
        plan_versions (list[StatementPlanVersionsItem]): The plan versions the lines were paid under, each once (each
            line's `planVersion` is in its signed leaf); a partner matches them to its signed notices. A page lists those of
            its own lines.
        next_cursor (None | str | Unset): Pass as `cursor` for the next page; null on the last page.
        offset (int | Unset): A page's first line's index in the statement (paged requests only).
        range_proof (list[str] | Unset): A page's Merkle range proof (paged requests only; absent for a payout made
            before its leaf hashes were stored): the RFC 6962 subtree hashes (hex) outside the page's lines, left to right,
            O(log n) of them. With the page's leaves at `offset` they rebuild the signed `merkleRoot` (`tenx verify` takes a
            page alone).
    """

    header: StatementHeader
    jws: str
    lines: list[StatementLine]
    plan_versions: list[StatementPlanVersionsItem]
    next_cursor: None | str | Unset = UNSET
    offset: int | Unset = UNSET
    range_proof: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        header = self.header.to_dict()

        jws = self.jws

        lines = []
        for lines_item_data in self.lines:
            lines_item = lines_item_data.to_dict()
            lines.append(lines_item)

        plan_versions = []
        for plan_versions_item_data in self.plan_versions:
            plan_versions_item = plan_versions_item_data.to_dict()
            plan_versions.append(plan_versions_item)

        next_cursor: None | str | Unset
        if isinstance(self.next_cursor, Unset):
            next_cursor = UNSET
        else:
            next_cursor = self.next_cursor

        offset = self.offset

        range_proof: list[str] | Unset = UNSET
        if not isinstance(self.range_proof, Unset):
            range_proof = self.range_proof

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "header": header,
                "jws": jws,
                "lines": lines,
                "planVersions": plan_versions,
            }
        )
        if next_cursor is not UNSET:
            field_dict["nextCursor"] = next_cursor
        if offset is not UNSET:
            field_dict["offset"] = offset
        if range_proof is not UNSET:
            field_dict["rangeProof"] = range_proof

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.statement_header import StatementHeader
        from ..models.statement_line import StatementLine
        from ..models.statement_plan_versions_item import StatementPlanVersionsItem

        d = dict(src_dict)
        header = StatementHeader.from_dict(d.pop("header"))

        jws = d.pop("jws")

        lines = []
        _lines = d.pop("lines")
        for lines_item_data in _lines:
            lines_item = StatementLine.from_dict(lines_item_data)

            lines.append(lines_item)

        plan_versions = []
        _plan_versions = d.pop("planVersions")
        for plan_versions_item_data in _plan_versions:
            plan_versions_item = StatementPlanVersionsItem.from_dict(
                plan_versions_item_data
            )

            plan_versions.append(plan_versions_item)

        def _parse_next_cursor(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        next_cursor = _parse_next_cursor(d.pop("nextCursor", UNSET))

        offset = d.pop("offset", UNSET)

        range_proof = cast(list[str], d.pop("rangeProof", UNSET))

        statement = cls(
            header=header,
            jws=jws,
            lines=lines,
            plan_versions=plan_versions,
            next_cursor=next_cursor,
            offset=offset,
            range_proof=range_proof,
        )

        statement.additional_properties = d
        return statement

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

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.plan_notice_difference_30d import PlanNoticeDifference30D


T = TypeVar("T", bound="PlanNotice")


@_attrs_define
class PlanNotice:
    """
    Attributes:
        after (list[str]):
        before (list[str]): The previous version's terms in words (empty for a first plan).
        campaign_id (str):
        created_at (datetime.datetime): RFC 3339, UTC.
        difference30d (PlanNoticeDifference30D):
        effective_at (datetime.datetime): RFC 3339, UTC.
        handle (str):
        jws (str):
        notice_id (str):
        partner_id (str):
        plan_version (int):
        previous_version (int | None):
        summary (str): What changed, in words.
    """

    after: list[str]
    before: list[str]
    campaign_id: str
    created_at: datetime.datetime
    difference30d: PlanNoticeDifference30D
    effective_at: datetime.datetime
    handle: str
    jws: str
    notice_id: str
    partner_id: str
    plan_version: int
    previous_version: int | None
    summary: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        after = self.after

        before = self.before

        campaign_id = self.campaign_id

        created_at = self.created_at.isoformat()

        difference30d = self.difference30d.to_dict()

        effective_at = self.effective_at.isoformat()

        handle = self.handle

        jws = self.jws

        notice_id = self.notice_id

        partner_id = self.partner_id

        plan_version = self.plan_version

        previous_version: int | None
        previous_version = self.previous_version

        summary = self.summary

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "after": after,
                "before": before,
                "campaignId": campaign_id,
                "createdAt": created_at,
                "difference30d": difference30d,
                "effectiveAt": effective_at,
                "handle": handle,
                "jws": jws,
                "noticeId": notice_id,
                "partnerId": partner_id,
                "planVersion": plan_version,
                "previousVersion": previous_version,
                "summary": summary,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.plan_notice_difference_30d import PlanNoticeDifference30D

        d = dict(src_dict)
        after = cast(list[str], d.pop("after"))

        before = cast(list[str], d.pop("before"))

        campaign_id = d.pop("campaignId")

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        difference30d = PlanNoticeDifference30D.from_dict(d.pop("difference30d"))

        effective_at = datetime.datetime.fromisoformat(d.pop("effectiveAt"))

        handle = d.pop("handle")

        jws = d.pop("jws")

        notice_id = d.pop("noticeId")

        partner_id = d.pop("partnerId")

        plan_version = d.pop("planVersion")

        def _parse_previous_version(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        previous_version = _parse_previous_version(d.pop("previousVersion"))

        summary = d.pop("summary")

        plan_notice = cls(
            after=after,
            before=before,
            campaign_id=campaign_id,
            created_at=created_at,
            difference30d=difference30d,
            effective_at=effective_at,
            handle=handle,
            jws=jws,
            notice_id=notice_id,
            partner_id=partner_id,
            plan_version=plan_version,
            previous_version=previous_version,
            summary=summary,
        )

        plan_notice.additional_properties = d
        return plan_notice

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

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.claim_attachment_content_type import ClaimAttachmentContentType

T = TypeVar("T", bound="ClaimAttachment")


@_attrs_define
class ClaimAttachment:
    """An image the partner added to its claim (PNG or JPEG, decoded when added).

    Attributes:
        added_at (datetime.datetime):
        attachment_id (str): `att_` and 32 hex digits.
        content_type (ClaimAttachmentContentType):
        height (int):
        size (int): Bytes.
        width (int):
    """

    added_at: datetime.datetime
    attachment_id: str
    content_type: ClaimAttachmentContentType
    height: int
    size: int
    width: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        added_at = self.added_at.isoformat()

        attachment_id = self.attachment_id

        content_type = self.content_type.value

        height = self.height

        size = self.size

        width = self.width

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "addedAt": added_at,
                "attachmentId": attachment_id,
                "contentType": content_type,
                "height": height,
                "size": size,
                "width": width,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        added_at = datetime.datetime.fromisoformat(d.pop("addedAt"))

        attachment_id = d.pop("attachmentId")

        content_type = ClaimAttachmentContentType(d.pop("contentType"))

        height = d.pop("height")

        size = d.pop("size")

        width = d.pop("width")

        claim_attachment = cls(
            added_at=added_at,
            attachment_id=attachment_id,
            content_type=content_type,
            height=height,
            size=size,
            width=width,
        )

        claim_attachment.additional_properties = d
        return claim_attachment

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

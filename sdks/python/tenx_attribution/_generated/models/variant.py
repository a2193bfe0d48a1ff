from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="Variant")


@_attrs_define
class Variant:
    """
    Attributes:
        destination_url (str): An absolute `http` or `https` URL with a host and without a username or password, no
            control characters and no surrounding whitespace; anything else is `400 invalid_request`. Stored as the URL
            parser serializes it (IDN as punycode, percent-encoded).
        weight (int): The percent of the split's visitors sent here.
    """

    destination_url: str
    weight: int

    def to_dict(self) -> dict[str, Any]:
        destination_url = self.destination_url

        weight = self.weight

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "destinationUrl": destination_url,
                "weight": weight,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        destination_url = d.pop("destinationUrl")

        weight = d.pop("weight")

        variant = cls(
            destination_url=destination_url,
            weight=weight,
        )

        return variant

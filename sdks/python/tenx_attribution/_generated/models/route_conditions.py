from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="RouteConditions")


@_attrs_define
class RouteConditions:
    """At least one list (null is the same as absent); each is an OR of 1–50 values (case-insensitive, surrounding
    whitespace trimmed); all lists must match.

        Attributes:
            campaign_in (list[str] | None | Unset):
            country_in (list[str] | None | Unset): ISO 3166 two-letter codes or `unknown`.
            device_in (list[str] | None | Unset): `mobile`, `tablet`, `desktop` or `other`.
            os_in (list[str] | None | Unset): The visitor's operating system from its User-Agent: `ios`, `android`,
                `windows`, `macos`, `linux` or `other`. An iPad asking for desktop sites (iPadOS' default) sends a Mac's User-
                Agent and is `macos`.
            source_in (list[str] | None | Unset):
    """

    campaign_in: list[str] | None | Unset = UNSET
    country_in: list[str] | None | Unset = UNSET
    device_in: list[str] | None | Unset = UNSET
    os_in: list[str] | None | Unset = UNSET
    source_in: list[str] | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        campaign_in: list[str] | None | Unset
        if isinstance(self.campaign_in, Unset):
            campaign_in = UNSET
        elif isinstance(self.campaign_in, list):
            campaign_in = self.campaign_in

        else:
            campaign_in = self.campaign_in

        country_in: list[str] | None | Unset
        if isinstance(self.country_in, Unset):
            country_in = UNSET
        elif isinstance(self.country_in, list):
            country_in = self.country_in

        else:
            country_in = self.country_in

        device_in: list[str] | None | Unset
        if isinstance(self.device_in, Unset):
            device_in = UNSET
        elif isinstance(self.device_in, list):
            device_in = self.device_in

        else:
            device_in = self.device_in

        os_in: list[str] | None | Unset
        if isinstance(self.os_in, Unset):
            os_in = UNSET
        elif isinstance(self.os_in, list):
            os_in = self.os_in

        else:
            os_in = self.os_in

        source_in: list[str] | None | Unset
        if isinstance(self.source_in, Unset):
            source_in = UNSET
        elif isinstance(self.source_in, list):
            source_in = self.source_in

        else:
            source_in = self.source_in

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if campaign_in is not UNSET:
            field_dict["campaignIn"] = campaign_in
        if country_in is not UNSET:
            field_dict["countryIn"] = country_in
        if device_in is not UNSET:
            field_dict["deviceIn"] = device_in
        if os_in is not UNSET:
            field_dict["osIn"] = os_in
        if source_in is not UNSET:
            field_dict["sourceIn"] = source_in

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_campaign_in(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                campaign_in_type_0 = cast(list[str], data)

                return campaign_in_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        campaign_in = _parse_campaign_in(d.pop("campaignIn", UNSET))

        def _parse_country_in(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                country_in_type_0 = cast(list[str], data)

                return country_in_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        country_in = _parse_country_in(d.pop("countryIn", UNSET))

        def _parse_device_in(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                device_in_type_0 = cast(list[str], data)

                return device_in_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        device_in = _parse_device_in(d.pop("deviceIn", UNSET))

        def _parse_os_in(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                os_in_type_0 = cast(list[str], data)

                return os_in_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        os_in = _parse_os_in(d.pop("osIn", UNSET))

        def _parse_source_in(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                source_in_type_0 = cast(list[str], data)

                return source_in_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        source_in = _parse_source_in(d.pop("sourceIn", UNSET))

        route_conditions = cls(
            campaign_in=campaign_in,
            country_in=country_in,
            device_in=device_in,
            os_in=os_in,
            source_in=source_in,
        )

        return route_conditions

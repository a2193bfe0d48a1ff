from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.currency import Currency
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.conversion_request_metadata_type_0 import (
        ConversionRequestMetadataType0,
    )


T = TypeVar("T", bound="ConversionRequest")


@_attrs_define
class ConversionRequest:
    """
    Attributes:
        event_type (str):
        idempotency_key (str):
        coupon_code (str | Unset): A partner's coupon code, 1–64 of `[A-Za-z0-9_-]`, unique per handle case-
            insensitively. On a conversion or a customer binding, a code that is not one of the handle's is `400` naming
            `couponCode`; attribution order: the customer's binding, else the ctx, else the code.
        ctx (str | Unset): The ctx token of the click (from the redirect's `location`). A missing, malformed, tampered,
            foreign-key or expired token is `400 invalid_ctx`. Required, except on the handle route with a `customerId` or a
            `couponCode`.
        currency (Currency | None | Unset): Required with a `value`; null for none.
        customer_id (str | Unset): The merchant's own id for a buyer or account.
        landing_referrer (None | str | Unset): Where the page the buyer landed on came from (`document.referrer`, an
            http(s) URL; `t.js` keeps it): the coupon-leak report's "where it came from" for a sale on a coupon code with no
            click of its partner. Only the host is kept.
        metadata (ConversionRequestMetadataType0 | None | Unset): At most 4 KiB as compact JSON.
        test (bool | None | Unset): A test conversion (`conversion.tested`), never counted in analytics.
        value (float | None | str | Unset): The conversion's value (see `Money`); null for none. A value without a (non-
            null) `currency` is `400 invalid_request`.
    """

    event_type: str
    idempotency_key: str
    coupon_code: str | Unset = UNSET
    ctx: str | Unset = UNSET
    currency: Currency | None | Unset = UNSET
    customer_id: str | Unset = UNSET
    landing_referrer: None | str | Unset = UNSET
    metadata: ConversionRequestMetadataType0 | None | Unset = UNSET
    test: bool | None | Unset = UNSET
    value: float | None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.conversion_request_metadata_type_0 import (
            ConversionRequestMetadataType0,
        )

        event_type = self.event_type

        idempotency_key = self.idempotency_key

        coupon_code = self.coupon_code

        ctx = self.ctx

        currency: None | str | Unset
        if isinstance(self.currency, Unset):
            currency = UNSET
        elif isinstance(self.currency, Currency):
            currency = self.currency.value
        else:
            currency = self.currency

        customer_id = self.customer_id

        landing_referrer: None | str | Unset
        if isinstance(self.landing_referrer, Unset):
            landing_referrer = UNSET
        else:
            landing_referrer = self.landing_referrer

        metadata: dict[str, Any] | None | Unset
        if isinstance(self.metadata, Unset):
            metadata = UNSET
        elif isinstance(self.metadata, ConversionRequestMetadataType0):
            metadata = self.metadata.to_dict()
        else:
            metadata = self.metadata

        test: bool | None | Unset
        if isinstance(self.test, Unset):
            test = UNSET
        else:
            test = self.test

        value: float | None | str | Unset
        if isinstance(self.value, Unset):
            value = UNSET
        else:
            value = self.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "eventType": event_type,
                "idempotencyKey": idempotency_key,
            }
        )
        if coupon_code is not UNSET:
            field_dict["couponCode"] = coupon_code
        if ctx is not UNSET:
            field_dict["ctx"] = ctx
        if currency is not UNSET:
            field_dict["currency"] = currency
        if customer_id is not UNSET:
            field_dict["customerId"] = customer_id
        if landing_referrer is not UNSET:
            field_dict["landingReferrer"] = landing_referrer
        if metadata is not UNSET:
            field_dict["metadata"] = metadata
        if test is not UNSET:
            field_dict["test"] = test
        if value is not UNSET:
            field_dict["value"] = value

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.conversion_request_metadata_type_0 import (
            ConversionRequestMetadataType0,
        )

        d = dict(src_dict)
        event_type = d.pop("eventType")

        idempotency_key = d.pop("idempotencyKey")

        coupon_code = d.pop("couponCode", UNSET)

        ctx = d.pop("ctx", UNSET)

        def _parse_currency(data: object) -> Currency | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                currency_type_0 = Currency(data)

                return currency_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Currency | None | Unset, data)

        currency = _parse_currency(d.pop("currency", UNSET))

        customer_id = d.pop("customerId", UNSET)

        def _parse_landing_referrer(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        landing_referrer = _parse_landing_referrer(d.pop("landingReferrer", UNSET))

        def _parse_metadata(
            data: object,
        ) -> ConversionRequestMetadataType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                metadata_type_0 = ConversionRequestMetadataType0.from_dict(data)

                return metadata_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ConversionRequestMetadataType0 | None | Unset, data)

        metadata = _parse_metadata(d.pop("metadata", UNSET))

        def _parse_test(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        test = _parse_test(d.pop("test", UNSET))

        def _parse_value(data: object) -> float | None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | str | Unset, data)

        value = _parse_value(d.pop("value", UNSET))

        conversion_request = cls(
            event_type=event_type,
            idempotency_key=idempotency_key,
            coupon_code=coupon_code,
            ctx=ctx,
            currency=currency,
            customer_id=customer_id,
            landing_referrer=landing_referrer,
            metadata=metadata,
            test=test,
            value=value,
        )

        return conversion_request

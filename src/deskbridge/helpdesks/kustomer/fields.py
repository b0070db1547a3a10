"""The order facts as Kustomer conversation custom attributes: a name's suffix is its type (`Str`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deskbridge.helpdesks.base import ORDER_FIELDS, order_fields

if TYPE_CHECKING:
    from deskbridge.amazon.orders import OrderContext

MAX_STR = 1024  # Kustomer's limit for Str attributes


def _attribute(key: str) -> str:
    first, *rest = key.split("_")
    return first + "".join(part.title() for part in rest) + "Str"


# Our key → the conversation attribute ("amazon_order_id" → "amazonOrderIdStr").
ORDER_ATTRIBUTES: dict[str, str] = {key: _attribute(key) for key in ORDER_FIELDS}


def order_attributes(order: OrderContext) -> dict[str, str | None]:
    """The `custom` values for an order; null clears a fact Amazon no longer gives."""
    return {ORDER_ATTRIBUTES[key]: (value[:MAX_STR] or None) for key, value in order_fields(order).items()}

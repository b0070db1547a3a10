"""Query parameters as the SP-API models define them, parsed strictly: anything else is a 400.

Swagger 2.0 arrays without a collectionFormat are comma-separated ("csv"), so a list is one
value, `includedData=BUYER,RECIPIENT`; a repeated parameter is refused rather than guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from django.http import QueryDict

_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")
_INTEGER = re.compile(r"-?\d{1,9}")


class ParamError(ValueError):
    """The query cannot be used; the message names the parameter and what it must be."""


@dataclass(frozen=True)
class Param:
    name: str
    type: Literal["string", "date-time", "integer", "array"] = "string"
    enum: tuple[str, ...] = ()  # for arrays: the allowed items
    minimum: int | None = None
    maximum: int | None = None
    max_items: int | None = None
    required: bool = False


def parse_date_time(name: str, raw: str) -> datetime:
    if not _DATE_TIME.fullmatch(raw):
        hint = ""
        if re.fullmatch(r"[\dT:.-]+ \d{2}:\d{2}", raw):
            hint = " (a '+' in the offset must be sent as %2B)"
        raise ParamError(
            f"{name} must be an ISO 8601 date-time with a time zone, like 2026-01-01T00:00:00Z, "
            f"not {raw!r}{hint}."
        )
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ParamError(f"{name} is not a real date and time: {raw!r}.") from None


def _parse(param: Param, raw: str) -> Any:
    if param.type == "date-time":
        return parse_date_time(param.name, raw)
    if param.type == "integer":
        if not _INTEGER.fullmatch(raw):
            raise ParamError(f"{param.name} must be a whole number, not {raw!r}.")
        number = int(raw)
        low = -(10**9) if param.minimum is None else param.minimum
        high = 10**9 if param.maximum is None else param.maximum
        if not low <= number <= high:
            raise ParamError(f"{param.name} must be between {low} and {high}, not {number}.")
        return number
    if param.type == "array":
        items = raw.split(",")
        if any(not item for item in items):
            raise ParamError(f"{param.name} is a comma-separated list without empty items, not {raw!r}.")
        if param.max_items is not None and len(items) > param.max_items:
            raise ParamError(f"{param.name} takes at most {param.max_items} values, not {len(items)}.")
        wrong = [item for item in items if param.enum and item not in param.enum]
        if wrong:
            raise ParamError(
                f"{param.name} has values it does not know: {', '.join(wrong)}; "
                f"allowed: {', '.join(param.enum)}."
            )
        return list(dict.fromkeys(items))
    return raw


def parse_query(query: QueryDict, operation: str, params: Sequence[Param]) -> dict[str, Any]:
    """The given parameters, parsed; absent ones are left out."""
    known = {param.name: param for param in params}
    unknown = sorted(set(query) - set(known))
    if unknown:
        takes = ", ".join(known) or "no parameters"
        raise ParamError(f"{operation} takes {takes}; unexpected: {', '.join(unknown)}.")
    parsed: dict[str, Any] = {}
    for name, param in known.items():
        values = query.getlist(name)
        if not values:
            if param.required:
                raise ParamError(f"{name} is required.")
            continue
        if len(values) > 1:
            raise ParamError(
                f"{name} is given {len(values)} times; send it once (a list as one comma-separated value)."
            )
        if values[0] == "":
            raise ParamError(f"{name} is empty; leave it out or give a value.")
        parsed[name] = _parse(param, values[0])
    return parsed

"""Strict request checking for the emulated Help Scout, answered in Help Scout's `vnd.error` shape.

Help Scout validates bodies field by field and answers 400 with one entry per problem
(`path`, `message`, `rejectedValue`, `source`, a link to the error's explanation: the
error-400-validation fixture). The emulator is stricter than the vendor in one way, on purpose:
a field the endpoint does not document is rejected ("Unrecognized field"), so that a connector
sending anything the real API would ignore or misread is caught in the tests.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import JsonResponse

ERRORS_URL = "http://developer.helpscout.net/mailbox-api/overview/errors"
MISSING = object()


@dataclass(frozen=True)
class Spec:
    """One field: its JSON type(s), whether it is required, and what else must hold."""

    types: tuple[type, ...]
    required: bool = False
    nullable: bool = False
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    min_length: int | None = None
    fields: Mapping[str, Spec] | None = None  # for objects
    items: Spec | None = None  # for arrays
    check: Callable[[Any], str] | None = None  # returns a message when the value is wrong
    extra: dict[str, Any] = field(default_factory=dict)


def text(**kwargs: Any) -> Spec:
    return Spec((str,), **kwargs)


def integer(**kwargs: Any) -> Spec:
    return Spec((int,), **kwargs)


def boolean(**kwargs: Any) -> Spec:
    return Spec((bool,), **kwargs)


def obj(fields: Mapping[str, Spec], **kwargs: Any) -> Spec:
    return Spec((dict,), fields=fields, **kwargs)


def array(items: Spec, **kwargs: Any) -> Spec:
    return Spec((list,), items=items, **kwargs)


TYPE_NAMES = {str: "String", int: "Number", bool: "Boolean", dict: "Object", list: "Array"}


def error(
    path: str, message: str, rejected: Any = MISSING, kind: str = "Invalid", source: str = "JSON"
) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": path, "message": message}
    if rejected is not MISSING:
        entry["rejectedValue"] = rejected
    entry["source"] = source
    entry["_links"] = {"about": {"href": f"{ERRORS_URL}#{kind}"}}
    return entry


def _is_type(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in types
    return isinstance(value, types)


def check(body: Any, fields: Mapping[str, Spec], prefix: str = "") -> list[dict[str, Any]]:
    """Every problem of `body` against `fields`, as Help Scout's error entries."""
    if not isinstance(body, dict):
        return [error(prefix or "", "must be a JSON object", kind="Type")]
    errors: list[dict[str, Any]] = []
    for name in body:
        if name not in fields:
            errors.append(error(f"{prefix}{name}", "Unrecognized field", kind="UnrecognizedField"))
    for name, spec in fields.items():
        errors.extend(check_value(body.get(name, MISSING), spec, f"{prefix}{name}"))
    return errors


def check_value(value: Any, spec: Spec, path: str) -> list[dict[str, Any]]:
    if value is MISSING:
        return [error(path, "may not be null", kind="NotNull")] if spec.required else []
    if value is None:
        if spec.nullable:
            return []
        return [error(path, "may not be null", kind="NotNull")]
    if not _is_type(value, spec.types):
        expected = " or ".join(TYPE_NAMES[t] for t in spec.types)
        return [error(path, f"must be a {expected}", value, kind="Type")]
    if spec.choices and value not in spec.choices:
        quoted = ", ".join(f"'{c}'" for c in spec.choices)
        return [error(path, f"Expected one of these: {quoted}", value, kind="EnumValue")]
    if isinstance(value, str | list):
        if spec.min_length is not None and len(value) < spec.min_length:
            if spec.min_length == 1:
                return [error(path, "may not be empty", kind="NotEmpty")]
            return [error(path, f"size must be at least {spec.min_length}", value, kind="Size")]
        if spec.max_length is not None and len(value) > spec.max_length:
            return [error(path, f"size must be at most {spec.max_length}", kind="Size")]
    errors: list[dict[str, Any]] = []
    if spec.fields is not None:
        errors.extend(check(value, spec.fields, f"{path}."))
    if spec.items is not None:
        for index, item in enumerate(value):
            errors.extend(check_value(item, spec.items, f"{path}[{index}]"))
    if not errors and spec.check is not None:
        problem = spec.check(value)
        if problem:
            errors.append(error(path, problem, value))
    return errors


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def email_address(value: str) -> str:
    return "" if EMAIL.match(value) else "not a well-formed email address"


def timestamp(value: str) -> str:
    return "" if TIMESTAMP.match(value) else "must be an ISO 8601 UTC date-time (2012-10-10T12:00:00Z)"


def web_url(value: str) -> str:
    return "" if re.match(r"^https?://[^\s/]+", value) else "must be a valid URL"


def vnd_error(status: int, message: str, errors: list[dict[str, Any]] | None = None) -> JsonResponse:
    body: dict[str, Any] = {"logRef": str(uuid.uuid4()), "message": message}
    if errors:
        body["_embedded"] = {"errors": errors}
    body["_links"] = {"about": {"href": ERRORS_URL}}
    return JsonResponse(body, status=status, content_type="application/vnd.error+json")


def bad_request(errors: list[dict[str, Any]]) -> JsonResponse:
    return vnd_error(400, "Bad request", errors)


class Invalid(Exception):
    """Raised inside a view: answered as a 400 with these entries."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(e["message"] for e in errors))
        self.errors = errors

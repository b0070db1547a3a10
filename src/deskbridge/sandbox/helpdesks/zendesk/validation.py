"""Request bodies as the Zendesk API takes them, checked strictly: an unknown, missing or mistyped
field is a 422 with Zendesk's RecordInvalid body, naming the field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Spec:
    type: str  # object | string | integer | boolean | array | scalar | any
    properties: dict[str, Spec] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    items: Spec | None = None
    enum: tuple[str, ...] = ()
    nullable: bool = False
    max_length: int | None = None
    open: bool = False  # an object whose keys are free (metadata)


class Invalid(ValueError):
    def __init__(self, details: dict[str, list[dict[str, str]]]) -> None:
        super().__init__("; ".join(e["description"] for errors in details.values() for e in errors))
        self.details = details


def S(**kw: Any) -> Spec:
    return Spec(type="string", **kw)


INT = Spec("integer")
BOOL = Spec("boolean")
STR = S()
TAGS = Spec("array", items=STR)
INTS = Spec("array", items=INT)
STATUS = S(enum=("new", "open", "pending", "hold", "solved", "closed"))
CUSTOM_FIELDS = Spec(
    "array",
    items=Spec("object", {"id": INT, "value": Spec("any", nullable=True)}, required=("id",)),
)
COMMENT = Spec(
    "object",
    {
        "body": STR,
        "html_body": STR,
        "public": BOOL,
        "author_id": INT,
        "uploads": Spec("array", items=STR),
    },
)
METADATA = Spec("object", open=True)
_TICKET_PROPS = {
    "subject": S(max_length=150),
    "comment": COMMENT,
    "requester_id": INT,
    "requester": Spec("object", {"name": STR, "email": STR, "locale_id": INT}, required=("name",)),
    "submitter_id": INT,
    "assignee_id": Spec("integer", nullable=True),
    "group_id": Spec("integer", nullable=True),
    "organization_id": Spec("integer", nullable=True),
    "external_id": Spec("string", nullable=True, max_length=255),
    "tags": TAGS,
    "custom_fields": CUSTOM_FIELDS,
    "status": STATUS,
    "priority": S(enum=("urgent", "high", "normal", "low"), nullable=True),
    "type": S(enum=("problem", "incident", "question", "task"), nullable=True),
    "collaborator_ids": INTS,
    "email_cc_ids": INTS,
    "brand_id": INT,
    "metadata": METADATA,
}
TICKET_CREATE = Spec(
    "object", {"ticket": Spec("object", _TICKET_PROPS, required=("comment",))}, required=("ticket",)
)
TICKET_UPDATE = Spec(
    "object",
    {"ticket": Spec("object", {k: v for k, v in _TICKET_PROPS.items() if k != "requester"})},
    required=("ticket",),
)
USER_UPSERT = Spec(
    "object",
    {
        "user": Spec(
            "object",
            {
                "name": STR,
                "email": STR,
                "external_id": Spec("string", nullable=True, max_length=255),
                "role": S(enum=("end-user", "agent", "admin")),
                "verified": BOOL,
                "notes": STR,
                "locale_id": INT,
                "tags": TAGS,
            },
            required=("name",),
        )
    },
    required=("user",),
)
TICKET_FIELD_CREATE = Spec(
    "object",
    {
        "ticket_field": Spec(
            "object",
            {
                "type": S(
                    enum=(
                        "text",
                        "textarea",
                        "checkbox",
                        "date",
                        "integer",
                        "decimal",
                        "regexp",
                        "tagger",
                        "multiselect",
                    )
                ),
                "title": S(max_length=255),
                "description": STR,
                "agent_description": STR,
                "active": BOOL,
                "required": BOOL,
                "visible_in_portal": BOOL,
                "editable_in_portal": BOOL,
                "position": INT,
            },
            required=("type", "title"),
        )
    },
    required=("ticket_field",),
)
_CONDITION = Spec(
    "object", {"field": STR, "operator": STR, "value": Spec("scalar")}, required=("field", "operator")
)
TRIGGER = Spec(
    "object",
    {
        "trigger": Spec(
            "object",
            {
                "title": STR,
                "description": Spec("string", nullable=True),
                "active": BOOL,
                "position": INT,
                "category_id": STR,
                "conditions": Spec(
                    "object",
                    {"all": Spec("array", items=_CONDITION), "any": Spec("array", items=_CONDITION)},
                ),
                "actions": Spec(
                    "array",
                    items=Spec("object", {"field": STR, "value": Spec("any")}, required=("field", "value")),
                ),
            },
            required=("title", "conditions", "actions"),
        )
    },
    required=("trigger",),
)
WEBHOOK = Spec(
    "object",
    {
        "webhook": Spec(
            "object",
            {
                "name": STR,
                "description": STR,
                "endpoint": STR,
                "http_method": S(enum=("GET", "POST", "PUT", "PATCH", "DELETE")),
                "request_format": S(enum=("json", "xml", "form_encoded")),
                "status": S(enum=("active", "inactive")),
                "subscriptions": Spec("array", items=STR),
                "authentication": Spec(
                    "object",
                    {
                        "type": S(enum=("basic_auth", "bearer_token", "api_key")),
                        "add_position": STR,
                        "data": METADATA,
                    },
                ),
                "custom_headers": METADATA,
            },
            required=("name", "endpoint", "http_method", "request_format", "status", "subscriptions"),
        )
    },
    required=("webhook",),
)

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "scalar": (str, int, float, bool),
}


def _check(spec: Spec, value: Any, path: str, errors: list[tuple[str, str, str]]) -> None:
    if value is None:
        if not spec.nullable and spec.type != "any":
            errors.append((path, f"{path} cannot be null", "InvalidValue"))
        return
    if spec.type == "any":
        return
    wanted = _TYPES[spec.type]
    if not isinstance(value, wanted) or (spec.type == "integer" and isinstance(value, bool)):
        errors.append(
            (path, f"{path} must be {'an' if spec.type[0] in 'aeiou' else 'a'} {spec.type}", "InvalidValue")
        )
        return
    if spec.enum and value not in spec.enum:
        errors.append((path, f"{path}: {value!r} is not one of {', '.join(spec.enum)}", "InvalidValue"))
    if spec.max_length is not None and isinstance(value, str) and len(value) > spec.max_length:
        errors.append((path, f"{path} is too long (maximum is {spec.max_length} characters)", "TooLong"))
    if spec.type == "array" and spec.items is not None:
        for i, item in enumerate(value):
            _check(spec.items, item, f"{path}[{i}]", errors)
    if spec.type == "object" and not spec.open:
        for key in spec.required:
            if key not in value:
                errors.append(
                    (f"{path}.{key}".lstrip("."), f"{f'{path}.{key}'.lstrip('.')} is required", "BlankValue")
                )
        for key, item in value.items():
            sub = f"{path}.{key}".lstrip(".")
            if key not in spec.properties:
                errors.append((sub, f"{sub} is not a known attribute", "UnknownAttribute"))
            else:
                _check(spec.properties[key], item, sub, errors)


def validate(spec: Spec, body: Any) -> None:
    """Raise Invalid with Zendesk's `details` map (by top-level attribute) when `body` does not fit."""
    errors: list[tuple[str, str, str]] = []
    _check(spec, body, "", errors)
    if errors:
        details: dict[str, list[dict[str, str]]] = {}
        for path, description, code in errors:
            name = path.split(".")[1] if path.count(".") >= 1 else path or "base"
            details.setdefault(name.split("[")[0], []).append({"description": description, "error": code})
        raise Invalid(details)

"""Strict request validation with Gorgias's error words (its API validates with marshmallow: the
documented 400 says "Missing data for required field."), so unknown fields, wrong types and missing
required fields get the vendor's 400 body instead of being accepted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Errors = dict[str, Any]


@dataclass(frozen=True)
class F:
    """One field: `kind` is str | int | bool | datetime | prim (a JSON primitive) | dict (free-form
    object) | obj (an object of `fields`) | list (of `items`)."""

    kind: str
    required: bool = False
    nullable: bool = False
    choices: tuple[str, ...] = ()
    fields: dict[str, F] = field(default_factory=dict)
    items: F | None = None
    max_length: int | None = None
    min_items: int = 0


def _check(spec: F, value: Any) -> Any:
    """Errors of one value (a list of messages, or nested errors), or None when it is valid."""
    if value is None:
        return None if spec.nullable else ["Field may not be null."]
    kind = spec.kind
    if kind in ("str", "datetime"):
        if not isinstance(value, str):
            return ["Not a valid string."] if kind == "str" else ["Not a valid datetime."]
        if kind == "datetime":
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return ["Not a valid datetime."]
        if spec.max_length is not None and len(value) > spec.max_length:
            return [f"Longer than maximum length {spec.max_length}."]
        if spec.choices and value not in spec.choices:
            return [f"Must be one of: {', '.join(spec.choices)}."]
        return None
    if kind == "int":
        return None if isinstance(value, int) and not isinstance(value, bool) else ["Not a valid integer."]
    if kind == "bool":
        return None if isinstance(value, bool) else ["Not a valid boolean."]
    if kind == "prim":
        return None if isinstance(value, str | int | float | bool) else ["Not a valid value."]
    if kind == "dict":
        return None if isinstance(value, dict) else ["Not a valid mapping type."]
    if kind == "obj":
        if not isinstance(value, dict):
            return ["Invalid input type."]
        return validate(spec.fields, value) or None
    if kind == "list":
        if not isinstance(value, list):
            return ["Not a valid list."]
        if len(value) < spec.min_items:
            return [f"Shorter than minimum length {spec.min_items}."]
        assert spec.items is not None
        nested = {str(i): e for i, item in enumerate(value) if (e := _check(spec.items, item))}
        return nested or None
    raise ValueError(kind)


def validate(fields: dict[str, F], data: Any) -> Errors:
    """Errors by field name (marshmallow's shape); empty when `data` is valid."""
    if not isinstance(data, dict):
        return {"_schema": ["Invalid input type."]}
    errors: Errors = {}
    for name in data:
        if name not in fields:
            errors[name] = ["Unknown field."]
    for name, spec in fields.items():
        if name not in data:
            if spec.required:
                errors[name] = ["Missing data for required field."]
            continue
        problem = _check(spec, data[name])
        if problem:
            errors[name] = problem
    return errors


def obj(**fields: F) -> F:
    return F("obj", fields=fields)


def list_of(items: F, required: bool = False, min_items: int = 0) -> F:
    return F("list", required=required, items=items, min_items=min_items)


S = F("str")
S_NULL = F("str", nullable=True)
DT = F("datetime", nullable=True)
CHANNELS = (
    "aircall",
    "api",
    "chat",
    "contact_form",
    "email",
    "facebook",
    "facebook-mention",
    "facebook-messenger",
    "help-center",
    "instagram-comment",
    "instagram-direct-message",
    "internal-note",
    "phone",
    "sms",
    "twitter",
    "whatsapp",
)
VIAS = (
    "aircall",
    "api",
    "chat",
    "contact_form",
    "email",
    "facebook",
    "form",
    "gorgias_chat",
    "help-center",
    "helpdesk",
    "instagram",
    "phone",
    "rule",
    "self_service",
    "sms",
    "twilio",
    "zendesk",
)
TRIGGERS = (
    "ticket-created",
    "ticket-updated",
    "ticket-message-created",
    "ticket-self-unsnoozed",
    "ticket-message-failed",
)

PERSON = obj(id=F("int"), email=S, external_id=S_NULL, name=S_NULL, firstname=S_NULL, lastname=S_NULL)
ADDRESS = obj(name=S_NULL, address=F("str", required=True))
SOURCE = obj(
    type=S,
    **{"from": ADDRESS},
    to=list_of(ADDRESS),
    cc=F("list", nullable=True, items=ADDRESS),
    bcc=F("list", nullable=True, items=ADDRESS),
    extra=F("dict", nullable=True),
)
ATTACHMENT = obj(
    url=F("str", required=True),
    name=F("str", required=True),
    size=F("prim", nullable=True),  # the vendor's own example gives a string
    content_type=F("str", required=True),
    public=F("bool"),
    extra=F("dict", nullable=True),
)
MESSAGE: dict[str, F] = {
    "channel": F("str", required=True, choices=CHANNELS),
    "via": F("str", required=True, choices=VIAS),
    "from_agent": F("bool", required=True),
    "sender": F("obj", required=True, fields=PERSON.fields),
    "receiver": F("obj", nullable=True, fields=PERSON.fields),
    "source": F("obj", nullable=True, fields=SOURCE.fields),
    "subject": S_NULL,
    "body_text": S_NULL,
    "body_html": S_NULL,
    "stripped_text": S_NULL,
    "external_id": F("str", nullable=True, max_length=255),
    "message_id": S_NULL,
    "attachments": list_of(ATTACHMENT),
    "sent_datetime": DT,
    "created_datetime": DT,
    "failed_datetime": DT,
    "integration_id": F("int", nullable=True),
    "meta": F("dict", nullable=True),
}
CUSTOM_FIELD_VALUE = obj(id=F("int", required=True), value=F("prim", required=True, nullable=True))
TICKET_UPDATE: dict[str, F] = {
    "customer": F("obj", fields=PERSON.fields),
    "channel": F("str", choices=CHANNELS),
    "via": F("str", choices=VIAS),
    "from_agent": F("bool"),
    "subject": F("str", nullable=True, max_length=998),
    "external_id": F("str", nullable=True, max_length=255),
    "status": F("str", choices=("open", "closed")),
    "priority": F("str", choices=("low", "normal", "high", "critical")),
    "tags": list_of(obj(name=F("str", required=True), id=F("int"))),
    "custom_fields": list_of(CUSTOM_FIELD_VALUE),
    "meta": F("dict", nullable=True),
    "language": S_NULL,
    "assignee_user": F("obj", nullable=True, fields={"id": F("int", nullable=True)}),
    "assignee_team": F("obj", nullable=True, fields={"id": F("int", nullable=True)}),
    "spam": F("bool"),
    "is_unread": F("bool"),
    **{
        name: DT
        for name in (
            "created_datetime",
            "opened_datetime",
            "last_message_datetime",
            "last_received_message_datetime",
            "updated_datetime",
            "closed_datetime",
            "snooze_datetime",
            "trashed_datetime",
        )
    },
}
TICKET_CREATE: dict[str, F] = {
    **TICKET_UPDATE,
    "messages": list_of(F("obj", fields=MESSAGE), required=True, min_items=1),
}
CUSTOMER: dict[str, F] = {
    "name": S_NULL,
    "firstname": S_NULL,
    "lastname": S_NULL,
    "email": S_NULL,
    "external_id": F("str", nullable=True, max_length=255),
    "channels": list_of(
        obj(type=F("str", required=True), address=F("str", required=True), preferred=F("bool"))
    ),
    "data": F("dict", nullable=True),
    "language": S_NULL,
    "timezone": S_NULL,
}
CUSTOM_FIELD_CREATE: dict[str, F] = {
    "object_type": F("str", required=True, choices=("Ticket", "Customer")),
    "label": F("str", required=True, max_length=255),
    "definition": F(
        "obj",
        required=True,
        fields={
            "data_type": F("str", required=True, choices=("text", "number", "boolean")),
            "input_settings": F("dict"),
        },
    ),
    "description": F("str", nullable=True, max_length=1024),
    "external_id": S_NULL,
    "managed_type": S_NULL,
    "priority": F("int", nullable=True),
    "required": F("bool", nullable=True),
    "requirement_type": S_NULL,
}
HTTP_CONFIG: dict[str, F] = {
    "id": F("int"),
    "url": F("str", required=True),
    "method": F("str", required=True, choices=("GET", "POST", "PUT", "PATCH", "DELETE")),
    "headers": F("dict", nullable=True),
    "form": F("dict", nullable=True),
    "request_content_type": F("str", choices=("application/json", "application/x-www-form-urlencoded")),
    "response_content_type": F("str", choices=("application/json",)),
    "triggers": obj(**{t: F("bool") for t in TRIGGERS}, **{t.replace("-", "_"): F("bool") for t in TRIGGERS}),
}
INTEGRATION_CREATE: dict[str, F] = {
    "name": F("str", required=True, max_length=255),
    "type": F("str", required=True, choices=("http",)),  # the only type the emulator offers
    "description": S_NULL,
    "http": F("obj", fields=HTTP_CONFIG),
}
INTEGRATION_UPDATE: dict[str, F] = {
    "name": F("str", max_length=255),
    "description": S_NULL,
    "http": F(
        "obj",
        fields={**HTTP_CONFIG, "url": F("str"), "method": F("str", choices=HTTP_CONFIG["method"].choices)},
    ),
}

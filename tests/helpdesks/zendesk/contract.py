"""Zendesk's contract files (tests/data/helpdesks/zendesk/openapi) as strict JSON Schemas.

The split OpenAPI copies declare operations and response wrappers (`TicketResponse` =
`{"ticket": TicketObject}`) but not the objects; those are written here from Zendesk's documented
JSON-format tables, strictly (no property outside the table), together with the request bodies the
reference documents. Written independently of the emulator's own validation.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPECS = Path(__file__).resolve().parents[2] / "data" / "helpdesks" / "zendesk" / "openapi"

STR = {"type": "string"}
NSTR = {"type": ["string", "null"]}
INT = {"type": "integer"}
NINT = {"type": ["integer", "null"]}
BOOL = {"type": "boolean"}
TIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"}
INTS = {"type": "array", "items": INT}
TAGS = {"type": "array", "items": STR}


def obj(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


VIA = {
    "type": "object",
    "required": ["channel"],
    "properties": {"channel": STR, "source": {"type": "object"}},
}
CUSTOM_FIELD = obj({"id": INT, "value": {}}, ("id", "value"))
ATTACHMENT = obj(
    {
        "id": INT,
        "file_name": STR,
        "content_url": STR,
        "mapped_content_url": STR,
        "content_type": STR,
        "size": INT,
        "width": NINT,
        "height": NINT,
        "inline": BOOL,
        "deleted": BOOL,
        "malware_access_override": BOOL,
        "malware_scan_result": STR,
        "url": STR,
        "thumbnails": {"type": "array"},
    },
    ("id", "file_name", "content_url", "content_type", "size"),
)
OBJECTS: dict[str, dict[str, Any]] = {
    "TicketObject": obj(
        {
            "id": INT,
            "url": STR,
            "external_id": NSTR,
            "via": VIA,
            "created_at": TIME,
            "updated_at": TIME,
            "type": {"enum": ["problem", "incident", "question", "task", None]},
            "subject": STR,
            "raw_subject": STR,
            "description": STR,
            "priority": {"enum": ["urgent", "high", "normal", "low", None]},
            "status": {"enum": ["new", "open", "pending", "hold", "solved", "closed"]},
            "recipient": NSTR,
            "requester_id": INT,
            "submitter_id": INT,
            "assignee_id": NINT,
            "organization_id": NINT,
            "group_id": NINT,
            "collaborator_ids": INTS,
            "follower_ids": INTS,
            "email_cc_ids": INTS,
            "forum_topic_id": NINT,
            "problem_id": NINT,
            "has_incidents": BOOL,
            "is_public": BOOL,
            "due_at": NSTR,
            "tags": TAGS,
            "custom_fields": {"type": "array", "items": CUSTOM_FIELD},
            "fields": {"type": "array", "items": CUSTOM_FIELD},
            "satisfaction_rating": {"type": ["object", "null"]},
            "sharing_agreement_ids": INTS,
            "followup_ids": INTS,
            "brand_id": NINT,
            "allow_channelback": BOOL,
            "allow_attachments": BOOL,
            "from_messaging_channel": BOOL,
        },
        ("id", "requester_id", "status", "subject", "tags", "custom_fields"),
    ),
    "TicketCommentObject": obj(
        {
            "id": INT,
            "type": {"enum": ["Comment", "VoiceComment"]},
            "author_id": INT,
            "body": STR,
            "html_body": STR,
            "plain_body": STR,
            "public": BOOL,
            "attachments": {"type": "array", "items": ATTACHMENT},
            "audit_id": INT,
            "via": VIA,
            "created_at": TIME,
            "metadata": {"type": "object"},
        },
        ("id", "type", "author_id", "body", "public", "created_at"),
    ),
    "AttachmentObject": ATTACHMENT,
    "UserObject": obj(
        {
            "id": INT,
            "url": STR,
            "name": STR,
            "email": NSTR,
            "external_id": NSTR,
            "role": {"enum": ["end-user", "agent", "admin"]},
            "role_type": NINT,
            "verified": BOOL,
            "active": BOOL,
            "suspended": BOOL,
            "notes": STR,
            "tags": TAGS,
            "locale_id": INT,
            "locale": STR,
            "time_zone": STR,
            "organization_id": NINT,
            "shared": BOOL,
            "restricted_agent": BOOL,
            "only_private_comments": BOOL,
            "moderator": BOOL,
            "ticket_restriction": NSTR,
            "user_fields": {"type": "object"},
            "photo": {"type": ["object", "null"]},
            "created_at": TIME,
            "updated_at": TIME,
            "last_login_at": NSTR,
        },
        ("id", "name", "role"),
    ),
    "TicketFieldObject": obj(
        {
            "id": INT,
            "url": STR,
            "type": STR,
            "title": STR,
            "raw_title": STR,
            "description": STR,
            "raw_description": STR,
            "agent_description": NSTR,
            "position": INT,
            "active": BOOL,
            "required": BOOL,
            "collapsed_for_agents": BOOL,
            "regexp_for_validation": NSTR,
            "title_in_portal": STR,
            "raw_title_in_portal": STR,
            "visible_in_portal": BOOL,
            "editable_in_portal": BOOL,
            "required_in_portal": BOOL,
            "tag": NSTR,
            "removable": BOOL,
            "created_at": TIME,
            "updated_at": TIME,
        },
        ("id", "type", "title"),
    ),
    "TriggerObject": obj(
        {
            "id": INT,
            "url": STR,
            "title": STR,
            "raw_title": STR,
            "description": NSTR,
            "active": BOOL,
            "position": INT,
            "default": BOOL,
            "category_id": STR,
            "conditions": obj({"all": {"type": "array"}, "any": {"type": "array"}}, ("all", "any")),
            "actions": {"type": "array", "items": obj({"field": STR, "value": {}}, ("field", "value"))},
            "created_at": TIME,
            "updated_at": TIME,
        },
        ("id", "title", "conditions", "actions"),
    ),
}
OBJECTS["TicketAuditObject"] = obj(
    {
        "id": INT,
        "ticket_id": INT,
        "author_id": INT,
        "created_at": TIME,
        "metadata": obj({"system": {"type": "object"}, "custom": {"type": "object"}}, ("system", "custom")),
        "via": VIA,
        "events": {"type": "array", "items": {"type": "object", "required": ["id", "type"]}},
    },
    ("id", "ticket_id", "events", "metadata"),
)
OBJECTS["AuditObject"] = OBJECTS["TicketAuditObject"]
OBJECTS["AttachmentUploadResponse"] = obj(
    {
        "upload": obj(
            {
                "token": STR,
                "expires_at": NSTR,
                "attachment": ATTACHMENT,
                "attachments": {"type": "array", "items": ATTACHMENT},
            },
            ("token", "attachments"),
        )
    },
    ("upload",),
)

# Request bodies, from the reference (helpdesks.md §4.1, the payload README) and Zendesk's docs.
COMMENT_IN = obj({"body": STR, "html_body": STR, "public": BOOL, "author_id": INT, "uploads": TAGS})
TICKET_IN = {
    "subject": STR,
    "comment": COMMENT_IN,
    "requester_id": INT,
    "external_id": STR,
    "tags": TAGS,
    "custom_fields": {"type": "array", "items": obj({"id": INT, "value": STR}, ("id", "value"))},
    "status": {"enum": ["new", "open", "pending", "hold", "solved", "closed"]},
    "metadata": {"type": "object"},
}
REQUESTS: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v2/tickets"): obj(
        {"ticket": obj(TICKET_IN, ("comment", "requester_id", "subject"))}, ("ticket",)
    ),
    ("PUT", "/api/v2/tickets/{ticket_id}"): obj({"ticket": obj(TICKET_IN)}, ("ticket",)),
    ("POST", "/api/v2/users/create_or_update"): obj(
        {
            "user": obj(
                {"name": STR, "external_id": STR, "email": STR, "role": {"enum": ["end-user"]}}, ("name",)
            )
        },
        ("user",),
    ),
    ("POST", "/api/v2/ticket_fields"): obj(
        {
            "ticket_field": obj(
                {"type": {"enum": ["text"]}, "title": STR, "description": STR}, ("type", "title")
            )
        },
        ("ticket_field",),
    ),
}


def _load(name: str) -> dict[str, Any]:
    return json.loads((SPECS / name).read_text())


@cache
def spec(name: str) -> dict[str, Any]:
    document = _load(name)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for key, value in OBJECTS.items():
        schemas.setdefault(key, value)
    return document


SPEC_FILES = ("tickets.json", "users.json", "ticket-fields.json", "triggers.json", "uploads.json")


def operation(method: str, path: str) -> tuple[str, str, dict[str, Any]] | None:
    """(spec file, path template, operation) for a concrete path like /api/v2/tickets/12.json."""
    path = path.split("?", 1)[0].removesuffix(".json")
    for name in SPEC_FILES:
        for template, item in spec(name)["paths"].items():
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(template)) + "$"
            if re.match(pattern, path) and method.lower() in item:
                return name, template, item[method.lower()]
    return None


def response_validator(name: str, op: dict[str, Any], status: int) -> Draft202012Validator:
    declared = op["responses"][str(status)]
    schema = declared["content"]["application/json"]["schema"]
    urn = f"urn:zendesk:{name}"
    registry = Registry().with_resource(urn, Resource(contents=spec(name), specification=DRAFT202012))
    if "$ref" in schema:
        schema = {"$ref": urn + schema["$ref"]}
    return Draft202012Validator(schema, registry=registry)


def assert_response_conforms(method: str, path: str, status: int, body: Any) -> str:
    found = operation(method, path)
    assert found, f"{method} {path} is not an operation of Zendesk's API"
    name, template, op = found
    assert str(status) in op["responses"], f"{op['operationId']} does not declare HTTP {status}"
    response_validator(name, op, status).validate(body)
    return template

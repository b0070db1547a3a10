"""Ticket writes as Zendesk makes them: comments, audits (with custom metadata), the requester
notifications Zendesk would email, and the triggers that fire webhooks. The API and the sandbox's
agent page both write through here, so an agent's reply fires the same signed webhook either way."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import time
from typing import Any

from django.db import transaction

from deskbridge.sandbox.helpdesks.models import SandboxHelpdeskRecord
from deskbridge.sandbox.helpdesks.state import fire_webhook
from deskbridge.sandbox.helpdesks.zendesk import store
from deskbridge.sandbox.helpdesks.zendesk.validation import Invalid

Record = SandboxHelpdeskRecord
STATUS_ORDER = ("new", "open", "pending", "hold", "solved", "closed")
VIA_IDS = {"web": 0, "api": 5}
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PLACEHOLDER = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")
# Trigger condition fields this emulator evaluates, with the operators each takes.
CONDITIONS = {
    "update_type": ("is",),
    "comment_is_public": ("is",),
    "role": ("is", "is_not"),
    "current_tags": ("includes", "not_includes"),
    "status": ("is", "is_not", "less_than", "greater_than"),
    "current_via_id": ("is", "is_not"),
    "requester_id": ("is", "is_not"),
}
ACTIONS = ("notification_webhook", "status")


def ulid() -> str:
    """A 26-character ULID, as Zendesk gives webhooks."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def invalid(attribute: str, description: str, error: str = "InvalidValue") -> Invalid:
    return Invalid({attribute: [{"description": description, "error": error}]})


# -- JSON shapes -------------------------------------------------------------------------------
def attachment_json(upload: dict[str, Any], base_url: str) -> dict[str, Any]:
    name = upload["file_name"]
    return {
        "id": upload["id"],
        "file_name": name,
        "content_url": f"{base_url}/attachments/token/{upload['token']}/?name={name}",
        "mapped_content_url": f"{base_url}/attachments/token/{upload['token']}/?name={name}",
        "content_type": upload["content_type"],
        "size": upload["size"],
        "width": None,
        "height": None,
        "inline": False,
        "deleted": False,
        "malware_access_override": False,
        "malware_scan_result": "malware_not_found",
        "url": f"{base_url}/api/v2/attachments/{upload['id']}.json",
        "thumbnails": [],
    }


def comment_json(record: Record, base_url: str) -> dict[str, Any]:
    data = record.data
    return {
        "id": record.pk,
        "type": "Comment",
        "author_id": data["author_id"],
        "body": data["body"],
        "html_body": data["html_body"],
        "plain_body": data["plain_body"],
        "public": data["public"],
        "attachments": [attachment_json(a, base_url) for a in data.get("attachments", [])],
        "audit_id": data["audit_id"],
        "via": data["via"],
        "created_at": data["created_at"],
        "metadata": {"system": {}, "custom": {}},
    }


def ticket_json(record: Record, base_url: str) -> dict[str, Any]:
    data = record.data
    return {
        "id": record.pk,
        "url": f"{base_url}/api/v2/tickets/{record.pk}.json",
        "external_id": data.get("external_id"),
        "via": data["via"],
        "created_at": data["created_at"],
        "updated_at": data["updated_at"],
        "type": data.get("type"),
        "subject": data["subject"],
        "raw_subject": data["subject"],
        "description": data["description"],
        "priority": data.get("priority"),
        "status": data["status"],
        "recipient": None,
        "requester_id": data["requester_id"],
        "submitter_id": data["submitter_id"],
        "assignee_id": data.get("assignee_id"),
        "organization_id": None,
        "group_id": data.get("group_id"),
        "collaborator_ids": [],
        "follower_ids": [],
        "email_cc_ids": [],
        "forum_topic_id": None,
        "problem_id": None,
        "has_incidents": False,
        "is_public": data["is_public"],
        "due_at": None,
        "tags": data["tags"],
        "custom_fields": data["custom_fields"],
        "fields": data["custom_fields"],
        "satisfaction_rating": None,
        "sharing_agreement_ids": [],
        "followup_ids": [],
        "brand_id": data.get("brand_id"),
        "allow_channelback": False,
        "allow_attachments": True,
        "from_messaging_channel": False,
    }


def audit_json(record: Record) -> dict[str, Any]:
    return {"id": record.pk, **record.data}


# -- writes --------------------------------------------------------------------------------------
def _via(channel: str, actor: Record) -> dict[str, Any]:
    return {
        "channel": channel,
        "source": {"from": {}, "to": {"name": actor.data["name"]}, "rel": None},
    }


def _html_of(text: str) -> str:
    """A plain-text comment as Zendesk renders it: a paragraph per blank-line block, <br> per line."""
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    inner = "".join(
        "<p>" + "<br>".join(html.escape(line) for line in p.split("\n")) + "</p>" for p in paragraphs
    )
    return f'<div class="zd-comment">{inner}</div>'


def _plain(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)


def _tags(values: list[str]) -> list[str]:
    return list(dict.fromkeys(t for v in values for t in v.lower().split() if t))


def _custom_fields(
    sub: str, given: list[dict[str, Any]], current: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    db = store.records(sub)
    values = {f["id"]: f["value"] for f in current}
    for item in given:
        field = db.get("ticket_fields", item["id"])
        if field is None:
            raise invalid("custom_fields", f"Custom field {item['id']} does not exist")
        value = item.get("value")
        if value is not None and not isinstance(value, str) and field.data["type"] in ("text", "textarea"):
            raise invalid("custom_fields", f"{field.data['title']}: a text field takes a string")
        values[item["id"]] = value
    return [{"id": k, "value": v} for k, v in sorted(values.items())]


def _comment(
    sub: str, actor: Record, ticket: Record, given: dict[str, Any], base_url: str, channel: str
) -> tuple[dict[str, Any], Record]:
    db = store.records(sub)
    body = given.get("html_body") or given.get("body") or ""
    if not _plain(body).strip():
        raise invalid("comment", "Comment: body cannot be blank", "BlankValue")
    author: Record | None = actor
    if "author_id" in given:
        author = db.get("users", given["author_id"])
        if author is None:
            raise invalid("comment", f"Comment: author {given['author_id']} does not exist")
    uploads = []
    for token in given.get("uploads", []):
        upload = db.find("uploads", token)
        if upload is None or upload.data.get("used"):
            raise invalid("comment", f"Comment: upload token {token} is unknown or already used")
        uploads.append(upload)
    public = bool(given.get("public", True))
    text = given.get("body") or _plain(given.get("html_body", ""))
    assert author is not None
    data = {
        "author_id": author.pk,
        "body": text,
        "html_body": given.get("html_body") or _html_of(text),
        "plain_body": text,
        "public": public,
        "attachments": [u.data for u in uploads],
        "audit_id": None,
        "via": _via(channel, actor),
        "created_at": store.now(),
    }
    record = db.create("comments", data, parent=ticket.pk)
    for upload in uploads:
        upload.data["used"] = True
        upload.save(update_fields=["data", "updated_at"])
    return data, record


@transaction.atomic
def create_ticket(
    sub: str, actor: Record, fields: dict[str, Any], base_url: str, channel: str = "api"
) -> Record:
    db = store.records(sub)
    requester: Record | None = actor
    if "requester_id" in fields:
        requester = db.get("users", fields["requester_id"])
        if requester is None:
            raise invalid("requester", f"Requester: user {fields['requester_id']} does not exist")
    elif "requester" in fields:
        given = fields["requester"]
        requester = store.find_user(sub, email=given.get("email", "")) or store.create_user(
            sub, {"name": given["name"], "email": given.get("email")}
        )
    assert requester is not None
    stamp = store.now()
    data: dict[str, Any] = {
        "subject": fields.get("subject") or "",
        "description": "",
        "status": fields.get("status") or "new",
        "priority": fields.get("priority"),
        "type": fields.get("type"),
        "external_id": fields.get("external_id"),
        "requester_id": requester.pk,
        "submitter_id": actor.pk,
        "assignee_id": fields.get("assignee_id"),
        "group_id": fields.get("group_id"),
        "brand_id": fields.get("brand_id"),
        "tags": _tags(fields.get("tags", [])),
        "custom_fields": _custom_fields(sub, fields.get("custom_fields", []), []),
        "is_public": bool(fields["comment"].get("public", True)),
        "via": _via(channel, actor),
        "created_at": stamp,
        "updated_at": stamp,
    }
    ticket = db.create("tickets", data, key=data["external_id"] or "")
    comment, _ = _comment(sub, actor, ticket, fields["comment"], base_url, channel)
    ticket.data["description"] = comment["plain_body"]
    ticket.save(update_fields=["data", "updated_at"])
    _audit(sub, actor, ticket, comment, fields.get("metadata"), "Create", channel, base_url)
    return ticket


@transaction.atomic
def update_ticket(
    sub: str, actor: Record, ticket: Record, changes: dict[str, Any], base_url: str, channel: str = "api"
) -> Record | None:
    """Apply an update; returns its audit (None when nothing changed, as Zendesk makes none)."""
    data = ticket.data
    if data["status"] == "closed":
        raise invalid("status", "Status: closed prevents ticket update", "ClosedPreventsUpdate")
    before = json.dumps(data, sort_keys=True)
    for key in (
        "subject",
        "priority",
        "type",
        "external_id",
        "assignee_id",
        "group_id",
        "brand_id",
        "status",
    ):
        if key in changes:
            data[key] = changes[key]
    if "requester_id" in changes:
        if store.records(sub).get("users", changes["requester_id"]) is None:
            raise invalid("requester", f"Requester: user {changes['requester_id']} does not exist")
        data["requester_id"] = changes["requester_id"]
    if "tags" in changes:
        data["tags"] = _tags(changes["tags"])
    if "custom_fields" in changes:
        data["custom_fields"] = _custom_fields(sub, changes["custom_fields"], data["custom_fields"])
    comment = None
    if "comment" in changes:
        comment, _ = _comment(sub, actor, ticket, changes["comment"], base_url, channel)
    if comment is None and json.dumps(data, sort_keys=True) == before:
        return None
    ticket.key = data.get("external_id") or ""
    data["updated_at"] = store.now()
    ticket.save(update_fields=["data", "key", "updated_at"])
    return _audit(sub, actor, ticket, comment, changes.get("metadata"), "Change", channel, base_url)


def _audit(
    sub: str,
    actor: Record,
    ticket: Record,
    comment: dict[str, Any] | None,
    metadata: dict[str, Any] | None,
    update_type: str,
    channel: str,
    base_url: str,
) -> Record:
    db = store.records(sub)
    events: list[dict[str, Any]] = []
    comment_record = None
    if comment is not None:
        comment_record = db.children("comments", ticket.pk)[-1]
    data = {
        "ticket_id": ticket.pk,
        "created_at": store.now(),
        "author_id": actor.pk,
        "metadata": {
            "system": {"client": "deskbridge-sandbox", "ip_address": "127.0.0.1"},
            "custom": metadata or {},
        },
        "via": _via(channel, actor),
        "events": events,
    }
    audit = db.create("audits", data, parent=ticket.pk)
    if comment_record is not None:
        comment_record.data["audit_id"] = audit.pk
        comment_record.save(update_fields=["data", "updated_at"])
        event = comment_json(comment_record, base_url)
        events.append(
            {
                k: event[k]
                for k in (
                    "id",
                    "type",
                    "author_id",
                    "body",
                    "html_body",
                    "plain_body",
                    "public",
                    "attachments",
                    "audit_id",
                )
            }
        )
    events.append(
        {
            "id": audit.pk * 10 + 1,
            "type": "Change",
            "field_name": "status",
            "value": ticket.data["status"],
            "previous_value": None,
        }
    )
    audit.save(update_fields=["data", "updated_at"])
    _notify_requester(sub, actor, ticket, comment, update_type)
    _run_triggers(sub, actor, ticket, comment, update_type, channel, base_url)
    return audit


def _notify_requester(
    sub: str, actor: Record, ticket: Record, comment: dict[str, Any] | None, update_type: str
) -> None:
    """Zendesk's default triggers email the requester; recorded here (never sent) so tests can see
    whether deskbridge's writes would make Zendesk email anyone."""
    db = store.records(sub)
    requester = db.get("users", ticket.data["requester_id"])
    if requester is None or not requester.data.get("email") or comment is None or not comment["public"]:
        return
    if update_type == "Create" or actor.data["role"] != "end-user":
        subject = ticket.data["subject"] if update_type == "Create" else f"[Updated] {ticket.data['subject']}"
        db.create(
            "emails",
            {"to": requester.data["email"], "subject": subject, "ticket_id": ticket.pk},
            parent=ticket.pk,
        )


# -- triggers and webhooks -----------------------------------------------------------------------
def check_trigger(sub: str, trigger: dict[str, Any]) -> None:
    """Conditions and actions this account understands, else a 422 naming the first that is not."""
    for group in ("all", "any"):
        for condition in trigger["conditions"].get(group, []):
            operators = CONDITIONS.get(condition["field"])
            if operators is None:
                raise invalid("conditions", f"Conditions: unknown condition field {condition['field']!r}")
            if condition["operator"] not in operators:
                raise invalid(
                    "conditions",
                    f"Conditions: {condition['field']} does not take operator {condition['operator']!r}",
                )
    if not trigger["actions"]:
        raise invalid("actions", "Actions: at least one action is required", "BlankValue")
    for action in trigger["actions"]:
        if action["field"] not in ACTIONS:
            raise invalid("actions", f"Actions: unknown action {action['field']!r}")
        if action["field"] == "notification_webhook":
            value = action["value"]
            if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
                raise invalid("actions", "Actions: notification_webhook takes [webhook id, body]")
            hook = store.records(sub).find("webhooks", value[0])
            if hook is None:
                raise invalid("actions", f"Actions: webhook {value[0]} does not exist")
            if hook.data["subscriptions"] != ["conditional_ticket_events"]:
                raise invalid("actions", "Actions: the webhook is not connected to triggers")


def _matches(condition: dict[str, Any], context: dict[str, Any]) -> bool:
    field, operator, value = condition["field"], condition["operator"], str(condition.get("value", ""))
    if field == "current_tags":
        wanted = set(value.lower().split())
        found = bool(wanted & set(context["tags"]))
        return found if operator == "includes" else not found
    if field == "status":
        current, other = (
            STATUS_ORDER.index(context["status"]),
            STATUS_ORDER.index(value) if value in STATUS_ORDER else -1,
        )
        return {
            "is": current == other,
            "is_not": current != other,
            "less_than": current < other,
            "greater_than": current > other,
        }[operator]
    actual = str(context[field])
    return actual == value if operator == "is" else actual != value


def _run_triggers(
    sub: str,
    actor: Record,
    ticket: Record,
    comment: dict[str, Any] | None,
    update_type: str,
    channel: str,
    base_url: str,
) -> None:
    db = store.records(sub)
    public = "not_relevant" if comment is None else ("true" if comment["public"] else "false")
    context = {
        "update_type": update_type,
        "comment_is_public": public,
        "role": actor.data["role"].replace("-", "_"),
        "tags": set(ticket.data["tags"]),
        "status": ticket.data["status"],
        "current_via_id": VIA_IDS.get(channel, 5),
        "requester_id": ticket.data["requester_id"],
    }
    for trigger in sorted(db.all("triggers"), key=lambda t: (t.data.get("position", 0), t.pk)):
        rule = trigger.data
        if not rule.get("active", True):
            continue
        conditions = rule["conditions"]
        if not all(_matches(c, context) for c in conditions.get("all", [])):
            continue
        if conditions.get("any") and not any(_matches(c, context) for c in conditions["any"]):
            continue
        for action in rule["actions"]:
            if action["field"] == "status":
                ticket.data["status"] = action["value"]
                ticket.save(update_fields=["data", "updated_at"])
            elif action["field"] == "notification_webhook":
                _call_webhook(sub, actor, ticket, trigger, action["value"], base_url)


def _placeholders(sub: str, actor: Record, ticket: Record, base_url: str) -> dict[str, str]:
    db = store.records(sub)
    requester = db.get("users", ticket.data["requester_id"])
    comments = db.children("comments", ticket.pk)
    public = [c for c in comments if c.data["public"]]
    return {
        "ticket.id": str(ticket.pk),
        "ticket.external_id": ticket.data.get("external_id") or "",
        "ticket.title": ticket.data["subject"],
        "ticket.status": ticket.data["status"],
        "ticket.tags": " ".join(ticket.data["tags"]),
        "ticket.url": f"{base_url}/agent/tickets/{ticket.pk}",
        "ticket.requester.id": str(ticket.data["requester_id"]),
        "ticket.requester.name": requester.data["name"] if requester else "",
        "ticket.requester.email": (requester.data.get("email") or "") if requester else "",
        "ticket.latest_comment": comments[-1].data["plain_body"] if comments else "",
        "ticket.latest_public_comment": public[-1].data["plain_body"] if public else "",
        "current_user.id": str(actor.pk),
        "current_user.name": actor.data["name"],
        "current_user.email": actor.data.get("email") or "",
    }


def render(template: str, values: dict[str, str], json_body: bool) -> str:
    """Placeholders rendered as Zendesk does for a JSON body: strings, escaped; unknown ones blank."""

    def one(match: re.Match[str]) -> str:
        value = values.get(match.group(1), "")
        return json.dumps(value)[1:-1] if json_body else value

    return _PLACEHOLDER.sub(one, template)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return base64.b64encode(
        hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    ).decode()


def _call_webhook(
    sub: str, actor: Record, ticket: Record, trigger: Record, value: list[str], base_url: str
) -> None:
    db = store.records(sub)
    hook = db.find("webhooks", value[0])
    if hook is None or hook.data["status"] != "active":
        return
    body = render(
        value[1], _placeholders(sub, actor, ticket, base_url), hook.data["request_format"] == "json"
    ).encode()
    timestamp = store.now()
    invocation = str(secrets.randbelow(9 * 10**9) + 10**9)
    account = store.account(sub)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Zendesk Webhook",
        "x-zendesk-account-id": str(account.pk if account else 0),
        "x-zendesk-webhook-id": hook.key,
        "x-zendesk-webhook-invocation-id": invocation,
        "x-zendesk-webhook-signature-timestamp": timestamp,
        "x-zendesk-webhook-signature": sign(hook.data["secret"], timestamp, body),
    }
    db.create(
        "invocations",
        {
            "webhook_id": hook.key,
            "trigger_id": trigger.pk,
            "ticket_id": ticket.pk,
            "id": invocation,
            "body": body.decode(),
        },
        parent=ticket.pk,
    )
    fire_webhook(hook.data["endpoint"], body, headers)

"""The emulated Kustomer org's objects, rendered as the API shows them (JSON:API `data` documents).

Ids are 24-character hex strings as Kustomer's are: a record's primary key, zero-padded. Creating a
message is one function that the API view and the agent page share, because it is also where the
org's outbound webhooks fire (`kustomer.message.create`, signed as Kustomer signs them).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from deskbridge.sandbox.helpdesks.models import SandboxHelpdeskRecord
from deskbridge.sandbox.helpdesks.state import Records, fire_webhook

HELPDESK = "kustomer"
ID_PATTERN = re.compile(r"^[0-9a-f]{24}$")
# The roles an API key needs for what deskbridge does (helpdesks.md §4.7); seed keys get them all.
ROLES = (
    "org.permission.customer.create",
    "org.permission.customer.read",
    "org.permission.conversation.create",
    "org.permission.conversation.read",
    "org.permission.conversation.update",
    "org.permission.message.create",
    "org.permission.message.read",
    "org.permission.note.create",
    "org.permission.note.read",
    "org.permission.user.read",
    "org.permission.attachment.read",
    "org.permission.metadata.read",
    "org.permission.metadata.update",
    "org.permission.outbound_webhook",
)
# Kinds of object a record collection holds, as the API names their `type`.
TYPES = {
    "customers": "customer",
    "conversations": "conversation",
    "messages": "message",
    "notes": "note",
    "users": "user",
    "outbound_webhooks": "outbound_webhook",
    "attachments": "attachment",
}
PATHS = {
    "customers": "customers",
    "conversations": "conversations",
    "messages": "messages",
    "notes": "notes",
    "users": "users",
    "outbound_webhooks": "outbound-webhooks",
    "attachments": "attachments",
}


def now() -> str:
    """Kustomer's timestamps: ISO 8601 in UTC with milliseconds and a Z."""
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def object_id(record: SandboxHelpdeskRecord) -> str:
    return f"{record.pk:024x}"


def pk_of(value: str) -> int | None:
    """The record key behind an id the API shows, or None when it is not a Kustomer id."""
    return int(value, 16) if isinstance(value, str) and ID_PATTERN.match(value) else None


class Org:
    """One emulated Kustomer organization (`{org}.api.kustomerapp.com`)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.records = Records(HELPDESK, name)

    def get(self, collection: str, value: str) -> SandboxHelpdeskRecord | None:
        pk = pk_of(value)
        return self.records.get(collection, pk) if pk is not None else None

    def org_id(self) -> str:
        record = self.records.find("org", self.name)
        return object_id(record) if record else "0" * 24

    # -- rendering -------------------------------------------------------------------------
    def render(self, collection: str, record: SandboxHelpdeskRecord) -> dict[str, Any]:
        data = dict(record.data)
        relationships: dict[str, Any] = {}
        for name, kind in (
            ("customer", "customer"),
            ("conversation", "conversation"),
            ("createdBy", "user"),
        ):
            value = data.pop(f"_{name}", None)
            if value:
                relationships[name] = {
                    "data": {"type": kind, "id": value},
                    "links": {"self": f"/v1/{PATHS[kind + 's']}/{value}"},
                }
        attributes = {key: value for key, value in data.items() if not key.startswith("_")}
        ident = object_id(record)
        return {
            "type": TYPES[collection],
            "id": ident,
            "attributes": attributes,
            "relationships": relationships,
            "links": {"self": f"/v1/{PATHS[collection]}/{ident}"},
        }

    # -- writes the API and the agent page share ---------------------------------------------
    def touch(self, record: SandboxHelpdeskRecord, **changes: Any) -> None:
        record.data = {**record.data, **changes, "updatedAt": now()}
        record.save(update_fields=["data", "updated_at"])

    def create_message(
        self, conversation: SandboxHelpdeskRecord, attributes: dict[str, Any], created_by: str
    ) -> SandboxHelpdeskRecord:
        """A message on a conversation; counts it there and fires `kustomer.message.create`."""
        stamp = now()
        data = {
            "app": attributes.get("app", "kustomer"),
            "channel": attributes["channel"],
            "direction": attributes["direction"],
            "externalId": attributes.get("externalId"),
            "body": attributes.get("body", ""),
            "preview": attributes.get("preview") or attributes.get("body", "")[:200],
            "meta": attributes.get("meta", {}),
            "attachments": attributes.get("attachments", []),
            "auto": attributes.get("auto", False),
            "status": "received" if attributes["direction"] == "in" else "sent",
            "createdAt": stamp,
            "updatedAt": stamp,
            "sentAt": stamp,
            "_conversation": object_id(conversation),
            "_customer": conversation.data["_customer"],
            "_createdBy": created_by,
        }
        if "importedAt" in attributes:
            data["importedAt"] = attributes["importedAt"]
        message = self.records.create(
            "messages", data, key=attributes.get("externalId") or "", parent=conversation.pk
        )
        counts = {
            "messageCount": conversation.data.get("messageCount", 0) + 1,
            "channels": sorted({*conversation.data.get("channels", []), data["channel"]}),
        }
        if data["direction"] == "out":
            counts["outboundMessageCount"] = conversation.data.get("outboundMessageCount", 0) + 1
        self.touch(conversation, **counts)
        self.fire("kustomer.message.create", self.render("messages", message))
        return message

    def create_note(
        self, conversation: SandboxHelpdeskRecord, body: str, created_by: str
    ) -> SandboxHelpdeskRecord:
        stamp = now()
        note = self.records.create(
            "notes",
            {
                "body": body,
                "userMentions": [],
                "createdAt": stamp,
                "updatedAt": stamp,
                "_conversation": object_id(conversation),
                "_customer": conversation.data["_customer"],
                "_createdBy": created_by,
            },
            parent=conversation.pk,
        )
        self.touch(conversation, noteCount=conversation.data.get("noteCount", 0) + 1)
        return note

    # -- outbound webhooks -------------------------------------------------------------------
    def fire(self, event: str, data: dict[str, Any]) -> None:
        """Every enabled outbound webhook subscribed to `event` gets the event envelope, signed
        with its token: lowercase hex HMAC-SHA256 over the raw body, no timestamp."""
        for hook in self.records.all("outbound_webhooks"):
            if not hook.data.get("enabled") or event not in hook.data.get("events", []):
                continue
            envelope = {
                "id": secrets.token_hex(12),
                "name": event,
                "org": self.org_id(),
                "partition": self.org_id(),
                "data": data,
                "changes": None,
            }
            body = json.dumps(envelope, separators=(",", ":")).encode()
            signature = hmac.new(hook.data["token"].encode(), body, hashlib.sha256).hexdigest()
            headers = {
                "Content-Type": "application/json",
                "X-Kustomer-Webhook-Event": event,
                "X-Kustomer-Webhook-Signature": signature,
            }
            for header in hook.data.get("headers", []):
                headers[header["name"]] = header["value"]
            fire_webhook(hook.data["url"], body, headers)

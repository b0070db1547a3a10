"""One emulated Gorgias account: its records in the real API's shapes, and what happens when a message
is written (the part the API views and the sandbox page share).

What the emulator does with an agent's message on an `api`-channel ticket (helpdesks.md §9 q.4, not
documented by Gorgias): the `api` channel has no transport of its own, so nothing is emailed or
queued; the message is marked sent at once and the HTTP integrations subscribed to
`ticket-message-created` are called, which is how the third-party app that owns the channel learns of
it. Only an agent message on an `email` ticket is "sent", to the emulator's mail log (`sent-emails`),
so a test can see that deskbridge's tickets never reach it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from deskbridge.sandbox.helpdesks.models import SandboxHelpdeskRecord
from deskbridge.sandbox.helpdesks.state import Records, fire_webhook

HELPDESK = "gorgias"
TEMPLATE_VARIABLE = re.compile(r"{{\s*ticket\.([\w.]+)\s*}}")


def now() -> str:
    """Gorgias's datetimes: UTC, microseconds, no zone designator."""
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


class GorgiasAccount:
    def __init__(self, domain: str) -> None:
        self.domain = domain
        self.records = Records(HELPDESK, domain)

    # -- records --------------------------------------------------------------------------------
    def exists(self) -> bool:
        return self.records.find("account", self.domain) is not None

    def create(
        self, collection: str, data: dict[str, Any], key: str = "", parent: int | None = None
    ) -> dict[str, Any]:
        """A new record whose `id` (and `uri` where the API shows one) is its primary key."""
        record = self.records.create(collection, data, key=key, parent=parent)
        record.data = {"id": record.pk, **data}
        if collection in ("tickets", "customers", "integrations", "users", "custom-fields"):
            record.data["uri"] = f"/api/{collection}/{record.pk}/"
        record.save(update_fields=["data"])
        return record.data

    def get(self, collection: str, pk: Any) -> SandboxHelpdeskRecord | None:
        return self.records.get(collection, pk)

    def save(self, record: SandboxHelpdeskRecord, **changes: Any) -> dict[str, Any]:
        record.data = {**record.data, **changes}
        record.save(update_fields=["data", "updated_at"])
        return record.data

    def users(self) -> list[dict[str, Any]]:
        return [r.data for r in self.records.all("users")]

    def user(self, pk: Any = None, email: str = "") -> dict[str, Any] | None:
        if email:
            found = self.records.find("users", email.lower())
            return found.data if found else None
        record = self.records.get("users", pk)
        return record.data if record else None

    def customer(self, pk: Any = None, email: str = "", external_id: str = "") -> dict[str, Any] | None:
        if pk is not None:
            record = self.records.get("customers", pk)
            return record.data if record else None
        for record in self.records.all("customers"):
            data = record.data
            if email and (data.get("email") or "").lower() == email.lower():
                return data
            if external_id and data.get("external_id") == external_id:
                return data
        return None

    def tag(self, name: str) -> dict[str, Any]:
        found = self.records.find("tags", name)
        return (
            found.data if found else self.create("tags", {"name": name, "created_datetime": now()}, key=name)
        )

    # -- rendering ------------------------------------------------------------------------------
    @staticmethod
    def person(data: dict[str, Any] | None) -> dict[str, Any] | None:
        if data is None:
            return None
        return {k: data.get(k) for k in ("id", "email", "name", "firstname", "lastname")}

    def messages(self, ticket_id: int) -> list[dict[str, Any]]:
        return [r.data for r in self.records.children("messages", ticket_id)]

    def field_values(self, ticket_id: int) -> list[dict[str, Any]]:
        values = []
        for record in self.records.children("ticket-field-values", ticket_id):
            field = self.get("custom-fields", record.data["field_id"])
            values.append(
                {"id": record.pk, "field": field.data if field else None, "value": record.data["value"]}
            )
        return values

    def ticket(self, record: SandboxHelpdeskRecord) -> dict[str, Any]:
        """A ticket as GET /api/tickets/{id} shows it: customer, tags and messages embedded."""
        data = dict(record.data)
        data["customer"] = self.person(self.customer(pk=data.pop("customer_id")))
        data["messages"] = self.messages(record.pk)
        return data

    # -- writes that have consequences ------------------------------------------------------------
    def add_message(
        self, ticket: SandboxHelpdeskRecord, body: dict[str, Any], sender: dict[str, Any]
    ) -> dict[str, Any]:
        """Record a validated message on a ticket, send it where its channel sends, fire integrations."""
        stamp = now()
        internal = body["channel"] == "internal-note"
        sent = body.get("sent_datetime")
        if body["from_agent"] and not internal and not sent:
            customer = self.customer(pk=ticket.data["customer_id"]) or {}
            if body["channel"] == "email" and customer.get("email"):
                self.records.create(
                    "sent-emails",
                    {
                        "to": customer["email"],
                        "subject": ticket.data.get("subject"),
                        "body_text": body.get("body_text"),
                    },
                    parent=ticket.pk,
                )
            sent = stamp  # `api` and the rest: no transport here, handed to the integrations below
        message = self.create(
            "messages",
            {
                "ticket_id": ticket.pk,
                "external_id": body.get("external_id"),
                "public": not internal,
                "channel": body["channel"],
                "via": body["via"],
                "from_agent": body["from_agent"],
                "sender": self.person(sender),
                "receiver": body.get("receiver"),
                "source": body.get("source"),
                "subject": body.get("subject"),
                "body_text": body.get("body_text"),
                "body_html": body.get("body_html"),
                "attachments": body.get("attachments") or [],
                "created_datetime": stamp,
                "sent_datetime": sent,
                "failed_datetime": None,
                "integration_id": body.get("integration_id"),
                "meta": body.get("meta"),
            },
            key=body.get("external_id") or "",
            parent=ticket.pk,
        )
        message["uri"] = f"/api/tickets/{ticket.pk}/messages/{message['id']}/"
        record = self.get("messages", message["id"])
        assert record is not None
        self.save(record, uri=message["uri"])
        changes = {"updated_datetime": stamp}
        if not internal:
            changes["last_message_datetime"] = sent or stamp
            if not body["from_agent"]:
                changes["last_received_message_datetime"] = sent or stamp
        self.save(ticket, **changes)
        self.fire(ticket, "ticket-message-created")
        return message

    def fire(self, ticket: SandboxHelpdeskRecord, trigger: str) -> None:
        """Call every HTTP integration subscribed to `trigger` (either spelling of its key) with its
        own headers and its `form` rendered against the ticket (helpdesk-payloads/gorgias)."""
        ticket.refresh_from_db()
        context = self.ticket(ticket)
        for record in self.records.all("integrations"):
            http = record.data.get("http") or {}
            triggers = http.get("triggers") or {}
            if record.data.get("type") != "http" or not (
                triggers.get(trigger) or triggers.get(trigger.replace("-", "_"))
            ):
                continue
            form = {k: render(v, context) for k, v in (http.get("form") or {}).items()}
            headers = {
                "Content-Type": "application/json",
                **{str(k): str(v) for k, v in (http.get("headers") or {}).items()},
            }
            body = json.dumps(form).encode()
            fire_webhook(render(http["url"], context), body, headers)

    def atomic(self) -> Any:
        return transaction.atomic()


def lookup(context: dict[str, Any], path: str) -> Any:
    value: Any = context
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def render(template: Any, context: dict[str, Any]) -> Any:
    """`{{ticket.x.y}}` variables of a template string; values render as strings ("" when unknown)."""
    if not isinstance(template, str):
        return template

    def one(match: re.Match[str]) -> str:
        value = lookup(context, match.group(1))
        return "" if value is None else str(value)

    return TEMPLATE_VARIABLE.sub(one, template)

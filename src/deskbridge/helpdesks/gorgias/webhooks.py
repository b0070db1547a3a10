"""The HTTP integration's calls: Gorgias signs nothing, so a secret header we generate is the check.

Gorgias has no webhook signature (helpdesk-payloads/gorgias/README.md): the HTTP integration sends
the headers we configured and the body its `form` template renders. `provision` puts a random
secret in the `X-Deskbridge-Secret` header; a delivery is genuine when that header matches, compared
in constant time. There is no timestamp to bound replays; the body's ticket `updated_datetime` makes
every delivery's event id distinct, and the pipeline dedupes on it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deskbridge.helpdesks.base import WebhookRejected

SECRET_HEADER = "X-Deskbridge-Secret"  # noqa: S105 (a header name, not a secret)
TRIGGER = "ticket-message-created"
# Ticket-level variables only (the documented ones); the messages are fetched by API.
FORM_TEMPLATE = {
    "ticket_id": "{{ticket.id}}",
    "ticket_external_id": "{{ticket.external_id}}",
    "ticket_updated_datetime": "{{ticket.updated_datetime}}",
    "last_message_datetime": "{{ticket.last_message_datetime}}",
}


def new_secret() -> str:
    return secrets.token_hex(32)


def check_secret(headers: Mapping[str, str], expected: str) -> None:
    """WebhookRejected unless the secret header is there and equals `expected`."""
    if not expected:
        raise WebhookRejected("no webhook secret is configured for this connection (run provision)")
    lowered = {name.lower(): value for name, value in headers.items()}
    given = lowered.get(SECRET_HEADER.lower())
    if not given:
        raise WebhookRejected(f"the {SECRET_HEADER} header is missing")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise WebhookRejected(f"the {SECRET_HEADER} header does not match")


@dataclass(frozen=True)
class Delivery:
    """What the integration's rendered form tells us: which ticket changed."""

    ticket_id: str
    ticket_external_id: str = ""

    @property
    def valid(self) -> bool:
        return self.ticket_id.isdigit()


def parse_delivery(body: bytes) -> Delivery:
    """The rendered form (values render as strings, ⚠️); WebhookRejected when it is not ours."""
    try:
        data: Any = json.loads(body)
    except ValueError as exc:
        raise WebhookRejected("the body is not JSON") from exc
    if not isinstance(data, dict):
        raise WebhookRejected("the body is not a JSON object")
    delivery = Delivery(str(data.get("ticket_id", "")).strip(), str(data.get("ticket_external_id") or ""))
    if not delivery.valid:
        raise WebhookRejected("the body has no ticket_id")
    return delivery


def event_id(body: bytes) -> str:
    """A delivery's id: the same rendered body (a retry) is the same event."""
    return "gorgias-" + hashlib.sha256(body).hexdigest()[:40]

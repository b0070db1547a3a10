"""Kustomer's outbound webhook signature: X-Kustomer-Webhook-Signature is the lowercase hex
HMAC-SHA256 of the raw body keyed with the webhook's token. There is no timestamp, so no replay
window: deliveries are at-least-once and are deduplicated on the envelope's event `id`."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

from deskbridge.helpdesks.base import WebhookRejected

SIGNATURE_HEADER = "x-kustomer-webhook-signature"


def signature(token: str, body: bytes) -> str:
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def verify(token: str, headers: Mapping[str, str], body: bytes) -> str:
    """The delivery's event id when its signature is right; WebhookRejected otherwise."""
    if not token:
        raise WebhookRejected("no webhook token on this connection: provision it again")
    given = {name.lower(): value for name, value in headers.items()}.get(SIGNATURE_HEADER, "").strip()
    if not given:
        raise WebhookRejected("missing X-Kustomer-Webhook-Signature")
    if not hmac.compare_digest(given.lower().encode(), signature(token, body).encode()):
        raise WebhookRejected("X-Kustomer-Webhook-Signature does not match the body")
    try:
        envelope = json.loads(body)
    except ValueError as exc:
        raise WebhookRejected("the body is not JSON") from exc
    event_id = envelope.get("id") if isinstance(envelope, dict) else None
    if not isinstance(event_id, str) or not event_id:
        raise WebhookRejected("the event has no id")
    return event_id

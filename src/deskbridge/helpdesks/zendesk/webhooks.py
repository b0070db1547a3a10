"""Zendesk's webhook signature: base64(HMAC-SHA256(secret, timestamp + raw body)), timestamp header as sent."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime

from deskbridge.helpdesks.base import WebhookRejected

SIGNATURE_HEADER = "x-zendesk-webhook-signature"
TIMESTAMP_HEADER = "x-zendesk-webhook-signature-timestamp"
INVOCATION_HEADER = "x-zendesk-webhook-invocation-id"
# Zendesk states no tolerance (helpdesks.md, payload README): five minutes either way is ours.
REPLAY_WINDOW_SECONDS = 300


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature Zendesk sends: the secret string as UTF-8 bytes (not base64-decoded) is the key."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def now() -> datetime:
    return datetime.now(UTC)


def verify(secret: str, headers: Mapping[str, str], body: bytes) -> str:
    """Check one delivery; returns its invocation id (for dedupe). Raises WebhookRejected."""
    if not secret:
        raise WebhookRejected("no signing secret is stored for this connection: run provisioning again")
    lower = {key.lower(): value for key, value in headers.items()}
    sent = lower.get(SIGNATURE_HEADER, "")
    timestamp = lower.get(TIMESTAMP_HEADER, "")
    if not sent or not timestamp:
        raise WebhookRejected("missing X-Zendesk-Webhook-Signature or -Timestamp header")
    if not hmac.compare_digest(signature(secret, timestamp, body).encode(), sent.encode()):
        raise WebhookRejected("signature does not match the body")
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        raise WebhookRejected(f"timestamp is not ISO 8601: {timestamp[:40]!r}") from None
    if moment.tzinfo is None:
        raise WebhookRejected("timestamp has no time zone")
    skew = abs((now() - moment).total_seconds())
    if skew > REPLAY_WINDOW_SECONDS:
        raise WebhookRejected(
            f"timestamp is {int(skew)} s away from now (replay window {REPLAY_WINDOW_SECONDS} s)"
        )
    invocation = lower.get(INVOCATION_HEADER, "")
    return invocation or f"sig:{hashlib.sha256(sent.encode()).hexdigest()[:32]}"

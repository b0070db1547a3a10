"""Help Scout's webhook signature: X-HelpScout-Signature = base64(HMAC-SHA1(secret, raw body)).

No timestamp is signed or sent, so there is no replay window to check; a replayed delivery has the
same body and so the same event id, which the pipeline's dedupe drops. The secret is ours (≤ 40
characters, chosen when the webhook is created: `new_secret`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping

from deskbridge.helpdesks.base import WebhookRejected

SIGNATURE_HEADER = "x-helpscout-signature"
EVENT_HEADER = "x-helpscout-event"
SECRET_MAX_LENGTH = 40


def new_secret() -> str:
    return secrets.token_urlsafe(30)[:SECRET_MAX_LENGTH]


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha1).digest()).decode()


def verify(secret: str, headers: Mapping[str, str], body: bytes) -> str:
    """The delivery's event id (event name + a digest of the body) when its signature is right."""
    if not secret:
        raise WebhookRejected("no webhook secret is configured for this connection")
    lowered = {name.lower(): value for name, value in headers.items()}
    given = lowered.get(SIGNATURE_HEADER, "").strip()
    if not given:
        raise WebhookRejected("the delivery has no X-HelpScout-Signature header")
    if not hmac.compare_digest(given.encode(), sign(secret, body).encode()):
        raise WebhookRejected("X-HelpScout-Signature does not match the body")
    # Help Scout sends no delivery id: a retried delivery repeats the body byte for byte.
    return f"{lowered.get(EVENT_HEADER, '')}:{hashlib.sha256(body).hexdigest()[:32]}"

"""The sandbox relay's outbox as JSON (demo.json's relay_outbox) and the buyers' mailbox page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from deskbridge.amazon.mail import mime
from deskbridge.sandbox.amazon.models import SandboxRelayMessage
from deskbridge.sandbox.amazon.sellercentral import page

PAGE_SIZE = 100
PREVIEW_CHARACTERS = 4000


def _reason_label(reason: str) -> str:
    labels = {
        SandboxRelayMessage.Reason.UNAUTHORIZED_SENDER: _("The sender is not approved"),
        SandboxRelayMessage.Reason.OPTED_OUT: _("The buyer opted out of unsolicited messages"),
        SandboxRelayMessage.Reason.CONTENT_REJECTED: _("The content is not allowed"),
    }
    return str(labels.get(reason, reason))  # type: ignore[call-overload]


def _text(raw: bytes) -> str:
    body = mime.read_body(mime.parse_bytes(raw))
    text = "\n".join(body.plain) or "\n".join(mime.html_to_text(markup) for markup in body.html)
    return text[:PREVIEW_CHARACTERS]


@require_GET
def outbox(request: HttpRequest) -> JsonResponse:
    """Every message the relay accepted at SMTP, oldest first: envelope, the whole message as
    received, and whether it reached the buyer ("delivered") or was refused (with the reason)."""
    rows = SandboxRelayMessage.objects.all()
    return JsonResponse(
        [row.as_json() for row in rows], safe=False, json_dumps_params={"ensure_ascii": False}
    )


@require_GET
def mailbox(request: HttpRequest) -> HttpResponse:
    """What buyers received through the relay, newest first, and what was refused and why."""
    rows = list(SandboxRelayMessage.objects.order_by("-id")[:PAGE_SIZE])
    for row in rows:
        row.reason_label = _reason_label(row.reason)  # type: ignore[attr-defined]
        row.text_preview = _text(bytes(row.raw))  # type: ignore[attr-defined]
    context = {
        "rows": rows,
        "total": SandboxRelayMessage.objects.count(),
        "relay_port": settings.SANDBOX_RELAY_PORT,
    }
    return page(request, "relay.html", context)

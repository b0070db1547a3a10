"""POST /intake/mime: a raw message over HTTPS, for mail that reaches us by another way than SMTP.

The caller proves itself with `Authorization: Bearer <DESKBRIDGE_INTAKE_SECRET>` (no secret set:
everything is refused); recipients come from `?rcpt=` (repeatable), else an `X-Original-To` request
header, else the message's own X-Original-To. The message goes through deskbridge.mail.intake.accept,
the same code as SMTP and LMTP.
"""

from __future__ import annotations

import hmac
import re

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from deskbridge.core.logs import get_logger
from deskbridge.mail import authenticity, intake

log = get_logger(__name__)

# A header field name as mail systems write them (RFC 5322 allows more, nobody sends it).
_FIELD = re.compile(rb"^[A-Za-z0-9][A-Za-z0-9_.-]*[ \t]*:")


def _error(status: int, reason: str, **extra: object) -> JsonResponse:
    response = JsonResponse({"error": reason, **extra}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="deskbridge intake"'
    if status == 503:
        response["Retry-After"] = "60"
    return response


def _authorized(request: HttpRequest) -> bool:
    secret = settings.INTAKE_SECRET
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    # Compared even when something is missing, so that timing says nothing about the secret.
    matches = hmac.compare_digest(token.strip().encode(), (secret or "\x00unset").encode())
    return bool(secret) and scheme.lower() == "bearer" and matches


def _recipients(request: HttpRequest, raw: bytes) -> list[str]:
    given = request.GET.getlist("rcpt")
    if not given and request.headers.get("X-Original-To"):
        given = request.headers["X-Original-To"].split(",")
    if not given:
        head, _ = authenticity.header_section(raw)
        given = [a for value in authenticity.header_values(head, "X-Original-To") for a in value.split(",")]
    return [r.strip() for r in given if r.strip()]


def _readable(raw: bytes) -> bool:
    """One message in RFC 5322 form: it starts with a header field (the body may be anything)."""
    return bool(_FIELD.match(raw))


@csrf_exempt
@require_POST
def mime(request: HttpRequest) -> JsonResponse:
    if not _authorized(request):
        return _error(401, "missing or wrong bearer token (DESKBRIDGE_INTAKE_SECRET)")
    limit = settings.SMTP_MAX_SIZE
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _error(413, f"message too big: at most {limit} bytes")
    raw = request.read(limit + 1)
    if len(raw) > limit:
        return _error(413, f"message too big: at most {limit} bytes")
    if not _readable(raw):
        return _error(
            400, "unreadable: the body must be one raw message (header fields, a blank line, the body)"
        )
    recipients = _recipients(request, raw)
    if not recipients:
        return _error(400, "no recipient: give ?rcpt=ADDRESS (repeatable) or an X-Original-To header")
    envelope = intake.Envelope(
        mail_from=request.GET.get("mail_from", ""),
        recipients=recipients,
        peer=request.META.get("REMOTE_ADDR", ""),
        via="http",
    )
    try:
        outcome = intake.accept(raw, envelope, partial=True)
    except Exception:
        log.exception("inbound message could not be stored", via="http", size=len(raw))
        return _error(503, "temporary failure while storing the message; try again later")
    refused = {r: str(reply) for r, reply in outcome.replies.items() if not reply.accepted}
    if outcome.stored:
        stored = [{"rcpt": r, "id": pk} for r, pk in outcome.stored.items()]
        return JsonResponse({"stored": stored, "refused": refused}, status=202)
    reply = next(iter(r for r in outcome.replies.values() if not r.accepted))
    if reply.code == 552:
        return _error(413, reply.text, refused=refused)
    if reply.code < 500:
        return _error(503, reply.text, refused=refused)
    return _error(422, reply.text, refused=refused)

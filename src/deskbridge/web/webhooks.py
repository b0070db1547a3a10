"""POST /webhooks/<kind>/<token>/: agent replies from a helpdesk.

The token (opaque, one per connection) says which connection the delivery is for; the connector
then checks the delivery's signature over the raw body with that connection's secret. A delivery
that fails the check is answered 401 and counted on the connection (its settings page shows it);
one that passes is stored as a WebhookEvent before we answer 200, so a crash after the answer
loses nothing, and the worker reads the replies out of it. A delivery seen before (same event id)
is answered 200 and adds nothing.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from deskbridge.core.logs import get_logger
from deskbridge.helpdesks.base import WebhookRejected
from deskbridge.helpdesks.models import HelpdeskConnection
from deskbridge.pipeline.models import WebhookEvent

log = get_logger(__name__)
MAX_BODY = 1024 * 1024


@csrf_exempt
@require_POST
def receive(request: HttpRequest, kind: str, token: str) -> JsonResponse:
    connection = HelpdeskConnection.objects.filter(kind=kind, webhook_token=token).first()
    if connection is None:
        return JsonResponse({"error": "unknown webhook address"}, status=404)
    body = request.body
    if len(body) > MAX_BODY:
        return JsonResponse({"error": "body too large"}, status=413)
    try:
        event_id = connection.connector().verify_webhook(dict(request.headers), body)
    except WebhookRejected as exc:
        connection.record_rejected_webhook(str(exc))
        log.warning("helpdesk webhook rejected", connection=connection.pk, kind=kind, reason=str(exc)[:200])
        return JsonResponse({"error": f"signature not valid: {exc}"}, status=401)
    event = WebhookEvent(
        organisation_id=connection.organisation_id, connection=connection, event_id=event_id, body=body
    )
    try:
        with transaction.atomic():
            event.submit()
    except IntegrityError:
        return JsonResponse({"status": "duplicate"})
    HelpdeskConnection.objects.filter(pk=connection.pk).update(last_webhook_at=timezone.now())
    return JsonResponse({"status": "accepted"})

"""GET /healthz (does the database and the queue answer?) and GET /metrics (Prometheus)."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from deskbridge.core import jobs, metrics


def _check(probe) -> dict[str, object]:
    try:
        return {"ok": True, **probe()}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def _database() -> dict[str, object]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def _queue() -> dict[str, object]:
    return {"pending": jobs.ping(), "backend": type(jobs.HUEY).__name__}


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check(_database), "queue": _check(_queue)}
    healthy = all(c["ok"] for c in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503
    )


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(metrics.render(), content_type="text/plain; version=0.0.4; charset=utf-8")

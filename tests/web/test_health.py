"""GET /healthz (database and queue) and GET /metrics (Prometheus text)."""

from __future__ import annotations

import pytest
from django.conf import settings
from huey import RedisHuey
from prometheus_client.parser import text_string_to_metric_families

from deskbridge.core import jobs
from deskbridge.pipeline.workrows import WorkState
from tests.conftest import Tenant
from tests.workapp.models import Chore

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_queue_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["vendor"] == (
        "postgresql" if "postgres" in settings.DATABASES["default"]["ENGINE"] else "sqlite"
    )
    assert body["queue"]["ok"] is True
    assert body["queue"]["backend"] == type(jobs.HUEY).__name__
    assert body["queue"]["backend"] == (
        "RedisHuey" if settings.QUEUE_URL.startswith("redis") else "SqliteHuey"
    )
    assert isinstance(body["queue"]["pending"], int)


def test_healthz_is_503_when_the_queue_does_not_answer(client, monkeypatch):
    # A Redis queue on a port where nothing listens.
    monkeypatch.setattr(jobs, "HUEY", RedisHuey("deskbridge-dead", url="redis://127.0.0.1:1/0"))

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["queue"] == {"ok": False, "error": "ConnectionError"}
    assert body["database"]["ok"] is True
    assert "127.0.0.1:1" not in response.content.decode()  # no connection details leak


def test_healthz_only_answers_get(client):
    assert client.post("/healthz").status_code == 405


def test_health_and_metrics_need_no_login(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 200


def work_row_counts(text: str) -> dict[tuple[str, str], float]:
    for family in text_string_to_metric_families(text):
        if family.name == "deskbridge_work_rows":
            return {(s.labels["kind"], s.labels["state"]): s.value for s in family.samples}
    raise AssertionError("no deskbridge_work_rows in /metrics")


def test_metrics_counts_work_rows_by_kind_and_state(client, tenant: Tenant, other_tenant: Tenant):
    made = [
        (tenant, WorkState.FAILED, 2),
        (other_tenant, WorkState.FAILED, 1),
        (tenant, WorkState.DONE, 3),
        (other_tenant, WorkState.PENDING, 1),
        (tenant, WorkState.RETRY, 1),
    ]
    for owner, state, n in made:
        for _ in range(n):
            Chore.objects.create(organisation=owner.organisation, state=state)

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.content.decode()
    assert "# TYPE deskbridge_work_rows gauge" in text
    chores = {state: n for (kind, state), n in work_row_counts(text).items() if kind == "workapp.chore"}
    assert chores == {"failed": 3, "done": 3, "pending": 1, "retry": 1}


def test_metrics_follow_the_rows(client, tenant: Tenant):
    chore = Chore.objects.create(organisation=tenant.organisation, state=WorkState.FAILED)
    assert work_row_counts(client.get("/metrics").content.decode())[("workapp.chore", "failed")] == 1

    chore.requeue()

    counts = work_row_counts(client.get("/metrics").content.decode())
    assert ("workapp.chore", "failed") not in counts
    assert counts[("workapp.chore", "pending")] == 1

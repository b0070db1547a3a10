"""Work rows: the database row is the unit of work; a queued job only wakes it (DESIGN.md §2)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deskbridge.core import jobs
from deskbridge.core.logs import get_logger
from deskbridge.core.metrics import work_outcomes
from deskbridge.core.tenancy import TenantModel

log = get_logger(__name__)


class WorkState(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    RETRY = "retry", _("Waiting to retry")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class NotNow(Exception):
    """Raised by `process()` when the row cannot go on yet but nothing failed (a rate-limit token
    is due at `at`, another row is fetching what this one needs): the row is run again at `at`
    without using up one of its attempts, and without sleeping in the worker."""

    def __init__(self, at: datetime, reason: str = "") -> None:
        super().__init__(reason or f"not before {at.isoformat()}")
        self.at, self.reason = at, reason


class WorkRow(TenantModel):
    """A piece of work that survives crashes. Subclasses say what `process()` does.

    `process()` must be idempotent: after a crash it runs again from the row's saved state.
    """

    state = models.CharField(
        max_length=10, choices=WorkState.choices, default=WorkState.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # A short name for the dashboard, e.g. "inbound message".
    kind: ClassVar[str] = "work"

    class Meta(TenantModel.Meta):
        abstract = True

    def process(self) -> None:
        raise NotImplementedError

    @classmethod
    def label(cls) -> str:
        return cls._meta.label_lower

    def submit(self) -> None:
        """Store a new row and wake a worker for it once the transaction commits."""
        if self.pk is not None:
            raise ValueError("submit() stores new rows; call wake() for a stored one")
        self.save(force_insert=True)
        self.wake()

    def wake(self) -> None:
        """Ask a worker to look at this row (after commit). Harmless if it is not due."""
        jobs.enqueue(RUN_WORK_ROW, self.label(), self.pk)

    def requeue(self) -> None:
        """A failed row gets a fresh set of attempts (the dashboard's "retry")."""
        type(self).objects.filter(pk=self.pk).update(
            state=WorkState.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            lease_until=None,
            updated_at=timezone.now(),
        )
        self.wake()


def work_row_models() -> list[type[WorkRow]]:
    return [m for m in apps.get_models() if issubclass(m, WorkRow)]


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter: base·2^(n-1), capped, then a random half of it added."""
    ceiling = min(settings.WORK_RETRY_MAX_SECONDS, settings.WORK_RETRY_BASE_SECONDS * 2 ** (attempts - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


RUN_WORK_ROW = "work-row.run"
POSTPONED = "postponed"


@jobs.job(RUN_WORK_ROW)
def run_work_row(label: str, pk: int) -> str:
    """Claim the row, process it, record the outcome. Returns the state it left the row in."""
    model: type[WorkRow] = apps.get_model(label)
    outcome = _run(model, pk)
    work_outcomes.labels(label, outcome).inc()
    return outcome


def _run(model: type[WorkRow], pk: int) -> str:
    row = claim(model, pk)
    if row is None:
        return "skipped"
    attempt = row.attempts
    try:
        row.process()
    except NotNow as wait:
        return _postpone(model, pk, attempt, wait)
    except Exception as exc:
        return _record_failure(model, pk, attempt, exc)
    finished = _fenced(model, pk, attempt).update(
        state=WorkState.DONE, lease_until=None, last_error="", updated_at=timezone.now()
    )
    log.info("work row done", row=model.label(), pk=pk, attempt=attempt)
    return WorkState.DONE if finished else "superseded"


def claim(model: type[WorkRow], pk: int) -> WorkRow | None:
    """Take a lease on the row if it is due, or if the worker that held it died (lease expired)."""
    now = timezone.now()
    due = Q(state__in=[WorkState.PENDING, WorkState.RETRY], next_attempt_at__lte=now) | Q(
        state=WorkState.RUNNING, lease_until__lt=now
    )
    with transaction.atomic():
        taken = model.objects.filter(due, pk=pk).update(
            state=WorkState.RUNNING,
            attempts=F("attempts") + 1,
            lease_until=now + timedelta(seconds=settings.WORK_LEASE_SECONDS),
            updated_at=now,
        )
    return model.objects.get(pk=pk) if taken else None


def _fenced(model: type[WorkRow], pk: int, attempt: int) -> models.QuerySet[Any]:
    """Only the attempt that holds the lease may record an outcome (a revived worker may not)."""
    return model.objects.filter(pk=pk, state=WorkState.RUNNING, attempts=attempt)


def _postpone(model: type[WorkRow], pk: int, attempt: int, wait: NotNow) -> str:
    """Give the attempt back and run the row again at `wait.at` (last_error is left as it was)."""
    now = timezone.now()
    at = max(wait.at, now)
    postponed = _fenced(model, pk, attempt).update(
        state=WorkState.RETRY,
        attempts=attempt - 1,
        lease_until=None,
        next_attempt_at=at,
        updated_at=now,
    )
    if not postponed:
        return "superseded"
    delay = (at - now).total_seconds()
    log.info("work row postponed", row=model.label(), pk=pk, delay=round(delay, 2), reason=wait.reason)
    jobs.enqueue(RUN_WORK_ROW, model.label(), pk, delay=delay if delay > 0 else None)
    return POSTPONED


def wake_now(model: type[WorkRow], pks: list[int]) -> int:
    """Bring rows that wait (state retry) forward to now and wake them: what they waited for is
    there. Returns how many were woken."""
    if not pks:
        return 0
    now = timezone.now()
    waiting = list(
        model.objects.filter(pk__in=pks, state=WorkState.RETRY, next_attempt_at__gt=now).values_list(
            "pk", flat=True
        )
    )
    model.objects.filter(pk__in=waiting, state=WorkState.RETRY).update(next_attempt_at=now, updated_at=now)
    for pk in waiting:
        jobs.enqueue(RUN_WORK_ROW, model.label(), pk)
    return len(waiting)


def _record_failure(model: type[WorkRow], pk: int, attempt: int, exc: Exception) -> str:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    now = timezone.now()
    if attempt >= settings.WORK_MAX_ATTEMPTS:
        _fenced(model, pk, attempt).update(
            state=WorkState.FAILED, lease_until=None, last_error=error, updated_at=now
        )
        log.error("work row failed", row=model.label(), pk=pk, attempts=attempt, error=error)
        return WorkState.FAILED
    delay = retry_delay(attempt)
    _fenced(model, pk, attempt).update(
        state=WorkState.RETRY,
        lease_until=None,
        last_error=error,
        next_attempt_at=now + timedelta(seconds=delay),
        updated_at=now,
    )
    log.warning(
        "work row will retry", row=model.label(), pk=pk, attempt=attempt, delay=round(delay, 1), error=error
    )
    jobs.enqueue(RUN_WORK_ROW, model.label(), pk, delay=delay)
    return WorkState.RETRY


def due_rows(now: datetime | None = None) -> list[tuple[str, int]]:
    """Rows whose wake-up was lost: leases expired, or due long enough ago that a job should have run."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.WORK_STALE_SECONDS)
    found: list[tuple[str, int]] = []
    for model in work_row_models():
        rows = model.objects.filter(
            Q(state__in=[WorkState.PENDING, WorkState.RETRY], next_attempt_at__lte=stale)
            | Q(state=WorkState.RUNNING, lease_until__lt=now)
        ).values_list("pk", flat=True)
        found += [(model.label(), pk) for pk in rows]
    return found


@jobs.every_minute
def reconcile() -> int:
    """Re-enqueue every row whose lease expired or whose retry is due; returns how many."""
    rows = due_rows()
    for label, pk in rows:
        jobs.enqueue(RUN_WORK_ROW, label, pk)
    if rows:
        log.info("reconciler re-enqueued work rows", count=len(rows))
    return len(rows)

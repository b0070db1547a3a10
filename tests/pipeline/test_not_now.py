"""Work rows that must wait (NotNow): run again later without using up an attempt; woken early."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deskbridge.core import jobs
from deskbridge.pipeline import workrows
from deskbridge.pipeline.workrows import NotNow, WorkState, run_work_row, wake_now
from tests.workapp.models import Chore, Effect

LABEL = Chore.label()


def wakeups(pk: int) -> int:
    """Queued wake-ups of this row (the queue may hold other tests' jobs: it is not flushed here)."""
    tasks = [*jobs.HUEY.pending(), *jobs.HUEY.scheduled()]
    return sum(1 for task in tasks if tuple(task.args) == (workrows.RUN_WORK_ROW, LABEL, pk))


@pytest.fixture
def waits_twice(monkeypatch):
    """Chore.process raises NotNow on its first two runs, then does its work."""
    runs: list[int] = []
    original = Chore.process

    def process(self):
        runs.append(self.attempts)
        if len(runs) <= 2:
            raise NotNow(timezone.now() + timedelta(seconds=30), "a token is due later")
        original(self)

    monkeypatch.setattr(Chore, "process", process)
    return runs


@pytest.mark.django_db(transaction=True)
def test_not_now_postpones_without_using_an_attempt(tenant, settings, waits_twice):
    settings.WORK_MAX_ATTEMPTS = 1  # a counted attempt would fail the row at once
    chore = Chore.objects.create(organisation=tenant.organisation)
    before = timezone.now()
    assert run_work_row(LABEL, chore.pk) == workrows.POSTPONED
    chore.refresh_from_db()
    assert (chore.state, chore.attempts, chore.lease_until, chore.last_error) == (
        WorkState.RETRY,
        0,
        None,
        "",
    )
    assert 29 <= (chore.next_attempt_at - before).total_seconds() <= 31
    assert wakeups(chore.pk) == 1  # a delayed wake-up, not a sleeping worker
    assert run_work_row(LABEL, chore.pk) == "skipped"  # not due yet

    for _ in range(2):
        Chore.objects.filter(pk=chore.pk).update(next_attempt_at=timezone.now())
        run_work_row(LABEL, chore.pk)
    chore.refresh_from_db()
    assert (chore.state, chore.attempts) == (WorkState.DONE, 1)
    assert waits_twice == [1, 1, 1]  # every run was the first attempt
    assert Effect.objects.filter(chore=chore).count() == 1


@pytest.mark.django_db(transaction=True)
def test_wake_now_brings_waiting_rows_forward(tenant, waits_twice):
    waiting = Chore.objects.create(organisation=tenant.organisation)
    run_work_row(LABEL, waiting.pk)
    done = Chore.objects.create(organisation=tenant.organisation, state=WorkState.DONE)
    before = wakeups(waiting.pk)
    assert wake_now(Chore, [waiting.pk, done.pk]) == 1
    assert wakeups(waiting.pk) == before + 1 and wakeups(done.pk) == 0
    waiting.refresh_from_db()
    assert waiting.next_attempt_at <= timezone.now()
    done.refresh_from_db()
    assert done.state == WorkState.DONE
    assert wake_now(Chore, []) == 0


@pytest.mark.django_db(transaction=True)
def test_a_revived_worker_cannot_postpone_a_row_it_lost(tenant, monkeypatch):
    chore = Chore.objects.create(organisation=tenant.organisation)

    def process(self):
        # Meanwhile another worker took the row over (this one's lease expired).
        Chore.objects.filter(pk=self.pk).update(attempts=self.attempts + 1)
        raise NotNow(timezone.now() + timedelta(seconds=5))

    monkeypatch.setattr(Chore, "process", process)
    assert run_work_row(LABEL, chore.pk) == "superseded"
    chore.refresh_from_db()
    assert (chore.state, chore.attempts) == (WorkState.RUNNING, 2)

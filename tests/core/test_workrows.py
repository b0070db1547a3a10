"""Work rows: claiming, leases, retries with backoff, failure, requeue, the reconciler."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from deskbridge.core import jobs
from deskbridge.pipeline import workrows
from deskbridge.pipeline.workrows import WorkState, claim, reconcile, retry_delay, run_work_row
from tests.workapp.models import Chore, Effect

LABEL = Chore.label()


@pytest.fixture(autouse=True)
def empty_queue():
    jobs.HUEY.flush()
    yield
    jobs.HUEY.flush()


def queued() -> int:
    return jobs.HUEY.pending_count() + jobs.HUEY.scheduled_count()


def make(tenant, **fields) -> Chore:
    return Chore.objects.create(organisation=tenant.organisation, **fields)


@pytest.mark.django_db(transaction=True)
def test_submit_wakes_the_worker_only_after_commit(tenant):
    with transaction.atomic():
        chore = Chore(organisation=tenant.organisation)
        chore.submit()
        assert queued() == 0
    assert queued() == 1

    with pytest.raises(RuntimeError), transaction.atomic():
        Chore(organisation=tenant.organisation).submit()
        raise RuntimeError("rolled back")
    assert queued() == 1
    assert Chore.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_successful_run_marks_the_row_done(tenant):
    chore = make(tenant)
    assert run_work_row(LABEL, chore.pk) == WorkState.DONE
    chore.refresh_from_db()
    assert (chore.state, chore.attempts, chore.lease_until) == (WorkState.DONE, 1, None)
    assert Effect.objects.filter(chore=chore).count() == 1
    # A second wake-up for a finished row does nothing.
    assert run_work_row(LABEL, chore.pk) == "skipped"
    chore.refresh_from_db()
    assert chore.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_a_failure_is_retried_later_with_backoff(tenant, settings):
    settings.WORK_RETRY_BASE_SECONDS = 40
    chore = make(tenant, script="fail-once")
    before = timezone.now()
    assert run_work_row(LABEL, chore.pk) == WorkState.RETRY
    chore.refresh_from_db()
    assert chore.state == WorkState.RETRY
    assert "scripted failure" in chore.last_error
    wait = (chore.next_attempt_at - before).total_seconds()
    assert 20 <= wait <= 41
    assert queued() == 1  # a delayed wake-up, held by the consumer until it is due
    # Not due yet: a stray wake-up does not run it early.
    assert run_work_row(LABEL, chore.pk) == "skipped"
    Chore.objects.filter(pk=chore.pk).update(next_attempt_at=timezone.now())
    assert run_work_row(LABEL, chore.pk) == WorkState.DONE
    chore.refresh_from_db()
    assert (chore.state, chore.attempts, chore.last_error) == (WorkState.DONE, 2, "")


@pytest.mark.django_db(transaction=True)
def test_a_row_that_keeps_failing_ends_failed_and_can_be_requeued(tenant, settings):
    settings.WORK_MAX_ATTEMPTS = 3
    chore = make(tenant, script="fail")
    outcomes = []
    for _ in range(3):
        Chore.objects.filter(pk=chore.pk).update(next_attempt_at=timezone.now())
        outcomes.append(run_work_row(LABEL, chore.pk))
    assert outcomes == [WorkState.RETRY, WorkState.RETRY, WorkState.FAILED]
    chore.refresh_from_db()
    assert (chore.state, chore.attempts) == (WorkState.FAILED, 3)
    assert run_work_row(LABEL, chore.pk) == "skipped"

    jobs.HUEY.flush()
    Chore.objects.filter(pk=chore.pk).update(script="ok")
    call_command("requeue", kind=LABEL, id=chore.pk)
    chore.refresh_from_db()
    assert (chore.state, chore.attempts) == (WorkState.PENDING, 0)
    assert queued() == 1
    assert run_work_row(LABEL, chore.pk) == WorkState.DONE


@pytest.mark.django_db
def test_requeue_explains_bad_arguments(tenant):
    with pytest.raises(CommandError, match="no kind of work row called 'nope'"):
        call_command("requeue", kind="nope")
    with pytest.raises(CommandError, match="--id needs --kind"):
        call_command("requeue", id=3)
    done = make(tenant, state=WorkState.DONE)
    with pytest.raises(CommandError, match="is not a failed row"):
        call_command("requeue", kind=LABEL, id=done.pk)


def test_retry_delay_grows_exponentially_with_jitter_and_is_capped(settings):
    settings.WORK_RETRY_BASE_SECONDS = 10
    settings.WORK_RETRY_MAX_SECONDS = 300
    for attempts, ceiling in [(1, 10), (2, 20), (3, 40), (5, 160), (6, 300), (20, 300)]:
        delays = [retry_delay(attempts) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len({round(d, 6) for d in delays}) > 100  # jittered, not one fixed value


@pytest.mark.django_db
def test_a_held_lease_is_respected_and_an_expired_one_is_taken_over(tenant):
    chore = make(tenant)
    first = claim(Chore, chore.pk)
    assert first is not None and first.attempts == 1
    assert claim(Chore, chore.pk) is None  # another worker holds it
    Chore.objects.filter(pk=chore.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    second = claim(Chore, chore.pk)
    assert second is not None and second.attempts == 2
    # The first worker, revived, may not record an outcome over the second one's lease.
    assert workrows._fenced(Chore, chore.pk, attempt=1).update(state=WorkState.DONE) == 0
    assert workrows._fenced(Chore, chore.pk, attempt=2).exists()


@pytest.mark.django_db(transaction=True)
def test_the_reconciler_requeues_lost_wakeups_and_dead_leases_only(tenant, settings):
    settings.WORK_STALE_SECONDS = 60
    now = timezone.now()
    long_ago = now - timedelta(minutes=5)
    lost = make(tenant, next_attempt_at=long_ago)
    fresh = make(tenant)  # its wake-up is presumably still in the queue
    retry_due = make(tenant, state=WorkState.RETRY, next_attempt_at=long_ago)
    retry_later = make(tenant, state=WorkState.RETRY, next_attempt_at=now + timedelta(hours=1))
    dead = make(tenant, state=WorkState.RUNNING, attempts=1, lease_until=now - timedelta(seconds=1))
    alive = make(tenant, state=WorkState.RUNNING, attempts=1, lease_until=now + timedelta(minutes=5))
    make(tenant, state=WorkState.DONE, next_attempt_at=long_ago)
    make(tenant, state=WorkState.FAILED, next_attempt_at=long_ago)

    found = {pk for label, pk in workrows.due_rows() if label == LABEL}
    assert found == {lost.pk, retry_due.pk, dead.pk}
    assert fresh.pk not in found and retry_later.pk not in found and alive.pk not in found
    assert reconcile() == 3
    assert jobs.HUEY.pending_count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_thread_processes_a_submitted_row(tenant):
    worker = jobs.Worker(threads=1)
    worker.start_in_background()
    try:
        chore = Chore(organisation=tenant.organisation)
        chore.submit()
        deadline = timezone.now() + timedelta(seconds=20)
        while timezone.now() < deadline:
            chore.refresh_from_db()
            if chore.state == WorkState.DONE:
                break
            import time

            time.sleep(0.1)
        assert chore.state == WorkState.DONE
        assert Effect.objects.filter(chore=chore).count() == 1
    finally:
        worker.stop()


@pytest.mark.django_db
def test_the_admin_action_requeues_failed_rows(tenant, admin_client):
    failed = make(tenant, state=WorkState.FAILED, attempts=8, last_error="boom")
    done = make(tenant, state=WorkState.DONE, attempts=1)
    response = admin_client.post(
        "/admin/workapp/chore/",
        {"action": "requeue_failed", "_selected_action": [failed.pk, done.pk]},
        follow=True,
    )
    assert response.status_code == 200
    failed.refresh_from_db()
    done.refresh_from_db()
    assert (failed.state, failed.attempts) == (WorkState.PENDING, 0)
    assert done.state == WorkState.DONE


@pytest.mark.skipif(not isinstance(jobs.HUEY.storage, jobs.WakeUpStorage), reason="the SQLite queue only")
def test_the_sqlite_queue_does_not_wait_for_the_disk_at_each_wake_up():
    # What a lost wake-up costs is the reconciler's next sweep (the test above); so the queue
    # commits in WAL mode with synchronous=NORMAL (1), not FULL (2): no fsync per enqueue.
    with jobs.HUEY.storage.db() as cursor:
        assert cursor.execute("pragma journal_mode").fetchone()[0] == "wal"
        assert cursor.execute("pragma synchronous").fetchone()[0] == 1

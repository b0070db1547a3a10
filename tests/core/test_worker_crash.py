"""A worker killed with SIGKILL while it holds a work row: the reconciler finishes it exactly once."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable

import pytest

from deskbridge.core import jobs
from deskbridge.pipeline.workrows import WorkState, reconcile
from tests.processes import command_env, deskbridge
from tests.workapp.models import Chore, Effect

LEASE = 2


def wait_for(condition: Callable[[], bool], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds}s waiting for {condition.__doc__ or condition}")


def starts(trace) -> list[str]:
    return trace.read_text().splitlines() if trace.exists() else []


@pytest.mark.django_db(transaction=True)
def test_sigkilled_worker_row_is_finished_once_by_the_reconciler(tenant, tmp_path):
    jobs.HUEY.flush()
    trace = tmp_path / "trace"
    env = command_env(DESKBRIDGE_WORK_LEASE_SECONDS=str(LEASE))
    chore = Chore(organisation=tenant.organisation, script="block", trace_path=str(trace))
    chore.submit()  # outside a transaction: the wake-up is queued at once

    first = deskbridge("worker", "--threads", "1", env=env, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: len(starts(trace)) == 1)
        chore.refresh_from_db()
        assert chore.state == WorkState.RUNNING and chore.attempts == 1
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        first.kill()

    # The killed worker's wake-up is gone with it; the row still says "running".
    assert jobs.HUEY.pending_count() == 0
    chore.refresh_from_db()
    assert chore.state == WorkState.RUNNING
    time.sleep(LEASE + 0.5)  # let the dead worker's lease run out

    second = deskbridge("worker", "--periodic", "--threads", "2", env=env, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: Chore.objects.get(pk=chore.pk).state == WorkState.DONE)
        # More reconciler passes and wake-ups for the finished row change nothing.
        reconcile()
        chore.wake()
        time.sleep(2)
    finally:
        second.terminate()
        second.wait(timeout=20)

    chore.refresh_from_db()
    assert chore.state == WorkState.DONE
    assert chore.attempts == 2
    assert starts(trace) == [f"start {chore.pk} attempt 1", f"start {chore.pk} attempt 2"]
    assert Effect.objects.filter(chore=chore).count() == 1

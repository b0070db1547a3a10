"""The jobs port: the only module that knows Huey. A job is a wake-up; the work is a database row."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer
from huey.storage import SqliteStorage


class WakeUpStorage(SqliteStorage):
    """Huey's SQLite queue without a wait for the disk at each enqueue (WAL, synchronous=NORMAL:
    a crash of the process loses nothing; a power cut may lose the last wake-ups, never corrupt the
    file). A wake-up need not outlive a power cut: the work is a database row, and the periodic
    sweeps (workrows.reconcile, enrich's) wake every row whose wake-up was lost."""

    def _create_connection(self) -> sqlite3.Connection:
        connection = super()._create_connection()
        connection.execute("pragma synchronous=NORMAL")
        return connection


def make_huey() -> Huey:
    url = settings.QUEUE_URL
    if url.startswith(("redis://", "rediss://")):
        return RedisHuey(settings.QUEUE_NAME, url=url, utc=True)
    path = urlparse(url).path if url else str(Path(settings.DATA_DIR) / "queue.sqlite3")
    return SqliteHuey(settings.QUEUE_NAME, filename=path, utc=True, timeout=10, storage_class=WakeUpStorage)


HUEY = make_huey()
_jobs: dict[str, Callable[..., Any]] = {}


@HUEY.task(name="deskbridge.job")
def _run_job(name: str, *args: Any) -> None:
    close_old_connections()
    try:
        _jobs[name](*args)
    finally:
        close_old_connections()


@HUEY.on_shutdown()
def _close_worker_connections() -> None:
    """Each worker thread has its own database connections; close them as the thread ends."""
    connections.close_all()


def job(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function the worker may run by name (task bodies never see Huey)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        _jobs[name] = fn
        return fn

    return register


def enqueue(name: str, *args: Any, delay: float | None = None) -> None:
    """Wake the worker for `name(*args)` once the current transaction commits (now, outside one)."""
    if name not in _jobs:
        raise KeyError(f"no job named {name!r}")

    def wake() -> None:
        if delay:
            _run_job.schedule(args=(name, *args), delay=delay)
        else:
            _run_job(name, *args)

    transaction.on_commit(wake)


def periodic(minute: str = "*", hour: str = "*") -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Run a function on the cron schedule given, on the worker started with --periodic
    (and once as that worker starts, so that a restart catches up at once)."""

    def register(fn: Callable[[], Any]) -> Callable[[], Any]:
        _periodic.append(fn)
        HUEY.periodic_task(crontab(minute=minute, hour=hour), name=fn.__name__)(_closing_connections(fn))
        return fn

    return register


every_minute = periodic()


_periodic: list[Callable[[], Any]] = []


def _closing_connections(fn: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> None:
        close_old_connections()
        try:
            fn()
        finally:
            close_old_connections()

    run.__name__ = fn.__name__
    return run


def ping() -> int:
    """How many wake-ups wait in the queue; raises when the queue does not answer."""
    return int(HUEY.pending_count())


class Worker:
    """Huey's consumer in threads of this process: `deskbridge worker`, or inside `serve`."""

    def __init__(self, threads: int | None = None, periodic: bool = False) -> None:
        self.periodic = periodic
        self.consumer = Consumer(
            HUEY,
            workers=threads or settings.WORKER_THREADS,
            periodic=periodic,
            worker_type="thread",
            max_delay=1.0,
            check_worker_health=True,
        )

    def run_periodic_now(self) -> None:
        for fn in _periodic:
            _closing_connections(fn)()

    def run(self) -> None:
        """Block until SIGINT/SIGTERM (the consumer's own signal handling)."""
        if self.periodic:
            self.run_periodic_now()
        self.consumer.run()

    def start_in_background(self) -> None:
        """For `serve`: the consumer's loop in a daemon thread, signals left to the web server."""
        if self.periodic:
            self.run_periodic_now()
        self.consumer.scheduler.start()
        for _, thread in self.consumer.worker_threads:
            thread.start()

    def stop(self) -> None:
        self.consumer.stop(graceful=True)

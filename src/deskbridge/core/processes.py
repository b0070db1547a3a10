"""The long-running parts (web, SMTP receiver, worker) and how `serve` and `demo` run them in one process."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.db import connections

from deskbridge.core.jobs import Worker
from deskbridge.core.logs import get_logger

log = get_logger(__name__)


def migrate() -> None:
    call_command("migrate", interactive=False, verbosity=0)


def run_smtp(
    *,
    lmtp: bool = False,
    host: str | None = None,
    port: int | None = None,
    unix_path: str | None = None,
    threads: int | None = None,
    processes: int = 1,
) -> None:
    """`deskbridge smtpd`: the SMTP (or LMTP) receiver in the foreground, until SIGINT/SIGTERM;
    in `processes` processes sharing the port (0: one per CPU)."""
    import os

    from deskbridge.mail.smtpd import THREADS, run_processes

    run_processes(
        processes or os.cpu_count() or 1,
        host=host,
        port=port,
        lmtp=lmtp,
        unix_path=unix_path,
        threads=threads or THREADS,
    )


def run_web(
    *,
    with_worker: bool = False,
    with_smtp: bool | None = None,
    host: str | None = None,
    port: int | None = None,
    when_up: Callable[[], None] | None = None,
    with_relay: bool | None = None,
    open_while_starting: str = "/sandbox/",
) -> None:
    """uvicorn in the foreground. with_worker adds the job worker (and the reconciler) in threads;
    with_smtp the SMTP receiver in a thread. `serve` and `demo` pass with_worker=True, which brings
    the SMTP receiver along unless with_smtp says otherwise: one process that does everything.

    `when_up` runs in a thread once the server listens, for set-up that needs it answering (the
    demo connects its helpdesk through the sandbox's API over HTTP). Until it returns, requests
    outside `open_while_starting` wait for it, so that the first page anyone sees is a finished
    installation. If it raises, the server stops and run_web raises that exception."""
    from deskbridge.asgi import application
    from deskbridge.mail.smtpd import Receiver

    with_smtp = with_worker if with_smtp is None else with_smtp
    # Bound before anything starts, so that a taken SMTP port stops the process with one sentence.
    receiver = Receiver() if with_smtp else None
    # The sandbox Amazon's relay comes along wherever the sandbox runs everything in one process.
    with_relay = with_worker and settings.SANDBOX_ENABLED if with_relay is None else with_relay
    relay = _sandbox_relay() if with_relay else None
    worker = Worker(periodic=True) if with_worker else None
    ready = threading.Event()
    config = uvicorn.Config(
        application if when_up is None else HeldUntilReady(application, ready, open_while_starting),
        host=host or settings.WEB_HOST,
        port=port or settings.WEB_PORT,
        log_config=None,  # our logging (deskbridge.core.logs) is already configured
        lifespan="off",
        proxy_headers=True,
    )
    server = uvicorn.Server(config)
    if receiver is not None:
        receiver.start()
    if relay is not None:
        relay.start()
    if worker is not None:
        worker.start_in_background()
    failures: list[BaseException] = []
    if when_up is not None:
        threading.Thread(
            target=_run_when_up, args=(server, when_up, ready, failures), name="when-up", daemon=True
        ).start()
    try:
        server.run()
    finally:
        ready.set()
        if receiver is not None:
            receiver.stop()
        if relay is not None:
            relay.stop()
        if worker is not None:
            worker.stop()
    if failures:
        raise failures[0]


def _sandbox_relay() -> Any:
    from deskbridge.sandbox.amazon.relay import Relay

    return Relay()


class HeldUntilReady:
    """ASGI middleware: until `ready` is set, HTTP requests outside `open_prefix` wait for it."""

    def __init__(self, app: Any, ready: threading.Event, open_prefix: str) -> None:
        self.app, self.ready, self.open_prefix = app, ready, open_prefix

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(self.open_prefix):
            while not self.ready.is_set():
                await asyncio.sleep(0.05)
        await self.app(scope, receive, send)


def _run_when_up(
    server: uvicorn.Server, when_up: Callable[[], None], ready: threading.Event, failures: list[BaseException]
) -> None:
    try:
        while not server.started:
            if server.should_exit:
                return
            time.sleep(0.05)
        when_up()
    except BaseException as exc:  # handed to run_web's caller, in the main thread
        failures.append(exc)
        server.should_exit = True
    finally:
        connections.close_all()  # this thread's
        ready.set()

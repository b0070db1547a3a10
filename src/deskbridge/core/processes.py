"""The long-running parts (web, SMTP receiver, worker) and how `serve` and `demo` run them in one process."""

from __future__ import annotations

import uvicorn
from django.conf import settings
from django.core.management import call_command

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
) -> None:
    """`deskbridge smtpd`: the SMTP (or LMTP) receiver in the foreground, until SIGINT/SIGTERM."""
    from deskbridge.mail.smtpd import THREADS, Receiver

    Receiver(host=host, port=port, lmtp=lmtp, unix_path=unix_path, threads=threads or THREADS).run()


def run_web(
    *,
    with_worker: bool = False,
    with_smtp: bool | None = None,
    host: str | None = None,
    port: int | None = None,
) -> None:
    """uvicorn in the foreground. with_worker adds the job worker (and the reconciler) in threads;
    with_smtp the SMTP receiver in a thread. `serve` and `demo` pass with_worker=True, which brings
    the SMTP receiver along unless with_smtp says otherwise: one process that does everything."""
    from deskbridge.mail.smtpd import Receiver

    with_smtp = with_worker if with_smtp is None else with_smtp
    # Bound before anything starts, so that a taken SMTP port stops the process with one sentence.
    receiver = Receiver() if with_smtp else None
    worker = Worker(periodic=True) if with_worker else None
    config = uvicorn.Config(
        "deskbridge.asgi:application",
        host=host or settings.WEB_HOST,
        port=port or settings.WEB_PORT,
        log_config=None,  # our logging (deskbridge.core.logs) is already configured
        lifespan="off",
        proxy_headers=True,
    )
    server = uvicorn.Server(config)
    if receiver is not None:
        receiver.start()
    if worker is not None:
        worker.start_in_background()
    try:
        server.run()
    finally:
        if receiver is not None:
            receiver.stop()
        if worker is not None:
            worker.stop()

"""The long-running parts (web, worker) and how `serve` and `demo` run them in one process."""

from __future__ import annotations

import uvicorn
from django.conf import settings
from django.core.management import call_command

from deskbridge.core.jobs import Worker
from deskbridge.core.logs import get_logger

log = get_logger(__name__)


def migrate() -> None:
    call_command("migrate", interactive=False, verbosity=0)


def run_web(*, with_worker: bool = False, host: str | None = None, port: int | None = None) -> None:
    """uvicorn in the foreground; with_worker adds the job worker (and the reconciler) in threads."""
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
    if worker is not None:
        worker.start_in_background()
    try:
        server.run()
    finally:
        if worker is not None:
            worker.stop()

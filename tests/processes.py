"""Running `deskbridge` commands as real subprocesses against the test database and queue."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The URL of the database this test runs on (pytest-django's test database)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgresql://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def command_env(**overrides: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
        "DESKBRIDGE_DATA_DIR": str(settings.DATA_DIR),
        "DESKBRIDGE_DATABASE_URL": database_url(),
        "DESKBRIDGE_QUEUE_URL": settings.QUEUE_URL,
        "DESKBRIDGE_QUEUE_NAME": settings.QUEUE_NAME,
    }
    env.update(overrides)
    return env


def deskbridge(*args: str, env: dict[str, str] | None = None, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "deskbridge", *args], env=env or command_env(), cwd=ROOT, **popen
    )


def run_plain(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a command with exactly `env` (no test settings), capturing its output."""
    return subprocess.run(
        [sys.executable, "-m", "deskbridge", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bare_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No test settings: a command's own, in a data dir of its own, on free ports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DESKBRIDGE_", "DJANGO_"))}
    env.update(
        PYTHONPATH=str(ROOT / "src"),
        DESKBRIDGE_DATA_DIR=str(tmp_path / "var"),
        DESKBRIDGE_WEB_PORT=str(free_port()),
        DESKBRIDGE_SMTP_PORT=str(free_port()),
        DESKBRIDGE_SANDBOX_RELAY_PORT=str(free_port()),  # demo and `sandbox serve` start the relay
    )
    env.update(extra)
    return env


def wait_for_http(url: str, process: subprocess.Popen, seconds: float = 90) -> httpx.Response:
    """The first answer from `url`, failing early if the server process exits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"exited with {process.returncode}: {process.stderr and process.stderr.read()}"
            )
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {seconds}s")


def stop(process: subprocess.Popen) -> None:
    """Ctrl-C, then kill if it does not end."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)

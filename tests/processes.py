"""Running `deskbridge` commands as real subprocesses against the test database and queue."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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

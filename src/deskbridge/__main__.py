"""The `deskbridge` console script: Django's management commands under our settings."""

from __future__ import annotations

import os
import sys

# Commands that run without an installation's secrets: they create or inspect no installation.
NEEDS_NO_SECRETS = {
    "help",
    "--help",
    "-h",
    "version",
    "--version",
    "generate_keys",
    "demo",
    "sandbox",
    "makemigrations",
    "makemessages",
    "compilemessages",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    if len(argv) > 1:
        argv[1] = argv[1].replace("-", "_") if not argv[1].startswith("-") else argv[1]
    command = argv[1] if len(argv) > 1 else "help"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskbridge.settings")
    if command in NEEDS_NO_SECRETS and not os.environ.get("DESKBRIDGE_SECRET_KEY"):
        os.environ.setdefault("DESKBRIDGE_DEMO", "1")
    if command == "demo":
        os.environ["DESKBRIDGE_DEMO"] = "1"
        _take_data_dir(argv)

    from deskbridge.errors import SettingsError

    try:
        import django
        from django.core.management import execute_from_command_line

        django.setup()
        execute_from_command_line(argv)
    except SettingsError as exc:
        print(f"deskbridge: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a database or queue that does not answer: one sentence, no traceback
        message = _explain(exc)
        if message is None:
            raise
        print(f"deskbridge: {message}", file=sys.stderr)
        return 2
    return 0


def _take_data_dir(argv: list[str]) -> None:
    """`demo --data-dir D` must set DATA_DIR before the settings are read."""
    for i, arg in enumerate(argv):
        if arg == "--data-dir" and i + 1 < len(argv):
            os.environ["DESKBRIDGE_DATA_DIR"] = argv[i + 1]
        elif arg.startswith("--data-dir="):
            os.environ["DESKBRIDGE_DATA_DIR"] = arg.split("=", 1)[1]


def _explain(exc: Exception) -> str | None:
    from django.db import OperationalError

    if isinstance(exc, OperationalError):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"the database does not answer ({first}); check DESKBRIDGE_DATABASE_URL."
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
    except ImportError:  # pragma: no cover
        return None
    if isinstance(exc, RedisConnectionError):
        return f"the queue does not answer ({exc}); check DESKBRIDGE_QUEUE_URL."
    return None


if __name__ == "__main__":
    sys.exit(main())

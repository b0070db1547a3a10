"""Structured logs (structlog) that never carry buyer PII: addresses and names are redacted."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Keys whose values name or address a person; their values are never logged.
PERSONAL_KEYS = re.compile(
    r"(^|_)(email|e_mail|address|name|buyer|customer|recipient|sender|from|to|cc|phone|password|"
    r"token|secret|rcpt|mail_from|rcpt_to)($|_)",
    re.IGNORECASE,
)
SAFE_KEYS = {"event", "level", "logger", "timestamp", "exc_info", "log_level", "logger_name"}
REDACTED = "[redacted]"


def redact_text(text: str) -> str:
    return EMAIL.sub("[email]", text)


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: REDACTED if PERSONAL_KEYS.search(str(k)) else _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return type(value)(_redact(v) for v in value)
    return value


def redact_pii(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: drop values of personal keys, mask any email address left in text."""
    for key in list(event):
        if key in SAFE_KEYS:
            if isinstance(event[key], str):
                event[key] = redact_text(event[key])
        elif PERSONAL_KEYS.search(key):
            event[key] = REDACTED
        else:
            event[key] = _redact(event[key])
    return event


class RedactingFormatter(structlog.stdlib.ProcessorFormatter):
    """Stdlib records (Django, Huey, uvicorn) pass the same redaction, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


def configure(level: str | None = None, json: bool | None = None, stream: Any = None) -> None:
    from django.conf import settings

    level = str(level or getattr(settings, "LOG_LEVEL", "INFO"))
    json = (not sys.stderr.isatty()) if json is None else json
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_pii,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        # Below the level an event is dropped first, before the processors format it for nothing.
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        RedactingFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Huey logs every task at INFO; our own work-row log lines say what matters.
    for chatty in ("huey", "axes"):
        logging.getLogger(chatty).setLevel(logging.WARNING if level == "INFO" else level)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)

"""Logs never carry buyer PII: email addresses and personal fields are redacted, tracebacks too."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from deskbridge.core import logs

BUYER = "q8x1abc9zz@marketplace.amazon.de"


@pytest.fixture
def captured():
    stream = io.StringIO()
    logs.configure(level="INFO", json=True, stream=stream)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    structlog.reset_defaults()
    logs.configure()


def test_structlog_events_lose_addresses_and_personal_fields(captured):
    log = logs.get_logger("deskbridge.test")
    log.info(
        f"message from {BUYER} accepted",
        buyer_name="Jürgen Müller",
        customer_email=BUYER,
        recipient=BUYER,
        order_id="302-1234567-1234567",
        details={"name": "Jürgen", "note": f"reply to {BUYER}"},
        attempts=2,
    )
    (event,) = captured()
    text = json.dumps(event, ensure_ascii=False)
    assert "marketplace.amazon.de" not in text and "Jürgen" not in text
    assert event["event"] == "message from [email] accepted"
    assert event["buyer_name"] == event["customer_email"] == event["recipient"] == "[redacted]"
    assert event["details"] == {"name": "[redacted]", "note": "reply to [email]"}
    # What is not personal stays, so the logs remain useful.
    assert event["order_id"] == "302-1234567-1234567" and event["attempts"] == 2


def test_stdlib_records_and_tracebacks_are_redacted_too(captured):
    try:
        raise ValueError(f"cannot deliver to {BUYER}")
    except ValueError:
        logging.getLogger("django.request").exception("failed for %s", BUYER)
    (event,) = captured()
    text = json.dumps(event)
    assert BUYER not in text
    assert "cannot deliver to [email]" in text


@pytest.mark.parametrize("key", ["email", "buyer", "mail_from", "rcpt_to", "to", "phone", "refresh_token"])
def test_personal_keys_are_recognised(key):
    assert logs.redact_pii(None, "info", {key: "value", "event": "x"})[key] == "[redacted]"


@pytest.mark.parametrize("key", ["order_id", "marketplace_id", "attempts", "state", "kind"])
def test_operational_keys_pass(key):
    assert logs.redact_pii(None, "info", {key: "value", "event": "x"})[key] == "value"

"""Zendesk webhook signatures and bodies, against the reference's worked example and payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from deskbridge.helpdesks.base import WebhookRejected
from deskbridge.helpdesks.http import HelpdeskHTTP
from deskbridge.helpdesks.zendesk import webhooks
from deskbridge.helpdesks.zendesk.connector import ZendeskConnector
from deskbridge.sandbox.helpdesks.zendesk import tickets as emulator
from tests.helpdesks.zendesk.conftest import fixture

EXAMPLE = fixture("webhook-signature.example.json")
SENT_AT = datetime(2021, 3, 25, 5, 9, 27, tzinfo=UTC)


def headers() -> dict[str, str]:
    return {
        **fixture("webhook-delivery.headers.json"),
        "x-zendesk-webhook-signature": EXAMPLE["x-zendesk-webhook-signature"],
        "x-zendesk-webhook-signature-timestamp": EXAMPLE["x-zendesk-webhook-signature-timestamp"],
    }


def connector(transport: httpx.BaseTransport | None = None, **config: str) -> ZendeskConnector:
    base = {
        "subdomain": "example",
        "email": "admin@example.com",
        "api_token": "t",
        "webhook_secret": EXAMPLE["key"],
    }
    http = HelpdeskHTTP(
        "https://example.zendesk.com",
        limit_key="zendesk:test",
        transport=transport or httpx.MockTransport(lambda r: pytest.fail(f"unexpected request {r.url}")),
    )
    return ZendeskConnector({**base, **config}, http=http)


@pytest.fixture
def at_send_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks, "now", lambda: SENT_AT + timedelta(seconds=20))


def test_the_documented_example_signs_the_same_in_connector_and_emulator() -> None:
    body = EXAMPLE["raw_body"].encode()
    assert EXAMPLE["signed_string"] == EXAMPLE["x-zendesk-webhook-signature-timestamp"] + EXAMPLE["raw_body"]
    assert (
        webhooks.signature(EXAMPLE["key"], EXAMPLE["x-zendesk-webhook-signature-timestamp"], body)
        == EXAMPLE["x-zendesk-webhook-signature"]
    )
    assert (
        emulator.sign(EXAMPLE["key"], EXAMPLE["x-zendesk-webhook-signature-timestamp"], body)
        == EXAMPLE["x-zendesk-webhook-signature"]
    )


def test_verify_webhook_accepts_the_example_and_returns_the_invocation_id(at_send_time: None) -> None:
    event = connector().verify_webhook(headers(), EXAMPLE["raw_body"].encode())
    assert event == "8350205582"
    upper = {k.title(): v for k, v in headers().items()}  # header names are case-insensitive
    assert connector().verify_webhook(upper, EXAMPLE["raw_body"].encode()) == "8350205582"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"x-zendesk-webhook-signature": "EiqWE3SXTPQpPulBV6OSuuGziIishZNc1VwNZYqZrHU="}, "does not match"),
        ({"x-zendesk-webhook-signature": ""}, "missing"),
        ({"x-zendesk-webhook-signature-timestamp": "2021-03-25T05:09:28Z"}, "does not match"),
    ],
)
def test_verify_webhook_rejects_a_wrong_signature(
    at_send_time: None, change: dict[str, str], reason: str
) -> None:
    with pytest.raises(WebhookRejected, match=reason):
        connector().verify_webhook({**headers(), **change}, EXAMPLE["raw_body"].encode())


def test_verify_webhook_rejects_a_changed_body_a_replay_and_a_missing_secret(
    at_send_time: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(WebhookRejected, match="does not match"):
        connector().verify_webhook(headers(), EXAMPLE["raw_body"].replace("10001", "10002").encode())
    with pytest.raises(WebhookRejected, match="no signing secret"):
        connector(webhook_secret="").verify_webhook(headers(), EXAMPLE["raw_body"].encode())
    monkeypatch.setattr(webhooks, "now", lambda: SENT_AT + timedelta(minutes=6))
    with pytest.raises(WebhookRejected, match="replay window"):
        connector().verify_webhook(headers(), EXAMPLE["raw_body"].encode())


def test_the_agent_reply_payload_is_read_with_the_comment_fetched() -> None:
    body = json.dumps(fixture("webhook-agent-reply.json")).encode()
    comment = {
        "id": 10001,
        "type": "Comment",
        "author_id": 235324,
        "body": "Hello, your replacement ships tomorrow.",
        "plain_body": "Hello, your replacement ships tomorrow.",
        "html_body": "<p>Hello, your replacement ships tomorrow.</p>",
        "public": True,
        "attachments": [],
        "created_at": "2025-02-11T14:32:05Z",
    }
    answers = {
        "/api/v2/users/235324.json": {"user": {"id": 235324, "name": "Agent Smith", "role": "agent"}},
        "/api/v2/tickets/35436.json": {"ticket": {"id": 35436, "requester_id": 20978392}},
        "/api/v2/tickets/35436/comments.json": {
            "comments": [
                {**comment, "id": 10000, "author_id": 20978392, "body": "Where is my order?"},
                {**comment, "id": 10002, "public": False, "body": "internal"},
                comment,
            ],
            "meta": {"has_more": False},
            "links": {"next": None},
        },
    }
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=answers[request.url.path]))
    [reply] = connector(transport, api_user_id="1").read_webhook(body)
    assert (reply.ticket_id, reply.message_id, reply.author) == ("35436", "10001", "Agent Smith")
    assert reply.text == "Hello, your replacement ships tomorrow." and reply.html.startswith("<p>")


def test_our_own_writes_give_no_reply_without_asking_zendesk() -> None:
    payload = fixture("webhook-agent-reply.json")
    ours = json.dumps({**payload, "author_id": "99"}).encode()
    assert connector(api_user_id="99").read_webhook(ours) == []
    buyer = json.dumps({**payload, "author_id": payload["requester_id"]}).encode()
    assert connector(api_user_id="99").read_webhook(buyer) == []
    assert connector(api_user_id="99").read_webhook(b"not json") == []


def test_an_end_user_updater_gives_no_reply() -> None:
    body = json.dumps(fixture("webhook-agent-reply.json")).encode()
    transport = httpx.MockTransport(
        lambda request: httpx.Response(
            200, json={"user": {"id": 235324, "name": "Someone", "role": "end-user"}}
        )
    )
    assert connector(transport, api_user_id="1").read_webhook(body) == []

"""Kustomer webhooks and errors against the documented payloads (tests/data/helpdesks/kustomer)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from deskbridge.helpdesks.base import WebhookRejected
from deskbridge.helpdesks.http import RateLimited
from deskbridge.helpdesks.kustomer.connector import KustomerConnector, KustomerHTTP
from deskbridge.helpdesks.kustomer.fields import ORDER_ATTRIBUTES
from deskbridge.helpdesks.kustomer.webhooks import signature
from deskbridge.sandbox.helpdesks.kustomer.api import CUSTOM_SUFFIX

DATA = Path(__file__).resolve().parents[2] / "data" / "helpdesks" / "kustomer"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


EXAMPLE_TOKEN = "0123456789abcdef0123456789abcdef"  # the reference's example webhook token


def connector(handler: Any = None, token: str = EXAMPLE_TOKEN) -> KustomerConnector:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"unexpected request {request.method} {request.url}")

    http = KustomerHTTP(
        "https://acme.api.kustomerapp.com",
        limit_key="kustomer:test",
        transport=httpx.MockTransport(handler or refuse),
    )
    return KustomerConnector({"org": "acme", "api_key": "k", "webhook_token": token}, http=http)


def test_the_documented_example_signature_is_what_we_compute_and_accept():
    example = load("webhook-signature.json")
    body = example["raw_body"].encode()
    assert signature(example["key"], body) == example["X-Kustomer-Webhook-Signature"]
    headers = {"X-Kustomer-Webhook-Signature": example["X-Kustomer-Webhook-Signature"]}
    assert connector(token=example["key"]).verify_webhook(headers, body) == "6717c2b1e5b1f00012ab3511"
    # header names are case-insensitive
    lower = {"x-kustomer-webhook-signature": example["X-Kustomer-Webhook-Signature"]}
    assert connector(token=example["key"]).verify_webhook(lower, body) == "6717c2b1e5b1f00012ab3511"


@pytest.mark.parametrize(
    "headers, why",
    [
        ({}, "missing"),
        ({"X-Kustomer-Webhook-Signature": "3f1c9a…e07b"}, "does not match"),  # the docs' elided one
        ({"X-Kustomer-Webhook-Signature": "sha256=" + "0" * 64}, "does not match"),
    ],
)
def test_wrong_or_missing_signatures_are_rejected(headers, why):
    example = load("webhook-signature.json")
    with pytest.raises(WebhookRejected, match=why):
        connector(token=example["key"]).verify_webhook(headers, example["raw_body"].encode())


def test_a_changed_body_or_another_token_is_rejected():
    example = load("webhook-signature.json")
    good = {"X-Kustomer-Webhook-Signature": example["X-Kustomer-Webhook-Signature"]}
    with pytest.raises(WebhookRejected):
        connector(token=example["key"]).verify_webhook(good, example["raw_body"].encode() + b" ")
    with pytest.raises(WebhookRejected):
        connector(token="another-token").verify_webhook(good, example["raw_body"].encode())
    with pytest.raises(WebhookRejected, match="provision"):
        connector(token="").verify_webhook(good, example["raw_body"].encode())


def test_an_agent_reply_event_is_read_with_the_full_text_fetched():
    event = load("webhook-agent-reply.json")
    message = {
        **event["data"],
        "attributes": {**event["data"]["attributes"], "body": "Sorry about that! " * 30},
    }
    calls: list[str] = []

    def api(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path == "/v1/messages/6717c2e1e5b1f00012ab3541":
            return httpx.Response(200, json={"data": message})
        if request.url.path == "/v1/users/5f8482aaa22ab5b9d5f2dd91":
            return httpx.Response(
                200,
                json={
                    "data": {
                        "type": "user",
                        "id": "5f8482aaa22ab5b9d5f2dd91",
                        "attributes": {"displayName": "Sam Support"},
                    }
                },
            )
        return httpx.Response(404, json={"errors": [{"code": "not_found", "message": "no", "meta": {}}]})

    replies = connector(api).read_webhook(json.dumps(event).encode())
    assert len(replies) == 1
    reply = replies[0]
    assert reply.ticket_id == "6717c2a4e5b1f00012ab34c2"
    assert reply.message_id == "6717c2e1e5b1f00012ab3541"
    assert reply.text == "Sorry about that! " * 30
    assert reply.author == "Sam Support"
    assert reply.created_at is not None and reply.created_at.year == 2026
    assert calls[0] == "/v1/messages/6717c2e1e5b1f00012ab3541"


@pytest.mark.parametrize(
    "change",
    [
        {"direction": "in"},  # our own buyer-authored write
        {"auto": True},  # a workflow's auto-response
        {"source": "satisfaction"},
    ],
)
def test_inbound_and_automatic_messages_are_not_replies_and_cost_no_request(change):
    event = load("webhook-agent-reply.json")
    event["data"]["attributes"].update(change)
    assert connector().read_webhook(json.dumps(event).encode()) == []


def test_other_events_and_junk_are_not_replies():
    assert connector().read_webhook(json.dumps(load("webhook-customer-update.json")).encode()) == []
    assert connector().read_webhook(b"not json") == []
    assert connector().read_webhook(b"[]") == []


def test_a_429_waits_for_x_ratelimit_reset():
    error = load("error-429.json")
    http = KustomerHTTP(
        "https://acme.api.kustomerapp.com",
        limit_key="kustomer:test-429",
        transport=httpx.MockTransport(
            lambda r: httpx.Response(429, headers=error["headers"], json=error["body"])
        ),
    )
    with pytest.raises(RateLimited) as caught:
        http.get("/v1/customers")
    assert caught.value.retry_after == 37.0
    assert "Rate limit exceeded" in str(caught.value)


def test_order_attributes_carry_a_valid_type_suffix():
    assert ORDER_ATTRIBUTES["amazon_order_id"] == "amazonOrderIdStr"
    assert all(CUSTOM_SUFFIX.match(name) for name in ORDER_ATTRIBUTES.values())
    assert len(set(ORDER_ATTRIBUTES.values())) == len(ORDER_ATTRIBUTES)

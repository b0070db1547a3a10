"""The Gorgias connector and emulator against the documented payloads (tests/data/helpdesks/gorgias),
without a server: webhook secrets and bodies, error mapping, reply filtering, request schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from deskbridge.helpdesks.base import WebhookRejected
from deskbridge.helpdesks.gorgias import webhooks
from deskbridge.helpdesks.gorgias.connector import GorgiasConnector, clean_domain
from deskbridge.helpdesks.http import AuthenticationFailed, HelpdeskHTTP, NotFound, RateLimited, Rejected
from deskbridge.sandbox.helpdesks.gorgias import schema

DATA = Path(__file__).resolve().parents[2] / "data" / "helpdesks" / "gorgias"
SECRET = "8f2c1b0e7d6a4c3b9a8f7e6d5c4b3a21"
CONFIG = {
    "domain": "acme",
    "username": "admin@acme.example",
    "api_key": "k",
    "webhook_secret": SECRET,
    "user_id": "42",
}


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def connector(handler: Any = None) -> GorgiasConnector:
    transport = httpx.MockTransport(handler or (lambda request: httpx.Response(500)))
    http = HelpdeskHTTP("https://acme.gorgias.com/api", limit_key="test", transport=transport)
    return GorgiasConnector(CONFIG, http=http)


def replay(fixture: str) -> Any:
    """A handler answering every request with an `error-*.json` fixture's status, headers and body."""
    data = load(fixture)
    return lambda request: httpx.Response(data["status"], headers=data["headers"], json=data["body"])


def test_the_documented_delivery_with_our_secret_is_accepted_and_names_its_ticket():
    body = (DATA / "webhook-message-created.json").read_bytes()
    event = connector().verify_webhook(
        {"x-deskbridge-secret": SECRET, "content-type": "application/json"}, body
    )
    assert event == webhooks.event_id(body)
    assert webhooks.parse_delivery(body).ticket_id == "12345"


@pytest.mark.parametrize(
    "headers, reason",
    [
        ({}, "missing"),
        ({"X-Deskbridge-Secret": SECRET[:-1] + "0"}, "does not match"),
        ({"X-Deskbridge-Token": SECRET}, "missing"),  # the secret under another header is not ours
    ],
)
def test_a_delivery_without_our_secret_is_rejected(headers, reason):
    body = (DATA / "webhook-message-created.json").read_bytes()
    with pytest.raises(WebhookRejected, match=reason):
        connector().verify_webhook(headers, body)


def test_a_connection_without_a_secret_accepts_nothing():
    body = (DATA / "webhook-message-created.json").read_bytes()
    plain = GorgiasConnector({**CONFIG, "webhook_secret": ""}, http=connector().http)
    with pytest.raises(WebhookRejected, match="no webhook secret"):
        plain.verify_webhook({"X-Deskbridge-Secret": ""}, body)


def test_a_body_without_a_ticket_is_rejected_even_with_the_secret():
    with pytest.raises(WebhookRejected, match="ticket_id"):
        connector().verify_webhook({"X-Deskbridge-Secret": SECRET}, b'{"ticket_id": ""}')
    with pytest.raises(WebhookRejected, match="not JSON"):
        connector().verify_webhook({"X-Deskbridge-Secret": SECRET}, b"ticket=1")


def test_retries_of_one_delivery_share_an_event_id_and_other_deliveries_do_not():
    one = json.dumps({"ticket_id": "1", "ticket_updated_datetime": "2026-10-21T15:20:01.004512"}).encode()
    two = json.dumps({"ticket_id": "1", "ticket_updated_datetime": "2026-10-21T15:20:09.100000"}).encode()
    assert webhooks.event_id(one) == webhooks.event_id(one) != webhooks.event_id(two)


def test_the_documented_429_is_rate_limited_with_its_retry_after():
    with pytest.raises(RateLimited) as caught:
        connector(replay("error-429.json")).verify()
    assert caught.value.retry_after == 5.0
    assert "Too many requests" in str(caught.value)


def test_the_documented_400_is_rejected_with_gorgias_s_reason():
    with pytest.raises(Rejected) as caught:
        connector(replay("error-400-missing-fields.json")).set_status(_ticket(), "open")
    assert caught.value.status == 400
    assert "Failed to create ticket" in str(caught.value)


def test_404_and_401_map_to_not_found_and_authentication_failed():
    with pytest.raises(NotFound):
        connector(replay("error-404.json")).verify()
    with pytest.raises(AuthenticationFailed):
        connector(lambda r: httpx.Response(401, json={"error": {"msg": "Unauthorized"}})).verify()


def _ticket():
    from deskbridge.helpdesks.base import Ticket

    return Ticket(id="12345")


def test_read_webhook_keeps_only_public_agent_messages_that_we_did_not_write():
    ticket = load("ticket-from-buyer.response.json")
    agent = {
        **load("buyer-follow-up.response.json"),
        "id": 1,
        "from_agent": True,
        "via": "helpdesk",
        "sender": {"id": 7, "email": "alex@acme.example", "name": "Alex"},
        "body_text": "We will replace it.",
    }
    note = {**load("internal-note.request.json"), "id": 2, "public": False, "sender": {"id": 7}}
    ours = {
        **agent,
        "id": 3,
        "via": "api",
        "sender": {"id": 42},
    }  # our API user, from_agent (never written, still filtered)
    ticket["messages"] += [agent, note, ours]

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/tickets/12345"
        return httpx.Response(200, json=ticket)

    replies = connector(handler).read_webhook((DATA / "webhook-message-created.json").read_bytes())
    assert [(r.message_id, r.text, r.author, r.ticket_id) for r in replies] == [
        ("1", "We will replace it.", "Alex", "12345")
    ]


@pytest.mark.parametrize(
    "fixture, fields",
    [
        ("ticket-from-buyer.request.json", schema.TICKET_CREATE),
        ("buyer-follow-up.request.json", schema.MESSAGE),
        ("internal-note.request.json", schema.MESSAGE),
        ("customer-create.request.json", schema.CUSTOMER),
        ("http-integration.request.json", schema.INTEGRATION_CREATE),
    ],
)
def test_the_emulator_accepts_every_documented_request(fixture, fields):
    assert schema.validate(fields, load(fixture)) == {}


def test_the_emulator_words_missing_fields_as_the_documented_400():
    message = {
        k: v for k, v in load("buyer-follow-up.request.json").items() if k not in ("sender", "channel")
    }
    assert (
        schema.validate(schema.MESSAGE, message)
        == load("error-400-missing-fields.json")["body"]["error"]["data"]
    )


def test_the_emulator_refuses_unknown_fields_and_wrong_types():
    message = {**load("buyer-follow-up.request.json"), "author": "me", "from_agent": "no"}
    assert schema.validate(schema.MESSAGE, message) == {
        "author": ["Unknown field."],
        "from_agent": ["Not a valid boolean."],
    }


def test_the_domain_is_taken_from_whatever_the_user_pasted():
    assert clean_domain("https://Acme.gorgias.com/api/") == "acme"
    assert clean_domain("acme.gorgias.com") == "acme"
    assert clean_domain(" acme ") == "acme"
    assert GorgiasConnector.api_base_template.format(domain="acme") == "https://acme.gorgias.com/api"

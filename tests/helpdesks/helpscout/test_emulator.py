"""The emulated Help Scout itself: it takes the vendor's documented requests, refuses what Help Scout
refuses (in Help Scout's error shape), and its OAuth consent page and inbox page work in a browser's way."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from deskbridge.helpdesks.helpscout.connector import HelpScoutConnector
from deskbridge.helpdesks.http import Rejected
from deskbridge.sandbox.helpdesks.helpscout import seed, store

from .conftest import api, buyer, message, payload


@pytest.fixture
def client(live_url, credentials) -> httpx.Client:
    return api(live_url, credentials)


@pytest.fixture
def mailbox(account, credentials) -> int:
    return store.records(account).all("mailboxes")[0].pk


def field_id(account: str) -> int:
    return store.records(account).all("fields")[0].pk


def conversation(client: httpx.Client, mailbox: int, **changes) -> int:
    body = {**payload("create-conversation-request.json"), "mailboxId": mailbox, **changes}
    body.pop("fields")
    answer = client.post("/v2/conversations", json=body)
    assert answer.status_code == 201, answer.text
    return int(answer.headers["Resource-ID"])


def test_the_vendors_documented_requests_are_accepted(client, account, mailbox):
    customer = client.post("/v2/customers", json=payload("create-customer-request.json"))
    assert customer.status_code == 201 and customer.content == b""
    assert customer.headers["Location"].endswith(f"/v2/customers/{customer.headers['Resource-ID']}")
    body = {**payload("create-conversation-request.json"), "mailboxId": mailbox}
    body["fields"] = [{"id": field_id(account), "value": "trial"}]
    created = client.post("/v2/conversations", json=body)
    assert created.status_code == 201 and created.content == b""
    cid = created.headers["Resource-ID"]
    thread = {
        **payload("create-customer-thread-request.json"),
        "customer": {"id": int(customer.headers["Resource-ID"])},
    }
    assert client.post(f"/v2/conversations/{cid}/customer", json=thread).status_code == 201
    assert (
        client.post(f"/v2/conversations/{cid}/notes", json=payload("create-note-request.json")).status_code
        == 201
    )
    fields = {"fields": [{"id": field_id(account), "value": "168"}]}
    assert client.put(f"/v2/conversations/{cid}/fields", json=fields).status_code == 204
    hook = {**payload("create-webhook-request.json"), "url": "https://example.com/helpscout"}
    made = client.post("/v2/webhooks", json=hook)
    assert made.status_code == 201
    shown = client.get(f"/v2/webhooks/{made.headers['Resource-ID']}").json()
    assert set(payload("get-webhook.json")) == set(shown) and "secret" not in shown


def test_a_conversation_reads_in_the_vendors_shape(client, mailbox):
    cid = conversation(client, mailbox)
    shown = client.get(f"/v2/conversations/{cid}", params={"embed": "threads"})
    assert shown.headers["Content-Type"] == "application/hal+json"
    documented = set(payload("get-conversation.json")) - {"assignee", "closedBy", "closedByUser", "closedAt"}
    assert documented <= set(shown.json())
    [thread] = shown.json()["_embedded"]["threads"]
    assert set(payload("list-threads.json")["_embedded"]["threads"][1]) - {
        "assignedTo",
        "savedReplyId",
    } <= set(thread)
    listed = client.get("/v2/conversations").json()
    assert listed["page"] == {"size": 25, "totalElements": 1, "totalPages": 1, "number": 1}
    assert client.get("/v2/conversations", params={"status": "closed"}).json().get("_embedded") is None


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"subject": ""}, "subject", "may not be empty"),
        (
            {"status": "Wrong"},
            "status",
            "Expected one of these: 'active', 'spam', 'open', 'closed', 'pending'",
        ),
        ({"mailboxId": "85"}, "mailboxId", "must be a Number"),
        ({"threads": []}, "threads", "may not be empty"),
        ({"priority": "high"}, "priority", "Unrecognized field"),
        ({"customer": {"firstName": "Vernon"}}, "customer", "must contain a customer id or an email"),
        ({"tags": "vip"}, "tags", "must be a Array"),
    ],
)
def test_a_malformed_conversation_gets_the_vendors_400(client, mailbox, change, path, message):
    body = {**payload("create-conversation-request.json"), "mailboxId": mailbox, **change}
    body.pop("fields")
    answer = client.post("/v2/conversations", json=body)
    assert answer.status_code == 400
    assert answer.headers["Content-Type"] == "application/vnd.error+json"
    error = answer.json()
    assert error["message"] == "Bad request" and error["logRef"]
    assert {"path": path, "message": message} in [
        {"path": e["path"], "message": e["message"]} for e in error["_embedded"]["errors"]
    ]
    assert set(error) == set(payload("error-400-validation.json")["body"])


def test_missing_required_fields_and_other_refusals(client, mailbox, live_url):
    no_subject = {**payload("create-conversation-request.json"), "mailboxId": mailbox}
    del no_subject["subject"], no_subject["fields"]
    assert (
        client.post("/v2/conversations", json=no_subject).json()["_embedded"]["errors"][0]["path"]
        == "subject"
    )
    cid = conversation(client, mailbox)
    refused = [
        client.post(f"/v2/conversations/{cid}/customer", json={"text": "hi"}),  # no customer
        client.post(
            f"/v2/conversations/{cid}/notes", json={"text": "x", "createdAt": "2020-01-01T00:00:00Z"}
        ),
        client.post(
            f"/v2/conversations/{cid}/notes",
            json={"text": "x", "attachments": [{"fileName": "a", "mimeType": "b", "data": "%%%"}]},
        ),
        client.put(f"/v2/conversations/{cid}/fields", json={"fields": [{"id": 1, "value": "x"}]}),
        client.patch(f"/v2/conversations/{cid}", json={"op": "replace", "path": "/status", "value": "done"}),
        client.post(
            "/v2/webhooks", json={"url": "https://x.example", "events": ["convo.created"], "secret": "s" * 41}
        ),
        client.get("/v2/conversations", params={"colour": "red"}),
        client.post("/v2/conversations", content=b"{not json", headers={"Content-Type": "application/json"}),
    ]
    assert [r.status_code for r in refused] == [400] * len(refused)
    assert client.get("/v2/conversations/999999999").status_code == 404
    assert client.delete("/v2/conversations").status_code == 405
    assert httpx.get(f"{live_url}/sandbox/helpscout/v2/users/me").status_code == 401
    assert (
        httpx.get(
            f"{live_url}/sandbox/helpscout/v2/users/me", headers={"Authorization": "Bearer nope"}
        ).status_code
        == 401
    )
    wrong = httpx.post(
        f"{live_url}/sandbox/helpscout/v2/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"},
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"


def test_rate_limit_headers_and_writes_counting_two(client, account):
    seed.set_rate_limit(account, 10)
    first = client.get("/v2/users/me")
    assert first.headers["X-RateLimit-Limit-Minute"] == "10"
    before = int(first.headers["X-RateLimit-Remaining-Minute"])
    client.post("/v2/webhooks", json={"url": "https://x.example", "events": ["convo.created"], "secret": "s"})
    after = int(client.get("/v2/users/me").headers["X-RateLimit-Remaining-Minute"])
    assert before - after == 3  # the write cost 2, the read 1


def browser_form(session: httpx.Client, url: str) -> tuple[str, dict[str, str]]:
    """The page's form action and fields, with its CSRF token, as a browser would post them."""
    page = session.get(url)
    assert page.status_code == 200, page.text
    assert 'name="viewport"' in page.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    return page.text, fields


def test_authorization_code_grant_through_the_consent_page(live_url, account):
    redirect_uri = "https://deskbridge.example/helpdesks/helpscout/callback"
    url = HelpScoutConnector.authorize_url({}, "state-123", redirect_uri)
    assert url.startswith(
        f"{live_url}/sandbox/helpscout/authentication/authorizeClientApplication?client_id="
    )
    with httpx.Client() as session:
        _, fields = browser_form(session, url)
        back = session.post(url.split("?")[0], data={**fields, "account": account, "authorize": "1"})
    assert back.status_code == 302
    location = urlparse(back.headers["Location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    assert query["state"] == ["state-123"]
    tokens = HelpScoutConnector.exchange_code({}, query["code"][0], redirect_uri)
    assert set(tokens) == {"access_token", "refresh_token", "expires_at"}
    with pytest.raises(Rejected):
        HelpScoutConnector.exchange_code({}, query["code"][0], redirect_uri)  # a code is single-use
    saved: dict[str, str] = {}
    connected = HelpScoutConnector(tokens, save_secrets=saved.update)
    assert connected.verify().name == f"{account} support"
    seed.expire_tokens(account)
    store.records(account).all("tokens")[0].delete()  # and unknown: only the refresh token helps
    connected.verify()
    assert (
        saved["refresh_token"] != tokens["refresh_token"] and saved["access_token"] != tokens["access_token"]
    )


def test_the_inbox_page_shows_the_conversation_and_sends_the_agents_reply(
    live_url, connector, account, receiver
):
    connector.config.update(connector.provision(receiver.url).secrets)
    customer = connector.upsert_customer(buyer())
    ticket = connector.open_thread(customer, buyer(), message(), None)
    connector.add_note(ticket, "Order shipped by FBA")
    page_url = f"{live_url}{seed.page_url(account)}"
    with httpx.Client() as session:
        text, fields = browser_form(session, page_url)
        assert (
            "Where is my parcel?" in text
            and "Order shipped by FBA" in text
            and "thread-deskbridge-1-c7" in text
        )
        sent = session.post(
            page_url, data={**fields, "conversation": ticket.id, "text": "On its way!", "kind": "reply"}
        )
        assert sent.status_code == 302
        assert "On its way!" in session.get(page_url).text
        refused = httpx.post(page_url, data={"conversation": ticket.id, "text": "x", "kind": "reply"})
        assert refused.status_code == 403  # no CSRF token
    [(headers, body)] = receiver.wait_for(1)
    connector.verify_webhook(headers, body)
    [reply] = connector.read_webhook(body)
    assert reply.text == "On its way!"
    assert httpx.get(f"{live_url}{seed.page_url('hs-nobody')}").status_code == 404

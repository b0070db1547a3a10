"""The Kustomer connector against the emulated Kustomer over loopback (a real server, `live_url`)."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from deskbridge.amazon.orders import Money, OrderContext, OrderItem
from deskbridge.helpdesks.base import Attachment, Buyer, BuyerMessage, WebhookRejected
from deskbridge.helpdesks.http import AuthenticationFailed, RateLimited
from deskbridge.helpdesks.kustomer.connector import KustomerConnector
from deskbridge.sandbox.helpdesks.kustomer import seed
from deskbridge.sandbox.helpdesks.models import SandboxHelpdeskBucket, SandboxHelpdeskRecord
from tests.processes import free_port

_orgs = itertools.count(1)
US = "ATVPDKIKX0DER"


class Receiver:
    """A webhook endpoint: records each delivery's headers and raw body."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        received = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append((dict(self.headers.items()), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/kustomer"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, seconds: float = 10) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + seconds
        while len(self.deliveries) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.deliveries)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def org(live_url) -> str:
    name = f"acme{next(_orgs)}"
    seed.create_account(name)
    return name


@pytest.fixture
def kustomer(org) -> KustomerConnector:
    return KustomerConnector(seed.create_account(org))


def provisioned(kustomer: KustomerConnector, url: str) -> KustomerConnector:
    result = kustomer.provision(url)
    return KustomerConnector({**kustomer.config, **result.settings, **result.secrets})


BUYER = Buyer(
    alias="k4x8abc@marketplace.amazon.com", name="Jane Doe", seller_id="A1SELLER", marketplace_id=US
)


def message(n: int = 1, text: str = "Hi, my order arrived damaged.", **extra) -> BuyerMessage:
    return BuyerMessage(
        external_id=f"msg-{n}",
        thread_external_id="thread-111-2222222-3333333",
        subject="Amazon.com order 111-2222222-3333333: damaged",
        text=text,
        sent_at=datetime(2026, 10, 21, 15, tzinfo=UTC),
        marketplace_id=US,
        marketplace_code="US",
        order_id="111-2222222-3333333",
        tags=("amazon", "amazon-us"),
        **extra,
    )


ORDER = OrderContext(
    order_id="111-2222222-3333333",
    marketplace_id=US,
    order_url="https://sellercentral.amazon.com/orders-v3/order/111-2222222-3333333",
    status="Shipped",
    fulfillment_channel="FBA",
    purchase_date=datetime(2026, 10, 18, tzinfo=UTC),
    items=(OrderItem("1", 2, asin="B000000001"),),
    total=Money(Decimal("24.99"), "USD"),
)


def only_ticket(org: str) -> dict:
    tickets = seed.tickets(org)
    assert len(tickets) == 1
    return tickets[0]


def test_verify_and_wrong_credentials(kustomer, org):
    account = kustomer.verify()
    assert account.name == org
    assert account.ids["org_id"] and account.ids["user_id"]
    with pytest.raises(AuthenticationFailed):
        KustomerConnector({"org": org, "api_key": "not-the-key"}).verify()
    with pytest.raises(AuthenticationFailed):  # another org's key
        KustomerConnector({"org": org, "api_key": seed.create_account(org + "x")["api_key"]}).verify()


def test_provision_twice_makes_one_webhook_and_defines_the_attributes_once(kustomer, org, receiver):
    first, second = kustomer.provision(receiver.url), kustomer.provision(receiver.url)
    assert first.settings == second.settings and first.secrets == second.secrets
    assert first.secrets["webhook_token"] and not first.manual_steps
    hooks = SandboxHelpdeskRecord.objects.filter(
        helpdesk="kustomer", account=org, collection="outbound_webhooks"
    )
    assert hooks.count() == 1 and hooks.get().data["events"] == ["kustomer.message.create"]
    metadata = kustomer.http.get("/v1/metadata/conversation")["data"]["attributes"]["properties"]
    assert metadata["amazonOrderIdStr"]["displayName"] == "Amazon order ID"
    assert metadata["amazonOrderIdStr"]["type"] == "string"


def test_upsert_customer_twice_is_one_customer_without_an_email(kustomer, org):
    first, second = kustomer.upsert_customer(BUYER), kustomer.upsert_customer(BUYER)
    assert first == second
    customers = SandboxHelpdeskRecord.objects.filter(helpdesk="kustomer", account=org, collection="customers")
    assert customers.count() == 1
    data = customers.get().data
    assert data["externalId"] == BUYER.external_id and data["name"] == "Jane Doe"
    assert data["emails"] == [] and BUYER.alias not in json.dumps(data)


def test_open_thread_is_the_buyers_message_with_fields_and_tags(kustomer, org, receiver):
    kustomer = provisioned(kustomer, receiver.url)
    customer = kustomer.upsert_customer(BUYER)
    ticket = kustomer.open_thread(customer, BUYER, message(), ORDER)
    assert kustomer.find_thread("thread-111-2222222-3333333") == ticket
    t = only_ticket(org)
    assert t["id"] == ticket.id and t["status"] == "open"
    assert t["subject"] == "Amazon.com order 111-2222222-3333333: damaged"
    assert t["external_id"] == "thread-111-2222222-3333333"
    assert t["customer"]["id"] == customer and t["customer"]["email"] == ""
    assert t["tags"] == ["amazon", "amazon-us"]
    assert t["fields"]["amazon_order_id"] == "111-2222222-3333333"
    assert t["fields"]["amazon_order_total"] == "24.99 USD"
    assert t["fields"]["amazon_items"] == "B000000001 × 2"
    assert [(m["author"], m["public"], m["text"]) for m in t["messages"]] == [
        ("customer", True, "Hi, my order arrived damaged.")
    ]
    stored = SandboxHelpdeskRecord.objects.get(helpdesk="kustomer", account=org, collection="messages").data
    assert (stored["direction"], stored["channel"], stored["app"]) == ("in", "chat", "deskbridge")
    # Our own write came back as an event, and it is no agent reply.
    [(headers, body)] = receiver.wait(1)
    kustomer.verify_webhook(headers, body)
    assert kustomer.read_webhook(body) == []
    # Opening again (a retry) makes nothing new.
    assert kustomer.open_thread(customer, BUYER, message(), ORDER) == ticket
    assert len(only_ticket(org)["messages"]) == 1


def test_append_inbound_is_idempotent_and_reopens_a_solved_ticket(kustomer, org):
    customer = kustomer.upsert_customer(BUYER)
    ticket = kustomer.open_thread(customer, BUYER, message(), None)
    kustomer.set_status(ticket, "solved")
    assert only_ticket(org)["status"] == "solved"
    first = kustomer.append_inbound(ticket, customer, BUYER, message(2, "Any news?"))
    assert only_ticket(org)["status"] == "open"
    kustomer.set_status(ticket, "solved")
    again = kustomer.append_inbound(ticket, customer, BUYER, message(2, "Any news?"))
    assert first == again
    t = only_ticket(org)
    assert [m["text"] for m in t["messages"]] == ["Hi, my order arrived damaged.", "Any news?"]
    assert t["status"] == "open"


def test_notes_are_internal_and_order_context_updates_the_fields(kustomer, org):
    customer = kustomer.upsert_customer(BUYER)
    ticket = kustomer.open_thread(customer, BUYER, message(), None)
    assert only_ticket(org)["fields"] == {}
    kustomer.set_order_context(ticket, ORDER)
    note = kustomer.add_note(ticket, ORDER.as_note())
    t = only_ticket(org)
    assert t["fields"]["amazon_order_status"] == "Shipped"
    assert [(m["id"], m["author"], m["public"]) for m in t["messages"][1:]] == [(note, "agent", False)]
    assert t["messages"][1]["text"].startswith("Amazon order 111-2222222-3333333")


def test_find_thread_after_a_lost_answer(kustomer, org):
    customer = kustomer.upsert_customer(BUYER)
    assert kustomer.find_thread("thread-111-2222222-3333333") is None
    ticket = kustomer.open_thread(customer, BUYER, message(), None)
    # The 201 was lost: the pipeline asks again, and gets the same conversation.
    found = kustomer.find_thread("thread-111-2222222-3333333")
    assert found is not None and found.id == ticket.id and found.customer_id == customer


def test_attachments_travel_both_ways(kustomer, org, receiver):
    kustomer = provisioned(kustomer, receiver.url)
    customer = kustomer.upsert_customer(BUYER)
    photo = Attachment("photo.jpg", "image/jpeg", b"\xff\xd8\xff" + b"x" * 500)
    kustomer.open_thread(customer, BUYER, message(attachments=(photo,)), None)
    assert only_ticket(org)["messages"][0]["attachments"] == ["photo.jpg"]
    # An agent's reply with the buyer's file: read_webhook lists it and download fetches the bytes.
    msg = SandboxHelpdeskRecord.objects.get(helpdesk="kustomer", account=org, collection="messages")
    reply = kustomer.http.post(
        f"/v1/conversations/{only_ticket(org)['id']}/messages",
        json={
            "app": "deskbridge",
            "channel": "chat",
            "direction": "out",
            "body": "See attached",
            "attachments": msg.data["attachments"],
        },
    )
    deliveries = receiver.wait(2)
    [agent] = [kustomer.read_webhook(body) for _, body in deliveries if kustomer.read_webhook(body)]
    assert agent[0].message_id == reply["data"]["id"]
    assert kustomer.download(agent[0].attachments[0]) == photo.content


def test_agent_reply_fires_a_signed_webhook_read_as_one_reply(kustomer, org, receiver):
    kustomer = provisioned(kustomer, receiver.url)
    customer = kustomer.upsert_customer(BUYER)
    ticket = kustomer.open_thread(customer, BUYER, message(), None)
    receiver.wait(1)
    message_id = seed.agent_reply(org, ticket.id, "A replacement ships tomorrow.")
    deliveries = receiver.wait(2)
    assert len(deliveries) == 2
    headers, body = deliveries[1]
    assert headers["X-Kustomer-Webhook-Event"] == "kustomer.message.create"
    event_id = kustomer.verify_webhook(headers, body)
    assert event_id == json.loads(body)["id"]
    [reply] = kustomer.read_webhook(body)
    assert (reply.ticket_id, reply.message_id) == (ticket.id, message_id)
    assert reply.text == "A replacement ships tomorrow." and reply.author == "Alex Agent"
    with pytest.raises(WebhookRejected):
        kustomer.verify_webhook({**headers, "X-Kustomer-Webhook-Signature": "0" * 64}, body)
    with pytest.raises(WebhookRejected):
        kustomer.verify_webhook(headers, body.replace(b"replacement", b"refund!!!!!"))
    # An internal note is no message: nothing is delivered for it.
    seed.agent_reply(org, ticket.id, "Check the warehouse", public=False)
    time.sleep(1)
    assert len(receiver.deliveries) == 2
    assert [m["public"] for m in only_ticket(org)["messages"]] == [True, True, False]


def test_the_emulators_rate_limit_surfaces_as_rate_limited(kustomer, org):
    kustomer.verify()
    SandboxHelpdeskBucket.objects.filter(key=f"kustomer:{org}").update(tokens=0.0)
    with pytest.raises(RateLimited) as caught:
        kustomer.verify()
    assert caught.value.status == 429
    assert 0 < caught.value.retry_after <= 60


def test_the_emulator_rejects_what_kustomer_rejects(kustomer, org, live_url):
    base = f"{live_url}/sandbox/kustomer/{org}/v1"
    auth = {"Authorization": f"Bearer {kustomer.config['api_key']}"}
    customer = kustomer.upsert_customer(BUYER)

    def post(path: str, body: object, headers: dict | None = None) -> httpx.Response:
        return httpx.post(f"{base}{path}", json=body, headers=auth if headers is None else headers)

    no_auth = post("/customers", {"name": "x"}, headers={})
    assert no_auth.status_code == 401 and no_auth.json()["errors"][0]["code"] == "unauthorized"
    assert post("/customers", {"name": "x"}, headers={"Authorization": "Basic eDp5"}).status_code == 401
    missing = post("/conversations", {"name": "no customer"})
    assert missing.status_code == 400
    error = missing.json()["errors"][0]
    assert error["source"]["pointer"] == "/data/attributes/customer" and error["status"] == "400"
    assert post("/conversations", {"customer": customer, "colour": "red"}).status_code == 400
    assert post("/conversations", {"customer": customer, "priority": "high"}).status_code == 400
    assert post("/conversations", {"customer": customer, "status": "closed"}).status_code == 400
    bad_custom = post("/conversations", {"customer": customer, "custom": {"orderId": "1"}})
    assert bad_custom.status_code == 400 and "suffix" in bad_custom.json()["errors"][0]["detail"]
    assert post("/conversations", {"customer": "123"}).status_code == 400
    no_direction = post(
        f"/customers/{customer}/messages", {"app": "deskbridge", "channel": "chat", "body": "x"}
    )
    assert no_direction.status_code == 400
    wrong_channel = {"app": "d", "channel": "amazon", "direction": "in", "body": "x"}
    assert post(f"/customers/{customer}/messages", wrong_channel).status_code == 400
    assert post("/notes", {"body": "a note without a conversation"}).status_code == 400
    plain_http = post(
        "/outbound-webhooks",
        {"name": "x", "url": "http://example.com/h", "events": ["kustomer.message.create"]},
    )
    assert plain_http.status_code == 400
    unknown_event = post(
        "/outbound-webhooks",
        {"name": "x", "url": "https://example.com/h", "events": ["kustomer.note.create"]},
    )
    assert unknown_event.status_code == 400
    malformed = httpx.post(
        f"{base}/customers", content=b"{", headers={**auth, "Content-Type": "application/json"}
    )
    assert malformed.status_code == 400 and malformed.json()["errors"][0]["code"] == "bad_request"
    assert httpx.get(f"{base}/conversations/externalId=nope", headers=auth).status_code == 404
    ok = httpx.get(f"{base}/auth/tokens/current", headers=auth)
    assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(ok.headers)


def test_the_agent_page_lists_and_answers(kustomer, org, receiver, live_url):
    kustomer = provisioned(kustomer, receiver.url)
    customer = kustomer.upsert_customer(BUYER)
    ticket = kustomer.open_thread(customer, BUYER, message(), ORDER)
    client = httpx.Client(base_url=live_url)
    page = client.get(seed.page_url(org))
    assert page.status_code == 200
    assert "Hi, my order arrived damaged." in page.text and "Amazon order ID" in page.text
    token = (
        client.cookies.get("csrftoken")
        or page.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    )
    answered = client.post(
        f"{seed.page_url(org)}reply",
        data={"csrfmiddlewaretoken": token, "conversation": ticket.id, "text": "On its way", "kind": "reply"},
        headers={"Referer": live_url + seed.page_url(org)},
    )
    assert answered.status_code == 302
    assert only_ticket(org)["messages"][-1]["text"] == "On its way"
    [_, (_, body)] = receiver.wait(2)
    [reply] = kustomer.read_webhook(body)
    assert reply.text == "On its way"
    assert client.get(ticket.url.replace(live_url, "")).status_code == 200

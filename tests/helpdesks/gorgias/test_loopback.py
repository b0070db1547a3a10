"""The Gorgias connector against the emulator over loopback (a real server on the test database)."""

from __future__ import annotations

import json

import httpx
import pytest
from django.core import mail

from deskbridge.helpdesks.base import ORDER_FIELDS, WebhookRejected
from deskbridge.helpdesks.gorgias.connector import GorgiasConnector
from deskbridge.helpdesks.http import AuthenticationFailed, RateLimited
from deskbridge.sandbox.helpdesks.gorgias import seed
from deskbridge.sandbox.helpdesks.state import Records

from .conftest import BUYER, ORDER, buyer_message


def records(domain: str, collection: str) -> list:
    return [r.data for r in Records("gorgias", domain).all(collection)]


def only_ticket(domain: str) -> dict:
    (ticket,) = seed.tickets(domain)
    return ticket


def open_one(gorgias: GorgiasConnector, thread: str = "thread-1"):
    customer = gorgias.upsert_customer(BUYER)
    return customer, gorgias.open_thread(customer, BUYER, buyer_message(1, thread), ORDER)


def test_verify_names_the_account_and_our_api_user(gorgias, domain):
    account = gorgias.verify()
    admin = next(u for u in records(domain, "users") if u["role"]["name"] == "admin")
    assert account.name == f"{domain}.gorgias.com"
    assert account.ids == {"user_id": str(admin["id"])}


def test_wrong_credentials_fail_authentication(config):
    with pytest.raises(AuthenticationFailed):
        GorgiasConnector({**config, "api_key": "0" * 64}).verify()
    with pytest.raises(AuthenticationFailed):
        GorgiasConnector({**config, "username": "someone@else.example"}).verify()


def test_create_account_is_idempotent(domain, config):
    assert seed.create_account(domain) == config
    assert len(records(domain, "users")) == 2


def test_provision_twice_reuses_the_fields_and_the_integration(gorgias, domain, receiver):
    first = gorgias.provision(receiver.url)
    second = GorgiasConnector({**gorgias.config, **first.settings, **first.secrets}).provision(receiver.url)
    assert second == first
    assert first.manual_steps == ()
    assert len(records(domain, "custom-fields")) == len(ORDER_FIELDS)
    (integration,) = records(domain, "integrations")
    assert first.settings["integration_id"] == str(integration["id"])
    assert integration["http"]["url"] == receiver.url
    assert integration["http"]["triggers"] == {"ticket-message-created": True}
    assert integration["http"]["headers"] == {"X-Deskbridge-Secret": first.secrets["webhook_secret"]}
    # A connection that lost its settings finds everything again (and keeps the secret Gorgias has).
    third = GorgiasConnector(seed.create_account(domain)).provision(receiver.url)
    assert third == first


def test_provision_moves_the_integration_when_the_webhook_url_changes(gorgias, domain, receiver):
    first = gorgias.provision("http://127.0.0.1:9/old")
    second = gorgias.provision(receiver.url)
    assert second.settings["integration_id"] == first.settings["integration_id"]
    assert [i["http"]["url"] for i in records(domain, "integrations")] == [receiver.url]


def test_upsert_customer_twice_is_one_customer_without_a_deliverable_address(gorgias, domain):
    first = gorgias.upsert_customer(BUYER)
    assert gorgias.upsert_customer(BUYER) == first
    (customer,) = records(domain, "customers")
    assert customer["external_id"] == BUYER.external_id
    assert customer["email"] == BUYER.placeholder_email and customer["email"].endswith(".invalid")
    assert BUYER.alias not in json.dumps(customer)


def test_open_thread_is_a_buyer_authored_api_ticket_with_fields_and_tags_and_no_email(gorgias, domain):
    gorgias.provision("http://127.0.0.1:9/unused")
    customer, ticket = open_one(gorgias)
    seen = only_ticket(domain)
    assert seen["id"] == ticket.id and ticket.customer_id == customer
    assert seen["external_id"] == "thread-1"
    assert seen["customer"]["external_id"] == BUYER.external_id
    assert set(seen["tags"]) >= {"amazon", "amazon-us"}
    assert seen["fields"]["amazon_order_id"] == "111-2222222-3333333"
    assert seen["fields"]["amazon_marketplace"] == "amazon.com"
    assert seen["fields"]["amazon_items"] == "B000000000 × 2"
    (message,) = seen["messages"]
    assert message["author"] == "customer" and message["public"] and "arrived damaged" in message["text"]
    (raw,) = records(domain, "messages")
    assert raw["channel"] == "api" and raw["from_agent"] is False and raw["sent_datetime"]
    assert ticket.url.endswith(f"/sandbox/gorgias/{domain}/app/ticket/{ticket.id}")
    # An agent's answer on this ticket is not emailed either: the api channel has no transport.
    seed.agent_reply(domain, ticket.id, "We will send a new one.")
    assert records(domain, "sent-emails") == [] and mail.outbox == []


def test_the_same_follow_up_twice_is_one_message(gorgias, domain):
    customer, ticket = open_one(gorgias)
    first = gorgias.append_inbound(ticket, customer, BUYER, buyer_message(2, "thread-1"))
    again = gorgias.append_inbound(ticket, customer, BUYER, buyer_message(2, "thread-1"))
    assert again == first
    texts = [m["text"] for m in only_ticket(domain)["messages"]]
    assert texts == ["Hi, my order arrived damaged. (message 1)", "Hi, my order arrived damaged. (message 2)"]


def test_a_follow_up_reopens_a_solved_ticket(gorgias, domain):
    customer, ticket = open_one(gorgias)
    gorgias.set_status(ticket, "solved")
    assert only_ticket(domain)["status"] == "solved"
    gorgias.append_inbound(ticket, customer, BUYER, buyer_message(2, "thread-1"))
    assert only_ticket(domain)["status"] == "open"


def test_a_note_is_internal_and_authored_by_our_api_user(gorgias, domain):
    _, ticket = open_one(gorgias)
    note_id = gorgias.add_note(ticket, "Amazon order 111-2222222-3333333\nStatus: Shipped")
    note = next(m for m in only_ticket(domain)["messages"] if m["id"] == note_id)
    assert note["public"] is False and note["author"] == "agent"
    raw = next(m for m in records(domain, "messages") if str(m["id"]) == note_id)
    assert raw["channel"] == "internal-note" and str(raw["sender"]["id"]) == gorgias.user_id()


def test_find_thread_finds_a_ticket_whose_answer_was_lost(gorgias):
    _, ticket = open_one(gorgias, "thread-lost")
    fresh = GorgiasConnector(gorgias.config)  # as after a crash: nothing remembered
    found = fresh.find_thread("thread-lost")
    assert found is not None and found.id == ticket.id and found.status == "open"
    assert fresh.find_thread("thread-never-made") is None


def test_set_order_context_keeps_the_values_agents_set(gorgias, domain, config):
    gorgias.provision("http://127.0.0.1:9/unused")
    customer = gorgias.upsert_customer(BUYER)
    ticket = gorgias.open_thread(customer, BUYER, buyer_message(1, "thread-2"), None)
    assert only_ticket(domain)["fields"] == {}
    base = f"{gorgias.api_base}"
    auth = (config["username"], config["api_key"])
    reason = httpx.post(
        f"{base}/custom-fields",
        auth=auth,
        json={"object_type": "Ticket", "label": "Contact reason", "definition": {"data_type": "text"}},
    ).json()
    httpx.put(
        f"{base}/tickets/{ticket.id}/custom-fields",
        auth=auth,
        json=[{"id": reason["id"], "value": "Damaged"}],
    ).raise_for_status()
    gorgias.set_order_context(ticket, ORDER)
    values = {
        v["field"]["label"]: v["value"]
        for v in httpx.get(f"{base}/tickets/{ticket.id}/custom-fields", auth=auth).json()
    }
    assert values["Contact reason"] == "Damaged"
    assert values["Amazon order ID"] == "111-2222222-3333333" and values["Amazon order total"] == "24.99 USD"


def test_the_emulator_s_429_surfaces_as_rate_limited_with_retry_after(gorgias, config):
    with httpx.Client(base_url=gorgias.api_base, auth=(config["username"], config["api_key"])) as client:
        answers = [client.get("/users/0")]
        while answers[-1].status_code != 429 and len(answers) < 400:  # the bucket refills 2 a second
            answers.append(client.get("/users/0"))
    refused = [a for a in answers if a.status_code == 429]
    assert refused, "the bucket of 40 never ran dry"
    assert refused[0].json() == {"error": {"msg": "Too many requests."}}
    assert refused[0].headers["X-Gorgias-Account-Api-Call-Limit"] == "40/40"
    assert int(refused[0].headers["Retry-after"]) >= 1
    assert answers[0].headers["X-Gorgias-Account-Api-Call-Limit"] == "1/40"
    # Our side of the limit still has its 40 tokens: what stops the connector is the emulator's 429.
    with pytest.raises(RateLimited) as caught:
        for _ in range(20):
            gorgias.verify()
    assert caught.value.status == 429 and caught.value.retry_after >= 1


def test_an_agent_reply_reaches_us_signed_and_reads_as_one_reply(gorgias, domain, receiver):
    provisioned = gorgias.provision(receiver.url)
    connected = GorgiasConnector({**gorgias.config, **provisioned.settings, **provisioned.secrets})
    _customer, ticket = open_one(connected)
    ours = receiver.drain()
    assert ours, "creating the ticket fires ticket-message-created"
    for delivery in ours:  # our own buyer-authored write comes back, and yields no reply
        connected.verify_webhook(delivery.headers, delivery.body)
        assert connected.read_webhook(delivery.body) == []
    message_id = seed.agent_reply(
        domain,
        ticket.id,
        "Sorry! A replacement ships today.",
        html="<p>Sorry! A replacement ships today.</p>",
    )
    delivery = receiver.next()
    assert delivery.path == "/hooks/gorgias"
    event = connected.verify_webhook(delivery.headers, delivery.body)
    assert event.startswith("gorgias-")
    (reply,) = connected.read_webhook(delivery.body)
    assert (reply.ticket_id, reply.message_id, reply.text) == (
        ticket.id,
        message_id,
        "Sorry! A replacement ships today.",
    )
    assert reply.html == "<p>Sorry! A replacement ships today.</p>" and reply.author == "Alex Agent"
    tampered = {**delivery.headers, "X-Deskbridge-Secret": "f" * 64}
    with pytest.raises(WebhookRejected):
        connected.verify_webhook(tampered, delivery.body)
    without = {k: v for k, v in delivery.headers.items() if k.lower() != "x-deskbridge-secret"}
    with pytest.raises(WebhookRejected):
        connected.verify_webhook(without, delivery.body)


def test_notes_and_our_own_writes_give_no_reply(gorgias, domain, receiver):
    provisioned = gorgias.provision(receiver.url)
    connected = GorgiasConnector({**gorgias.config, **provisioned.settings, **provisioned.secrets})
    customer, ticket = open_one(connected)
    connected.append_inbound(ticket, customer, BUYER, buyer_message(2, "thread-1"))
    connected.add_note(ticket, "Order details")
    seed.agent_reply(domain, ticket.id, "Checking with the warehouse.", public=False)
    deliveries = receiver.drain(1.0)
    assert len(deliveries) == 4  # ticket, follow-up, our note, the agent's note
    for delivery in deliveries:
        connected.verify_webhook(delivery.headers, delivery.body)
        assert connected.read_webhook(delivery.body) == []


def test_the_emulator_refuses_what_gorgias_refuses(gorgias, domain, config):
    base, auth = gorgias.api_base, (config["username"], config["api_key"])
    customer, ticket = open_one(gorgias)
    follow_up = buyer_message(9, "thread-1")
    good = {
        "channel": "api",
        "via": "api",
        "from_agent": False,
        "sender": {"id": int(customer)},
        "source": {"type": "api", "from": {"address": BUYER.placeholder_email}},
        "body_text": follow_up.text,
    }
    url = f"{base}/tickets/{ticket.id}/messages"

    def post(body, **kwargs):
        return httpx.post(url, json=body, auth=kwargs.get("auth", auth))

    missing = post({k: v for k, v in good.items() if k not in ("sender", "channel")})
    assert missing.status_code == 400
    assert missing.json()["error"]["data"] == {
        "sender": ["Missing data for required field."],
        "channel": ["Missing data for required field."],
    }
    assert post({**good, "author": "x"}).json()["error"]["data"] == {"author": ["Unknown field."]}
    assert post({**good, "from_agent": "false"}).json()["error"]["data"] == {
        "from_agent": ["Not a valid boolean."]
    }
    assert post({**good, "channel": "carrier-pigeon"}).status_code == 400
    assert post({**good, "receiver": {"id": 1}}).status_code == 400  # incoming: no receiver
    assert post({**good, "sender": {"id": 999999}}).status_code == 400
    assert post(good, auth=(config["username"], "nope")).status_code == 401
    assert post({**good, "channel": "internal-note", "from_agent": False}).status_code == 400
    assert httpx.post(f"{base}/tickets", json={"subject": "no messages"}, auth=auth).json()["error"][
        "data"
    ] == {"messages": ["Missing data for required field."]}
    assert httpx.get(f"{base}/tickets", params={"limit": 101}, auth=auth).status_code == 400
    assert httpx.get(f"{base}/custom-fields", auth=auth).status_code == 400  # object_type is required
    assert httpx.get(f"{base}/tickets/999999", auth=auth).json() == {"error": {"msg": "Resource not found."}}
    assert (
        httpx.put(
            f"{base}/tickets/{ticket.id}/custom-fields", json=[{"id": 999999, "value": "x"}], auth=auth
        ).status_code
        == 400
    )
    duplicate = httpx.post(f"{base}/customers", json={"email": BUYER.placeholder_email}, auth=auth)
    assert duplicate.status_code == 409 and duplicate.json() == {
        "error": {"msg": "The resource already exists."}
    }
    agent, key = seed.agent_credentials(domain)
    hook = {"name": "x", "type": "http", "http": {"url": "http://127.0.0.1:9/", "method": "POST"}}
    assert httpx.post(f"{base}/integrations", json=hook, auth=(agent["email"], key)).status_code == 403
    assert len(only_ticket(domain)["messages"]) == 1  # nothing refused was written


def test_pagination_follows_the_cursor(gorgias, config):
    base, auth = gorgias.api_base, (config["username"], config["api_key"])
    for n in range(3):
        gorgias.upsert_customer(
            BUYER.__class__(
                alias=f"b{n}@marketplace.amazon.com",
                name=f"B {n}",
                seller_id="S",
                marketplace_id="ATVPDKIKX0DER",
            )
        )
    first = httpx.get(
        f"{base}/customers", params={"limit": 2, "order_by": "created_datetime:asc"}, auth=auth
    ).json()
    assert first["object"] == "list" and len(first["data"]) == 2 and first["meta"]["prev_cursor"] is None
    second = httpx.get(
        f"{base}/customers",
        params={"limit": 2, "order_by": "created_datetime:asc", "cursor": first["meta"]["next_cursor"]},
        auth=auth,
    ).json()
    assert [c["name"] for c in first["data"] + second["data"]] == ["B 0", "B 1", "B 2"]
    assert second["meta"]["next_cursor"] is None


def test_the_page_shows_the_ticket_and_takes_an_agent_reply(gorgias, domain, receiver, client):
    from django.test import Client

    provisioned = gorgias.provision(receiver.url)
    connected = GorgiasConnector({**gorgias.config, **provisioned.settings, **provisioned.secrets})
    _, ticket = open_one(connected)
    connected.add_note(ticket, "Order note for the agent")
    receiver.drain()
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(seed.page_url(domain))
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        "Amazon US · Order 111-2222222-3333333" in html
        and "Order note for the agent" in html
        and "amazon-us" in html
    )
    assert (
        browser.post(seed.page_url(domain), {"ticket": ticket.id, "text": "Hi", "kind": "reply"}).status_code
        == 403
    )
    token = browser.cookies["csrftoken"].value
    answer = browser.post(
        seed.page_url(domain),
        {"ticket": ticket.id, "text": "On its way.", "kind": "reply", "csrfmiddlewaretoken": token},
    )
    assert answer.status_code == 302
    (reply,) = connected.read_webhook(receiver.next().body)
    assert reply.text == "On its way."
    assert only_ticket(domain)["messages"][-1] == {
        **only_ticket(domain)["messages"][-1],
        "author": "agent",
        "public": True,
    }


def test_attachments_are_uploaded_with_the_buyer_s_message_and_downloadable(gorgias, domain):
    from dataclasses import replace

    from deskbridge.helpdesks.base import Attachment, ReplyAttachment

    photo = Attachment("photo.jpg", "image/jpeg", b"\xff\xd8\xff" + bytes(range(256)) * 40)
    customer = gorgias.upsert_customer(BUYER)
    message = replace(buyer_message(1, "thread-files"), attachments=(photo,))
    gorgias.open_thread(customer, BUYER, message, None)
    assert only_ticket(domain)["messages"][0]["attachments"] == ["photo.jpg"]
    (stored,) = records(domain, "messages")[0]["attachments"]
    assert stored["size"] == len(photo.content) and stored["content_type"] == "image/jpeg"
    fetched = gorgias.download(ReplyAttachment(stored["url"], "photo.jpg", "image/jpeg"))
    assert fetched == photo.content

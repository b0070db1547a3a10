"""The Help Scout connector against the emulated Help Scout over loopback (a real uvicorn server)."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from deskbridge.amazon.orders import OrderContext
from deskbridge.helpdesks.base import ORDER_FIELDS, Attachment, Ticket, WebhookRejected
from deskbridge.helpdesks.helpscout.connector import HelpScoutConnector
from deskbridge.helpdesks.http import AuthenticationFailed, RateLimited
from deskbridge.sandbox.helpdesks.helpscout import seed, store

from .conftest import api, buyer, message

ORDER = OrderContext(
    order_id="111-2222222-3333333",
    marketplace_id="ATVPDKIKX0DER",
    order_url="https://sellercentral.amazon.com/orders-v3/order/111-2222222-3333333",
    status="SHIPPED",
    fulfillment_channel="FBA",
)


def ticket_of(account: str, ticket_id: str) -> dict:
    return next(t for t in seed.tickets(account) if t["id"] == ticket_id)


def opened(
    connector: HelpScoutConnector, n: int = 1, order: OrderContext | None = ORDER
) -> tuple[str, Ticket]:
    customer = connector.upsert_customer(buyer())
    return customer, connector.open_thread(customer, buyer(), message(n), order)


def test_verify_names_the_inbox_and_keeps_the_token(connector, account, saved):
    found = connector.verify()
    assert found.name == f"{account} support"
    assert found.ids["mailbox_id"].isdigit() and found.ids["user_id"].isdigit()
    assert saved["access_token"] and int(saved["expires_at"]) > time.time() + 172000


def test_wrong_app_secret_fails_authentication(credentials):
    wrong = HelpScoutConnector({**credentials, "client_secret": "not-the-secret"})
    with pytest.raises(AuthenticationFailed):
        wrong.verify()


def test_an_expired_token_is_renewed_once_and_kept(connector, account, saved):
    connector.verify()
    first = saved["access_token"]
    seed.expire_tokens(account)  # the emulator refuses it now (401), though we think it fresh
    connector.verify()
    assert saved["access_token"] != first


def test_provision_twice_reuses_the_webhook_and_reads_the_fields(connector, account, receiver, saved):
    first = connector.provision(receiver.url)
    connector.config.update({**first.settings, **first.secrets})
    second = connector.provision(receiver.url)
    assert first.settings == second.settings and first.secrets == second.secrets
    assert not first.manual_steps
    assert {f"field_{key}" for key in ORDER_FIELDS} <= set(first.settings)
    hooks = store.records(account).all("webhooks")
    assert len(hooks) == 1
    assert hooks[0].data["events"] == ["convo.agent.reply.created"]
    assert hooks[0].data["secret"] == first.secrets["webhook_secret"] and len(hooks[0].data["secret"]) <= 40


def test_provision_after_a_lost_secret_updates_the_same_webhook(connector, credentials, account, receiver):
    first = connector.provision(receiver.url)
    again = HelpScoutConnector(credentials).provision(receiver.url)  # the secret was never stored
    assert again.settings["webhook_id"] == first.settings["webhook_id"]
    hooks = store.records(account).all("webhooks")
    assert len(hooks) == 1 and hooks[0].data["secret"] == again.secrets["webhook_secret"]


def test_provision_asks_for_the_custom_fields_the_api_cannot_make(live_url, receiver):
    bare = seed.create_account("hs-nofields", custom_fields=False)
    done = HelpScoutConnector(bare).provision(receiver.url)
    assert len(done.manual_steps) == 1
    assert all(title in done.manual_steps[0] for title in ORDER_FIELDS.values())
    assert not any(key.startswith("field_") for key in done.settings)


def test_upsert_customer_twice_is_one_customer_without_the_relay_alias(connector, account):
    first = connector.upsert_customer(buyer())
    assert connector.upsert_customer(buyer()) == first
    customers = store.records(account).all("customers")
    assert len(customers) == 1
    assert customers[0].key == buyer().placeholder_email
    assert "amazon.com" not in json.dumps(customers[0].data)


def test_open_thread_is_the_buyers_conversation_with_fields_and_tags_and_no_email(connector, account):
    customer, ticket = opened(connector)
    found = ticket_of(account, ticket.id)
    assert found["subject"] == message().subject
    assert found["customer"]["id"] == customer
    assert found["customer"]["external_id"] == buyer().external_id
    assert found["external_id"] == "deskbridge-1-c7"
    assert {"amazon", "amazon-us", "thread-deskbridge-1-c7"} <= set(found["tags"])
    assert found["fields"]["amazon_order_id"] == "111-2222222-3333333"
    assert found["fields"]["amazon_order_status"] == "SHIPPED"
    assert found["status"] == "open"
    [first] = found["messages"]
    assert first["author"] == "customer" and first["public"]
    assert first["text"] == "Where is my parcel?\nIt was due Monday."
    assert seed.emails(account) == []  # no auto-reply, no notification to the buyer
    assert ticket.url.endswith(f"/conversation/{ticket.id}")
    shown = httpx.get(ticket.url, follow_redirects=True)
    assert shown.status_code == 200 and "Where is my parcel?" in shown.text


def test_attachments_reach_the_conversation(connector, account):
    customer = connector.upsert_customer(buyer())
    with_file = message(attachments=(Attachment("label.pdf", "application/pdf", b"%PDF-1.4\n"),))
    ticket = connector.open_thread(customer, buyer(), with_file, None)
    assert ticket_of(account, ticket.id)["messages"][0]["attachments"] == ["label.pdf"]


def test_find_thread_after_a_lost_answer(connector):
    _, ticket = opened(connector)
    assert connector.find_thread("deskbridge-1-c7") == Ticket(
        id=ticket.id, url=ticket.url + "/1", status="active", customer_id=ticket.customer_id
    )
    assert connector.find_thread("deskbridge-1-c8") is None


def test_append_inbound_twice_is_one_message(connector, account):
    customer, ticket = opened(connector)
    first = connector.append_inbound(ticket, customer, buyer(), message(2, text="Any news?"))
    assert connector.append_inbound(ticket, customer, buyer(), message(2, text="Any news?")) == first
    # the first message itself, after find_thread found its ticket again
    assert connector.append_inbound(ticket, customer, buyer(), message(1)) != first
    texts = [m["text"] for m in ticket_of(account, ticket.id)["messages"]]
    assert texts == ["Where is my parcel?\nIt was due Monday.", "Any news?"]


def test_a_follow_up_reopens_a_solved_conversation(connector, account):
    customer, ticket = opened(connector)
    connector.set_status(ticket, "solved")
    assert ticket_of(account, ticket.id)["status"] == "solved"
    connector.append_inbound(ticket, customer, buyer(), message(2, text="It still has not come."))
    found = ticket_of(account, ticket.id)
    assert found["status"] == "open"
    assert found["messages"][-1]["author"] == "customer"


def test_add_note_is_internal_and_set_order_context_keeps_other_fields(connector, account):
    _, ticket = opened(connector, order=None)
    note_id = connector.add_note(ticket, "Order 111-2222222-3333333: shipped <FBA>")
    rec = store.records(account)
    other = store.add_mailbox_field(account, int(connector.config["mailbox_id"]), "Agent's own field")
    conversation = rec.get("conversations", ticket.id)
    conversation.data["customFields"][str(other)] = "keep me"
    conversation.save()
    connector.set_order_context(ticket, ORDER)
    found = ticket_of(account, ticket.id)
    note = next(m for m in found["messages"] if m["id"] == note_id)
    assert not note["public"] and note["author"] == "agent"
    assert note["text"] == "Order 111-2222222-3333333: shipped <FBA>"
    assert found["fields"]["Agent's own field"] == "keep me"
    assert found["fields"]["amazon_fulfillment"] == "FBA"


def test_a_429_surfaces_as_rate_limited_with_the_wait(connector, account, live_url, credentials):
    connector.verify()
    seed.set_rate_limit(account, 3)
    with pytest.raises(RateLimited) as raised:
        for _ in range(5):
            connector.http.get("/v2/users/me")
    assert raised.value.status == 429 and raised.value.retry_after and raised.value.retry_after >= 1
    answer = api(live_url, credentials).get("/v2/users/me")
    assert answer.status_code == 429
    assert answer.json() == {"message": "API rate limit exceeded"}
    assert answer.headers["X-RateLimit-Limit-Minute"] == "3"
    assert answer.headers["X-RateLimit-Remaining-Minute"] == "0"
    assert int(answer.headers["X-RateLimit-Retry-After"]) >= 1


def test_an_agent_reply_fires_a_signed_webhook_with_one_reply(connector, account, receiver):
    provisioned = connector.provision(receiver.url)
    connector.config.update(provisioned.secrets)
    customer, ticket = opened(connector)
    connector.append_inbound(ticket, customer, buyer(), message(2, text="Hello?"))
    connector.add_note(ticket, "order note")
    reply_id = seed.agent_reply(account, ticket.id, "Sorry!\nA replacement ships tomorrow.")
    [(headers, body)] = receiver.wait_for(1)
    assert headers["X-HelpScout-Event"] == "convo.agent.reply.created"
    event = connector.verify_webhook(headers, body)
    assert event.startswith("convo.agent.reply.created:")
    [reply] = connector.read_webhook(body)
    assert reply.ticket_id == ticket.id and reply.message_id == reply_id
    assert reply.text == "Sorry!\nA replacement ships tomorrow." and reply.author == "Demo Agent"
    assert json.loads(body)["id"] == int(ticket.id)
    # Help Scout emails the reply to the customer's address: the undeliverable one, never the alias.
    [sent] = seed.emails(account)
    assert sent["to"] == buyer().placeholder_email and not sent["deliverable"]


def test_notes_and_buyer_writes_fire_nothing_and_give_no_reply(connector, account, receiver):
    connector.config.update(connector.provision(receiver.url).secrets)
    customer, ticket = opened(connector)
    connector.append_inbound(ticket, customer, buyer(), message(2, text="Hello?"))
    seed.agent_reply(account, ticket.id, "Checking with the warehouse.", public=False)
    time.sleep(1)
    assert receiver.deliveries == []
    body = json.dumps(
        store.render_conversation(account, store.records(account).get("conversations", ticket.id))
    )
    assert connector.read_webhook(body.encode()) == []


def test_a_wrong_signature_is_rejected(connector, account, receiver):
    connector.config.update(connector.provision(receiver.url).secrets)
    _, ticket = opened(connector)
    seed.agent_reply(account, ticket.id, "Hi")
    [(headers, body)] = receiver.wait_for(1)
    with pytest.raises(WebhookRejected):
        connector.verify_webhook(headers, body + b" ")
    with pytest.raises(WebhookRejected):
        connector.verify_webhook({**headers, "X-HelpScout-Signature": "AAAA"}, body)


def test_reply_attachments_download(connector, account, receiver, live_url, credentials):
    connector.config.update(connector.provision(receiver.url).secrets)
    customer, ticket = opened(connector)
    client = api(live_url, credentials)
    answer = client.post(
        f"/v2/conversations/{ticket.id}/reply",
        json={
            "customer": {"id": int(customer)},
            "text": "See the label.",
            "attachments": [{"fileName": "label.txt", "mimeType": "text/plain", "data": "bGFiZWw="}],
        },
    )
    assert answer.status_code == 201
    [(_, body)] = receiver.wait_for(1)
    [reply] = connector.read_webhook(body)
    [attachment] = reply.attachments
    assert attachment.filename == "label.txt" and attachment.content_type == "text/plain"
    assert connector.download(attachment) == b"label"

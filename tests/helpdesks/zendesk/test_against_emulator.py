"""The Zendesk connector against the sandbox Zendesk over loopback (a real server on the test DB)."""

from __future__ import annotations

import json

import httpx
import pytest

from deskbridge.helpdesks.base import ORDER_FIELDS, Attachment, Ticket, TicketClosed, WebhookRejected
from deskbridge.helpdesks.http import AuthenticationFailed, RateLimited, Rejected
from deskbridge.helpdesks.zendesk import trigger
from deskbridge.sandbox.helpdesks.zendesk import seed, store
from tests.helpdesks.zendesk import contract
from tests.helpdesks.zendesk.conftest import BUYER, ORDER, Receiver, Recorder, connector_for, message

pytestmark = pytest.mark.django_db(transaction=True)


def open_ticket(connector, attachments=()) -> Ticket:  # type: ignore[no-untyped-def]
    customer = connector.upsert_customer(BUYER)
    return connector.open_thread(customer, BUYER, message(1, attachments=attachments), ORDER)


def test_verify_accepts_the_token_and_refuses_a_wrong_one(account: str) -> None:
    connector = connector_for(account)
    info = connector.verify()
    assert info.name == f"{account}.zendesk.com"
    assert info.ids["role"] == "admin" and info.ids["api_user_id"].isdigit()
    with pytest.raises(AuthenticationFailed) as wrong:
        connector_for(account, api_token="not-the-token").verify()
    assert wrong.value.status == 401 and "Couldn't authenticate you" in str(wrong.value)


def test_provision_twice_finds_what_the_first_run_made(account: str, receiver: Receiver) -> None:
    first = connector_for(account).provision(receiver.url)
    second = connector_for(account).provision(receiver.url)
    assert first == second
    assert set(first.settings) >= {"webhook_id", "trigger_id", "api_user_id"} | {
        f"field_{k}" for k in ORDER_FIELDS
    }
    assert first.secrets["webhook_secret"] and not first.manual_steps
    db = store.records(account)
    assert len(db.all("ticket_fields")) == len(ORDER_FIELDS)
    assert len(db.all("webhooks")) == 1 and len(db.all("triggers")) == 1
    rule = db.all("triggers")[0].data
    assert rule["conditions"] == trigger.conditions()
    assert rule["actions"][0]["value"][0] == first.settings["webhook_id"]
    # A new webhook URL moves the same webhook rather than adding one.
    third = connector_for(account).provision(receiver.url + "/moved")
    assert third.settings == first.settings
    assert db.all("webhooks")[0].data["endpoint"] == receiver.url + "/moved"


def test_upsert_customer_twice_is_one_end_user_without_email(provisioned) -> None:  # type: ignore[no-untyped-def]
    connector, _ = provisioned
    first, second = connector.upsert_customer(BUYER), connector.upsert_customer(BUYER)
    assert first == second
    user = store.records(connector.config["subdomain"]).get("users", first)
    assert user.data["external_id"] == BUYER.external_id
    assert user.data["email"] is None and user.data["role"] == "end-user"
    assert BUYER.alias not in json.dumps(user.data)


def test_open_thread_makes_a_buyer_authored_ticket_and_no_email(provisioned) -> None:  # type: ignore[no-untyped-def]
    connector, _ = provisioned
    ticket = open_ticket(connector, (Attachment("label.pdf", "application/pdf", b"%PDF-1.4 test"),))
    [shown] = seed.tickets(connector.config["subdomain"])
    assert shown["id"] == ticket.id and shown["external_id"] == "thread-111-2222222-3333333"
    assert shown["customer"]["external_id"] == BUYER.external_id and shown["customer"]["email"] == ""
    assert [m["author"] for m in shown["messages"]] == ["customer"]
    assert shown["messages"][0]["public"] and shown["messages"][0]["attachments"] == ["label.pdf"]
    assert {"deskbridge", "amazon", "us", "buyer_message"} <= set(shown["tags"])
    assert shown["fields"]["amazon_order_id"] == "111-2222222-3333333"
    assert shown["fields"]["amazon_order_total"] == "39.98 USD"
    assert shown["fields"]["amazon_items"] == "B000TEST01 × 2"
    assert store.records(connector.config["subdomain"]).all("emails") == []
    assert connector.find_thread("thread-111-2222222-3333333") == ticket
    assert connector.find_thread("thread-unknown") is None


def test_append_inbound_twice_is_one_message_and_reopens_a_solved_ticket(provisioned) -> None:  # type: ignore[no-untyped-def]
    connector, _ = provisioned
    ticket = open_ticket(connector)
    connector.set_status(ticket, "solved")
    customer = ticket.customer_id
    first = connector.append_inbound(ticket, customer, BUYER, message(2))
    again = connector.append_inbound(ticket, customer, BUYER, message(2))
    assert first == again
    [shown] = seed.tickets(connector.config["subdomain"])
    assert shown["status"] == "open"
    assert [m["text"] for m in shown["messages"]].count("Hello, where is my parcel? (2)") == 1
    assert all(m["author"] == "customer" and m["public"] for m in shown["messages"])
    assert store.records(connector.config["subdomain"]).all("emails") == []


def test_a_closed_ticket_takes_no_follow_up(provisioned) -> None:  # type: ignore[no-untyped-def]
    connector, _ = provisioned
    ticket = open_ticket(connector)
    connector.set_status(ticket, "closed")
    with pytest.raises(TicketClosed):  # the pipeline opens a follow-up ticket then
        connector.append_inbound(ticket, ticket.customer_id, BUYER, message(3))
    with pytest.raises(Rejected) as refused:  # the emulator refuses any update, as Zendesk does
        connector.add_note(ticket, "late note")
    assert refused.value.status == 422 and "RecordInvalid" in str(refused.value)
    [shown] = seed.tickets(connector.config["subdomain"])
    assert shown["status"] == "closed" and len(shown["messages"]) == 1


def test_add_note_is_internal_and_order_context_fills_fields(provisioned) -> None:  # type: ignore[no-untyped-def]
    connector, _ = provisioned
    customer = connector.upsert_customer(BUYER)
    ticket = connector.open_thread(customer, BUYER, message(1), None)
    note = connector.add_note(ticket, ORDER.as_note())
    connector.set_order_context(ticket, ORDER)
    [shown] = seed.tickets(connector.config["subdomain"])
    [noted] = [m for m in shown["messages"] if m["id"] == note]
    assert noted["public"] is False and noted["author"] == "agent"
    assert shown["fields"]["amazon_order_status"] == "Shipped"


def test_find_thread_after_a_lost_answer(provisioned) -> None:  # type: ignore[no-untyped-def]
    connector, _ = provisioned
    customer = connector.upsert_customer(BUYER)
    lost = connector_for(connector.config["subdomain"], **connector.config)

    def lose_answer(response: httpx.Response) -> None:
        if response.request.method == "POST" and "/tickets" in response.request.url.path:
            raise httpx.ReadError("connection dropped before the answer arrived")

    lost.http.client.event_hooks["response"].append(lose_answer)
    with pytest.raises(Exception):  # noqa: B017 - the answer is lost, whatever the error
        lost.open_thread(customer, BUYER, message(1), ORDER)
    found = connector.find_thread("thread-111-2222222-3333333")
    assert found is not None and len(seed.tickets(connector.config["subdomain"])) == 1
    # The message written with the ticket is found again by its id: no second copy.
    assert connector.append_inbound(found, customer, BUYER, message(1))
    assert len(seed.tickets(connector.config["subdomain"])[0]["messages"]) == 1


def test_the_emulators_rate_limit_is_a_rate_limited_with_retry_after(account: str) -> None:
    record = store.account(account)
    record.data["rate_limit"] = 3  # a tiny plan, so the bucket empties in a few calls
    record.save()
    connector = connector_for(account)
    with pytest.raises(RateLimited) as limited:
        for _ in range(5):
            connector.verify()
    assert limited.value.status == 429 and limited.value.retry_after and limited.value.retry_after >= 1


def test_agent_reply_fires_a_signed_webhook_read_as_one_reply(provisioned, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    connector, _ = provisioned
    ticket = open_ticket(connector)
    connector.append_inbound(
        ticket, ticket.customer_id, BUYER, message(2)
    )  # our own write: fires, yields nothing
    connector.add_note(ticket, "order facts")  # internal: no delivery at all
    own = receiver.wait(1)
    assert len(own) == 1
    for headers, body in own:
        connector.verify_webhook(headers, body)
        assert connector.read_webhook(body) == []

    account = connector.config["subdomain"]
    seed.agent_reply(account, ticket.id, "An internal remark", public=False)
    reply_id = seed.agent_reply(account, ticket.id, "Your parcel arrives tomorrow.")
    deliveries = receiver.wait(2)
    assert len(deliveries) == 2
    headers, body = deliveries[-1]
    event_id = connector.verify_webhook(headers, body)
    assert event_id == headers["x-zendesk-webhook-invocation-id"]
    [reply] = connector.read_webhook(body)
    assert reply.message_id == reply_id and reply.ticket_id == ticket.id
    assert reply.text == "Your parcel arrives tomorrow." and reply.author == "Alex Agent"
    with pytest.raises(WebhookRejected):
        connector.verify_webhook(
            {**headers, "x-zendesk-webhook-signature": "AAAA" + headers["x-zendesk-webhook-signature"][4:]},
            body,
        )
    with pytest.raises(WebhookRejected):
        connector.verify_webhook(headers, body.replace(b"arrives", b"departs"))
    assert store.records(account).all("emails") == []


def test_reply_attachments_download(provisioned, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    connector, _ = provisioned
    ticket = open_ticket(connector, (Attachment("photo.jpg", "image/jpeg", b"\xff\xd8jpeg-bytes"),))
    account = connector.config["subdomain"]
    agent = store.find_user(account, email=f"agent@{account}.example.com")
    comments = store.records(account).children("comments", int(ticket.id))
    # The agent forwards the buyer's own photo back: the comment carries the attachment.
    upload = comments[0].data["attachments"][0]
    from deskbridge.sandbox.helpdesks.zendesk import tickets as writes

    fresh = dict(upload, used=False, token=upload["token"] + "x")
    store.records(account).create("uploads", fresh, key=fresh["token"])
    writes.update_ticket(
        account,
        agent,
        store.records(account).get("tickets", ticket.id),
        {"comment": {"body": "See attached", "uploads": [fresh["token"]]}},
        connector.api_base,
        "web",
    )
    _headers, body = receiver.wait(1)[-1]
    [reply] = connector.read_webhook(body)
    [attachment] = reply.attachments
    assert attachment.filename == "photo.jpg" and connector.download(attachment) == b"\xff\xd8jpeg-bytes"


def test_requests_and_answers_conform_to_zendesks_contract(provisioned, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    connector, recorder = provisioned
    ticket = open_ticket(connector, (Attachment("a.txt", "text/plain", b"hello"),))
    connector.append_inbound(ticket, ticket.customer_id, BUYER, message(2))
    connector.add_note(ticket, "note")
    connector.set_order_context(ticket, ORDER)
    connector.set_status(ticket, "pending")
    connector.find_thread(ticket.id)
    seed.agent_reply(connector.config["subdomain"], ticket.id, "Thanks!")
    connector.read_webhook(receiver.wait(2)[-1][1])
    prov = connector_for(connector.config["subdomain"])
    prov_recorder = Recorder(prov)
    prov.provision(receiver.url)
    checked = set()
    for exchange in recorder.exchanges + prov_recorder.exchanges:
        assert exchange.status < 400, exchange
        if exchange.path.startswith("/api/v2/webhooks"):
            # The Webhooks API is not in the OpenAPI copies: the reference payloads are the contract.
            if exchange.request_body is not None:
                assert set(exchange.request_body["webhook"]) <= set(contract_webhook_keys()) | {"description"}
            continue
        template = contract.assert_response_conforms(
            exchange.method, exchange.path, exchange.status, exchange.response_body
        )
        schema = contract.REQUESTS.get((exchange.method, template))
        if exchange.request_body is not None and not isinstance(exchange.request_body, bytes):
            assert schema is not None, f"no request contract for {exchange.method} {template}"
            contract.Draft202012Validator(schema).validate(exchange.request_body)
        checked.add((exchange.method, template))
    assert {
        ("POST", "/api/v2/tickets"),
        ("PUT", "/api/v2/tickets/{ticket_id}"),
        ("POST", "/api/v2/uploads"),
    } <= checked
    assert ("GET", "/api/v2/tickets/{ticket_id}/audits") in checked and (
        "POST",
        "/api/v2/triggers",
    ) not in checked


def contract_webhook_keys() -> list[str]:
    from tests.helpdesks.zendesk.conftest import fixture

    return list(fixture("webhook-create.request.json")["webhook"])

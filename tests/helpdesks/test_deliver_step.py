"""The deliver step's rules, against the Kustomer and Help Scout emulators over loopback: waiting for
a helpdesk, refused credentials, rate limits, one ticket per conversation, the order kept in step, and
the webhook endpoint's answers."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from deskbridge.helpdesks import registry
from deskbridge.helpdesks.models import Health, HelpdeskConnection
from deskbridge.pipeline import deliver
from deskbridge.pipeline.models import Conversation, InboundMessage, WebhookEvent
from deskbridge.pipeline.workrows import WorkState, run_work_row
from deskbridge.sandbox.helpdesks.helpscout import seed as helpscout
from deskbridge.sandbox.helpdesks.kustomer import seed as kustomer
from tests.amazon.orders_support import EU, connect
from tests.pipeline.test_enrich import DE, arrive

LABEL = InboundMessage.label()


def connect_helpdesk(organisation, kind: str, config: dict[str, str]) -> HelpdeskConnection:
    secret_names = {f.name for f in registry.connector_class(kind).fields if f.secret}
    return HelpdeskConnection.connect(organisation, kind, config, secret_names)


@pytest.fixture
def forwarding(eu_account):
    return connect(eu_account, DE)


@pytest.fixture
def order_id(sandbox_orders) -> str:
    return sandbox_orders[EU]["shipped"]


def test_a_message_waits_for_a_helpdesk_and_goes_when_one_is_connected(tenant, forwarding, order_id):
    row = arrive(forwarding, order_id)
    assert run_work_row(LABEL, row.pk) == "postponed"
    row.refresh_from_db()  # waits an hour (or until a helpdesk is connected), no attempt used
    assert row.state == WorkState.RETRY and row.attempts == 0
    assert row.next_attempt_at > timezone.now() + timedelta(minutes=50)

    account = f"wait{tenant.organisation.pk}"
    connect_helpdesk(tenant.organisation, "kustomer", kustomer.create_account(account))
    assert deliver.wake_waiting(tenant.organisation.pk) == 1
    assert run_work_row(LABEL, row.pk) == WorkState.DONE
    assert len(kustomer.tickets(account)) == 1


def test_refused_credentials_mark_the_connection_and_the_message_waits(tenant, forwarding, order_id):
    account = f"revoked{tenant.organisation.pk}"
    config = kustomer.create_account(account)
    connection = connect_helpdesk(tenant.organisation, "kustomer", config)
    connection.keep_secrets({"api_key": "revoked-key"})

    row = arrive(forwarding, order_id)
    assert run_work_row(LABEL, row.pk) == "postponed"
    connection.refresh_from_db()
    assert connection.health == Health.FAILING and "401" in connection.problem
    assert kustomer.tickets(account) == []

    connection.keep_secrets({"api_key": config["api_key"]})  # the owner fixes it, then "Check now"
    assert deliver.wake_waiting(tenant.organisation.pk) == 1
    assert run_work_row(LABEL, row.pk) == WorkState.DONE
    connection.refresh_from_db()
    assert connection.health == Health.HEALTHY and connection.problem == ""
    assert len(kustomer.tickets(account)) == 1


def test_the_helpdesks_rate_limit_postpones_without_using_an_attempt(tenant, forwarding, order_id):
    account = f"limited{tenant.organisation.pk}"
    connect_helpdesk(tenant.organisation, "helpscout", helpscout.create_account(account))
    helpscout.set_rate_limit(account, 1)

    row = arrive(forwarding, order_id)
    assert run_work_row(LABEL, row.pk) == "postponed"
    row.refresh_from_db()
    assert row.state == WorkState.RETRY and row.attempts == 0
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=5)  # when Help Scout allows one


def test_one_ticket_while_another_worker_is_opening_it(tenant, forwarding, order_id):
    account = f"lease{tenant.organisation.pk}"
    connect_helpdesk(tenant.organisation, "kustomer", kustomer.create_account(account))
    first = arrive(forwarding, order_id, text="Erste Frage")
    second = arrive(forwarding, order_id, text="Zweite Frage")
    # The first message's worker holds the opening lease (it is calling the helpdesk right now).
    assert run_work_row(LABEL, first.pk) in (WorkState.DONE, "postponed")
    conversation = Conversation.objects.get()
    Conversation.objects.filter(pk=conversation.pk).update(
        ticket_id="", ticket_lease_until=timezone.now() + timedelta(minutes=1)
    )
    assert run_work_row(LABEL, second.pk) == "postponed"
    second.refresh_from_db()
    assert second.state == WorkState.RETRY and second.next_attempt_at < timezone.now() + timedelta(seconds=10)

    # The lease ends (that worker died after creating the ticket): the ticket is found, not made again.
    Conversation.objects.filter(pk=conversation.pk).update(ticket_lease_until=timezone.now())
    InboundMessage.objects.filter(pk=second.pk).update(next_attempt_at=timezone.now())
    assert run_work_row(LABEL, second.pk) == WorkState.DONE
    (ticket,) = kustomer.tickets(account)
    assert [m["text"] for m in ticket["messages"] if m["author"] == "customer"] == [
        "Erste Frage",
        "Zweite Frage",
    ]


def test_a_changed_order_updates_the_tickets_fields_and_adds_a_note(tenant, forwarding, order_id):
    account = f"sync{tenant.organisation.pk}"
    connect_helpdesk(tenant.organisation, "kustomer", kustomer.create_account(account))
    row = arrive(forwarding, order_id)
    assert run_work_row(LABEL, row.pk) == WorkState.DONE
    assert deliver.sync_orders() == 0  # in step already

    conversation = Conversation.objects.select_related("order_snapshot").get()
    snapshot = conversation.order_snapshot
    assert snapshot is not None and snapshot.data is not None
    data = json.loads(json.dumps(snapshot.data))
    data["fulfillment"]["fulfillmentStatus"] = "CANCELLED"
    snapshot.data, snapshot.version = data, snapshot.version + 1
    snapshot.save(update_fields=["data", "version"])
    Conversation.objects.filter(pk=conversation.pk).update(
        order_version=snapshot.version, order_updated_at=timezone.now()
    )

    assert deliver.sync_orders() == 1
    (ticket,) = kustomer.tickets(account)
    assert ticket["fields"]["amazon_order_status"] == "CANCELLED"
    notes = [m["text"] for m in ticket["messages"] if not m["public"]]
    assert len(notes) == 2 and "Cancelled" in notes[1]
    assert deliver.sync_orders() == 0


def test_the_webhook_endpoint_refuses_unknown_addresses_and_big_bodies_and_stores_a_delivery_once(
    tenant, live_url
):
    account = f"hooks{tenant.organisation.pk}"
    connection = connect_helpdesk(tenant.organisation, "kustomer", kustomer.create_account(account))
    unknown = connection.webhook_url.replace(connection.webhook_token, "not-a-token")
    assert httpx.post(unknown, content=b"{}").status_code == 404
    assert httpx.post(connection.webhook_url, content=b"x" * (1024 * 1024 + 1)).status_code == 413
    assert httpx.get(connection.webhook_url).status_code == 405

    body = json.dumps({"id": "evt-1", "name": "kustomer.message.create", "data": {}}).encode()
    import hashlib
    import hmac

    signature = hmac.new(
        connection.secret_values()["webhook_token"].encode(), body, hashlib.sha256
    ).hexdigest()
    headers = {"X-Kustomer-Webhook-Signature": signature, "Content-Type": "application/json"}
    assert httpx.post(connection.webhook_url, content=body, headers=headers).json() == {"status": "accepted"}
    assert httpx.post(connection.webhook_url, content=body, headers=headers).json() == {"status": "duplicate"}
    assert WebhookEvent.objects.filter(connection=connection).count() == 1


def test_a_message_after_the_ticket_was_closed_opens_a_follow_up_ticket(tenant, forwarding, order_id):
    from deskbridge.sandbox.helpdesks.models import SandboxHelpdeskRecord
    from deskbridge.sandbox.helpdesks.zendesk import seed as zendesk

    account = f"closed{tenant.organisation.pk}"
    connect_helpdesk(tenant.organisation, "zendesk", zendesk.create_account(account))
    first = arrive(forwarding, order_id, text="Erste Frage")
    assert run_work_row(LABEL, first.pk) == WorkState.DONE
    (ticket,) = zendesk.tickets(account)
    record = SandboxHelpdeskRecord.objects.get(helpdesk="zendesk", collection="tickets", pk=int(ticket["id"]))
    record.data["status"] = "closed"  # Zendesk's automation closes solved tickets for good
    record.save()

    second = arrive(forwarding, order_id, text="Noch eine Frage, Wochen später")
    assert run_work_row(LABEL, second.pk) == WorkState.DONE

    closed, follow_up = sorted(zendesk.tickets(account), key=lambda t: int(t["id"]))
    assert closed["id"] == ticket["id"] and len([m for m in closed["messages"] if m["public"]]) == 1
    assert [m["text"] for m in follow_up["messages"] if m["public"]] == ["Noch eine Frage, Wochen später"]
    assert any(f"Amazon order {order_id}" in m["text"] for m in follow_up["messages"] if not m["public"])
    conversation = Conversation.objects.get()
    assert conversation.ticket_id == follow_up["id"] and conversation.ticket_round == 1

"""Fixtures for the Zendesk connector against its emulator over loopback."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from deskbridge.amazon.orders import Money, OrderContext, OrderItem
from deskbridge.helpdesks.base import Buyer, BuyerMessage
from deskbridge.helpdesks.zendesk.connector import ZendeskConnector
from deskbridge.sandbox.helpdesks.zendesk import seed
from tests.helpdesks.zendesk import contract
from tests.processes import free_port

DATA = Path(__file__).resolve().parents[2] / "data" / "helpdesks" / "zendesk"


def fixture(name: str) -> Any:
    return json.loads((DATA / name).read_text())


@dataclass
class Receiver:
    """A small HTTP server that records the webhook deliveries it gets (raw body and headers)."""

    url: str
    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait(self, count: int, timeout: float = 10.0) -> list[tuple[dict[str, str], bytes]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.deliveries) >= count, timeout)
        return list(self.deliveries)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    port = free_port()
    box = Receiver(f"http://127.0.0.1:{port}/hooks/zendesk")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with box.arrived:
                box.deliveries.append((dict(self.headers.items()), body))
                box.arrived.notify_all()
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box
    server.shutdown()
    server.server_close()


@dataclass
class Exchange:
    method: str
    path: str
    request_body: Any
    status: int
    response_body: Any


class Recorder:
    """Every request the connector sends and every answer it gets, to contract-check both."""

    def __init__(self, connector: ZendeskConnector) -> None:
        self.exchanges: list[Exchange] = []
        self.prefix = httpx.URL(connector.api_base).path
        connector.http.client.event_hooks["response"].append(self._record)

    def _record(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        content = request.content
        try:
            sent = (
                json.loads(content)
                if content and request.headers.get("content-type", "").startswith("application/json")
                else None
            )
        except ValueError:
            sent = content
        try:
            answer = (
                response.json()
                if response.headers.get("content-type", "").startswith("application/json")
                else None
            )
        except ValueError:
            answer = None
        path = request.url.path.removeprefix(self.prefix)
        self.exchanges.append(Exchange(request.method, path, sent, response.status_code, answer))


@pytest.fixture
def account(live_url: str) -> str:
    name = f"shop-{uuid.uuid4().hex[:10]}"
    seed.create_account(name)
    return name


def connector_for(account: str, **extra: str) -> ZendeskConnector:
    return ZendeskConnector({**seed.create_account(account), **extra})


@pytest.fixture
def provisioned(account: str, receiver: Receiver) -> tuple[ZendeskConnector, Recorder]:
    first = connector_for(account)
    done = first.provision(receiver.url)
    connector = connector_for(account, **done.settings, **done.secrets)
    return connector, Recorder(connector)


BUYER = Buyer(
    alias="k3x9q2v7t8mz5lf@marketplace.amazon.com",
    name="Jane Buyer",
    seller_id="A1SELLER",
    marketplace_id="ATVPDKIKX0DER",
)


def message(n: int = 1, **overrides: Any) -> BuyerMessage:
    values: dict[str, Any] = {
        "external_id": f"msg-{n}",
        "thread_external_id": "thread-111-2222222-3333333",
        "subject": "Amazon.com order 111-2222222-3333333: Where is my order?",
        "text": f"Hello, where is my parcel? ({n})",
        "sent_at": datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        "marketplace_id": "ATVPDKIKX0DER",
        "marketplace_code": "US",
        "order_id": "111-2222222-3333333",
        "tags": ("buyer message",),
    }
    values.update(overrides)
    return BuyerMessage(**values)


ORDER = OrderContext(
    order_id="111-2222222-3333333",
    marketplace_id="ATVPDKIKX0DER",
    order_url="https://sellercentral.amazon.com/orders-v3/order/111-2222222-3333333",
    purchase_date=datetime(2026, 2, 20, 9, 30, tzinfo=UTC),
    status="Shipped",
    fulfillment_channel="FBA",
    items=(OrderItem(order_item_id="1", quantity=2, asin="B000TEST01"),),
    total=Money(Decimal("39.98"), "USD"),
)

__all__ = ["BUYER", "ORDER", "Receiver", "Recorder", "connector_for", "contract", "fixture", "message"]

"""An emulated Gorgias account on a live server, a connector for it, and a webhook receiver."""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deskbridge.amazon.orders import Money, OrderContext, OrderItem
from deskbridge.helpdesks.base import Buyer, BuyerMessage
from deskbridge.helpdesks.gorgias.connector import GorgiasConnector
from deskbridge.sandbox.helpdesks.gorgias import seed
from tests.processes import free_port


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A small HTTP server recording every POST it gets (the HTTP integration's calls)."""

    def __init__(self) -> None:
        self.deliveries: queue.Queue[Delivery] = queue.Queue()
        received = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.put(Delivery(self.path, dict(self.headers.items()), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/gorgias"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next(self, timeout: float = 10) -> Delivery:
        return self.deliveries.get(timeout=timeout)

    def drain(self, settle: float = 0.5) -> list[Delivery]:
        got = []
        try:
            while True:
                got.append(self.deliveries.get(timeout=settle))
        except queue.Empty:
            return got


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def domain(live_url) -> str:
    name = f"shop-{uuid.uuid4().hex[:10]}"
    seed.create_account(name)
    return name


@pytest.fixture
def config(domain) -> dict[str, str]:
    return seed.create_account(domain)


@pytest.fixture
def gorgias(config) -> GorgiasConnector:
    return GorgiasConnector(config)


BUYER = Buyer(
    alias="q4x7k2m9abc@marketplace.amazon.com",
    name="Jane Doe",
    seller_id="A1SELLER",
    marketplace_id="ATVPDKIKX0DER",
)


def buyer_message(n: int = 1, thread: str = "thread-111-2222222-3333333", text: str = "") -> BuyerMessage:
    return BuyerMessage(
        external_id=f"amzn-msg-{thread}-{n}",
        thread_external_id=thread,
        subject="Amazon US · Order 111-2222222-3333333",
        text=text or f"Hi, my order arrived damaged. (message {n})",
        sent_at=datetime(2026, 10, 21, 14, 58, tzinfo=UTC),
        marketplace_id="ATVPDKIKX0DER",
        marketplace_code="US",
        order_id="111-2222222-3333333",
        tags=("amazon-us",),
    )


ORDER = OrderContext(
    order_id="111-2222222-3333333",
    marketplace_id="ATVPDKIKX0DER",
    order_url="https://sellercentral.amazon.com/orders-v3/order/111-2222222-3333333",
    status="Shipped",
    fulfillment_channel="FBA",
    purchase_date=datetime(2026, 10, 18, 9, 30, tzinfo=UTC),
    total=Money(Decimal("24.99"), "USD"),
    items=(OrderItem(order_item_id="1", quantity=2, asin="B000000000"),),
)

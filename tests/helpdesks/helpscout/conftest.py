"""Help Scout test helpers: the vendor's payloads, an emulated account, a connector, a webhook receiver."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from deskbridge.helpdesks.base import Buyer, BuyerMessage
from deskbridge.helpdesks.helpscout.connector import HelpScoutConnector
from deskbridge.sandbox.helpdesks.helpscout import seed
from tests.processes import free_port

DATA = Path(__file__).resolve().parents[2] / "data" / "helpdesks" / "helpscout"


def payload(name: str) -> Any:
    return json.loads((DATA / name).read_text())


@pytest.fixture(autouse=True)
def deskbridge_app(settings):
    """deskbridge's own Help Scout app (authorization code) is the sandbox's, as in demo mode."""
    settings.HELPSCOUT_CLIENT_ID = seed.SANDBOX_CLIENT_ID
    settings.HELPSCOUT_CLIENT_SECRET = seed.SANDBOX_CLIENT_SECRET


@pytest.fixture
def account(live_url) -> str:
    return f"hs-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def credentials(account) -> dict[str, str]:
    return seed.create_account(account)


class Saved(dict):
    """What the connector asked to keep (refreshed tokens), as the connection would store it."""


@pytest.fixture
def saved() -> Saved:
    return Saved()


@pytest.fixture
def connector(credentials, saved) -> HelpScoutConnector:
    return HelpScoutConnector(credentials, save_secrets=saved.update)


def api(live_url: str, credentials: dict[str, str]) -> httpx.Client:
    """A plain client of the emulated API with a client-credentials token (for raw checks)."""
    client = httpx.Client(base_url=f"{live_url}/sandbox/helpscout", timeout=20)
    token = client.post("/v2/oauth2/token", json={"grant_type": "client_credentials", **credentials})
    token.raise_for_status()
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return client


def buyer(name: str = "Jane Doe", alias: str = "abc123xyz@marketplace.amazon.com") -> Buyer:
    return Buyer(alias=alias, name=name, seller_id="A1SELLER", marketplace_id="ATVPDKIKX0DER")


def message(
    n: int = 1, text: str = "Where is my parcel?\nIt was due Monday.", **overrides: Any
) -> BuyerMessage:
    values: dict[str, Any] = {
        "external_id": f"deskbridge-1-m{n}",
        "thread_external_id": "deskbridge-1-c7",
        "subject": "[Amazon US] Where is my order? (order 111-2222222-3333333)",
        "text": text,
        "sent_at": datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        "marketplace_id": "ATVPDKIKX0DER",
        "marketplace_code": "US",
        "order_id": "111-2222222-3333333",
        "tags": ("amazon", "amazon-us"),
    }
    values.update(overrides)
    return BuyerMessage(**values)


class Receiver:
    """A webhook endpoint on loopback that records every delivery (raw body and headers)."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.arrived:
                    receiver.deliveries.append((dict(self.headers.items()), body))
                    receiver.arrived.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/helpscout/abc"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 10) -> list[tuple[dict[str, str], bytes]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.deliveries) >= count, timeout)
        return list(self.deliveries)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    listening = Receiver()
    yield listening
    listening.close()

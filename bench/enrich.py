"""Enrichment benchmark: a burst of buyer messages from many sellers, each about a distinct order,
enriched against the sandbox Orders API and its usage plans (getOrder: 0.5 requests per second,
burst 30, per seller and application), next to the least time those plans allow; then the same
messages' follow-ups, which must cost no call at all.

    .venv/bin/python bench/enrich.py [--sellers 20] [--orders 100] [--workers 2] [--threads 8]
                                     [--latency-ms 100]

The bench seeds its own sandbox sellers (A2BENCH…) with `--orders` orders each, authorizes them,
runs the sandbox over loopback (uvicorn, counting every SP-API answer by operation and status)
and `deskbridge worker` processes, stores one InboundMessage per order and wakes the workers, then
waits until every message is done. The least time the plans allow is, per seller, the orders
beyond the burst divided by the rate: (100 - 30) / 0.5 = 140 s; all sellers run in parallel.

Everything runs on this machine in a temporary data dir (SQLite and the embedded queue, as a
single-machine install has them) unless DESKBRIDGE_DATABASE_URL / DESKBRIDGE_QUEUE_URL are set.
A script, not a test: pytest does not collect it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DE = "A1PA6795UKMFR9"
TEXT = "Guten Tag, wann wird meine Bestellung versandt? Ich brauche sie bis Freitag. Vielen Dank!"
FOLLOW_UP = "Noch eine Frage: kann ich die Lieferadresse ändern?"


# --- the sandbox over loopback, counting SP-API answers ------------------------------------------


def serve_sandbox(port: int) -> None:
    """uvicorn with deskbridge's ASGI app, wrapped to count SP-API answers; GET /__bench_counts."""
    import django

    django.setup()
    import uvicorn

    from deskbridge.asgi import application

    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def operation(path: str) -> str:
        if "/orders/2026-01-01/orders/" in path:
            return "getOrder"
        if path.endswith("/orders/2026-01-01/orders"):
            return "searchOrders"
        if "/lwa/" in path:
            return "lwa"
        return "other"

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http" and scope["path"] == "/__bench_counts":
            with lock:
                body = json.dumps(dict(counts)).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        if scope["type"] != "http":
            await application(scope, receive, send)
            return
        name = operation(scope["path"])

        async def counting_send(message):  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start":
                with lock:
                    counts[f"{name} {message['status']}"] += 1
            await send(message)

        await application(scope, receive, counting_send)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the sandbox server exited")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the sandbox server did not start")


def counts(port: int) -> Counter[str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__bench_counts", timeout=10) as response:
        return Counter(json.loads(response.read()))


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- seeding: sellers, orders, accounts, messages ----------------------------------------------------


def seed(sellers: int, orders: int) -> list[tuple[object, list[str]]]:
    """`sellers` sandbox sellers with `orders` orders each, authorized deskbridge accounts with a
    forwarding address in Germany; returns (connection, order ids) per seller."""
    import copy

    from django.conf import settings

    from deskbridge.amazon.models import MarketplaceConnection, SellerAccount
    from deskbridge.core.models import Organisation
    from deskbridge.sandbox.amazon import app
    from deskbridge.sandbox.amazon.models import SandboxOrder, SandboxParticipation, SandboxSeller
    from deskbridge.sandbox.amazon.orders_seed import order_id_for
    from deskbridge.sandbox.amazon.seed import seed_sandbox_amazon
    from deskbridge.sandbox.amazon.tokens import issue_authorization_code, redeem_authorization_code

    seed_sandbox_amazon()
    template = SandboxOrder.objects.get(order_id=order_id_for("A2SNDBXEU00001", "unshipped"))
    model = SandboxSeller.objects.get(selling_partner_id="A2SNDBXEU00001")
    redirect = f"{settings.PUBLIC_URL}/amazon/callback/"
    seeded = []
    for s in range(sellers):
        seller_id = f"A2BENCH{s:07d}"
        seller, _ = SandboxSeller.objects.update_or_create(
            selling_partner_id=seller_id,
            defaults={
                "region": "EU",
                "store_name": f"Bench Store {s}",
                "business_name": f"Bench Store {s} GmbH",
                "address_line1": model.address_line1,
                "city": model.city,
                "postal_code": model.postal_code,
                "country_code": model.country_code,
                "primary_contact_name": model.primary_contact_name,
            },
        )
        SandboxParticipation.objects.get_or_create(
            seller=seller,
            marketplace_id=DE,
            defaults={"default_currency_code": "EUR", "default_language_code": "de_DE"},
        )
        ids = [f"3{s:02d}-{n:07d}-{s * 1000 + n:07d}" for n in range(orders)]
        SandboxOrder.objects.bulk_create(
            [
                SandboxOrder(
                    seller=seller,
                    order_id=order_id,
                    marketplace_id=DE,
                    created_time=template.created_time,
                    last_updated_time=template.last_updated_time,
                    fulfillment_status=template.fulfillment_status,
                    fulfilled_by=template.fulfilled_by,
                    buyer_email=f"bench{s}x{n}@marketplace.amazon.de",
                    details=copy.deepcopy(template.details),
                )
                for n, order_id in enumerate(ids)
            ],
            ignore_conflicts=True,
        )
        organisation = Organisation.objects.create(name=f"Bench {s}")
        tokens = redeem_authorization_code(
            issue_authorization_code(seller, app.SANDBOX_APP_ID, redirect), app.SANDBOX_APP_ID, redirect
        )
        account = SellerAccount(organisation=organisation, selling_partner_id=seller_id, region="EU")
        account.store_authorization(tokens.refresh_token, tokens.access_token, tokens.expires_in)
        account.save()
        connection = MarketplaceConnection.objects.create(
            organisation=organisation,
            account=account,
            marketplace_id=DE,
            forwarding_address=f"amz-de-{seller_id.lower()}@deskbridge.localhost",
        )
        seeded.append((connection, ids))
    return seeded


def compose(seeded: list[tuple[object, list[str]]], text: str) -> list[tuple[object, bytes]]:
    from deskbridge.amazon import marketplaces
    from deskbridge.sandbox.amazon.mail import compose_buyer_message

    germany = marketplaces.by_id(DE)
    messages = []
    for connection, ids in seeded:
        for order_id in ids:
            raw = compose_buyer_message(
                to=connection.forwarding_address,  # type: ignore[attr-defined]
                marketplace=germany,
                seller_id=connection.account.selling_partner_id,  # type: ignore[attr-defined]
                order_id=order_id,
                text=text,
            ).as_bytes()
            messages.append((connection, raw))
    # Interleave sellers, as mail from many sellers arrives.
    per_seller = len(messages) // max(1, len(seeded))
    return [messages[i * per_seller + j] for j in range(per_seller) for i in range(len(seeded))]


def submit(messages: list[tuple[object, bytes]]) -> list[int]:
    from deskbridge.pipeline.models import InboundMessage

    rows = InboundMessage.objects.bulk_create(
        [
            InboundMessage(
                organisation=connection.organisation,  # type: ignore[attr-defined]
                connection=connection,
                rcpt_to=connection.forwarding_address,  # type: ignore[attr-defined]
                raw=raw,
                size=len(raw),
            )
            for connection, raw in messages
        ]
    )
    for row in rows:
        row.wake()
    return [row.pk for row in rows]


def wait_done(pks: list[int], timeout: float) -> tuple[float, Counter[str]]:
    from django.db import connection

    from deskbridge.pipeline.models import InboundMessage

    started = time.monotonic()
    while True:
        states = Counter(InboundMessage.objects.filter(pk__in=pks).values_list("state", flat=True))
        connection.close()
        if states["done"] + states["failed"] == len(pks):
            return time.monotonic() - started, states
        if time.monotonic() - started > timeout:
            return time.monotonic() - started, states
        time.sleep(0.25)


def run(args: argparse.Namespace) -> dict[str, object]:
    import django

    django.setup()
    from django.core.management import call_command

    from deskbridge.amazon.models import OrderSnapshot
    from deskbridge.amazon.ratelimit import PLANS
    from deskbridge.pipeline.models import Conversation, InboundMessage

    call_command("migrate", interactive=False, verbosity=0)
    seeded = seed(args.sellers, args.orders)
    plan = PLANS["orders_2026-01-01.getOrder"]
    minimum = max(0.0, (args.orders - plan.burst) / plan.rate)
    first = compose(seeded, TEXT)
    second = compose(seeded, FOLLOW_UP)

    env = {**os.environ}
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(args.port)], env=env, cwd=ROOT)  # noqa: S603
    workers = []
    try:
        wait_listening(args.port, server)
        for n in range(args.workers):
            command = [sys.executable, "-m", "deskbridge", "worker", "--threads", str(args.threads)]
            if n == 0:
                command.append("--periodic")
            workers.append(subprocess.Popen(command, env=env, cwd=ROOT))  # noqa: S603
        time.sleep(3)  # the workers' start (and the reconciler's first pass) is not the bench's
        results: dict[str, object] = {"minimum_seconds": minimum}
        for phase, messages in (("distinct orders", first), ("follow-ups", second)):
            before = counts(args.port)
            pks = submit(messages)
            elapsed, states = wait_done(pks, timeout=max(600.0, minimum * 4))
            after = counts(args.port)
            calls = after - before
            get_order = sum(v for k, v in calls.items() if k.startswith("getOrder "))
            throttled = sum(v for k, v in calls.items() if k.endswith(" 429"))
            attempts = list(InboundMessage.objects.filter(pk__in=pks).values_list("attempts", flat=True))
            results[phase] = {
                "messages": len(pks),
                "seconds": round(elapsed, 1),
                "states": dict(states),
                "getOrder calls": get_order,
                "calls per message": round(get_order / len(pks), 3),
                "429 answers": throttled,
                "answers": dict(calls),
                "max attempts": max(attempts),
            }
        unavailable = Conversation.objects.exclude(order_unavailable="").count()
        results["conversations without order details"] = unavailable
        results["snapshots with data"] = OrderSnapshot.objects.exclude(data=None).count()
        return results
    finally:
        for worker in workers:
            stop(worker)
        stop(server)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sellers", type=int, default=20, help="sellers (default 20)")
    parser.add_argument(
        "--orders", type=int, default=100, help="orders (and messages) per seller (default 100)"
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (default 8)")
    parser.add_argument(
        "--latency-ms", type=int, default=100, help="the sandbox's SP-API round trip (default 100)"
    )
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    if args.serve:
        serve_sandbox(args.serve)
        return

    from cryptography.fernet import Fernet

    data_dir = Path(tempfile.mkdtemp(prefix="deskbridge-bench-enrich-"))
    args.port = free_port()
    os.environ.update(
        {
            "PYTHONPATH": str(ROOT / "src"),
            "DJANGO_SETTINGS_MODULE": "deskbridge.settings",
            "DESKBRIDGE_DATA_DIR": str(data_dir),
            "DESKBRIDGE_SECRET_KEY": "bench-" + "x" * 50,
            "DESKBRIDGE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "DESKBRIDGE_SANDBOX": "1",
            "DESKBRIDGE_PUBLIC_URL": f"http://127.0.0.1:{args.port}",
            "DESKBRIDGE_SANDBOX_SPAPI_LATENCY_MS": str(args.latency_ms),
            "DESKBRIDGE_LOG_LEVEL": "WARNING",
            "DESKBRIDGE_QUEUE_NAME": f"bench-enrich-{os.getpid()}",
        }
    )
    results = run(args)
    first = results["distinct orders"]
    assert isinstance(first, dict)
    minimum = float(results["minimum_seconds"])  # type: ignore[arg-type]
    print(json.dumps(results, indent=2))
    print(
        f"\n{args.sellers} sellers x {args.orders} distinct orders: {first['seconds']} s "
        f"(plans allow {minimum:.0f} s at best: {first['seconds'] / minimum if minimum else 0:.2f}x), "
        f"{first['calls per message']} getOrder calls per message, {first['429 answers']} answers 429"
    )


if __name__ == "__main__":
    main()

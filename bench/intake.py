"""Intake benchmark: messages per second stored durably by `deskbridge smtpd` (sandbox-signed 8 KB
Amazon buyer messages, DKIM/SPF/DMARC checked in enforce mode, committed before 250) against a bare
aiosmtpd receiver that stores nothing, in the same run with the same client; and the receiver's
peak RSS while it takes one 25 MB message.

    .venv/bin/python bench/intake.py [--messages 3000] [--clients 16] [--rounds 3] [--big-mb 25] [--processes 1]
    .venv/bin/python bench/intake.py --check-only --messages 2000 --rounds 1   # the check alone

Everything runs on this machine in a temporary data dir (SQLite and the embedded queue, as a
single-machine install has them), unless DESKBRIDGE_DATABASE_URL / DESKBRIDGE_QUEUE_URL are set.
A script, not a test: pytest does not collect it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT = (
    "Guten Tag, ich habe die Bestellung am Montag erhalten, aber ein Teil fehlt und die Verpackung war "
    "beschädigt. Können Sie mir bitte ein Ersatzteil schicken oder das Geld erstatten? Vielen Dank. "
)


# --- the bare receiver: aiosmtpd, the same limits, storing nothing ------------------------------


def bare_server(port: int, max_size: int, processes: int = 1) -> None:
    """The bare receiver in `processes` processes sharing the port (SO_REUSEPORT), as `deskbridge
    smtpd --processes` shares it, so that both receivers have the same CPUs to use."""
    if processes > 1:
        children = []
        for _ in range(processes):
            pid = os.fork()
            if pid == 0:
                try:
                    bare_server(port, max_size)
                finally:
                    os._exit(0)
            children.append(pid)
        signal.signal(signal.SIGTERM, lambda *_: [os.kill(pid, signal.SIGTERM) for pid in children])
        for pid in children:
            os.waitpid(pid, 0)
        return
    from aiosmtpd.smtp import SMTP

    class Nothing:
        async def handle_DATA(self, server, session, envelope) -> str:
            return "250 OK"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(
                Nothing(), data_size_limit=max_size, enable_SMTPUTF8=True, hostname="bare", loop=loop
            ),
            "127.0.0.1",
            port,
            backlog=512,
            reuse_port=True,
        )
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        async with server:
            await stop.wait()

    asyncio.run(main())


# --- the client: N connections, each sending its share over one session -------------------------


async def _reply(reader: asyncio.StreamReader) -> bytes:
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("closed")
        if line[3:4] != b"-":
            return line


def _stuffed(raw: bytes) -> bytes:
    lines = raw.split(b"\r\n")
    body = b"\r\n".join(b"." + line if line.startswith(b".") else line for line in lines)
    return body + (b"" if body.endswith(b"\r\n") else b"\r\n") + b".\r\n"


async def _session(port: int, work: list[tuple[bytes, str]], mail_from: str) -> tuple[int, int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    await _reply(reader)
    writer.write(b"EHLO bench.example\r\n")
    await _reply(reader)
    ok = refused = 0
    for data, rcpt in work:
        writer.write(f"MAIL FROM:<{mail_from}>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n".encode())
        codes = [await _reply(reader) for _ in range(3)]
        if not codes[2].startswith(b"354"):
            refused += 1
            writer.write(b"RSET\r\n")
            await _reply(reader)
            continue
        writer.write(data)
        await writer.drain()
        if (await _reply(reader)).startswith(b"250"):
            ok += 1
        else:
            refused += 1
    writer.write(b"QUIT\r\n")
    await _reply(reader)
    writer.close()
    return ok, refused


def deliver(port: int, work: list[tuple[bytes, str]], clients: int, mail_from: str) -> tuple[float, int, int]:
    """Send everything over `clients` concurrent sessions; (seconds, accepted, refused)."""
    shares = [work[i::clients] for i in range(clients)]

    async def main() -> list[tuple[int, int]]:
        return await asyncio.gather(*(_session(port, share, mail_from) for share in shares if share))

    started = time.perf_counter()
    results = asyncio.run(main())
    return time.perf_counter() - started, sum(r[0] for r in results), sum(r[1] for r in results)


# --- processes ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the receiver exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                if probe.recv(100).startswith(b"220"):
                    return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the receiver did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process and its child processes have used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(child) for child in children_of(pid))


def children_of(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process has had since it started."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("no /proc: peak RSS is measured on Linux only")


def pss_mb(pids: list[int]) -> float:
    """The processes' proportional set size together: their private memory, and each page they
    share (with each other, after a fork) counted once, split between them."""
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1])
    return total / 1024


class PeakPss(threading.Thread):
    """The highest pss_mb of the processes, read every 5 ms until stop()."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids, self.peak, self.running = pids, 0.0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, pss_mb(self.pids))
            time.sleep(0.005)

    def stop(self) -> float:
        self.running = False
        self.join()
        return self.peak


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- the run ------------------------------------------------------------------------------------


def time_the_check(raws: list[bytes], mail_from: str) -> None:
    """µs a message of the authenticity check as the receiver runs it on its loop, and of reading
    the From alone: one thread, nothing else running; the best of five passes over the messages."""
    from deskbridge.mail import authenticity
    from deskbridge.mail.resolvers import AtHand

    resolver = authenticity.default_resolver()

    def check(raw: bytes) -> None:
        authenticity.authenticate(
            raw, client_ip="127.0.0.1", mail_from=mail_from, helo="bench.example", resolve=AtHand.of(resolver)
        )

    def read_from(raw: bytes) -> None:
        authenticity.amazon_claim(authenticity.header_section(raw)[0])

    for name, step in (("authenticate", check), ("amazon_claim", read_from)):
        step(raws[0])
        best = min(_seconds(step, raws) for _ in range(5))
        print(f"{name}: {best / len(raws) * 1e6:.1f} us a message")


def _seconds(step: Callable[[bytes], None], raws: list[bytes]) -> float:
    started = time.perf_counter()
    for raw in raws:
        step(raw)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=3000, help="messages per round (default 3000)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent SMTP sessions (default 16)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per receiver, alternating (default 3)")
    parser.add_argument("--big-mb", type=int, default=25, help="size of the big message in MB (default 25)")
    parser.add_argument("--threads", type=int, default=0, help="the receiver's threads (default: its own)")
    parser.add_argument(
        "--check-only",
        action="store_true",
        help="time the authenticity check alone on the messages (no receiver), then stop",
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="processes of each receiver, bare and ours (default 1)"
    )
    parser.add_argument("--bare-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--max-size", type=int, default=40 * 1024 * 1024, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        bare_server(args.bare_server, args.max_size, args.processes)
        return

    data_dir = Path(tempfile.mkdtemp(prefix="deskbridge-bench-"))
    from cryptography.fernet import Fernet

    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "DJANGO_SETTINGS_MODULE": "deskbridge.settings",
        "DESKBRIDGE_DATA_DIR": str(data_dir),
        "DESKBRIDGE_SECRET_KEY": "bench-" + "x" * 50,
        "DESKBRIDGE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DESKBRIDGE_SANDBOX": "1",  # the sandbox Amazon signs; its DNS answers
        "DESKBRIDGE_INBOUND_AUTH": "enforce",
        "DESKBRIDGE_LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from deskbridge.amazon import marketplaces
    from deskbridge.amazon.models import MarketplaceConnection, SellerAccount
    from deskbridge.core.models import Organisation
    from deskbridge.pipeline.models import InboundMessage
    from deskbridge.sandbox.amazon import mail

    call_command("migrate", interactive=False, verbosity=0)
    germany = marketplaces.by_id("A1PA6795UKMFR9")
    assert germany is not None
    addresses = []
    for n in range(4):
        organisation = Organisation.objects.create(name=f"Bench shop {n}")
        account = SellerAccount.objects.create(
            organisation=organisation,
            selling_partner_id=f"A2BENCH{n:07d}",
            region="EU",
            store_name=f"Bench {n}",
        )
        addresses.append(
            MarketplaceConnection.objects.create(
                organisation=organisation,
                account=account,
                marketplace_id=germany.id,
                forwarding_address=f"amz-de-bench-{n}@{django.conf.settings.INBOUND_DOMAIN}",
            ).forwarding_address
        )
    connection.close()

    def message(n: int, attachments: list[Path] | None = None) -> bytes:
        composed = mail.compose_buyer_message(
            to=addresses[n % len(addresses)],
            marketplace=germany,
            seller_id=f"A2BENCH{n % len(addresses):07d}",
            order_id=f"302-{n // 10_000_000:07d}-{n % 10_000_000:07d}",
            text=TEXT * 28,
            language="de",
            attachments=attachments,
        )
        return mail.sign(composed.as_bytes())

    total = args.messages * args.rounds
    print(f"composing and signing {total} messages ...", flush=True)
    raws = [message(n) for n in range(total + 50)]
    if args.check_only:
        time_the_check(raws, mail.envelope_sender(germany))
        return
    size = statistics.mean(len(r) for r in raws)
    work = [(_stuffed(raw), addresses[n % len(addresses)]) for n, raw in enumerate(raws)]
    mail_from = mail.envelope_sender(germany)
    warmup, work = work[:50], work[50:]

    bare_port, ours_port = free_port(), free_port()
    processes = ["--processes", str(args.processes)]
    bare = subprocess.Popen(  # noqa: S603
        [sys.executable, __file__, "--bare-server", str(bare_port), *processes], env=env
    )
    threads = ["--threads", str(args.threads)] if args.threads else []
    ours = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "deskbridge", "smtpd", "--port", str(ours_port), *threads, *processes], env=env
    )
    rates: dict[str, list[float]] = {"bare aiosmtpd": [], "deskbridge smtpd": []}
    cpu: dict[str, list[float]] = {"bare aiosmtpd": [], "deskbridge smtpd": []}
    try:
        wait_listening(bare_port, bare)
        wait_listening(ours_port, ours)
        deliver(bare_port, warmup, 4, mail_from)
        deliver(ours_port, warmup, 4, mail_from)
        for round_ in range(args.rounds):
            chunk = work[round_ * args.messages : (round_ + 1) * args.messages]
            for name, process, port in (
                ("bare aiosmtpd", bare, bare_port),
                ("deskbridge smtpd", ours, ours_port),
            ):
                used = cpu_seconds(process.pid)
                seconds, accepted, refused = deliver(port, chunk, args.clients, mail_from)
                used = cpu_seconds(process.pid) - used
                if refused:
                    raise SystemExit(f"{name}: {refused} messages refused")
                rates[name].append(accepted / seconds)
                cpu[name].append(used / accepted * 1000)
                print(
                    f"  round {round_ + 1}: {name:17} {accepted / seconds:8.1f} msg/s, "
                    f"{used / accepted * 1000:.2f} ms of receiver CPU a message",
                    flush=True,
                )
    finally:
        stop(bare)
        stop(ours)
    stored = InboundMessage.objects.count()
    connection.close()
    if stored != total + 50:
        raise SystemExit(f"{stored} rows stored for {total + 50} messages accepted")

    # Peak RSS while taking one big message: a fresh receiver, warmed up with one small message.
    # The attachment's size that makes the whole message (base64, 76-character lines) big-mb MB.
    attachment = data_dir / "big.bin"
    attachment.write_bytes(os.urandom(int(args.big_mb * 1024 * 1024 * 3 / 4 * 76 / 78) - 4096))
    big_raw = message(total + 100, [attachment])
    big = _stuffed(big_raw)
    port = free_port()
    ours = subprocess.Popen([sys.executable, "-m", "deskbridge", "smtpd", "--port", str(port)], env=env)  # noqa: S603
    try:
        wait_listening(port, ours)
        deliver(port, warmup[:1], 1, mail_from)
        processes = [ours.pid, *children_of(ours.pid)]  # the receiver and its committer process
        before = [peak_rss_mb(pid) for pid in processes]
        pss = PeakPss(processes)
        pss.start()
        seconds, accepted, _ = deliver(port, [(big, addresses[0])], 1, mail_from)
        together = pss.stop()
        after = [peak_rss_mb(pid) for pid in processes]
    finally:
        stop(ours)
    if accepted != 1:
        raise SystemExit("the big message was not accepted")

    bare_rate, our_rate = (statistics.median(rates[k]) for k in ("bare aiosmtpd", "deskbridge smtpd"))
    print()
    print(
        f"messages: {args.messages} x {args.rounds} rounds, {size / 1024:.1f} KB each, {args.clients} clients, "
        f"{args.processes} process(es) per receiver"
    )
    print(
        f"database: {django.conf.settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, queue: {type(__import__('deskbridge.core.jobs', fromlist=['HUEY']).HUEY).__name__}"
    )
    bare_cpu, our_cpu = (statistics.median(cpu[k]) for k in ("bare aiosmtpd", "deskbridge smtpd"))
    print(
        f"bare aiosmtpd (stores nothing):   {bare_rate:8.1f} msg/s (median), {bare_cpu:.2f} ms CPU a message"
    )
    print(f"deskbridge smtpd (stored, woken): {our_rate:8.1f} msg/s (median), {our_cpu:.2f} ms CPU a message")
    print(f"ratio: {our_rate / bare_rate:.2f} (target >= 0.70)")
    print(
        f"taking a {len(big) / 1048576:.1f} MB message ({seconds:.1f} s), peak RSS (VmHWM): "
        + ", ".join(
            f"{name} {peak:.0f} MB (before it: {earlier:.0f} MB)"
            for name, earlier, peak in zip(("receiver", "its committer"), before, after, strict=False)
        )
    )
    print(
        f"  both processes together: at most {together:.0f} MB (PSS, shared pages counted once, read every 5 ms; target < 200 MB)"
    )


if __name__ == "__main__":
    main()

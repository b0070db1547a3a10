"""The SMTP receiver (and its LMTP mode for running behind Postfix): aiosmtpd on one event loop;
every step that may wait (a database query, a DNS lookup not in the cache) in a pool of threads, so
one slow client or lookup never holds up another.

RCPT asks deskbridge.mail.intake.check_recipient (answered on the loop for an address found live a
moment ago); the end of DATA checks the message (intake.check: on the loop when every DNS answer it
needs is at hand, else in a thread) and hands it to the group committer (in a process of its own
under `deskbridge smtpd`: deskbridge.mail.committer), which has committed it before the 250 is
sent. Any failure of ours answers 451 (the sender retries), never 250 and never a permanent refusal.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
import signal
import socket
import ssl
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import MISSING, SMTP, Envelope, Session, syntax
from django.conf import settings
from django.db import connections

from deskbridge.core.logs import get_logger
from deskbridge.mail import authenticity, intake
from deskbridge.mail.committer import CommitterProcess
from deskbridge.mail.resolvers import AtHand

log = get_logger(__name__)

THREADS = 8  # CPU-bound under one GIL: more threads only hold more database connections
MAX_RECIPIENTS = 100
STOP_GRACE_SECONDS = 20.0
TEMPORARY_FAILURE = "451 4.3.0 Temporary failure while storing the message; try again later"
# aiosmtpd's fixed replies, given enhanced status codes (RFC 3463) and a clearer text.
_REWRITES: dict[str, Callable[[], str]] = {
    "552 Error: Too much mail data": lambda: str(intake.too_big()),
    "552 Error: message size exceeds fixed maximum message size": lambda: str(intake.too_big()),
    "500 Line too long (see RFC5321 4.5.3.1.6)": lambda: "500 5.5.2 Line too long",
    "503 Error: need RCPT command": lambda: "503 5.5.1 Error: need RCPT command",
    "503 Error: need MAIL command": lambda: "503 5.5.1 Error: need MAIL command",
}
# Replies that end a DATA transfer: LMTP owes one of them for every accepted recipient.
_ENDS_DATA = {"552 Error: Too much mail data", "500 Line too long (see RFC5321 4.5.3.1.6)"}
# We advertise ENHANCEDSTATUSCODES (RFC 2034): aiosmtpd's other replies get a code by their class.
# The greeting, 354 and the lines of the EHLO reply go out as they are.
_PLAIN_REPLY = re.compile(r"^(\d)(\d\d) (?!\d\.\d{1,3}\.\d{1,3} )")
_CODE_FOR = {"500": "5.5.2", "501": "5.5.4", "502": "5.5.1", "503": "5.5.1", "504": "5.5.4", "530": "5.7.0"}
_LEFT_PLAIN = {"220", "354"}
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_PLAIN_PATH = re.compile(
    rf"[ \t]*<({_ATEXT}+(?:\.{_ATEXT}+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>[ \t]*([^()\"\\]*)",
)


class InboundSMTP(SMTP):
    """aiosmtpd's SMTP with enhanced status codes in its fixed replies, and a DATA reader that reads
    the message in runs rather than lines (aiosmtpd keeps a list of lines: twice the message again
    in memory, and a read and a copy for every line)."""

    # RFC 5321 allows 1000 octets a line; real mail is sometimes longer. Longer than this is refused.
    line_length_limit = 256 * 1024
    _is_lmtp = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held = bytearray()  # replies to pipelined commands, sent with the group's last one

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio turns Nagle's algorithm off only on sockets made with proto=IPPROTO_TCP, which
        # socket.create_server's listening socket (and so every connection it accepts) is not.
        # With Nagle on, a reply written while the previous one was unacknowledged waited for
        # the client's delayed ACK: some 40 ms a message (bench/README.md, intake).
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        # aiosmtpd reads MAIL FROM/RCPT TO addresses with the email package's header parser and
        # defines a typing.Protocol class on every call: a tenth of the receiver's CPU. The plain
        # <local@domain> form (what MTAs send) is read by a regular expression instead, with the
        # same result (tests/mail/test_receiver.py compares them); anything else goes to aiosmtpd.
        plain = _PLAIN_PATH.fullmatch(arg)
        if plain is None:
            return super()._getaddr(arg)
        address = plain.group(1)
        if self.local_part_limit and len(address.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return address, plain.group(2)

    async def push(self, status: Any) -> None:
        if isinstance(status, str) and status in _REWRITES:
            repeat = (
                len(self.envelope.rcpt_tos) if self._is_lmtp and status in _ENDS_DATA and self.envelope else 1
            )
            status = "\r\n".join([_REWRITES[status]()] * max(repeat, 1))
        elif isinstance(status, str) and status not in ("250 HELP", f"250 {self.hostname}"):  # EHLO, HELO
            plain = _PLAIN_REPLY.match(status)
            if plain and status[:3] not in _LEFT_PLAIN:
                code = _CODE_FOR.get(status[:3], f"{plain.group(1)}.0.0")
                status = f"{status[:3]} {code} {status[4:]}"
        encoding = "utf-8" if self.enable_SMTPUTF8 else "ascii"
        reply = (status.encode(encoding) if isinstance(status, str) else status) + b"\r\n"
        if reply.startswith(b"250 ") and b"\n" in self._reader._buffer:  # type: ignore[attr-defined]
            # A pipelining client's next command is here already: as RFC 2920 asks, the replies
            # to a group of commands go out together, in one send (a GIL hand-back each, too).
            # Only a 250 waits; the next reply that is not held takes it along.
            self._held += reply
            return
        self._writer.write(bytes(self._held) + reply if self._held else reply)
        self._held.clear()
        await self._writer.drain()

    async def _read_data(self) -> bytes | str | None:
        """The message after DATA's 354, dot-unstuffed, without its end line; or, once the client
        has sent it all, the refusal that ends the transfer (too big, a line too long); or None
        when the connection ended first.

        Read in runs up to the next ".<CR><LF>" (aiosmtpd reads line by line: a hundred reads and
        copies for an 8 KB message). A run ends the message when its "." begins a line; a run
        that finds no ".<CR><LF>" within the reader's limit (a big message) is taken as it stands.
        """
        reader, size_limit, line_limit = self._reader, self.data_size_limit, self.line_length_limit
        runs: list[bytes] = []
        received = line = 0  # bytes read so far; the length of the line not ended yet
        tail = b"\r\n"  # the last two bytes read (DATA's own line end before the first)
        refusal = ""
        while True:
            try:
                run = await reader.readuntil(b".\r\n")
                ends = (run[-5:-3] if len(run) >= 5 else (tail + run[:-3])[-2:]) == b"\r\n"
            except asyncio.LimitOverrunError as overrun:
                run, ends = await reader.readexactly(overrun.consumed), False
            except asyncio.IncompleteReadError:
                return None
            if ends:
                run = run[:-3]
            received += len(run)
            if line == 0 and len(run) <= line_limit and run.endswith(b"\r\n"):
                longest = 0  # whole lines, none longer than the run: the usual case
            else:
                longest, line = _longest_line(run, line, tail)
            tail = run[-2:] if len(run) >= 2 else (tail + run)[-2:]
            if not refusal and (longest > line_limit or line > line_limit):
                refusal = "500 Line too long (see RFC5321 4.5.3.1.6)"
            elif not refusal and size_limit and received > size_limit:
                refusal = "552 Error: Too much mail data"
            if refusal:
                runs.clear()
            else:
                runs.append(run)
            if ends:
                break
        if refusal:
            return refusal
        raw = b"".join(runs)
        del runs
        if raw.startswith(b"."):
            raw = raw[1:]
        return raw.replace(b"\r\n.", b"\r\n") if b"\r\n." in raw else raw

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        # aiosmtpd 1.4's smtp_DATA with its own reader; its checks and replies are unchanged.
        if await self.check_helo_needed():
            return
        if await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        raw = await self._read_data()
        if raw is None:
            return  # the connection went away: nothing of a half-received message is kept
        if isinstance(raw, str):
            await self.push(raw)
            self._set_post_data_state()
            return
        self.envelope.content = self.envelope.original_content = raw
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)


def _longest_line(run: bytes, line: int, tail: bytes) -> tuple[int, int]:
    """The longest line `run` ends (its CR LF included, as aiosmtpd counts lines) and the length of
    the line left open at its end, given the open line's length before it and the last two bytes
    read. Only a run cut at the reader's limit can end between a line's CR and its LF."""
    ended = [line + 1] if tail.endswith(b"\r") and run.startswith(b"\n") else []
    pieces = (run[1:] if ended else run).split(b"\r\n")
    if len(pieces) == 1:
        return max(ended, default=0), len(pieces[0]) if ended else line + len(pieces[0])
    ended += [(0 if ended else line) + len(pieces[0]) + 2, *(len(p) + 2 for p in pieces[1:-1])]
    return max(ended), len(pieces[-1])


class InboundLMTP(InboundSMTP, LMTP):
    _is_lmtp = True


def _peer_ip(session: Session) -> str:
    peer = session.peer
    return str(peer[0]) if isinstance(peer, tuple) and peer else ""


# Bigger messages are checked in a thread (hashing their bodies would hold up every other session)
# and committed by a thread of the receiver's own process (copying them to the committer process
# would cost more memory than the GIL it spares: bench/README.md, peak RSS).
BIG_MESSAGE = 256 * 1024


def _verdict_at_once(raw: bytes, mail: intake.Envelope) -> authenticity.Verdict | None:
    """The message's verdict, reached on the event loop without waiting for anything: None when
    it is big or a DNS answer it needs is not at hand (resolvers.AtHand)."""
    if len(raw) > BIG_MESSAGE:
        return None
    resolve = AtHand.of(authenticity.default_resolver())
    if resolve is None:
        return None
    verdict = authenticity.authenticate(
        raw, client_ip=mail.client_ip, mail_from=mail.mail_from, helo=mail.helo, resolve=resolve
    )
    return None if resolve.missed else verdict


class InboundHandler:
    """aiosmtpd's handler: the hooks call intake's functions, in the receiver's thread pool when
    they may wait (a query, a DNS lookup), on the event loop when they cannot."""

    def __init__(self, pool: ThreadPoolExecutor, *, lmtp: bool) -> None:
        self.pool = pool
        self.lmtp = lmtp
        self.in_flight = 0
        # The committer; under `deskbridge smtpd` a process of its own (Receiver.run), but for big
        # messages, which are committed by a thread of this process.
        self.committer_in_thread = intake.GroupCommitter()
        self.committer: intake.GroupCommitter | CommitterProcess = self.committer_in_thread

    async def _in_thread(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        self.in_flight += 1
        try:
            return await loop.run_in_executor(
                self.pool, functools.partial(intake.run_in_worker_thread, fn, *args, **kwargs)
            )
        finally:
            self.in_flight -= 1

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-ENHANCEDSTATUSCODES", "250-PIPELINING", responses[-1]]

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Sender OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        try:
            reply = intake.recipient_without_database(address) or await self._in_thread(
                intake.check_recipient, address
            )
        except Exception:
            log.exception("smtp recipient check failed")
            return "451 4.3.0 Temporary failure checking the recipient; try again later"
        if reply.accepted:
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
        else:
            log.info("smtp recipient refused", code=reply.code, status=reply.status, peer=_peer_ip(session))
        return str(reply)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        ip = _peer_ip(session)
        mail = intake.Envelope(
            mail_from="" if envelope.mail_from in (None, "<>") else envelope.mail_from,  # <>: a bounce
            recipients=list(envelope.rcpt_tos),
            client_ip="" if self.lmtp else ip,
            peer=ip,
            helo=session.host_name or "",
            via="lmtp" if self.lmtp else "smtp",
        )
        self.in_flight += 1
        try:
            # Checked here when every DNS answer it needs is at hand, else in a thread; stored by
            # the committer, awaited here so that no thread waits for the commit and every
            # session's message can join the same transaction.
            verdict = _verdict_at_once(raw, mail)
            if verdict is not None:
                checked = intake.check(raw, mail, partial=self.lmtp, checked=True, verdict=verdict)
            else:
                checked = await self._in_thread(intake.check, raw, mail, partial=self.lmtp, checked=True)
            if isinstance(checked, intake.Outcome):
                outcome = checked
            else:
                committer = self.committer if len(raw) <= BIG_MESSAGE else self.committer_in_thread
                result = await committer.commit(checked.request)
                outcome = intake.finish(checked, result)
        except Exception:
            log.exception("inbound message could not be stored", via=mail.via, size=len(raw))
            return "\r\n".join([TEMPORARY_FAILURE] * (len(envelope.rcpt_tos) if self.lmtp else 1))
        finally:
            self.in_flight -= 1
        if self.lmtp:
            # RFC 2033 §4.2: one reply for every accepted RCPT, in order, repeated addresses included.
            return "\r\n".join(str(outcome.replies[intake.normalise(r)]) for r in envelope.rcpt_tos)
        refused = [r for r in outcome.replies.values() if not r.accepted]
        if refused:
            return str(refused[0])
        ids = ", ".join(str(pk) for pk in outcome.stored.values())
        return f"250 2.0.0 Stored as inbound message {ids}"

    async def handle_exception(self, error: Exception) -> str:
        log.error("smtp session error", error=type(error).__name__)
        return "451 4.3.0 Temporary failure; try again later"


def tls_context() -> ssl.SSLContext | None:
    """STARTTLS is offered when DESKBRIDGE_SMTP_TLS_CERT names a certificate (PEM)."""
    if not settings.SMTP_TLS_CERT:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(settings.SMTP_TLS_CERT, settings.SMTP_TLS_KEY or None)
    except (OSError, ssl.SSLError) as exc:
        from deskbridge.errors import SettingsError

        raise SettingsError(
            f"DESKBRIDGE_SMTP_TLS_CERT/_KEY could not be loaded ({exc}); give PEM files this user can read."
        ) from None
    return context


def _return_big_buffers_to_the_os() -> None:
    """glibc raises its mmap threshold each time a big block is freed (up to 32 MB), after which
    a 25 MB message's copies come from per-thread heaps that keep the memory: the check's thread
    and the committer's each hold one. A fixed threshold keeps every big buffer an mmap of its
    own, given back to the system when freed (peak RSS with a 25 MB message: see bench/README.md)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 256 * 1024)  # M_MMAP_THRESHOLD


def listening_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=512, reuse_port=reuse_port)
    except OSError as exc:
        from deskbridge.errors import SettingsError

        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise SettingsError(
            f"the SMTP receiver cannot listen on {host}:{port} ({reason}); "
            "set DESKBRIDGE_SMTP_HOST / DESKBRIDGE_SMTP_PORT"
        ) from None


class Receiver:
    """The receiver: bound at construction (so a taken port fails at once), then served either in
    the foreground (`deskbridge smtpd`) or in a thread (`serve`, `demo`, tests)."""

    def __init__(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        lmtp: bool = False,
        unix_path: str | None = None,
        sock: socket.socket | None = None,
        threads: int = THREADS,
    ) -> None:
        _return_big_buffers_to_the_os()
        self.lmtp = lmtp
        self.unix_path = unix_path
        self.threads = threads
        self.tls = tls_context()
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="smtpd")
        self.handler = InboundHandler(self.pool, lmtp=lmtp)
        self.sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._finished = False
        self._committer_lost = False
        if unix_path:
            Path(unix_path).unlink(missing_ok=True)
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(unix_path)
            self.sock.listen(512)
        else:
            self.sock = sock or listening_socket(host or settings.SMTP_HOST, port or settings.SMTP_PORT)
        _ = self.address, self.port  # read while the socket is open (serving closes it at the end)
        # aiosmtpd logs senders and recipients at INFO: those are buyers' addresses.
        logging.getLogger("mail.log").setLevel(logging.WARNING)

    @functools.cached_property
    def address(self) -> str:
        if self.unix_path:
            return self.unix_path
        host, port = self.sock.getsockname()[:2]
        return f"{host}:{port}"

    @functools.cached_property
    def port(self) -> int:
        return 0 if self.unix_path else int(self.sock.getsockname()[1])

    def _protocol(self) -> SMTP:
        kind = InboundLMTP if self.lmtp else InboundSMTP
        session = kind(
            self.handler,
            data_size_limit=settings.SMTP_MAX_SIZE,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=settings.INBOUND_DOMAIN,
            ident="deskbridge",
            tls_context=self.tls,
            timeout=300,
            loop=asyncio.get_running_loop(),
        )
        self.sessions.add(session)
        return session

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        self._loop, self._stop = loop, asyncio.Event()
        if self.unix_path:
            server = await loop.create_unix_server(self._protocol, sock=self.sock)
        else:
            server = await loop.create_server(self._protocol, sock=self.sock)
        log.info(
            "smtp receiver listening",
            listen=self.address,
            protocol="lmtp" if self.lmtp else "smtp",
            starttls=self.tls is not None,
            max_size=settings.SMTP_MAX_SIZE,
        )
        self._started.set()
        await self._stop.wait()
        server.close()
        # Let messages being stored finish and get their reply; then drop the remaining sessions.
        deadline = loop.time() + STOP_GRACE_SECONDS
        while self.handler.in_flight and loop.time() < deadline:
            await asyncio.sleep(0.05)
        for session in list(self.sessions):
            if session.transport is not None:
                session.transport.close()
        await asyncio.sleep(0)
        log.info("smtp receiver stopped", listen=self.address)

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        self.handler.committer.stop()
        self.handler.committer_in_thread.stop()
        _close_pool_connections(self.pool, self.threads)
        self.pool.shutdown(wait=True)
        self.sock.close()
        if self.unix_path:
            Path(self.unix_path).unlink(missing_ok=True)

    def run(self) -> None:
        """Serve in the foreground until SIGINT or SIGTERM, storing through a committer process of
        its own (forked first, before any thread or event loop). If that process ends, stop with
        status 1."""
        committer = CommitterProcess()
        committer.start()
        self.handler.committer = committer

        def committer_lost() -> None:
            self._committer_lost = True
            if self._stop is not None:
                self._stop.set()

        async def main() -> None:
            loop = asyncio.get_running_loop()
            await committer.connect(on_lost=committer_lost)
            task = asyncio.ensure_future(self._serve())
            while self._stop is None:
                await asyncio.sleep(0)
            if self._committer_lost:
                self._stop.set()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, self._stop.set)
            await task
            committer.disconnect()
            await asyncio.sleep(0)  # the transport's closing callbacks

        try:
            asyncio.run(main())
        finally:
            self._finish()
        if self._committer_lost:
            raise SystemExit(1)

    def start(self) -> None:
        """Serve in a daemon thread; returns once it listens."""

        def serve() -> None:
            try:
                asyncio.run(self._serve())
            except BaseException as exc:
                if self._started.is_set():
                    log.exception("smtp receiver failed", listen=self.address)
                else:  # reported to start()'s caller
                    self._error = exc
                    self._started.set()

        self._thread = threading.Thread(target=serve, name="smtpd", daemon=True)
        self._thread.start()
        self._started.wait(timeout=30)
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=STOP_GRACE_SECONDS + 10)
        self._finish()


def _close_pool_connections(pool: ThreadPoolExecutor, threads: int) -> None:
    """Each pool thread has its own database connections: close them in those threads, all at once
    (a barrier makes every thread take one of the closing tasks)."""
    barrier = threading.Barrier(threads, timeout=5)

    def close() -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        connections.close_all()

    wait([pool.submit(close) for _ in range(threads)], timeout=15)


def run_processes(
    processes: int,
    *,
    host: str | None = None,
    port: int | None = None,
    lmtp: bool = False,
    unix_path: str | None = None,
    threads: int = THREADS,
) -> None:
    """`deskbridge smtpd --processes N`: N receivers, each a process of its own with its own event
    loop, threads and database connections, so that checking messages is not held to one CPU by
    the GIL. Every process listens on the same port (SO_REUSEPORT: the kernel spreads connections
    over them). All the sockets are bound here, before any process starts, so a taken port fails at
    once. A process that dies takes the others down (exit status 1): the supervisor restarts all."""
    if processes <= 1:
        Receiver(host=host, port=port, lmtp=lmtp, unix_path=unix_path, threads=threads).run()
        return
    if unix_path:
        from deskbridge.errors import SettingsError

        raise SettingsError("--processes takes a TCP port; on a Unix socket (behind Postfix) run one process")
    host = host or settings.SMTP_HOST
    first = listening_socket(host, port or settings.SMTP_PORT, reuse_port=True)
    port = first.getsockname()[1]
    sockets = [first] + [listening_socket(host, port, reuse_port=True) for _ in range(processes - 1)]
    connections.close_all()  # nothing of the parent's may be shared with the children
    children: dict[int, int] = {}
    for index, sock in enumerate(sockets):
        pid = os.fork()
        if pid == 0:  # pragma: no cover (the child; covered by tests/mail/test_processes.py)
            status = 1
            try:
                for other in sockets:
                    if other is not sock:
                        other.close()
                Receiver(sock=sock, lmtp=lmtp, threads=threads).run()
                status = 0
            except BaseException:
                log.exception("smtp receiver process failed", process=index)
            finally:
                os._exit(status)
        children[pid] = index
    for sock in sockets:
        sock.close()
    log.info("smtp receiver processes started", processes=processes, listen=f"{host}:{port}")
    _supervise(children)


def _supervise(children: dict[int, int]) -> None:
    """Wait for the children; pass SIGINT/SIGTERM on to them; if one ends on its own, stop the rest."""
    stopping = False

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    failed = False
    try:
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            children.pop(pid, None)
            if not stopping:
                log.error("smtp receiver process ended; stopping the others", status=status)
                failed = True
                stop(signal.SIGTERM, None)
            elif os.waitstatus_to_exitcode(status) != 0:
                failed = True
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if failed:
        raise SystemExit(1)

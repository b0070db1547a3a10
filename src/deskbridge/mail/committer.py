"""The receiver's group committer in a process of its own.

Checking a message and storing it are each cheap enough for the receiver's pace, but not both under
one GIL (bench/README.md, intake). So `deskbridge smtpd` forks, before it starts anything else, a
process that runs intake.GroupCommitter on a database connection of its own; the event loop sends it
each checked message over a Unix socket pair and awaits the answer, which comes only once the
message's transaction has committed. A receiver running in a thread of a bigger process (`serve`,
`demo`, the tests) keeps the committer in a thread instead: it must not fork a process it does not own.

Each message goes as a header (its number and the lengths of what follows), the pickled envelope and
verdict, then the raw bytes as they are (not copied into the pickle). Each answer is
its number and the pickled (stored, gone), or the name of the error that kept it from being stored.

If the committer process ends, every message waiting for it is answered 451 (the sender retries) and
the receiver stops with status 1, for its supervisor to restart. If the receiver ends, the committer
commits what it had been sent in full, then exits at the end of its input; it ignores SIGINT and
SIGTERM (a terminal's Ctrl-C and systemd reach every process of the group) so that it never stops
in the middle of a transaction a 250 may be waiting for.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import os
import pickle
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from django.db import connections

from deskbridge.core.logs import get_logger
from deskbridge.mail import intake

log = get_logger(__name__)

MESSAGE = struct.Struct("!QII")  # number, length of the pickled part, length of the raw bytes
ANSWER = struct.Struct("!QI")  # number, length of the pickled answer


class CommitterGone(Exception):
    """The committer process ended: nothing more can be stored until the receiver restarts."""


class CommitFailed(Exception):
    """The committer could not store the message (the database failed); its error's name is here."""


class CommitterProcess(asyncio.Protocol):
    """The receiver's side: fork the committer with start(), connect() on the event loop, then
    `await commit(request)` for each checked message, as with intake.GroupCommitter.commit."""

    def __init__(self) -> None:
        self.pid = 0
        self._sock: socket.socket | None = None
        self._transport: asyncio.WriteTransport | None = None
        self._waiting: dict[int, asyncio.Future[intake.Stored]] = {}
        self._numbers = itertools.count()
        self._answers = bytearray()
        self._outbox: list[bytes] = []
        self._on_lost: Callable[[], None] | None = None

    def start(self) -> None:
        """Fork the committer process. Call before this process starts a thread or an event loop."""
        ours, theirs = socket.socketpair()
        connections.close_all()  # nothing of ours may be shared with the child
        pid = os.fork()
        if pid == 0:  # pragma: no cover (the child; covered through `deskbridge smtpd` in tests)
            status = 1
            try:
                ours.close()
                serve(theirs)
                status = 0
            except BaseException:
                log.exception("smtp committer process failed")
            finally:
                os._exit(status)
        theirs.close()
        self.pid, self._sock = pid, ours

    async def connect(self, on_lost: Callable[[], None]) -> None:
        """Talk to the committer on the running loop; `on_lost` is called if it ends."""
        assert self._sock is not None, "start() first"
        self._on_lost = on_lost
        await asyncio.get_running_loop().create_unix_connection(lambda: self, sock=self._sock)

    async def commit(self, request: intake.StoreRequest) -> intake.Stored:
        """What the message's transaction stored, once it has committed."""
        if self._transport is None or self._transport.is_closing():
            raise CommitterGone("the committer process is not running")
        number = next(self._numbers)
        answer: asyncio.Future[intake.Stored] = asyncio.get_running_loop().create_future()
        self._waiting[number] = answer
        rest = pickle.dumps(
            (request.envelope, request.wanted, request.record, request.flags, request.partial), protocol=5
        )
        if not self._outbox:
            asyncio.get_running_loop().call_soon(self._send)
        self._outbox += (MESSAGE.pack(number, len(rest), len(request.raw)), rest, request.raw)
        try:
            return await answer
        finally:
            self._waiting.pop(number, None)

    def _send(self) -> None:
        """Everything committed to on this turn of the loop, in one write: sessions finishing a
        message together cost the committer one wake-up and this loop one system call."""
        outbox, self._outbox = self._outbox, []
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(b"".join(outbox))

    def disconnect(self) -> None:
        """Close the committer's input, on the loop: it commits what it was sent, then exits."""
        self._on_lost = None
        if self._transport is not None:
            self._send()
            self._transport.close()

    def stop(self) -> None:
        """Wait for the committer to exit (its input closed: by disconnect(), or here)."""
        if self._sock is not None:
            self._sock.close()
        if not self.pid:
            return
        deadline = time.monotonic() + 60
        while os.waitpid(self.pid, os.WNOHANG)[0] == 0:
            if time.monotonic() > deadline:
                log.error("smtp committer process did not stop; killed", pid=self.pid)
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                break
            time.sleep(0.02)
        self.pid = 0

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        answers = self._answers
        answers += data
        at = 0
        while len(answers) - at >= ANSWER.size:
            number, length = ANSWER.unpack_from(answers, at)
            if len(answers) - at - ANSWER.size < length:
                break
            at += ANSWER.size
            result = pickle.loads(answers[at : at + length])  # noqa: S301 (our own child's answer)
            at += length
            waiting = self._waiting.get(number)
            if waiting is None or waiting.done():
                continue  # its session ended meanwhile
            if isinstance(result, CommitFailed):
                waiting.set_exception(result)
            else:
                waiting.set_result(result)
        del answers[:at]

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        for waiting in self._waiting.values():
            if not waiting.done():
                waiting.set_exception(CommitterGone("the committer process ended"))
        if self._on_lost is not None:  # not disconnect()'s doing
            log.error("smtp committer process ended", pid=self.pid)
            self._on_lost()


def serve(sock: socket.socket) -> None:
    """The committer process: read messages from `sock` until its end, commit them through a
    GroupCommitter, answer each once committed."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    committer = intake.GroupCommitter()
    sending = threading.Lock()

    def answer(number: int, stored: Future[intake.Stored]) -> None:
        try:
            result: Any = stored.result()
        except Exception as exc:  # logged by the receiver, which answers 451
            result = CommitFailed(type(exc).__name__)
        payload = pickle.dumps(result, protocol=5)
        with sending, contextlib.suppress(OSError):  # the receiver is gone: nobody to answer
            sock.sendall(ANSWER.pack(number, len(payload)) + payload)

    with sock, sock.makefile("rb") as stream:
        try:
            while len(header := stream.read(MESSAGE.size)) == MESSAGE.size:
                number, rest_length, raw_length = MESSAGE.unpack(header)
                rest, raw = stream.read(rest_length), stream.read(raw_length)
                if len(rest) + len(raw) < rest_length + raw_length:
                    break  # the receiver ended in the middle of sending it: nobody was answered 250
                envelope, wanted, record, flags, partial = pickle.loads(rest)  # noqa: S301
                request = intake.StoreRequest(raw, envelope, wanted, record, flags, partial)
                committer.submit(request).add_done_callback(functools.partial(answer, number))
        finally:
            committer.stop()

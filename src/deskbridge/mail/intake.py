"""Accepting a message: the one function that SMTP, LMTP and POST /intake/mime share.

A thin edge, as in GNU Mailman's LMTP runner and Zulip's email gateway: recipients are checked
against the forwarding addresses first (an unknown one is refused before DATA), then the message is
authenticated, then its raw bytes and envelope are committed, one InboundMessage per recipient,
before the caller answers 250/202. The worker is woken after the commit; if that wake-up is lost,
the reconciler finds the pending row. Nothing here may block an event loop: callers run it in a
thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.db import connection as db_connection
from django.db import connections as db_connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from prometheus_client import Counter

from deskbridge.amazon.models import MarketplaceConnection, SellerAccount
from deskbridge.core import jobs
from deskbridge.core.logs import get_logger
from deskbridge.core.metrics import REGISTRY
from deskbridge.mail import authenticity
from deskbridge.mail.resolvers import Resolve
from deskbridge.pipeline import workrows
from deskbridge.pipeline.models import InboundMessage

log = get_logger(__name__)

inbound_mail = Counter(
    "deskbridge_inbound_mail",
    "Messages offered to the receiver, by the way they came in and what became of them.",
    ["via", "outcome"],
    registry=REGISTRY,
)

# Flags this module puts on InboundMessage.flags (the pipeline adds its own after them).
FLAG_AUTH_FAILED = "amazon_authentication_failed"
FLAG_AUTH_UNCHECKED = "amazon_authentication_unchecked"

_UNSAFE_IN_REPLY = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Reply:
    """An SMTP reply with its enhanced status code; the HTTP intake maps it to a status."""

    code: int
    status: str
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.status} {_UNSAFE_IN_REPLY.sub(' ', self.text)[:400]}"

    @property
    def accepted(self) -> bool:
        return 200 <= self.code < 300


@dataclass
class Envelope:
    mail_from: str = ""
    recipients: list[str] = field(default_factory=list)
    # The SMTP client's address when that client is the sending server (SPF is checked against
    # it); empty behind an MTA (LMTP) and for the HTTP intake.
    client_ip: str = ""
    peer: str = ""  # where the connection came from, for the record
    helo: str = ""
    via: str = "smtp"  # smtp, lmtp or http


@dataclass
class Outcome:
    replies: dict[str, Reply]  # for every distinct recipient (normalised), in the order given
    stored: dict[str, int]  # recipient → InboundMessage id, for those stored
    authentication: dict[str, Any] | None = None


def normalise(address: str) -> str:
    return address.strip().strip("<>").strip().lower()


def too_big() -> Reply:
    return Reply(552, "5.3.4", f"Message too big: this server takes at most {settings.SMTP_MAX_SIZE} bytes")


def check_recipient(address: str) -> Reply:
    """What RCPT TO answers for `address`: only a live forwarding address of ours is taken."""
    known = recipient_without_database(address)
    if known is not None:
        return known
    address = normalise(address)
    if address not in _live_connections([address]):
        return Reply(
            550,
            "5.1.1",
            "No such forwarding address here (unknown, or its Amazon account was disconnected)",
        )
    _remember_live(address)
    return RECIPIENT_OK


RECIPIENT_OK = Reply(250, "2.1.5", "Forwarding address OK")


def recipient_without_database(address: str) -> Reply | None:
    """check_recipient's answer when it needs no query (bad syntax, another domain, an address
    found live a moment ago), else None. Cheap enough for the receiver's event loop."""
    address = normalise(address)
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return Reply(550, "5.1.3", "Bad recipient address syntax")
    if domain != settings.INBOUND_DOMAIN:
        return Reply(
            550,
            "5.7.1",
            f"Relaying denied: this server takes mail only for @{settings.INBOUND_DOMAIN} addresses",
        )
    return RECIPIENT_OK if _recently_live(address) else None


# Addresses found live at RCPT in the last few seconds: a busy sender's next RCPT skips the query.
# Only positive answers are kept (a new address is taken at once), and the rows are stored only
# after a fresh look-up inside the storing transaction, so a stale entry never stores mail for a
# disconnected account: at worst RCPT says 250 and the end of DATA refuses.
LIVE_FOR_SECONDS = 10.0
_live_lock = threading.Lock()
_live_until: dict[str, float] = {}


def _recently_live(address: str) -> bool:
    with _live_lock:
        return _live_until.get(address, 0.0) > time.monotonic()


def _remember_live(address: str) -> None:
    with _live_lock:
        if len(_live_until) > 50_000:
            _live_until.clear()
        _live_until[address] = time.monotonic() + LIVE_FOR_SECONDS


def forget_live(*addresses: str) -> None:
    """Drop these addresses from the RCPT cache (none given: nothing dropped)."""
    with _live_lock:
        for address in addresses:
            _live_until.pop(address, None)


def forget_all_live() -> None:
    """Empty the RCPT cache."""
    with _live_lock:
        _live_until.clear()


@dataclass(frozen=True)
class LiveAddress:
    """A forwarding address of a connected (not disconnected) account, and whose it is."""

    connection_id: int
    organisation_id: int


def _live_connections(addresses: list[str]) -> dict[str, LiveAddress]:
    """Connections of accounts that are not disconnected, by forwarding address (stored lower-case).

    Plain SQL: this runs for every message, and building the same ORM query each time cost more
    than running it."""
    if not addresses:
        return {}
    connection_table = MarketplaceConnection._meta.db_table
    account_table = SellerAccount._meta.db_table
    placeholders = ", ".join(["%s"] * len(addresses))
    sql = (
        f"SELECT c.forwarding_address, c.id, c.organisation_id FROM {connection_table} c "  # noqa: S608
        f"JOIN {account_table} a ON a.id = c.account_id "
        f"WHERE c.forwarding_address IN ({placeholders}) AND a.disconnected_at IS NULL"
    )
    with db_connection.cursor() as cursor:
        cursor.execute(sql, addresses)
        return {address: LiveAddress(pk, organisation) for address, pk, organisation in cursor.fetchall()}


def accept(
    raw: bytes,
    envelope: Envelope,
    *,
    partial: bool = True,
    checked: bool = False,
    resolve: Resolve | None = None,
    mode: str | None = None,
) -> Outcome:
    """Check, authenticate and store `raw` for each recipient of `envelope`.

    partial=False (SMTP: one reply covers every recipient) stores for all recipients or for none;
    partial=True (LMTP, HTTP) stores for those that are still live and refuses the others.
    checked=True says every recipient passed check_recipient already (at RCPT); they are looked
    up again, once, as the rows are stored.
    Raises only when storing failed (the database); callers answer that with a temporary failure.
    The receiver runs the same in two halves, check() and finish(), with its GroupCommitter between.
    """
    checked_message = check(raw, envelope, partial=partial, checked=checked, resolve=resolve, mode=mode)
    if isinstance(checked_message, Outcome):
        return checked_message
    return finish(checked_message, _store_batch([checked_message.request])[0])


@dataclass(frozen=True)
class Checked:
    """A message that passed its checks: what to store, and what the replies will say."""

    request: StoreRequest
    replies: dict[str, Reply]
    verdict: str
    mode: str


def check(
    raw: bytes,
    envelope: Envelope,
    *,
    partial: bool = True,
    checked: bool = False,
    resolve: Resolve | None = None,
    mode: str | None = None,
    verdict: authenticity.Verdict | None = None,
) -> Outcome | Checked:
    """accept()'s first half: the Outcome of a message refused, or the Checked one to store.
    `verdict`: the message's authentication, when the caller has reached it already."""
    via = envelope.via
    recipients = list(dict.fromkeys(normalise(r) for r in envelope.recipients))
    if checked:
        replies = dict.fromkeys(recipients, RECIPIENT_OK)
    else:
        replies = {r: check_recipient(r) for r in recipients}
    wanted = [r for r, reply in replies.items() if reply.accepted]
    if wanted and len(raw) > settings.SMTP_MAX_SIZE:
        outcome = _refuse_all(dict.fromkeys(wanted), too_big(), via, "refused_size")
        return Outcome({**replies, **outcome.replies}, {})
    if not wanted:
        inbound_mail.labels(via, "refused_recipient").inc()
        return Outcome(replies, {})

    mode = mode or settings.INBOUND_AUTH
    verdict = verdict or authenticity.authenticate(
        raw, client_ip=envelope.client_ip, mail_from=envelope.mail_from, helo=envelope.helo, resolve=resolve
    )
    record = {**verdict.as_json(), "mode": mode, "via": via, "checked_at": timezone.now().isoformat()}
    refusal = _refusal(verdict, mode)
    if refusal is not None:
        log.info(
            "inbound message refused as not Amazon's",
            via=via,
            code=refusal.code,
            verdict=verdict.verdict,
            from_domain=verdict.from_domain,
        )
        outcome = _refuse_all({r: replies[r] for r in wanted}, refusal, via, "refused_authentication")
        return Outcome({**replies, **outcome.replies}, {}, record)
    flags = []
    if verdict.verdict == "fail":
        flags.append(FLAG_AUTH_FAILED)
    elif verdict.verdict == "temperror":
        flags.append(FLAG_AUTH_UNCHECKED)

    request = StoreRequest(raw, envelope, wanted, record, flags, partial)
    return Checked(request, replies, verdict.verdict, mode)


def finish(message: Checked, result: Stored) -> Outcome:
    """accept()'s second half: the replies once the message's transaction has committed."""
    stored, gone = result
    forget_live(*gone)  # here, in the process that answers RCPT, not where the rows were stored
    request, replies = message.request, dict(message.replies)
    raw, partial, record, via = request.raw, request.partial, request.record, request.envelope.via
    if gone and not partial:
        retry = Reply(
            451, "4.3.0", "A recipient changed while the message arrived; nothing was kept, try again"
        )
        return _refuse_all(replies, retry, via, "deferred")
    for r in gone:
        replies[r] = Reply(
            550, "5.1.1", "No such forwarding address here (unknown, or its Amazon account was disconnected)"
        )
    if not stored:
        inbound_mail.labels(via, "refused_recipient").inc()
        return Outcome(replies, {}, record)
    for r, pk in stored.items():
        replies[r] = Reply(250, "2.0.0", f"Stored as inbound message {pk}")
    inbound_mail.labels(via, "stored").inc()
    log.info(
        "inbound message stored",
        via=via,
        ids=list(stored.values()),
        size=len(raw),
        verdict=message.verdict,
        mode=message.mode,
    )
    return Outcome(replies, stored, record)


def _refuse_all(replies: dict[str, Any], reply: Reply, via: str, outcome: str) -> Outcome:
    inbound_mail.labels(via, outcome).inc()
    return Outcome(dict.fromkeys(replies, reply), {})


def _refusal(verdict: authenticity.Verdict, mode: str) -> Reply | None:
    if mode != "enforce":
        return None
    if verdict.verdict == "fail":
        return Reply(550, "5.7.1", f"Refused: this mail claims to be Amazon's but {verdict.reason}")
    if verdict.verdict == "temperror":
        return Reply(
            451, "4.4.3", f"Could not check that this mail is Amazon's ({verdict.reason}); try again later"
        )
    return None


def _text(value: str, limit: int) -> str:
    """A string the database takes: bytes that were not UTF-8 replaced, no NULs, at most `limit`."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace").replace("\x00", "")[:limit]


# The first Message-ID field of a header section with its folded lines, found where
# authenticity.header_values finds fields (its name may carry what bytes.strip() removes), without
# splitting the whole header into fields: this runs for every message stored.
_MESSAGE_ID = re.compile(
    rb"^(?:[\x0b\x0c\r][ \t\x0b\x0c\r]*)?message-id[ \t\x0b\x0c\r]*:(.*(?:\r?\n[ \t].*)*)",
    re.IGNORECASE | re.MULTILINE,
)


def message_id_of(raw: bytes) -> str:
    head, _ = authenticity.header_section(raw)
    found = _MESSAGE_ID.search(head)
    return _text(" ".join(found[1].decode("utf-8", "surrogateescape").split()), 998) if found else ""


_sqlite_writer = threading.Lock()


def _one_writer() -> contextlib.AbstractContextManager[Any]:
    """SQLite takes one writer at a time; threads that wait here are woken the moment it is free,
    where SQLite's own busy handler would make them sleep and retry (most of the time, at load)."""
    return _sqlite_writer if db_connection.vendor == "sqlite" else contextlib.nullcontext()


@dataclass(frozen=True)
class StoreRequest:
    """A checked message, ready to be stored for its recipients."""

    raw: bytes
    envelope: Envelope
    wanted: list[str]
    record: dict[str, Any]
    flags: list[str]
    partial: bool


Stored = tuple[dict[str, int], list[str]]  # (recipient → row id, recipients no longer live)


def _store_batch(requests: list[StoreRequest]) -> list[Stored]:
    """Commit one row per live recipient of each request, all in one transaction; the queue's
    wake-ups follow the commit. Returns, for each request, what it stored and who was gone."""
    committed: list[bool] = []
    results: list[Stored] = []
    rows: list[dict[str, Any]] = []
    pks: list[int] = []
    now = timezone.now()
    connection = db_connections[DEFAULT_DB_ALIAS]  # the proxy `db_connection` costs a lookup a use
    try:
        with _one_writer(), transaction.atomic():
            # Registered first, so it runs first: after it, a failing wake-up does not undo the commit.
            transaction.on_commit(lambda: committed.append(True))
            live = _live_connections(sorted({r for request in requests for r in request.wanted}))
            # Every row of the batch arrived, and is due, at the same instant.
            when = _db_values(connection, received_at=now)["received_at"]
            arrived = dict.fromkeys(("received_at", "next_attempt_at", "created_at", "updated_at"), when)
            for request in requests:
                gone = [r for r in request.wanted if r not in live]
                stored: dict[str, int] = {}
                results.append((stored, gone))
                if len(gone) == len(request.wanted) or (gone and not request.partial):
                    continue
                raw, envelope = request.raw, request.envelope
                message = _db_values(
                    connection,
                    mail_from=_text(envelope.mail_from, 998),
                    peer=_text(envelope.peer, 100),
                    helo=_text(envelope.helo, 255),
                    raw=raw,
                    size=len(raw),
                    message_id=message_id_of(raw),
                    authentication=request.record,
                    flags=request.flags,
                )
                for address in request.wanted:
                    target = live.get(address)
                    if target is None:
                        continue
                    rows.append(
                        {
                            **arrived,
                            **message,
                            "rcpt_to": address,
                            "organisation_id": target.organisation_id,
                            "connection_id": target.connection_id,
                        }
                    )
                    stored[address] = -1  # its id once inserted
            if not rows:
                return results
            pks = _insert_rows(connection, rows)
            ids = iter(pks)
            for stored, _gone in results:
                for address in stored:
                    stored[address] = next(ids)
            if len(pks) == 1:
                jobs.enqueue(workrows.RUN_WORK_ROW, InboundMessage.label(), pks[0])
            else:  # one wake-up for the batch (each one is a write to the queue)
                jobs.enqueue(RUN_INBOUND_BATCH, InboundMessage.label(), pks)
            _touch_connections(connection, sorted({row["connection_id"] for row in rows}), when)
    except Exception:
        if not committed:
            raise
        # Stored; only a wake-up failed (the queue did not answer). The reconciler runs the rows.
        log.warning("inbound messages stored but a wake-up failed", ids=pks, exc_info=True)
    return results


def _insert_rows(connection: BaseDatabaseWrapper, rows: list[dict[str, Any]]) -> list[int]:
    """Insert InboundMessage rows, given as database values by attribute name (a column a row
    leaves out takes its field's default), with one INSERT … RETURNING id; their ids, in order.

    No model instance is built and no query compiled: at a few hundred messages a second the ORM
    cost more than the database did."""
    defaults = _constant_defaults(connection.vendor)
    parameters: list[Any] = []
    for row in rows:
        values = {**defaults, **row}
        parameters.extend(values[column.attname] for column, _plain in _insertable_fields())
    sql = _insert_sql(connection.vendor, len(rows))
    with _insert_cursor(connection) as cursor:
        cursor.execute(sql, parameters)
        # In the order of VALUES, as Django's bulk_create also takes them on both databases.
        return [pk for (pk,) in cursor.fetchall()]


@contextlib.contextmanager
def _insert_cursor(connection: BaseDatabaseWrapper) -> Iterator[Any]:
    """Django's cursor; on PostgreSQL one that binds on the server ($1, $2 … placeholders). Django's
    PostgreSQL cursors bind on the client: the raw mail goes out as hex text, and psycopg parses a
    statement of hundreds of placeholders again each time (it caches only short ones)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg

    with connection.wrap_database_errors, psycopg.RawCursor(connection.connection) as cursor:
        yield cursor


def _db_values(connection: BaseDatabaseWrapper, **values: Any) -> dict[str, Any]:
    """InboundMessage's `values` (by attribute name) as the ORM sends them to the database
    (get_db_prep_save); text, numbers and ids go as they are."""
    fields = _fields_by_name()
    prepared = {}
    for name, value in values.items():
        column, plain = fields[name]
        prepared[name] = value if plain else column.get_db_prep_save(value, connection)
    return prepared


@functools.lru_cache(maxsize=4)
def _constant_defaults(vendor: str) -> dict[str, Any]:
    """The database values of the columns whose default is a constant (the state a new row starts
    in, its empty error …), prepared once. The columns with a computed default (a date, a new
    dict) are not here: the receiver gives their values."""
    connection = db_connections[DEFAULT_DB_ALIAS]
    return _db_values(
        connection,
        **{
            column.attname: column.get_default()
            for column, _plain in _insertable_fields()
            if not (column.has_default() and callable(column.default))
        },
    )


@functools.lru_cache(maxsize=256)
def _insert_sql(vendor: str, count: int) -> str:
    ops = db_connections[DEFAULT_DB_ALIAS].ops
    fields = _insertable_fields()
    columns = ", ".join(ops.quote_name(str(column.column)) for column, _ in fields)
    if vendor == "postgresql":  # $1, $2 …: _insert_cursor binds on the server
        numbers = iter(range(1, len(fields) * count + 1))
        rows = ", ".join("(" + ", ".join(f"${next(numbers)}" for _ in fields) + ")" for _ in range(count))
    else:
        rows = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * count)
    return (
        f"INSERT INTO {ops.quote_name(InboundMessage._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES {rows} RETURNING {ops.quote_name('id')}"
    )


@functools.cache
def _insertable_fields() -> list[tuple[models.Field[Any, Any], bool]]:
    """InboundMessage's columns but the id, each with whether its value goes to the database as it
    is (text, numbers, foreign keys) or through the field's own preparation (dates, JSON, bytes)."""
    plain_kinds = (models.CharField, models.TextField, models.IntegerField, models.ForeignKey)
    return [
        (field, isinstance(field, plain_kinds) and not isinstance(field, models.AutoField))
        for field in InboundMessage._meta.concrete_fields
        if not field.primary_key
    ]


@functools.cache
def _fields_by_name() -> dict[str, tuple[models.Field[Any, Any], bool]]:
    return {column.attname: (column, plain) for column, plain in _insertable_fields()}


def _touch_connections(connection: BaseDatabaseWrapper, connection_ids: list[int], when: Any) -> None:
    """Set the connections' last_message_at to `when`, a date as the database takes it."""
    if not connection_ids:
        return
    table = connection.ops.quote_name(MarketplaceConnection._meta.db_table)
    placeholders = ", ".join(["%s"] * len(connection_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_message_at = %s WHERE id IN ({placeholders})",  # noqa: S608
            [when, *connection_ids],
        )


RUN_INBOUND_BATCH = "inbound.run-batch"


@jobs.job(RUN_INBOUND_BATCH)
def run_inbound_batch(label: str, pks: list[int]) -> None:
    """The worker's side of a batch's wake-up: each row as its own wake-up would run it. Batches form
    only when messages arrive faster than one commit, when the worker's threads are all busy anyway;
    a worker that dies half-way leaves the rest pending, and the reconciler wakes them."""
    for pk in pks:
        workrows.run_work_row(label, pk)


class GroupCommitter:
    """Group commit for the receiver: sessions that finish a message while a transaction is being
    committed wait together and share the next one (PostgreSQL's commit waits for the disk; a
    batch waits once). One thread of its own, with its own database connection.

    `store` returns only after the transaction holding the message has committed; if the commit
    fails, every message of the batch is tried again alone, so one bad message fails only itself.

    Under load (the last transaction held more than one message) the committer waits GATHER_SECONDS
    before it takes the next batch, as PostgreSQL's commit_delay does: the messages finishing
    meanwhile join it, and every transaction, wake-up and hand-back of the GIL is paid by more
    messages. A message arriving alone is committed at once.
    """

    MAX_BATCH = 64
    GATHER_SECONDS = 0.001

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[StoreRequest, Future[Stored]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._durable: Any = None  # the SQLite connection made to commit durably

    def submit(self, request: StoreRequest) -> Future[Stored]:
        """The message's result, due once its transaction committed (or its exception)."""
        future: Future[Stored] = Future()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="smtpd-commit", daemon=True)
                self._thread.start()
            self._queue.put((request, future))
        return future

    def store(self, request: StoreRequest) -> Stored:
        return self.submit(request).result()

    async def commit(self, request: StoreRequest) -> Stored:
        """store(), awaited on an event loop."""
        return await asyncio.wrap_future(self.submit(request))

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._queue.put(None)
        if thread is not None:
            thread.join(timeout=30)

    def _run(self) -> None:
        try:
            busy = False
            while (first := self._queue.get()) is not None:
                if busy:
                    time.sleep(self.GATHER_SECONDS)
                batch = [first]
                while len(batch) < self.MAX_BATCH:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        self._queue.put(None)  # stop after this batch
                        break
                    batch.append(item)
                busy = len(batch) > 1
                # A session that ended while its message waited (the client went away) has
                # cancelled its future: its message is not stored (it had no 250; the sender
                # retries). Taken ones are running: a late cancel no longer reaches them.
                batch = [
                    (request, future) for request, future in batch if future.set_running_or_notify_cancel()
                ]
                if batch:
                    self._commit(batch)
        finally:
            db_connections.close_all()

    def _commit(self, batch: list[tuple[StoreRequest, Future[Stored]]]) -> None:
        try:
            results = run_in_worker_thread(self._store, [request for request, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                batch[0][1].set_exception(exc)
                return
            for item in batch:
                self._commit([item])
            return
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)

    def _store(self, requests: list[StoreRequest]) -> list[Stored]:
        """_store_batch, on a connection whose commits survive a power cut, as a 250 promises.
        SQLite in WAL mode with synchronous=NORMAL (the project's setting, right for the web's
        writes) may lose the last commits; FULL makes each one wait for the disk, once a batch.
        PostgreSQL's commits always wait."""
        connection = db_connections[DEFAULT_DB_ALIAS]
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            if connection.connection is not self._durable:
                with connection.cursor() as cursor:
                    cursor.execute("PRAGMA synchronous=FULL")
                self._durable = connection.connection
        return _store_batch(requests)


def run_in_worker_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run `fn` in one of the receiver's long-lived threads, and leave its database connections fit
    for the next message. With CONN_MAX_AGE=0 (Django's "a connection per request", the SQLite
    default) a connection is kept anyway, for the thread's life: opening one per message cost more
    than checking the message. The receiver closes them all as it stops."""
    try:
        return fn(*args, **kwargs)
    finally:
        for conn in db_connections.all(initialized_only=True):
            if conn.settings_dict.get("CONN_MAX_AGE") != 0:
                conn.close_if_unusable_or_obsolete()  # Django's own rules
            elif conn.connection is not None:
                left_in_transaction = conn.in_atomic_block or not conn.get_autocommit()
                if left_in_transaction or (conn.errors_occurred and not conn.is_usable()):
                    conn.close()
                else:
                    conn.errors_occurred = False

"""Accepting a message: the one function that SMTP, LMTP and POST /intake/mime share.

A thin edge, as in GNU Mailman's LMTP runner and Zulip's email gateway: recipients are checked
against the forwarding addresses first (an unknown one is refused before DATA), then the message is
authenticated, then its raw bytes and envelope are committed, one InboundMessage per recipient,
before the caller answers 250/202. The worker is woken after the commit; if that wake-up is lost,
the reconciler finds the pending row. Nothing here may block an event loop: callers run it in a
thread.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from prometheus_client import Counter

from deskbridge.amazon.models import MarketplaceConnection
from deskbridge.core.logs import get_logger
from deskbridge.core.metrics import REGISTRY
from deskbridge.mail import authenticity
from deskbridge.mail.resolvers import Resolve
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
    if address not in _live_connections([address]):
        return Reply(
            550, "5.1.1", "No such forwarding address here (unknown, or its Amazon account was disconnected)"
        )
    return Reply(250, "2.1.5", "Forwarding address OK")


def _live_connections(addresses: list[str]) -> dict[str, MarketplaceConnection]:
    """Connections of accounts that are not disconnected, by forwarding address (stored lower-case)."""
    rows = MarketplaceConnection.objects.filter(
        forwarding_address__in=addresses, account__disconnected_at__isnull=True
    ).only("pk", "organisation_id", "forwarding_address")
    return {row.forwarding_address: row for row in rows}


def accept(
    raw: bytes,
    envelope: Envelope,
    *,
    partial: bool = True,
    resolve: Resolve | None = None,
    mode: str | None = None,
) -> Outcome:
    """Check, authenticate and store `raw` for each recipient of `envelope`.

    partial=False (SMTP: one reply covers every recipient) stores for all recipients or for none;
    partial=True (LMTP, HTTP) stores for those that are still live and refuses the others.
    Raises only when storing failed (the database); callers answer that with a temporary failure.
    """
    via = envelope.via
    recipients = list(dict.fromkeys(normalise(r) for r in envelope.recipients))
    replies = {r: check_recipient(r) for r in recipients} if recipients else {}
    if len(raw) > settings.SMTP_MAX_SIZE:
        return _refuse_all(replies, too_big(), via, "refused_size")
    wanted = [r for r, reply in replies.items() if reply.accepted]
    if not wanted:
        inbound_mail.labels(via, "refused_recipient").inc()
        return Outcome(replies, {})

    mode = mode or settings.INBOUND_AUTH
    verdict = authenticity.authenticate(
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

    stored, gone = _store(raw, envelope, wanted, record, flags, partial)
    if gone and not partial:
        retry = Reply(
            451, "4.3.0", "A recipient changed while the message arrived; nothing was kept, try again"
        )
        return _refuse_all(replies, retry, via, "deferred")
    for r in gone:
        replies[r] = Reply(
            550, "5.1.1", "No such forwarding address here (unknown, or its Amazon account was disconnected)"
        )
    for r, pk in stored.items():
        replies[r] = Reply(250, "2.0.0", f"Stored as inbound message {pk}")
    inbound_mail.labels(via, "stored").inc()
    log.info(
        "inbound message stored",
        via=via,
        ids=list(stored.values()),
        size=len(raw),
        verdict=verdict.verdict,
        mode=mode,
    )
    return Outcome(replies, stored, record)


def _refuse_all(replies: dict[str, Reply], reply: Reply, via: str, outcome: str) -> Outcome:
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


def message_id_of(raw: bytes) -> str:
    head, _ = authenticity.header_section(raw)
    found = authenticity.header_values(head, "Message-ID")
    return _text(" ".join(found[0].split()), 998) if found else ""


def _store(
    raw: bytes, envelope: Envelope, wanted: list[str], record: dict[str, Any], flags: list[str], partial: bool
) -> tuple[dict[str, int], list[str]]:
    """Commit one row per live recipient; returns (stored, recipients no longer live)."""
    committed: list[bool] = []
    stored: dict[str, int] = {}
    message_id = message_id_of(raw)
    now = timezone.now()
    try:
        with transaction.atomic():
            # Registered first, so it runs first: after it, a failing wake-up does not undo the commit.
            transaction.on_commit(lambda: committed.append(True))
            live = _live_connections(wanted)
            gone = [r for r in wanted if r not in live]
            if gone and not partial:
                return {}, gone
            for address in wanted:
                connection = live.get(address)
                if connection is None:
                    continue
                row = InboundMessage(
                    organisation_id=connection.organisation_id,
                    connection=connection,
                    mail_from=_text(envelope.mail_from, 998),
                    rcpt_to=address,
                    peer=_text(envelope.peer, 100),
                    helo=_text(envelope.helo, 255),
                    received_at=now,
                    raw=raw,
                    size=len(raw),
                    message_id=message_id,
                    authentication=record,
                    flags=list(flags),
                )
                row.submit()
                stored[address] = row.pk
            MarketplaceConnection.objects.filter(pk__in=[c.pk for c in live.values()]).update(
                last_message_at=now
            )
    except Exception:
        if not committed:
            raise
        # Stored; only the wake-up failed (the queue did not answer). The reconciler runs the rows.
        log.warning("inbound message stored but its wake-up failed", ids=list(stored.values()), exc_info=True)
    return stored, gone


def run_closing_connections(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run `fn` in a worker thread the way Django runs a request: stale connections closed around it."""
    from django.db import close_old_connections

    close_old_connections()
    try:
        return fn(*args, **kwargs)
    finally:
        close_old_connections()

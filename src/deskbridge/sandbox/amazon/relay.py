"""The sandbox Amazon's email relay: the SMTP server behind marketplace.amazon.<tld> that takes a
seller's replies to buyer aliases (amazon.md §13).

Like Amazon's, it refuses at RCPT only what is not its own (550 5.7.1 for another domain, 550 5.1.1
for an alias it does not know) and accepts the rest; a message that breaks a rule (a sender the
seller did not approve, a buyer who opted out, content the guidelines forbid) is refused afterwards,
by a delivery-failure notice sent by SMTP to the sender's address and DKIM-signed as the sandbox
Amazon. Every accepted message is kept as received (SandboxRelayMessage), for the outbox JSON and
the buyer's mailbox page.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from email.message import Message
from email.utils import getaddresses
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from deskbridge.amazon import marketplaces
from deskbridge.amazon.mail import mime
from deskbridge.amazon.mail.extract import any_order_id
from deskbridge.core.logs import get_logger
from deskbridge.mail.smtpd import InboundHandler, InboundSMTP
from deskbridge.sandbox.amazon import mail
from deskbridge.sandbox.amazon.models import SandboxBuyerAlias, SandboxRelayMessage, approved_senders
from deskbridge.sandbox.amazon.relay_rules import content_problem

log = get_logger(__name__)

HOSTNAME = "relay.marketplace.amazon.sandbox"
NOTICE_ATTEMPTS = 3
NOTICE_BACKOFF_SECONDS = (1.0, 3.0)
Reason = SandboxRelayMessage.Reason


def relay_smtp() -> dict[str, Any]:
    """Where the sandbox relay listens, as a client reaches it: the smart host in sandbox mode."""
    host, _ = mail.smtp_target()
    return {"host": host, "port": settings.SANDBOX_RELAY_PORT}


# --- the rules -------------------------------------------------------------------------------------


def check_recipient(address: str) -> str:
    """RCPT TO's reply: relay domains only, and there only aliases the sandbox Amazon knows."""
    local, at, domain = address.strip().strip("<>").rpartition("@")
    if not at or not local:
        return "553 5.1.3 The recipient is not a valid address"
    if marketplaces.by_relay_domain(domain) is None:
        return "550 5.7.1 Relaying denied: this server takes mail for Amazon buyer aliases only"
    if SandboxBuyerAlias.find(address) is None:
        return "550 5.1.1 The buyer alias does not exist"
    return "250 2.1.5 Recipient OK"


def _from_addresses(message: Message) -> list[str]:
    values = [str(v) for v in message.get_all("From") or []]
    return [address.lower() for _, address in getaddresses(values) if address]


def judge(message: Message, mail_from: str, alias: SandboxBuyerAlias) -> tuple[str, str] | None:
    """(reason, detail) when Amazon would not deliver this message to this buyer, else None."""
    approved = approved_senders(alias.selling_partner_id)
    senders = _from_addresses(message) or [""]
    for sender in senders:
        if sender not in approved:
            return Reason.UNAUTHORIZED_SENDER, sender or "no From address"
    # The envelope sender may be a bounce address of the approved sender's own domain (VERP).
    envelope = mail_from.lower()
    if envelope not in approved and envelope.rpartition("@")[2] not in {
        s.rpartition("@")[2] for s in senders
    }:
        return Reason.UNAUTHORIZED_SENDER, envelope or "an empty envelope sender"
    if alias.opted_out and not _exempt_from_opt_out(message, alias):
        return Reason.OPTED_OUT, "The buyer opted out of unsolicited messages."
    problem = content_problem(message)
    if problem:
        return Reason.CONTENT_REJECTED, problem
    return None


def _exempt_from_opt_out(message: Message, alias: SandboxBuyerAlias) -> bool:
    """A reply on the buyer's own thread, or a message marked [Important] (amazon.md §12.12, §13.2)."""
    if "[important]" in (mime.header(message, "Subject") or "").lower():
        return True
    domain = "@" + alias.alias.rpartition("@")[2]
    threads = mime.message_ids(mime.header(message, "In-Reply-To")) + mime.message_ids(
        mime.header(message, "References")
    )
    return any(message_id.lower().endswith(domain + ">") for message_id in threads)


@transaction.atomic
def accept(raw: bytes, mail_from: str, recipients: list[str]) -> list[int]:
    """Keep the message once per recipient with its verdict; returns the ids of refused ones."""
    message = mime.parse_bytes(raw)
    subject = mime.header(message, "Subject") or ""
    refused = []
    for recipient in recipients:
        alias = SandboxBuyerAlias.find(recipient)
        if alias is None:  # forgotten since RCPT: the sandbox was reset
            continue
        verdict = judge(message, mail_from, alias)
        row = SandboxRelayMessage.objects.create(
            mail_from=mail_from,
            rcpt_to=recipient,
            raw=raw,
            subject=subject[:998],
            selling_partner_id=alias.selling_partner_id,
            marketplace_id=alias.marketplace_id,
            status=SandboxRelayMessage.Status.REFUSED if verdict else SandboxRelayMessage.Status.DELIVERED,
            reason=verdict[0] if verdict else "",
            detail=verdict[1][:500] if verdict else "",
        )
        if verdict:
            refused.append(row.pk)
    return refused


# --- the notices -----------------------------------------------------------------------------------


def refused_message(row: SandboxRelayMessage) -> mail.RefusedMessage:
    message = mime.parse_bytes(bytes(row.raw))
    senders = _from_addresses(message)
    text = "\n".join(mime.read_body(message).plain)
    marketplace = (
        marketplaces.by_id(row.marketplace_id)
        or marketplaces.BY_RELAY_DOMAIN[row.rcpt_to.rpartition("@")[2].lower()]
    )
    return mail.RefusedMessage(
        reason=row.reason,
        detail=row.detail,
        alias=row.rcpt_to,
        marketplace=marketplace,
        subject=row.subject,
        order_id=any_order_id(row.subject) or any_order_id(text),
        message_id=next(iter(mime.message_ids(mime.header(message, "Message-ID"))), None),
        date=mime.header(message, "Date"),
        sender=senders[0] if senders else row.mail_from,
    )


def send_notice(row_id: int) -> None:
    """Tell the sender that its message was refused: a signed notice by SMTP to its From address
    (this installation's receiver, at SMTP_HOST:SMTP_PORT), retried a few times."""
    row = SandboxRelayMessage.objects.get(pk=row_id)
    refused = refused_message(row)
    to = refused.sender
    notice = mail.compose_refusal_notice(refused, to)
    signed = mail.sign(notice.as_bytes())
    _, sender = getaddresses([str(notice["From"])])[0]
    error = ""
    for attempt in range(NOTICE_ATTEMPTS):
        try:
            mail.send(signed, sender, to)
            error = ""
            break
        except mail.SandboxMailError as exc:
            error = str(exc)
            if attempt < len(NOTICE_BACKOFF_SECONDS):
                time.sleep(NOTICE_BACKOFF_SECONDS[attempt])
    row.notice_to = to
    row.notice_error = error[:500]
    row.notice_sent_at = None if error else timezone.now()
    row.save(update_fields=["notice_to", "notice_error", "notice_sent_at"])
    if error:
        log.warning("sandbox relay notice not delivered", relay_message=row.pk, reason=row.reason)


# --- the SMTP server ------------------------------------------------------------------------------


def _closing_connections(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    finally:
        connections.close_all()  # this pool thread's: the relay is quiet, one connection a message is fine


class RelayHandler:
    """aiosmtpd's hooks; the database and the notices in a thread pool."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.pool = pool

    async def _in_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, functools.partial(_closing_connections, fn, *args))

    # Greeting and sender as our receiver answers them (enhanced status codes, any MAIL FROM).
    handle_EHLO = InboundHandler.handle_EHLO
    handle_MAIL = InboundHandler.handle_MAIL

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            reply = await self._in_thread(check_recipient, address)
        except Exception:
            log.exception("sandbox relay recipient check failed")
            return "451 4.3.0 Temporary failure checking the recipient; try again later"
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        mail_from = "" if envelope.mail_from in (None, "<>") else envelope.mail_from
        try:
            refused = await self._in_thread(accept, raw, mail_from, list(envelope.rcpt_tos))
        except Exception:
            log.exception("sandbox relay could not store a message", size=len(raw))
            return "451 4.3.0 Temporary failure while storing the message; try again later"
        for row_id in refused:  # Amazon answers later, by email: after this 250
            self.pool.submit(_closing_connections, send_notice, row_id).add_done_callback(_log_failure)
        return "250 2.0.0 Message accepted for delivery"


def _log_failure(future: Any) -> None:
    if future.exception() is not None:
        log.error("sandbox relay notice failed", error=type(future.exception()).__name__)


class Relay:
    """The relay, bound at construction (a taken port fails at once), served in a daemon thread."""

    def __init__(
        self, *, host: str | None = None, port: int | None = None, sock: socket.socket | None = None
    ):
        if sock is None:
            host = host or settings.SMTP_HOST
            port = port if port is not None else settings.SANDBOX_RELAY_PORT
            try:
                sock = socket.create_server(
                    (host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET
                )
            except OSError as exc:
                from deskbridge.errors import SettingsError

                raise SettingsError(
                    f"the sandbox Amazon relay cannot listen on {host}:{port} ({exc.strerror or exc}); "
                    "set DESKBRIDGE_SANDBOX_RELAY_PORT"
                ) from None
        self.sock = sock
        self.port = int(sock.getsockname()[1])
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sandbox-relay")
        self.handler = RelayHandler(self.pool)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    def _protocol(self) -> SMTP:
        return InboundSMTP(
            self.handler,
            data_size_limit=settings.SMTP_MAX_SIZE,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=HOSTNAME,
            ident="Amazon relay (sandbox)",
            timeout=300,
            loop=asyncio.get_running_loop(),
        )

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        server = await self._loop.create_server(self._protocol, sock=self.sock)
        log.info("sandbox amazon relay listening", port=self.port)
        self._started.set()
        await self._stop.wait()
        server.close()

    def start(self) -> None:
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._serve(),), name="sandbox-relay", daemon=True
        )
        self._thread.start()
        self._started.wait(timeout=30)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.pool.shutdown(wait=True)  # notices on their way are sent
        self.sock.close()

"""Sending mail out: DKIM-signed for our domain, by SMTP to the smart host (SMTP_RELAY_HOST) or to
the recipient domain's MX hosts in order.

The outcome says what the caller should do: `Sent` (the server answered 250: it is theirs now),
`TransientSendError` (4xx, no answer, a broken connection: try again later) or `PermanentSendError`
(5xx: the server refused this message; sending it again as it is will not help).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from deskbridge.core.logs import get_logger
from deskbridge.mail import dkimkeys
from deskbridge.mail.resolvers import TemporaryDNSError, dns_resolve

log = get_logger(__name__)
TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Sent:
    host: str
    response: str  # the server's 250 text, often with its queue id


class SendError(Exception):
    permanent = False

    def __init__(self, message: str, code: int | None = None, maybe_delivered: bool = False) -> None:
        super().__init__(message)
        self.code = code
        # The connection broke after the message was handed over and before the server answered:
        # it may have taken it. Only then is sending again a risk of a second copy.
        self.maybe_delivered = maybe_delivered


class TransientSendError(SendError):
    pass


class PermanentSendError(SendError):
    permanent = True


def dkim_key_path() -> Path:
    return Path(settings.DKIM_KEY_FILE) if settings.DKIM_KEY_FILE else Path(settings.DATA_DIR) / "dkim.pem"


def dkim_record() -> tuple[str, str]:
    """(name, value) of the TXT record to publish for our signatures."""
    name = f"{settings.DKIM_SELECTOR}._domainkey.{settings.INBOUND_DOMAIN}"
    return name, dkimkeys.public_key_record(dkimkeys.private_key_pem(dkim_key_path()))


def sign(raw: bytes, domain: str | None = None) -> bytes:
    """`raw` with our DKIM-Signature on top (relaxed/relaxed, d= our inbound domain)."""
    import dkim

    signer = dkim.DKIM(raw, linesep=b"\r\n" if b"\r\n" in raw else b"\n")
    present = {name.lower() for name, _ in signer.headers}
    extra = [h for h in (b"in-reply-to", b"references") if h in present]
    signature = signer.sign(
        settings.DKIM_SELECTOR.encode(),
        (domain or settings.INBOUND_DOMAIN).encode(),
        dkimkeys.private_key_pem(dkim_key_path()),
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=signer.default_sign_headers() + extra,
    )
    return signature + raw


def targets(recipient: str) -> list[tuple[str, int]]:
    """Where to hand mail for `recipient`: the smart host, else the domain's MX hosts (or the
    domain itself when it has no MX, RFC 5321 §5.1)."""
    if settings.SMTP_RELAY_HOST:
        return [(settings.SMTP_RELAY_HOST, settings.SMTP_RELAY_PORT)]
    domain = recipient.rpartition("@")[2]
    try:
        hosts = dns_resolve(domain, "MX") or [domain]
    except TemporaryDNSError as exc:
        raise TransientSendError(f"DNS did not answer for {domain}: {exc}") from exc
    return [(host, 25) for host in hosts if host and host != "."]


def send(raw: bytes, mail_from: str, rcpt_to: str) -> Sent:
    """Hand one message for one recipient to the next hop; see the module docstring for outcomes."""
    last: SendError = TransientSendError(f"no mail server for {rcpt_to.rpartition('@')[2]}")
    for host, port in targets(rcpt_to):
        try:
            return _send_to(host, port, raw, mail_from, rcpt_to)
        except PermanentSendError:
            raise
        except TransientSendError as exc:
            log.info("outbound SMTP host failed; trying the next", host=host, error=str(exc)[:200])
            last = exc
    raise last


def _send_to(host: str, port: int, raw: bytes, mail_from: str, rcpt_to: str) -> Sent:
    handed_over = False
    try:
        with smtplib.SMTP(
            host, port, local_hostname=settings.INBOUND_DOMAIN, timeout=TIMEOUT_SECONDS
        ) as smtp:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                verify = bool(settings.SMTP_RELAY_HOST) and settings.SMTP_RELAY_VERIFY_TLS
                smtp.starttls(context=ssl.create_default_context() if verify else _lenient())
                smtp.ehlo()
            smtp.mail(mail_from)
            code, text = smtp.rcpt(rcpt_to)
            if code >= 400:
                raise _refused(code, text, "RCPT")
            handed_over = True
            code, text = smtp.data(raw)
            if code >= 400:
                raise _refused(code, text, "DATA")
            return Sent(host=host, response=text.decode("utf-8", "replace"))
    except smtplib.SMTPSenderRefused as exc:
        raise _refused(exc.smtp_code, exc.smtp_error, "MAIL FROM") from exc
    except smtplib.SMTPResponseException as exc:
        raise _refused(exc.smtp_code, exc.smtp_error, "SMTP") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise TransientSendError(
            f"{host}:{port}: {exc.__class__.__name__}: {exc}", maybe_delivered=handed_over
        ) from exc


def _refused(code: int, text: bytes | str, stage: str) -> SendError:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    message = f"{stage} refused: {code} {words}"
    return PermanentSendError(message, code) if 500 <= code < 600 else TransientSendError(message, code)


def _lenient() -> ssl.SSLContext:
    """Opportunistic TLS between MTAs (RFC 3207): encrypt even when the certificate does not verify."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def was_accepted(message_id: str) -> bool | None:
    """Did the next hop take the message with this Message-ID already? Asked of SMTP_RELAY_LOOKUP_URL
    (a JSON list of {"raw": …} it accepted; the sandbox relay has one); None when no such list exists
    (a real relay keeps none): the caller must then not send again blindly."""
    url = settings.SMTP_RELAY_LOOKUP_URL
    if not url or not message_id:
        return None
    if url.startswith("/"):
        url = settings.PUBLIC_URL + url
    import httpx

    try:
        accepted = httpx.get(url, timeout=TIMEOUT_SECONDS).json()
    except (httpx.HTTPError, ValueError):
        return None
    needle = f"Message-ID: {message_id}".lower()
    return any(needle in str(item.get("raw", "")).lower() for item in accepted if isinstance(item, dict))

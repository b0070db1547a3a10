"""The sandbox Amazon's mail: its DKIM key (kept in DATA_DIR), the DNS records it publishes, and
realistic buyer messages (amazon.md §12) signed with that key and sent to this installation.

The key and its DNS exist only for a sandbox/demo installation: `sandbox_resolve` answers nothing
unless settings.SANDBOX_ENABLED is true, and production (deskbridge.mail.authenticity) never asks
it, so a production receiver cannot accept a sandbox-signed message.
"""

from __future__ import annotations

import functools
import hashlib
import re
import smtplib
import ssl
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from mimetypes import guess_type
from pathlib import Path

from django.conf import settings

from deskbridge.amazon.marketplaces import Marketplace
from deskbridge.mail import dkimkeys
from deskbridge.mail.authenticity import AMAZON_DOMAINS, amazon_claim, header_section, is_amazon_domain
from deskbridge.mail.resolvers import answers_at_once

SELECTOR = "deskbridge-sandbox"
KEY_FILE = "sandbox-amazon-dkim.pem"
# The sandbox Amazon sends from this machine; its SPF says so, and its DMARC asks receivers to reject.
SPF_RECORD = "v=spf1 ip4:127.0.0.0/8 ip6:::1 -all"
DMARC_RECORD = "v=DMARC1; p=reject; adkim=r; aspf=r"
NOTIFICATION_TYPE = "BBC_MESSAGE_SENT_TO_MERCHANT"
ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")
# Signed besides dkimpy's defaults (From, To, Subject, Date, Message-ID, MIME headers …).
EXTRA_SIGNED = (b"x-space-notification-type", b"x-marketplace-id")


class SandboxMailError(Exception):
    """What the user must change, in one sentence."""


# --- the key ------------------------------------------------------------------------------------


def private_key_pem() -> bytes:
    """The sandbox Amazon's RSA key (PKCS#1 PEM), made on first use in DATA_DIR with mode 0600."""
    return dkimkeys.private_key_pem(Path(settings.DATA_DIR) / KEY_FILE)


def public_key_record() -> str:
    return _public_key_record(settings.DATA_DIR)


@functools.lru_cache(maxsize=16)
def _public_key_record(data_dir: Path) -> str:
    # Asked for at every DKIM check of a sandbox message; dkimkeys reads a key file once per
    # process, so its record is made once per key file too.
    return dkimkeys.public_key_record(dkimkeys.private_key_pem(Path(data_dir) / KEY_FILE))


# --- the DNS it publishes -------------------------------------------------------------------------


@answers_at_once  # from memory: the receiver may ask it on its event loop
def sandbox_resolve(name: str, rdtype: str) -> list[str]:
    """The sandbox Amazon's DNS: its DKIM key, SPF and DMARC for Amazon's domains; nothing else.

    Answers nothing at all unless this installation runs the sandbox (settings.SANDBOX_ENABLED).
    """
    if not settings.SANDBOX_ENABLED or rdtype != "TXT":
        return []
    name = name.lower().rstrip(".")
    key_prefix = f"{SELECTOR}._domainkey."
    if name.startswith(key_prefix):
        return [public_key_record()] if is_amazon_domain(name.removeprefix(key_prefix)) else []
    if name.startswith("_dmarc."):
        return [DMARC_RECORD] if name.removeprefix("_dmarc.") in AMAZON_DOMAINS else []
    if name in AMAZON_DOMAINS or name.removeprefix("marketplace.") in AMAZON_DOMAINS:
        return [SPF_RECORD]
    return []


# --- signing --------------------------------------------------------------------------------------


def sign(raw: bytes) -> bytes:
    """`raw` with a DKIM-Signature of the sandbox Amazon on top, d= its From domain (strictly aligned)."""
    import dkim

    head, _ = header_section(raw)
    claims, domain, problem = amazon_claim(head)
    if not claims:
        raise SandboxMailError(
            "the message's From is not an Amazon address; the sandbox Amazon signs only mail from "
            "amazon.<tld> or marketplace.amazon.<tld>"
        )
    if problem:
        raise SandboxMailError(f"cannot sign: {problem}")
    linesep = b"\r\n" if b"\r\n" in head else b"\n"
    signer = dkim.DKIM(raw, linesep=linesep)
    present = {name.lower() for name, _ in signer.headers}
    include = signer.default_sign_headers() + [h for h in EXTRA_SIGNED if h in present]
    signature = signer.sign(
        SELECTOR.encode(),
        domain.encode(),
        private_key_pem(),
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=include,
    )
    return signature + raw


# --- buyer messages (amazon.md §12) -----------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """One language of Amazon's buyer-message mail: subject, markers and footer (amazon.md §12.4-12.8).

    English and German subjects, every marker and the footer fragments are as documented; the other
    subjects and the parts of footers between documented fragments are written to match them.
    """

    subject: str
    begin: str
    end: str
    footer: tuple[str, ...]
    # The older layout (§12.5, 1): "Order ID <id>:" / "<qty> of <title> [ASIN: …]". The newer one
    # (§12.5, 2), which the 2026 Brazilian mail has: "# <id>:" / "<qty> / <title> [ASIN: …]".
    newer_layout: bool = False


_LINKS = (
    "http://www.{domain}/gp/communication-manager/{page}.html?{query}msg={token}&d={epoch}"
    "&mp={marketplace_id}&v=1&t={signature}"
)

TEMPLATES: dict[str, Template] = {
    "en": Template(
        subject="Product details inquiry from Amazon customer {name} (Order: {order})",
        begin="------------- Begin message -------------",
        end="------------- End message -------------",
        footer=(
            "For Your Information: To help arbitrate disputes and preserve trust and safety, we retain all "
            "messages buyers and sellers send through {Domain} for two years. This includes your response "
            "to the message above. {Domain} uses filtering technology to protect buyers and sellers from "
            "possible fraud. Messages that fail this filtering will not be transmitted.",
            "We want you to buy with confidence anytime you purchase products on {Domain}. Learn more about "
            "Safe Online Shopping (http://www.{domain}/gp/help/customer/display.html?nodeId=551434) and our "
            "safe buying guarantee (http://www.{domain}/gp/help/customer/display.html?nodeId=537868).",
            "If you believe this message is suspicious, please report it to us here: {report}",
            "To mark this message as no response needed, click here: {no_response}",
        ),
    ),
    "de": Template(
        subject="Frage von Amazon-Kunde {name} (Bestellung: {order})",
        begin="------------- Anfang der Nachricht -------------",
        end="------------- Ende der Nachricht -------------",
        footer=(
            "Wichtiger Hinweis: Um Streitfälle zu klären und Vertrauen und Sicherheit zu wahren, bewahrt "
            "{Domain} alle Nachrichten zwischen Käufern und Verkäufern zwei Jahre lang auf. Mit Ihrer Antwort "
            "auf diese Nachricht sind Sie mit diesem Vorgehen einverstanden.",
            "Wir möchten, dass Sie stets mit Vertrauen einkaufen, wenn Sie bei {Domain} bestellen. Mehr über "
            "sicheres Online-Shopping (http://www.{domain}/gp/help/customer/display.html?nodeId=551434) "
            "und unsere Garantie für den sicheren Einkauf "
            "(http://www.{domain}/gp/help/customer/display.html?nodeId=537868).",
            "Wenn Sie glauben, dass diese Nachricht ein Betrugsversuch sein könnte, melden Sie sie uns "
            "hier: {report}",
            "Um anzugeben, dass für diese Nachricht keine Antwort erforderlich ist, klicken Sie hier: "
            "{no_response}",
        ),
    ),
    "fr": Template(
        subject="Question du client Amazon {name} (Commande : {order})",
        begin="------------- Début du message -------------",
        end="------------- Fin du message -------------",
        footer=(
            "Important : afin de régler les litiges et de préserver la confiance et la sécurité, {Domain} "
            "conserve pendant deux ans tous les messages échangés entre acheteurs et vendeurs. En répondant "
            "à ce message, vous acceptez ces conditions.",
            "Faites vos achats sur {Domain} en toute confiance. En savoir plus sur l’achat en ligne sécurisé "
            "(http://www.{domain}/gp/help/customer/display.html?nodeId=551434) et sur notre garantie d’achat "
            "sécurisé http://www.{domain}/gp/help/customer/display.html?nodeId=537868",
            "Si vous trouvez ce message suspicieux, merci de nous le faire savoir ici : {report}",
            "Pour marquer ce message comme ne nécessitant pas de réponse, cliquez ici : {no_response}",
        ),
    ),
    "it": Template(
        subject="Domanda dal cliente Amazon {name} (Ordine: {order})",
        begin="------------- Inizio messaggio -------------",
        end="------------- Fine messaggio -------------",
        footer=(
            "Nota informativa: per risolvere eventuali controversie e preservare la fiducia e la sicurezza, "
            "{Domain} conserva per due anni tutti i messaggi tra acquirenti e venditori. I messaggi che non "
            "superano il filtro antifrode non saranno trasmessi.",
            "La sicurezza dei tuoi acquisti su {Domain} è il nostro primo obiettivo. Per maggiori "
            "informazioni su come acquistare in sicurezza: "
            "http://www.{domain}/gp/help/customer/display.html?nodeId=551434",
            "Se questo messaggio ti sembra sospetto, ti preghiamo di segnalarcelo qui: {report}",
            "Per contrassegnare che questo messaggio non richiede una risposta, clicca qui: {no_response}",
        ),
    ),
    "es": Template(
        subject="Consulta del cliente de Amazon {name} (Pedido: {order})",
        begin="------------- Iniciar mensaje -------------",
        end="------------- Finalizar mensaje -------------",
        footer=(
            "Nota informativa: para ayudar a resolver disputas y preservar la confianza y la seguridad, "
            "{Domain} conserva durante dos años todos los mensajes entre compradores y vendedores, y no "
            "transmite los mensajes que no superen dicho filtro.",
            "Cada vez que realices una compra en {Domain}, hazlo con total confianza "
            "(http://www.{domain}/gp/help/customer/display.html?nodeId=551434).",
            "Si desconfías del contenido de este mensaje, infórmanos aquí: {report}",
            "Para marcar este mensaje e indicar que no requiere respuesta, haz clic aquí: {no_response}",
        ),
    ),
    "ja": Template(
        subject="Amazonのお客様 {name} からの問い合わせ (注文番号: {order})",
        begin="------------- メッセージはここから -------------",
        end="------------- メッセージはここまで -------------",
        footer=(
            "ご注意: 紛争の解決と安全のため、{Domain}は購入者と出品者の間のすべてのメッセージを2年間保存します。",
            "このメッセージが不審だと思われる場合は、こちらからご報告ください: {report}",
            "返信不要としてマークするには、こちらをクリックしてください: {no_response}",
        ),
    ),
    "pt": Template(
        subject="Pergunta do cliente da Amazon {name} (Pedido: {order})",
        begin="------------- Mensagem:  -------------",
        end="------------- Encerrar mensagem -------------",
        footer=(
            "Este e-mail foi útil?",
            "Solucionar o caso: https://sellercentral.{domain}/messaging/no-response-needed?t={token}&h={signature}",
            "Denunciar atividade questionável: "
            "https://sellercentral.{domain}/messaging/inbox?fi=caseId&ss={token}&cc={token}",
            "Atenciosamente, {Domain}",
        ),
        newer_layout=True,
    ),
}

LANGUAGE_OF_COUNTRY = {
    "DE": "de",
    "FR": "fr",
    "BE": "fr",
    "IT": "it",
    "ES": "es",
    "MX": "es",
    "JP": "ja",
    "BR": "pt",
}
FIRST_NAMES = {
    "en": ["Emily", "James", "Olivia", "Daniel", "Grace", "Samuel"],
    "de": ["Jonas", "Lena", "Lukas", "Mia", "Felix", "Hannah"],
    "fr": ["Camille", "Louis", "Chloé", "Hugo", "Manon", "Jules"],
    "it": ["Giulia", "Marco", "Chiara", "Luca", "Sara", "Matteo"],
    "es": ["Lucía", "Mateo", "Sofía", "Diego", "Valeria", "Pablo"],
    "ja": ["Haruto", "Yui", "Sota", "Hina", "Ren", "Aoi"],
    "pt": ["Ana", "João", "Beatriz", "Pedro", "Larissa", "Rafael"],
}
ITEMS = [
    "Organic Cotton Tea Towels, Set of 4, Natural Linen Look",
    "Stainless Steel Insulated Water Bottle, 750 ml, Forest Green",
    "Beeswax Food Wraps, Assorted Sizes, Pack of 6",
    "Bamboo Cutting Board with Juice Groove, Large",
    "Wool Felt Laptop Sleeve, 13 inch, Charcoal",
]


def default_language(marketplace: Marketplace) -> str:
    return LANGUAGE_OF_COUNTRY.get(marketplace.country_code, "en")


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x00".join(parts).encode()).digest()


def _base36(data: bytes, length: int) -> str:
    number, digits = int.from_bytes(data, "big"), "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while len(out) < length:
        number, rest = divmod(number, 36)
        out += digits[rest]
    return out


def buyer_alias(seller_id: str, order_id: str, marketplace: Marketplace) -> str:
    """The buyer's relay alias: random-looking, and the same for every message about this order."""
    return f"{_base36(_digest('alias', seller_id, order_id), 15)}@{marketplace.relay_domain}"


def order_item(seller_id: str, order_id: str) -> tuple[str, str]:
    """The ASIN and title a buyer message names for an order (the sandbox's seeded orders agree)."""
    digest = _digest("item", seller_id, order_id)
    return "B0" + _base36(digest, 8).upper(), ITEMS[digest[0] % len(ITEMS)]


def buyer_name(seller_id: str, order_id: str, language: str) -> str:
    names = FIRST_NAMES[language]
    return names[_digest("name", seller_id, order_id)[0] % len(names)]


def compose_buyer_message(
    *,
    to: str,
    marketplace: Marketplace,
    seller_id: str,
    order_id: str,
    text: str,
    language: str | None = None,
    attachments: list[Path] | None = None,
    name: str | None = None,
) -> EmailMessage:
    """An unsigned buyer message as Amazon forwards it to the seller's address (amazon.md §12)."""
    if not ORDER_ID.match(order_id):
        raise SandboxMailError(f"{order_id!r} is not an Amazon order id (like 111-1234567-1234567)")
    language = language or default_language(marketplace)
    if language not in TEMPLATES:
        raise SandboxMailError(f"no template for language {language!r}; choose one of {', '.join(TEMPLATES)}")
    template = TEMPLATES[language]
    name = name or buyer_name(seller_id, order_id, language)
    asin, title = order_item(seller_id, order_id)
    token = _base36(_digest("token", str(uuid.uuid4())), 13).upper()
    values = {
        "domain": marketplace.domain,
        "Domain": marketplace.domain[0].upper() + marketplace.domain[1:],
        "token": token,
        "epoch": str(int(time.time())),
        "marketplace_id": marketplace.id,
        "signature": _digest("link", token).hex()[:40],
    }
    values["report"] = _LINKS.format(page="report", query="ft=InappropriateContent&", **values)
    values["no_response"] = _LINKS.format(page="no-response-needed", query="", **values)

    if template.newer_layout:
        intro = [f"# {order_id}:", f"1 / {title} [ASIN: {asin}]"]
    else:
        intro = [f"Order ID {order_id}:", f"1 of {title} [ASIN: {asin}]"]
    body = [*intro, "", template.begin, "", text.strip(), "", template.end, ""]
    for paragraph in template.footer:
        body += [paragraph.format(**values), ""]
    body.append(f"[commMgrTok:{token}]")

    subject = template.subject.format(name=name, order=order_id)
    # The email package folds a long ASCII subject onto a line of its own (a leading space when
    # read back); Amazon's subjects stay on one line. Non-ASCII ones are encoded words, folded at 78.
    ascii_headers = (subject + name).isascii()
    message = EmailMessage(policy=policy.SMTP.clone(max_line_length=998) if ascii_headers else policy.SMTP)
    message["From"] = formataddr(
        (f"{name} - Amazon Marketplace", buyer_alias(seller_id, order_id, marketplace))
    )
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<{uuid.uuid4().hex[:24]}@{marketplace.relay_domain}>"
    message["X-Space-Notification-Type"] = NOTIFICATION_TYPE
    message["X-Marketplace-ID"] = marketplace.id
    message.set_content("\n".join(body) + "\n", cte="quoted-printable")
    for path in attachments or []:
        kind = guess_type(path.name)[0] or "application/octet-stream"
        maintype, subtype = kind.split("/", 1)
        message.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return message


def envelope_sender(marketplace: Marketplace) -> str:
    """MAIL FROM of the sandbox Amazon: a bounce address at the relay domain (its SPF covers loopback)."""
    return f"bounces@{marketplace.relay_domain}"


def smtp_target() -> tuple[str, int]:
    """Where this installation's receiver listens, as a client reaches it."""
    host = settings.SMTP_HOST
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104
    return host, settings.SMTP_PORT


def send(raw: bytes, mail_from: str, to: str, host: str | None = None, port: int | None = None) -> str:
    """Send by SMTP to this installation's receiver; returns its reply to DATA, raises SandboxMailError."""
    target_host, target_port = smtp_target()
    try:
        with smtplib.SMTP(host or target_host, port or target_port, timeout=120) as client:
            client.ehlo("sandbox.amazon.localhost")
            if client.has_extn("starttls"):
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE  # our own receiver, whatever its certificate
                client.starttls(context=context)
                client.ehlo("sandbox.amazon.localhost")
            options = [f"SIZE={len(raw)}"] if client.has_extn("size") else []
            code, reply = client.mail(mail_from, options)
            if code != 250:
                raise SandboxMailError(f"MAIL FROM refused: {code} {reply.decode(errors='replace')}")
            code, reply = client.rcpt(to)
            if code not in (250, 251):
                raise SandboxMailError(
                    f"the receiver refused the recipient: {code} {reply.decode(errors='replace')}"
                )
            code, reply = client.data(raw)
            if code != 250:
                raise SandboxMailError(
                    f"the receiver refused the message: {code} {reply.decode(errors='replace')}"
                )
            return f"{code} {reply.decode(errors='replace')}"
    except (OSError, smtplib.SMTPException) as exc:
        raise SandboxMailError(
            f"could not deliver to the SMTP receiver at {host or target_host}:{port or target_port} ({exc}); "
            "is `deskbridge demo`, `serve` or `smtpd` running?"
        ) from None


def remember_buyer_alias(alias: str, seller_id: str, marketplace: Marketplace) -> None:
    """Record whose buyer an alias is, so that the sandbox relay delivers the seller's replies to it."""
    from deskbridge.sandbox.amazon.models import SandboxBuyerAlias

    SandboxBuyerAlias.remember(alias, seller_id, marketplace.id)


# --- the relay's delivery-failure notices (amazon.md §12.12, §15) -----------------------------------

NOTICE_SENDER = "donotreply@amazon.com"
OPT_OUT_SENDER = "auto-communication@amazon.com"
OPT_OUT_NOTIFICATION_TYPE = "BUYER_OPTED_OUT_BSM_MESSAGES"
GUIDELINES_SENTENCE = (
    "This message was not sent as it did not meet the Buyer-Seller Messaging communication guidelines."
)


@dataclass(frozen=True)
class RefusedMessage:
    """What a notice says about the seller's message the relay refused."""

    reason: str  # unauthorized_sender | opted_out | content_rejected (FailureReason's codes)
    detail: str  # one sentence: which rule, or which sender
    alias: str  # the buyer alias it was addressed to
    marketplace: Marketplace
    subject: str
    order_id: str | None
    message_id: str | None
    date: str | None
    sender: str  # its From address


def _quoted_headers(refused: RefusedMessage) -> list[str]:
    lines = ["----- Original message -----"]
    if refused.date:
        lines.append(f"Date: {refused.date}")
    lines += [f"From: {refused.sender}", f"To: {refused.alias}", f"Subject: {refused.subject}"]
    if refused.message_id:
        lines.append(f"Message-ID: {refused.message_id}")
    return lines


def _order_words(refused: RefusedMessage) -> str:
    return f"for order [{refused.order_id}]" if refused.order_id else "to the buyer"


def _notice_text(refused: RefusedMessage) -> tuple[str, str]:
    """Subject and plain-text body of an unauthorized-sender or guidelines notice."""
    order = f" (Order: {refused.order_id})" if refused.order_id else ""
    if refused.reason == "unauthorized_sender":
        subject = f"Your e-mail could not be delivered to the buyer{order}"
        paragraphs = [
            f"Your e-mail {_order_words(refused)} could not be delivered because it was sent from an address "
            f"that is not an approved sender for your account ({refused.detail}).",
            "To send e-mail to buyers from this address, add it on the Messaging Permissions page in Seller "
            "Central (Settings > Notification Preferences > Messaging Permissions), then send your message "
            "again.",
        ]
    else:
        subject = f"Your message was not sent to the buyer{order}"
        paragraphs = [
            GUIDELINES_SENTENCE,
            f"Your message {_order_words(refused)} was not delivered. {refused.detail}",
            "Please review the Buyer-Seller Messaging guidelines in Seller Central Help and send your "
            "message again without the content that is not allowed.",
        ]
    body = ["Dear Seller,", "", *(p + "\n" for p in paragraphs), *_quoted_headers(refused)]
    body += ["", "Sincerely,", f"{refused.marketplace.domain[0].upper()}{refused.marketplace.domain[1:]}"]
    return subject, "\n".join(body) + "\n"


def _opt_out_html(refused: RefusedMessage) -> tuple[str, str]:
    """The buyer opt-out notice: HTML only, the order id in square brackets, a mailto: link to the
    buyer's alias, no Message-ID of the blocked mail (amazon.md §12.12, §15)."""
    from html import escape

    order = f" (Order: {refused.order_id})" if refused.order_id else ""
    alias = escape(refused.alias)
    paragraphs = [
        f"The message you sent {escape(_order_words(refused))} could not be delivered because the buyer "
        "has opted out of unsolicited messages.",
        "Messages that are needed to complete the order can still be sent: put [Important] in the subject. "
        "We recommend replying on the buyer's original thread, with the buyer's original message included.",
        f'Buyer: <a href="mailto:{alias}">{alias}</a>',
        f"Subject: {escape(refused.subject)}",
    ]
    html = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>\n'
        + "\n".join(f"<p>{p}</p>" for p in paragraphs)
        + f"\n<p>{escape(refused.marketplace.domain)}</p>\n</body></html>\n"
    )
    return f"Your message to a buyer was not delivered{order}", html


def compose_refusal_notice(refused: RefusedMessage, to: str) -> EmailMessage:
    """An unsigned delivery-failure notice from the sandbox Amazon to the seller's address."""
    message = EmailMessage(policy=policy.SMTP.clone(max_line_length=998))
    opted_out = refused.reason == "opted_out"
    message["From"] = formataddr(("Amazon", OPT_OUT_SENDER if opted_out else NOTICE_SENDER))
    message["To"] = to
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<{uuid.uuid4().hex}@amazon.com>"
    if opted_out:
        subject, html = _opt_out_html(refused)
        message["Subject"] = subject
        message["X-Space-Notification-Type"] = OPT_OUT_NOTIFICATION_TYPE
        message["X-Marketplace-ID"] = refused.marketplace.id
        message.set_content(html, subtype="html", cte="quoted-printable")
        return message
    subject, text = _notice_text(refused)
    message["Subject"] = subject
    if refused.message_id:  # so the sender can match it to its own mail (amazon.md §12.12)
        message["In-Reply-To"] = refused.message_id
        message["References"] = refused.message_id
    message["X-Marketplace-ID"] = refused.marketplace.id
    message.set_content(text, cte="quoted-printable")
    return message

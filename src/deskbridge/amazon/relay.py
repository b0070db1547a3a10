"""Replies that go to a buyer through Amazon's email relay: composing the message and checking its
content against Amazon's Buyer-Seller Messaging rules (amazon.md §12.11, §12.12, §13)."""

from __future__ import annotations

import mimetypes
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

from deskbridge.amazon import marketplaces
from deskbridge.mail.quotes import strip_quoted

Severity = Literal["block", "warn"]
SEVERITIES: tuple[Severity, ...] = ("block", "warn")

# Amazon's rules for what a seller may write to a buyer (amazon.md §13.3), and how hard each one is.
DEFAULT_POLICY: dict[str, str] = {
    # Amazon filters contact details out of the relay; a message with an address is refused.
    "email_address": "block",
    # The guidelines forbid phone numbers (amazon.md §13.3); one integration reports Amazon lets some
    # through, but a refused reply costs the buyer a day: block by default, warn if the seller chooses.
    "phone_number": "block",
    # Links are allowed only to Amazon, or when secure and needed to complete the order.
    "external_link": "block",
    # A secure carrier tracking link is the one outside link some integrations let through.
    "tracking_link": "warn",
    # Messages may only complete an order or answer a question: no reviews, feedback or promotions.
    "marketing": "block",
    # The September 2020 guidelines forbid emoji.
    "emoji": "warn",
}

# What each rule catches, for the settings page and the agent's note (one line each).
RULE_DESCRIPTIONS: dict[str, StrOrPromise] = {
    "email_address": _("Email addresses (Amazon removes contact details and may refuse the message)."),
    "phone_number": _("Telephone numbers (allowed only for warranty, shipping or manufacturer purposes)."),
    "external_link": _("Links to sites other than Amazon's."),
    "tracking_link": _("Secure (https) links to a carrier's tracking page."),
    "marketing": _("Requests for reviews, feedback or stars, and discount, coupon or promotion wording."),
    "emoji": _("Emoji and emoticons."),
    "attachment": _("Attachments Amazon does not take: video, unsupported types, more than 10 MB in all."),
}

# --- attachments (amazon.md §12.11) ---------------------------------------------------------------
# "You can send and receive one or more attachments (up to 10 MB) in a message" [SC help 200389080,
# sellercentral.amazon.ae and .sg]. Counted in bytes of the files themselves, in decimal megabytes
# so that we stay under Amazon's limit whichever megabyte it means.
MAX_ATTACHMENT_BYTES = 10 * 1000 * 1000
# The same help page lists supported formats that our reference does not reproduce (amazon.md §12.11
# ⚠️); sellers report that video cannot be sent in either direction (youniverse notes, same section).
# We therefore send only the kinds every source agrees on — images, PDF, plain text and Word
# documents — and drop the rest, video always, with the reason.
ALLOWED_ATTACHMENT_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "application/pdf",
        "text/plain",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
)
_EXTENSION_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
_VIDEO_EXTENSIONS = frozenset(
    {
        ".mp4",
        ".m4v",
        ".mov",
        ".avi",
        ".wmv",
        ".mkv",
        ".webm",
        ".flv",
        ".3gp",
        ".3g2",
        ".mpg",
        ".mpeg",
        ".ogv",
        ".ts",
    }
)


@dataclass(frozen=True)
class ComposedReply:
    message: EmailMessage
    message_id: str  # "<deskbridge.<uuid>@<domain>>": stored, so refusals and bounces find the reply
    text: str  # the clean text that was sent
    dropped_attachments: tuple[str, ...]  # "<filename>: <reason>", one per attachment not sent

    @property
    def is_empty(self) -> bool:
        """Nothing for the buyer: no words left after stripping and no attachment kept."""
        return not self.text.strip() and not any(True for _ in self.message.iter_attachments())


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    excerpt: str  # the words that broke the rule, as written
    explanation: str


# --- composing ------------------------------------------------------------------------------------

# Reply prefixes mail clients write in the marketplaces' languages: Re, Aw (de), Antw (nl), Sv (sv, da),
# Odp (pl), Ynt (tr), R / Rif (it), Res (pt-BR), Rép (fr), Resp, رد (ar), 回复/答复/回覆 (zh), 返信 (ja),
# with an optional counter ("Re[2]:", "Re^2:").
_REPLY_PREFIX = re.compile(
    r"^\s*(?:re|aw|antw|antwort|sv|odp|ynt|r|rif|res|rép|rep|resp|رد|回复|答复|回覆|返信)"
    r"(?:\s*[\[(^]\s*\d{1,3}\s*[\])]?)?\s*[:：]\s*",
    re.IGNORECASE,
)
_MESSAGE_ID = re.compile(r"^<[^<>\s@]+@[^<>\s@]+>$")
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def reply_subject(subject: str) -> str:
    """'Re: <the buyer's subject>', whatever reply prefixes it already had (Re:, AW:, RE: RE: …)."""
    subject = " ".join(subject.split())  # one line: no header folding or injection from a subject
    for _attempt in range(20):
        stripped = _REPLY_PREFIX.sub("", subject, count=1)
        if stripped == subject:
            break
        subject = stripped
    return f"Re: {subject}" if subject else "Re:"


def _address(value: str, what: str) -> Address:
    value = value.strip()
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or any(c in value for c in '<>\r\n\t ,;"()'):
        raise ValueError(f"{what} is not an email address: {value!r}")
    try:
        return Address(addr_spec=value)
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{what} is not an email address: {value!r}") from exc


def _message_id(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    if not value.startswith("<"):
        value = f"<{value}>"
    return value if _MESSAGE_ID.match(value) else None


def _safe_filename(name: str, index: int) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '"\r\n').strip(" .")
    return name[:200] or f"attachment-{index}"


def _attachment_type(filename: str, content_type: str) -> tuple[str, str]:
    """(resolved content type, extension): a generic or missing type is read from the file name."""
    ctype = content_type.split(";", 1)[0].strip().lower()
    dot = filename.rfind(".")
    extension = filename[dot:].lower() if dot > 0 else ""
    if not ctype or "/" not in ctype or ctype in ("application/octet-stream", "binary/octet-stream"):
        ctype = _EXTENSION_TYPES.get(extension) or (
            mimetypes.guess_type(filename)[0] or "application/octet-stream"
        )
    if ctype == "image/jpg":
        ctype = "image/jpeg"
    return ctype, extension


def select_attachments(
    attachments: Sequence[tuple[str, str, bytes]],
) -> tuple[list[tuple[str, str, bytes]], list[str]]:
    """The attachments Amazon takes, in order, and "<filename>: <reason>" for each one it does not."""
    kept: list[tuple[str, str, bytes]] = []
    dropped: list[str] = []
    total = 0
    for index, (raw_name, content_type, data) in enumerate(attachments, start=1):
        filename = _safe_filename(raw_name or "", index)
        ctype, extension = _attachment_type(filename, content_type or "")
        if ctype.startswith("video/") or extension in _VIDEO_EXTENSIONS:
            dropped.append(f"{filename}: video cannot be sent through Amazon's relay")
        elif ctype not in ALLOWED_ATTACHMENT_TYPES:
            dropped.append(
                f"{filename}: Amazon does not take {ctype} files (images, PDF, text and Word only)"
            )
        elif not data:
            dropped.append(f"{filename}: the file is empty")
        elif total + len(data) > MAX_ATTACHMENT_BYTES:
            dropped.append(
                f"{filename}: {len(data):,} bytes would take the message over Amazon's 10 MB limit for attachments"
            )
        else:
            total += len(data)
            kept.append((filename, ctype, data))
    return kept, dropped


def compose_reply(
    *,
    text: str,
    html: str,
    subject: str,
    from_address: str,
    to_alias: str,
    in_reply_to: str | None,
    references: tuple[str, ...],
    attachments: list[tuple[str, str, bytes]],
    message_id_domain: str,
) -> ComposedReply:
    """The email that carries an agent's reply to the buyer's relay alias.

    Plain text only (Amazon's relay shows text; HTML would only hide what the checks read), sent from
    the marketplace's forwarding address — the sender the seller approved in Messaging Permissions
    (amazon.md §13.1) — in the buyer's thread (§13.2), with our own Message-ID so that a later refusal
    or bounce can be matched to it (§12.12). Raises ValueError for addresses or a domain that cannot
    be put in a header; never for the reply's text or HTML.
    """
    sender = _address(from_address, "The sender (forwarding address)")
    recipient = _address(to_alias, "The buyer's alias")
    domain = message_id_domain.strip().rstrip(".")
    if not _DOMAIN.match(domain):
        raise ValueError(f"The Message-ID domain is not a host name: {message_id_domain!r}")

    clean = strip_quoted(text=text or "", html=html or "")
    message_id = f"<deskbridge.{uuid.uuid4().hex}@{domain}>"

    parent = _message_id(in_reply_to or "")
    thread = [mid for mid in (_message_id(r) for r in references) if mid]
    if parent and parent not in thread:
        thread.append(parent)  # RFC 5322 §3.6.4: the parent's References, then the parent itself

    message = EmailMessage(policy=email_policy.default)
    message["Message-ID"] = message_id
    message["Date"] = formatdate(usegmt=True)
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = reply_subject(subject or "")
    if parent:
        message["In-Reply-To"] = parent
    if thread:
        message["References"] = " ".join(thread)
    message["Auto-Submitted"] = "no"  # a person wrote it (RFC 3834): not an auto-responder
    message.set_content(clean + "\n" if clean else "", subtype="plain", charset="utf-8")

    kept, dropped = select_attachments(attachments)
    for filename, ctype, data in kept:
        maintype, subtype = ctype.split("/", 1)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)

    return ComposedReply(
        message=message, message_id=message_id, text=clean, dropped_attachments=tuple(dropped)
    )


def attachment_findings(dropped: Sequence[str]) -> list[Finding]:
    """The attachments compose_reply left out, as warnings for the agent (the reply itself still goes)."""
    return [
        Finding("attachment", "warn", item, "Amazon does not take this attachment, so it was not sent.")
        for item in dropped
    ]


# --- checking -------------------------------------------------------------------------------------

MAX_CHECKED = 200_000  # characters; Amazon's own limits are far below this
_EXCERPT = 120

_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+"
    r"|(?<!\w)[\w.+-]{1,64}\s*[\[(]\s*(?:at|@)\s*[\])]\s*[\w-]{1,63}(?:\s*[\[(]\s*(?:dot|\.)\s*[\])]\s*[\w-]{1,63})+",
    re.IGNORECASE,
)

# --- links
_URL = re.compile(r"(?:https?|ftp)://[^\s<>\"'()\[\]{}]+|(?<![\w@.-])www\.[^\s<>\"'()\[\]{}]+", re.IGNORECASE)
# A bare domain ("visit myshop.com") is a link to the buyer too. Only common top-level domains are
# recognised, so that "e.g." or "file.pdf" are not.
_BARE_DOMAIN = re.compile(
    r"(?<![\w@./-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:com|net|org|info|biz|io|co|shop|store|online|site|app|me|ly|eu|de|fr|it|es|nl|se|pl|tr|jp|cn|uk|br|mx|ca|"
    r"au|in|ae|sa|eg|be|ie|sg|us|ch|at)(?:/[^\s<>\"'()]*)?(?![\w-])",
    re.IGNORECASE,
)
_AMAZON_DOMAINS = frozenset(m.domain for m in marketplaces.MARKETPLACES) | {
    "amazon.cn",
    # Amazon's own short links (the "share" links of the Amazon app) lead to Amazon's pages.
    "amzn.to",
    "amzn.eu",
    "amzn.asia",
    "a.co",
}
# Carriers that deliver Amazon orders in its marketplaces: their tracking pages.
_CARRIER_DOMAINS = frozenset(
    {
        "ups.com", "fedex.com", "usps.com", "dhl.com", "dhl.de", "dhl.co.uk", "dhl.fr", "dhl.it", "dhl.es",
        "dhl.nl", "dhl.se", "dhl.pl", "dhl.com.tr", "dpd.com", "dpd.de", "dpd.co.uk", "dpd.fr", "dpd.pl",
        "hermesworld.com", "myhermes.de", "hermes-europe.co.uk", "evri.com", "royalmail.com", "parcelforce.com",
        "gls-group.eu", "gls-group.com", "gls-italy.com", "gls-spain.es", "colissimo.fr", "laposte.fr",
        "chronopost.fr", "poste.it", "brt.it", "sda.it", "correos.es", "seur.com", "mrw.es", "postnl.nl",
        "postnord.se", "postnord.com", "inpost.pl", "pocztex.pl", "poczta-polska.pl", "yurticikargo.com",
        "araskargo.com.tr", "mngkargo.com.tr", "ptt.gov.tr", "canadapost-postescanada.ca", "canadapost.ca",
        "purolator.com", "correios.com.br", "estafeta.com", "japanpost.jp", "kuronekoyamato.co.jp",
        "sagawa-exp.co.jp", "auspost.com.au", "aramex.com", "smsaexpress.com", "ontrac.com", "tnt.com",
        "bpost.be", "an-post.ie", "anpost.com", "posti.fi", "swisspost.ch", "post.ch", "austrianpost.at",
        "post.at", "singpost.com", "delhivery.com", "bluedart.com", "emiratespost.ae", "splonline.com.sa",
    }
)  # fmt: skip


def _host(url: str) -> str:
    if not re.match(r"^[a-z][a-z0-9+.-]*://", url, re.IGNORECASE):
        url = "http://" + url
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.lower().rstrip(".")


def _under(host: str, domains: frozenset[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


# --- phone numbers
_PHONE_CANDIDATE = re.compile(r"(?<![\w.,/+-])(?:\+|00)?\(?\d[\d \t().\-/]{5,24}\d(?![\w])")
_PHONE_WORDS = re.compile(
    r"(?<!\w)(?:phone|tel|telephone|call|mobile|cell|whatsapp|fax|hotline|telefon|handy|anrufen|téléphone|"
    r"appelez|telefono|cellulare|chiamare|chiamaci|teléfono|llamar|llámenos|móvil|telefone|celular|ligue|"
    r"telefoon|bellen|mobiel|ring oss|ringa|numer telefonu|zadzwoń|telefonu|arayın|هاتف|جوال|اتصل)(?!\w)"
    r"|電話|携帯|电话|手机|致电|☎|📞",
    re.IGNORECASE,
)
_NOT_PHONE_WORDS = re.compile(
    r"(?:tracking|track|sendungsnummer|sendungsverfolgung|suivi|numéro de colis|spedizione|seguimiento|"
    r"rastreamento|rastreio|track ?& ?trace|volgnummer|kolli|przesyłk|takip|تتبع|追跡|お問い合わせ番号|物流|运单|快递单|"
    r"order|bestellung|commande|ordine|pedido|bestelling|beställning|zamówieni|sipariş|طلب|注文|订单|asin|isbn|"
    r"ean|upc|sku|invoice|rechnung|facture|fattura|factura|fatura|factuur|faktura|fatura)",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"^(?:\d{1,4}[-./]\d{1,2}[-./]\d{1,4}|\d{4}\s*[-–]\s*\d{4}|\d{1,2}[-./]\d{1,2}[-./]?\s*\d{2,4})$"
)
_PRICE_SHAPE = re.compile(r"^\d{1,3}(?:[.,']\d{3})+(?:[.,]\d{1,2})?$|^\d+[.,]\d{1,2}$")
_CURRENCY = re.compile(
    r"(?:[$€£¥₺₹﷼]|R\$|US\$|C\$|A\$|\b(?:EUR|USD|GBP|JPY|CNY|RMB|CAD|AUD|MXN|BRL|PLN|SEK|TRY|AED|SAR|EGP|INR|SGD|"
    r"zł|kr|TL|円|元|ريال|درهم)\b)",
    re.IGNORECASE,
)
_ORDER_ID = re.compile(r"\d{3}-\d{7}-\d{7}")
_INTERNATIONAL = re.compile(r"^(?:\+|00[1-9])")
_LETTER_PREFIX = re.compile(r"[A-Z]{2,4}\s?$")


def _phone_numbers(text: str) -> list[str]:
    found = []
    for match in _PHONE_CANDIDATE.finditer(text):
        candidate = match.group(0).strip()
        digits = sum(c.isdigit() for c in candidate)
        if not 7 <= digits <= 15:  # E.164 numbers have at most 15 digits; local numbers at least 7
            continue
        if _ORDER_ID.search(candidate) or _DATE.match(candidate) or _PRICE_SHAPE.match(candidate):
            continue
        before = text[max(0, match.start() - 40) : match.start()]
        after = text[match.end() : match.end() + 12]
        if _CURRENCY.search(before[-6:]) or _CURRENCY.search(after[:6]):
            continue  # a price
        international = bool(_INTERNATIONAL.match(candidate))
        if _LETTER_PREFIX.search(before) and not international:
            continue  # "JJD 0001 2345 6789", "AB 123…": a parcel or document number
        near_phone = bool(_PHONE_WORDS.search(before))
        if not near_phone and _NOT_PHONE_WORDS.search(before):
            continue  # a tracking, order, ASIN or invoice number
        separated = any(not c.isdigit() for c in candidate)
        # A bare run of digits is a tracking or reference number unless it is written as a phone
        # number is: internationally, or right after a word for "phone".
        if not separated and not international and not near_phone:
            continue
        found.append(candidate)
    return found


# --- marketing, in the main languages of Amazon's marketplaces
_STARS = (
    r"(?:stars?|sterne?n?|étoiles?|stelle|estrellas?|estrelas?|sterren|stjärnor|gwiazd(?:ek|ki|ka)?|yıldız|"
    r"نجوم|نجمة)"
)
# Words of alphabetic scripts: matched from the start of a word ("rate us" is not in "corporate use").
_MARKETING_WORDS = re.compile(
    r"(?<!\w)(?:"
    # en
    r"leave (?:us |me )?(?:an? |your |some )?(?:positive |good |great |honest |5[- ]star |five[- ]star )?"
    r"(?:feedback|review|rating)|write (?:us )?an? (?:\w+ )?review|(?:positive|good|5[- ]star|five[- ]star) "
    r"(?:feedback|review|rating)|product review|seller feedback|rate us|rate (?:your|the) (?:experience|purchase|product)|"
    r"review (?:us|the product|your purchase|our product)|discount code|coupons?|promo(?:tion(?:al)?)? code|"
    r"vouchers?|\d{1,2} ?% (?:off|discount)|special offer|exclusive offer|follow us|subscribe to our|newsletter|"
    r"visit our (?:website|web site|store|shop)|"
    # de
    r"bewertung (?:abgeben|hinterlassen)|(?:positive|gute) bewertung|bewerten sie|rezension\w*|"
    r"feedback (?:abgeben|hinterlassen)|gutschein\w*|rabatt\w*|aktionscode|"
    # fr
    r"laisser (?:un |une |votre )?(?:avis|commentaire|évaluation)|avis positif|évaluation positive|"
    r"code promo|bon de réduction|code de réduction|\d{1,2} ?% de réduction|"
    # it
    r"lasciare (?:una |un )?(?:recensione|feedback)|recensione positiva|feedback positivo|codice sconto|"
    r"buono sconto|\d{1,2} ?% di sconto|"
    # es
    r"dej(?:ar|e|a) (?:una |un |su )?(?:reseña|valoración|opinión|comentario)|reseña positiva|"
    r"valoración positiva|opinión positiva|código de descuento|cupón|\d{1,2} ?% de descuento|"
    # pt
    r"deixar (?:uma |sua )?avaliação|avaliação positiva|avalie|cupom|cupão|código promocional|"
    r"\d{1,2} ?% de desconto|"
    # nl
    r"(?:een |uw )?(?:recensie|beoordeling) (?:achter ?laten|schrijven|geven)|positieve (?:recensie|beoordeling)|"
    r"kortingscode|kortingsbon|"
    # sv
    r"(?:lämna|skriv) (?:en |ett )?(?:recension|omdöme|betyg)|positiv(?:t)? (?:recension|omdöme)|rabattkod|"
    # pl
    r"(?:wystaw|zostaw|napisz) (?:nam )?(?:opinię|recenzję|ocenę|komentarz)|pozytywn\w* (?:opini\w*|ocen\w*|komentarz\w*)|"
    r"kod rabatowy|kupon\w*|\d{1,2} ?% rabatu|"
    # tr
    r"(?:olumlu )?(?:yorum|değerlendirme) (?:yap|bırak|yaz)\w*|olumlu (?:yorum|değerlendirme|geri bildirim)|"
    r"indirim kodu|\d{1,2} ?% indirim|"
    # ar
    r"تقييم(?:اً|ا)? (?:إيجابي|ايجابي)|اترك (?:لنا )?(?:تقييم|مراجعة)|كود خصم|رمز خصم|كوبون|قسيمة|"
    # stars
    r"[5５]\s*-?\s*" + _STARS + r"|(?:five|fünf|cinq|cinque|cinco|vijf|fem|pięć|beş)\s+" + _STARS + r""
    r")(?!\w)",
    re.IGNORECASE,
)
# Japanese and Chinese have no spaces between words: matched anywhere.
_MARKETING_CJK = re.compile(
    r"レビュー(?:を|の)(?:お願い|投稿|書い|いただ)|高評価|評価をお願い|星[5５]つ?|[5５]つ星|クーポン|割引コード|"
    r"好评|五星|[5５]星|给(?:我们)?(?:个)?评价|留(?:下)?评价|写评价|评论一下|优惠券|优惠码|折扣码|★{3,}"
)

# --- emoji
_EMOJI = re.compile(
    "(?:[\U0001f000-\U0001faff\u2600-\u27bf\u2b50\u2b55\u2b1b\u2b1c\u2934\u2935\u3030\u303d\u3297\u3299]"
    "[\ufe0f\u200d\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]*)+"
    r"|(?<!\S)(?:[:;=]-?[)(DPp]|<3|\^_\^)(?!\S)"
)


def _excerpt(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= _EXCERPT else value[: _EXCERPT - 1] + "…"


def _severity(policy: Mapping[str, str], rule: str) -> Severity:
    value = policy.get(rule) if isinstance(policy, Mapping) else None
    if value == "block":
        return "block"
    if value == "warn":
        return "warn"
    return "block" if DEFAULT_POLICY.get(rule, "warn") == "block" else "warn"


def check_reply(text: str, policy: Mapping[str, str]) -> list[Finding]:
    """What in a reply breaks Amazon's Buyer-Seller Messaging rules (amazon.md §13.3), one finding per
    distinct thing found, in the order of the rules; `policy` says per rule whether it blocks the
    reply or only warns (missing or unknown values: DEFAULT_POLICY)."""
    text = (text or "")[:MAX_CHECKED]
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()

    def add(rule: str, excerpt: str, explanation: str) -> None:
        excerpt = _excerpt(excerpt)
        if excerpt and (rule, excerpt.lower()) not in seen:
            seen.add((rule, excerpt.lower()))
            findings.append(Finding(rule, _severity(policy, rule), excerpt, explanation))

    emails = list(_EMAIL.finditer(text))
    for match in emails:
        add(
            "email_address",
            match.group(0),
            "Amazon does not allow email addresses in messages to buyers; the buyer writes back through Amazon.",
        )
    # The domain of an address is not a link of its own.
    without_emails = _EMAIL.sub(" ", text)

    for number in _phone_numbers(without_emails):
        add(
            "phone_number",
            number,
            "Amazon allows telephone numbers only for warranty, shipping or manufacturer purposes.",
        )

    links = [m.group(0) for m in _URL.finditer(without_emails)]
    rest = _URL.sub(" ", without_emails)
    links += [m.group(0) for m in _BARE_DOMAIN.finditer(rest)]
    for link in links:
        link = link.rstrip(".,;:!?")
        host = _host(link)
        if not host or _under(host, _AMAZON_DOMAINS):
            continue
        if _under(host, _CARRIER_DOMAINS) and link.lower().startswith("https://"):
            add(
                "tracking_link",
                link,
                "A carrier's tracking link: Amazon allows only links needed to complete the order, and some "
                "of its guidance refuses every link that is not Amazon's.",
            )
        else:
            add(
                "external_link",
                link,
                "Amazon allows links only to Amazon, or secure (https) links needed to complete the order.",
            )

    marketing = [*_MARKETING_WORDS.finditer(without_emails), *_MARKETING_CJK.finditer(without_emails)]
    for match in sorted(marketing, key=lambda m: m.start()):
        add(
            "marketing",
            match.group(0),
            "Messages to buyers may only complete an order or answer a question: no review or feedback "
            "requests, no discounts, coupons or promotions.",
        )

    for match in _EMOJI.finditer(without_emails):
        add("emoji", match.group(0), "Amazon's communication guidelines do not allow emoji.")

    return findings


def blocking(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "block"]

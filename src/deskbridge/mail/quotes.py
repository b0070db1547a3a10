"""An agent's own words: quoted history, helpdesk reply separators, Amazon's quoted template and
signatures taken out of a reply before it goes to the buyer (amazon.md §12.7, §13.3)."""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree
from lxml import html as lxml_html

from deskbridge.amazon.mail import extract as amazon_extract
from deskbridge.amazon.mail import templates as amazon_templates
from deskbridge.mail.html import MAX_HTML, clean_text, html_to_text

# Quote detectors look at this much text; whatever is cut later than this is kept (a reply this long
# is refused by the content checks' size anyway: Amazon takes 10 MB in all).
MAX_SCAN = 200_000

# --- helpdesk reply separators --------------------------------------------------------------------
# Helpdesks put a "reply above this line" line at the top of the notifications they email; an agent
# answering such a notification by email sends it back with the whole thread under it.
# * Zendesk: "##- Please type your reply above this line -##" (localised inside the same "##- … -##"
#   frame, so the frame alone is matched).
# * Help Scout, Freshdesk, Gorgias, Kustomer and most ticket tools word it "(Please) reply above this
#   line", framed by dashes, "=" or "#": matched by its words, in the marketplaces' languages.
_ZENDESK_SEPARATOR = re.compile(r"^[ \t>]*##-[^\n]{0,160}-##[ \t]*$", re.MULTILINE)
_ABOVE_THIS_LINE = re.compile(
    r"^[^\n]{0,80}?(?:"
    r"(?:reply|respond|write|type|answer)[^\n]{0,40}above this line|"
    r"(?:oberhalb|über) dieser zeile|au-dessus de cette ligne|sopra (?:questa|a questa) (?:riga|linea)|"
    r"(?:por )?encima de esta línea|acima desta linha|boven deze (?:regel|lijn)|ovanför (?:denna|den här) rad|"
    r"(?:nad|powyżej) (?:tą linią|tej linii)|bu satırın (?:üstüne|üzerine)|この行より上|此行(?:上方|以上)|"
    r"此线以上|فوق هذا السطر"
    r")[^\n]{0,120}$",
    re.MULTILINE | re.IGNORECASE,
)

# --- "On <date>, <name> wrote:" in the languages of Amazon's marketplaces -------------------------
# Matched on one logical line: mail clients wrap long attributions over two or three lines, so a
# candidate is a line joined with the next one or two.
_ATTRIBUTIONS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^On\b.{4,300}\bwrote\s*:$",  # en
        r"^Am\b.{4,300}\bschrieb\b.{0,300}:$",  # de
        r"^Le\b.{4,300}\ba\s+écrit\s*:$",  # fr
        r"^(?:Il\b|In data\b).{4,300}\bha\s+scritto\s*:$",  # it
        r"^El\b.{4,300}\bescribió\s*:$",  # es
        r"^(?:Em|No dia)\b.{4,300}\bescreveu\s*:$",  # pt
        r"^Op\b.{4,300}\b(?:schreef|geschreven)\b.{0,300}:$",  # nl
        r"^.{4,300}\bskrev\b.{0,300}:$",  # sv ("Den 3 apr. 2023 kl. 10:00 skrev Sven <…>:")
        r"^(?:W dniu|Dnia)\b.{4,300}\b(?:pisze|napisał|napisała|napisał\(a\))\s*:$",  # pl
        r"^.{4,300}\bnapisał(?:a|\(a\))?\s*:$",  # pl (Gmail: "pon., 3 kwi 2023 o 10:00 Jan <…> napisał(a):")
        r"^.{4,300}\b(?:şunu\s+)?yazdı\s*:$",  # tr
        r"^(?:في|بتاريخ)\s.{4,300}\sكتب\s.{0,300}:$",  # ar
        r"^\d{4}年\d{1,2}月\d{1,2}日.{0,300}[:：]$",  # ja (Gmail: "2023年4月3日(月) 10:00 Taro <…>:")
        r"^.{4,300}(?:のメール|が書きました|は書きました|さんは書きました)\s*[:：]$",  # ja (Outlook, Apple)
        r"^.{0,300}(?:写道|寫道)\s*[:：]$",  # zh ("在 2023年4月3日 … 写道：", "Li <…> 于2023年4月3日周一 写道：")
    )
]

_DATE_OR_ADDRESS = re.compile(r"\d|@")
_SENTENCE_END = (".", "!", "?", "。", "！", "？", "…")

# Outlook's header block: a From line and, within the next lines, a Sent/Date/To/Subject line.
_HEADER_FROM = re.compile(
    r"^[ \t>]*\*?(?:From|Von|De|Da|Van|Från|Od|Kimden|Gönderen|من|发件人|發件人|寄件者|差出人)\*?[ \t]*\*?[:：]",
    re.IGNORECASE,
)
_HEADER_NEXT = re.compile(
    r"^[ \t>]*\*?(?:Sent|Date|To|Subject|Gesendet|Datum|An|Betreff|Envoyé|Date|À|Objet|Inviato|Data|A|Oggetto|"
    r"Enviado|Enviada|Fecha|Para|Asunto|Assunto|Verzonden|Aan|Onderwerp|Skickat|Till|Ämne|Wysłano|Do|Temat|"
    r"Tarih|Gönderildi|Kime|Konu|التاريخ|تاريخ الإرسال|إلى|الموضوع|发送时间|日期|收件人|主题|寄件日期|送信日時|"
    r"日付|宛先|件名)\*?[ \t]*\*?[:：]",
    re.IGNORECASE,
)
_SEPARATOR_WORDS = re.compile(
    r"^[ \t>]*[-_=]{2,}[ \t]*(?:Original Message|Ursprüngliche Nachricht|Message d['’]origine|"
    r"Messaggio originale|Mensaje original|Mensagem original|Oorspronkelijk bericht|Origineel bericht|"
    r"Ursprungligt meddelande|Oryginalna wiadomość|Wiadomość oryginalna|Orijinal (?:ileti|mesaj)|"
    r"Özgün ileti|الرسالة الأصلية|原始邮件|原始郵件|元のメッセージ|Forwarded message|Weitergeleitete Nachricht|"
    r"Message transféré|Messaggio inoltrato|Mensaje reenviado|Mensagem encaminhada|Doorgestuurd bericht|"
    r"Vidarebefordrat meddelande|Przekazana wiadomość|İletilen ileti|转发的邮件|転送メッセージ)"
    r"[ \t]*[-_=]{0,}[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)

# --- Amazon's own template, quoted --------------------------------------------------------------
# An agent answering Amazon's forwarded mail by email quotes its template: the "Order ID …:" /
# "# <order>:" line, the item line, the dashed begin marker (sample 02, 07) and the footer (sample 08).
_AMAZON_HEADER_LINE = re.compile(
    r"^[^\n]{0,40}\d{3}-\d{7}-\d{7}\s*[:：]\s*$|^\s*\d+\s*(?:of|/|x|de|di|von|×)\s[^\n]{1,300}\[ASIN:[^\]\n]{1,20}\]\s*$",
    re.IGNORECASE,
)

# --- signatures -----------------------------------------------------------------------------------
# Only marks that say "what follows is a signature" are cut: the "-- " delimiter (RFC 3676 §4.3; the
# trailing space is gone once lines are cleaned) and the footers phones and mail apps add. A closing
# such as "Best regards, Anna" stays: it is part of a polite reply, and contact details that a
# signature might carry are caught by the content checks (amazon/relay.py).
_SIGNATURE_DELIMITER = re.compile(r"^--[ \t]*$", re.MULTILINE)
_MAX_SIGNATURE_LINES = 15
_DEVICE_FOOTER = re.compile(
    r"^[ \t]*(?:Sent from my|Sent from Mail for|Sent from Outlook|Get Outlook for|Sent from Yahoo Mail|"
    r"Gesendet von meinem|Gesendet mit der|Von meinem [^\n]{1,40} gesendet|Envoyé de mon|Envoyé depuis|"
    r"Inviato da(?:l mio)?|Enviado desde mi|Enviado do meu|Enviado a partir do|Verzonden met mijn|"
    r"Verzonden vanaf mijn|Skickat från min|Wysłane z (?:mojego|iPhone|iPada|urządzenia)|"
    r"iPhone'umdan gönderildi|iPhone['’]dan gönderildi|أرسلت من|أُرسلت من|"
    r"发自我的|從我的|iPhoneから送信|iPadから送信|Androidから送信)[^\n]{0,80}$",
    re.MULTILINE | re.IGNORECASE,
)

# --- HTML containers of quoted history and signatures ---------------------------------------------
# Class names that mail clients and helpdesks give to the quoted part of a reply (seen in public
# unquoting code: Gmail, Yahoo, Thunderbird, ProtonMail, Zoho, Freshdesk, Front, Zendesk).
_QUOTE_CLASSES = (
    "gmail_quote",
    "gmail_quote_container",
    "gmail_attr",
    "yahoo_quoted",
    "moz-cite-prefix",
    "protonmail_quote",
    "zmail_extra",
    "freshdesk_quote",
    "front-blockquote",
    "quotedReply",  # Zendesk
    "notion-mail-quote",
)
_SIGNATURE_CLASSES = ("gmail_signature", "moz-signature", "protonmail_signature_block")
_QUOTE_IDS = ("mail-editor-reference-message-container",)
_SIGNATURE_IDS = ("Signature", "signature")
# Outlook: everything from this element on is the quoted message.
_FROM_HERE_IDS = ("divRplyFwdMsg", "appendonsend")


def _class_xpath(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


_QUOTE_XPATH = etree.XPath(
    "//blockquote[@type='cite'] | //*[@title='beforequote:::'] | //*[@data-signature] | "
    + " | ".join(f"//*[{_class_xpath(c)}]" for c in _QUOTE_CLASSES + _SIGNATURE_CLASSES)
    + " | "
    + " | ".join(f"//*[@id='{i}']" for i in _QUOTE_IDS + _SIGNATURE_IDS)
)
_FROM_HERE_XPATH = etree.XPath(" | ".join(f"//*[@id='{i}']" for i in _FROM_HERE_IDS))


def _drop_from(element: lxml_html.HtmlElement) -> None:
    """Remove the element and everything after it in document order (Outlook's quoted tail)."""
    node = element
    while node is not None and node.tag not in ("body", "html"):
        parent = node.getparent()
        for sibling in list(node.itersiblings()):
            sibling.getparent().remove(sibling)
        node = parent
    previous = element.getprevious()
    if previous is not None and previous.tag == "hr":
        previous.drop_tree()
    if element.getparent() is not None:
        element.drop_tree()


def _attached(element: lxml_html.HtmlElement, root: lxml_html.HtmlElement) -> bool:
    return any(ancestor is root for ancestor in element.iterancestors()) or element is root


_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def strip_quoted_html(markup: str) -> str:
    """The HTML without the containers mail clients and helpdesks put quoted history and signatures in."""
    if not markup.strip():
        return ""
    try:
        root = lxml_html.document_fromstring(
            # Control characters XML cannot hold (lxml refuses them when it moves text about).
            _NOT_XML.sub("", re.sub(r"^\s*<\?xml[^>]*\?>", "", markup[:MAX_HTML])),
            parser=lxml_html.HTMLParser(huge_tree=True),
        )
    except (etree.ParserError, ValueError):
        return markup
    for element in _FROM_HERE_XPATH(root):
        if _attached(element, root):
            _drop_from(element)
    for element in _QUOTE_XPATH(root):
        if _attached(element, root) and element.getparent() is not None:
            element.drop_tree()
    return str(lxml_html.tostring(root, encoding="unicode"))


# --- plain text -----------------------------------------------------------------------------------


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(m.end() for m in re.finditer("\n", text))
    return starts


def _helpdesk_separator(text: str) -> int | None:
    found = [m.start() for m in (_ZENDESK_SEPARATOR.search(text), _ABOVE_THIS_LINE.search(text)) if m]
    return min(found) if found else None


def _is_attribution(line: str) -> bool:
    # Every client writes a date, a time or an address into it; without one, "As I wrote earlier:"
    # in an agent's own words would look like one.
    return bool(_DATE_OR_ADDRESS.search(line)) and any(p.match(line) for p in _ATTRIBUTIONS)


def _attribution(text: str) -> int | None:
    lines = text.split("\n")
    starts = _line_starts(text)
    heads = [line.strip(" \t>") for line in lines]
    alone = [bool(h) and len(h) <= 400 and _is_attribution(" ".join(h.split())) for h in heads]
    for i, head in enumerate(heads):
        if alone[i]:
            return starts[i]
        if not head or len(head) > 400 or head.endswith(_SENTENCE_END):
            continue
        # A wrapped attribution: this line and the next one or two, none of them blank and none an
        # attribution of its own (that one is found on its own line).
        candidate = head
        for extra in (1, 2):
            j = i + extra
            if j >= len(lines) or not heads[j] or alone[j]:
                break
            candidate = f"{candidate} {heads[j]}"
            joined = " ".join(candidate.split())
            if len(joined) > 700:
                break
            if _is_attribution(joined):
                return starts[i]
    return None


def _header_block(text: str) -> int | None:
    lines = text.split("\n")
    starts = _line_starts(text)
    for i, line in enumerate(lines):
        # From and two more header lines (Sent, To, Subject…): "From: Berlin / To: Munich" in an
        # agent's own words is not a quoted message.
        if _HEADER_FROM.match(line) and sum(1 for n in lines[i + 1 : i + 6] if _HEADER_NEXT.match(n)) >= 2:
            # Outlook draws a rule of underscores above the block; it goes with it.
            j = i
            while j > 0 and (not lines[j - 1].strip() or set(lines[j - 1].strip()) <= set("_-")):
                j -= 1
                if lines[j].strip():
                    return starts[j]
            return starts[i]
    return None


def _separator_line(text: str) -> int | None:
    match = _SEPARATOR_WORDS.search(text)
    return match.start() if match else None


def _amazon_template(text: str) -> int | None:
    found: list[int] = []
    for marker in amazon_extract.find_markers(text):
        if marker.kind in ("begin", "end", "quote"):
            found.append(marker.start)
            break
    lowered = text.lower()
    for phrase in amazon_templates.FOOTER_ANYWHERE:
        at = lowered.find(phrase.lower())
        if at >= 0:
            found.append(at)
    if not found:
        return None
    cut = min(found)
    # Take the template's own header lines (order id, item) above the marker with it.
    cut = text.rfind("\n", 0, cut) + 1
    while cut > 0:
        previous_start = text.rfind("\n", 0, cut - 1) + 1
        previous = text[previous_start : cut - 1]
        if previous.strip() and not _AMAZON_HEADER_LINE.match(previous):
            break
        cut = previous_start
    return cut


def _quotequail(text: str) -> int | None:
    import quotequail

    parts = quotequail.quote(text, limit=text.count("\n") + 2, quote_intro_line=True)
    if len(parts) < 2:
        return None
    return len(parts[0][1]) + 1 if parts[0][1] else 0


# Polish is left out: its header pattern takes a single "Data:" or "Do:" line for a quoted header,
# which an agent's own words can start with; the header detector above covers Polish headers.
_MAIL_PARSER_LANGUAGES = ["en", "de", "fr", "it", "es", "ja", "zh", "nl", "sv"]


def _mail_parser_reply(text: str) -> int | None:
    from mailparser_reply import EmailReplyParser

    message = EmailReplyParser(languages=_MAIL_PARSER_LANGUAGES).read(text)
    if len(message.replies) < 2:
        return None
    header = (message.replies[1].headers or "").strip()
    header_lines = [line.strip() for line in header.split("\n") if line.strip()]
    if not header_lines:
        return None
    first = header_lines[0]
    # Its header pattern takes any two "From:/To:/Date:" lines; an agent's "From: Berlin / To: Munich"
    # is not a quoted message. A real one names an address or has three header lines.
    fields = sum(1 for line in header_lines if _HEADER_FROM.match(line) or _HEADER_NEXT.match(line))
    if fields < 3 and "@" not in header and not _is_attribution(" ".join(first.split())):
        return None
    starts = _line_starts(text)
    for i, line in enumerate(text.split("\n")):
        if line.strip() == first:
            return starts[i]
    return None


_FINDERS: tuple[Callable[[str], int | None], ...] = (
    _helpdesk_separator,
    _amazon_template,
    _attribution,
    _header_block,
    _separator_line,
    _quotequail,
    _mail_parser_reply,
)


def quote_start(text: str) -> int | None:
    """Where quoted history starts in `text` (the earliest any detector finds), or None."""
    scanned = text[:MAX_SCAN]
    found = []
    for finder in _FINDERS:
        try:
            at = finder(scanned)
        except (RecursionError, ValueError, IndexError):  # a library's heuristics on odd input
            at = None
        if at is not None:
            found.append(at)
    return min(found) if found else None


def strip_signature(text: str) -> str:
    """The text without a trailing "-- " signature or a phone's "Sent from my …" footer."""
    cut = len(text)
    for match in _SIGNATURE_DELIMITER.finditer(text):
        after = text[match.end() :]
        if sum(1 for line in after.split("\n") if line.strip()) <= _MAX_SIGNATURE_LINES:
            cut = match.start()
            break
    for match in _DEVICE_FOOTER.finditer(text, 0, cut):
        rest = text[match.end() : cut]
        if sum(1 for line in rest.split("\n") if line.strip()) <= 2:
            cut = match.start()
            break
    return text[:cut]


def _unquoted_lines(text: str) -> str:
    """Bottom-posting: the agent's words under a quote. The lines that are not quoted or attribution."""
    kept = []
    for line in text.split("\n"):
        if line.lstrip().startswith(">"):
            continue
        joined = " ".join(line.split())
        if joined and _is_attribution(joined):
            continue
        kept.append(line)
    return "\n".join(kept)


def strip_quoted_text(text: str) -> str:
    """The new words of a plain-text reply: cut where quoted history starts, signature removed."""
    text = clean_text(text)
    if text.lstrip().startswith(">"):
        text = _unquoted_lines(text)  # bottom-posting: the quote comes first, the answer under it
    cut = quote_start(text)
    body = text if cut is None else text[:cut]
    if cut is not None and not body.strip():
        body = _unquoted_lines(text)  # nothing above the quote: the reply is under it
        again = quote_start(body)
        if again is not None and body[:again].strip():
            body = body[:again]
    return clean_text(strip_signature(clean_text(body)))


def strip_quoted(text: str = "", html: str = "") -> str:
    """The agent's own words as plain text, from the HTML when there is any (it keeps links' addresses,
    which a helpdesk's text rendering may drop) and else from the text."""
    if html.strip():
        converted = html_to_text(strip_quoted_html(html))
        if converted.strip():
            return strip_quoted_text(converted)
    return strip_quoted_text(text)

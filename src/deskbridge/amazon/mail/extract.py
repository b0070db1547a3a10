"""Finding things inside an Amazon mail's text: the buyer's words, order ids, item lines, subject parts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from deskbridge.amazon.mail import templates as t

MAX_SUBJECT = 2000  # a subject longer than this is not Amazon's; only its start is looked at
ORDER_ID = re.compile(r"(?<![\d-])(\d{3}-\d{7}-\d{7})(?![\d-])")


@dataclass(frozen=True)
class Marker:
    start: int
    end: int
    kind: str  # begin | end | quote | unknown
    label: str
    language: str | None


def _label(raw: str) -> tuple[str, bool]:
    label = " ".join(raw.split()).lower()
    colon = label.endswith(":") or label.endswith("：")
    return label.rstrip(":：").strip(), colon


def find_markers(text: str) -> list[Marker]:
    found = []
    for match in t.MARKER.finditer(text):
        label, colon = _label(match.group(1))
        if not label:
            continue
        if t.QUOTE_LABEL.search(label):
            kind, lang = "quote", None
        elif label in t.END_LABELS:
            kind, lang = "end", t.END_LABELS[label]
        elif label in t.BEGIN_LABELS:
            kind, lang = "begin", t.BEGIN_LABELS[label]
        elif colon:
            kind, lang = "begin", None  # amazon.md §15: a localized word for "Message" and a colon
        else:
            kind, lang = "unknown", None
        found.append(Marker(match.start(), match.end(), kind, label, lang))
    return found


def first_quote(text: str, start: int = 0) -> int | None:
    """Where the first quoted-reply header starts at or after `start`, if any."""
    best: int | None = None
    for pattern in t.QUOTE_HEADERS:
        match = pattern.search(text, start)
        if match and (best is None or match.start() < best):
            best = match.start()
    return best


def first_footer(text: str, start: int = 0) -> int | None:
    lowered = text.lower()
    best: int | None = None
    for phrase in t.FOOTER_ANYWHERE:
        at = lowered.find(phrase.lower(), start)
        if at >= 0 and (best is None or at < best):
            best = at
    match = t.FOOTER_LINE_START.search(text, start)
    if match and (best is None or match.start() < best):
        best = match.start()
    return best


def clean_block(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    out = "\n".join(lines).strip("\n")
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out.strip()


@dataclass
class Extraction:
    text: str | None = None  # None: the buyer's words could not be located
    language: str | None = None
    header_end: int | None = None  # where Amazon's template header ends (the begin marker)
    flags: list[str] = field(default_factory=list)


def extract_message(body: str) -> Extraction:
    """The words between Amazon's markers, quoted history and footer removed (amazon.md §12.6-12.7)."""
    markers = find_markers(body)
    begin = next((m for m in markers if m.kind == "begin"), None)
    quote = first_quote(body)
    quote_markers = [m.start for m in markers if m.kind == "quote"]
    if quote_markers and (quote is None or quote_markers[0] < quote):
        quote = quote_markers[0]
    result = Extraction()
    if begin is not None:
        lang = begin.language
        result.header_end = begin.start
    else:
        lang = None
    if quote is not None and (begin is None or quote < begin.start) and body[:quote].strip():
        # The buyer's client quoted an earlier Amazon mail: the new words come before it (sample 02).
        result.text = clean_block(body[:quote])
        result.language = lang
        result.flags.append("quoted_history_removed")
        if begin is None:
            result.header_end = quote
        return result
    if begin is None:
        return result
    after = begin.end
    stops = [m for m in markers if m.start >= after and m.kind != "quote"]
    end = stops[0] if stops and stops[0].kind in ("end", "unknown") else None
    cut = end.start if end is not None else None
    if end is None:
        footer = first_footer(body, after)
        nested = stops[0].start if stops else None
        candidates = [c for c in (footer, nested) if c is not None]
        cut = min(candidates) if candidates else len(body)
        result.flags.append("no_end_marker")
    assert cut is not None
    quoted = first_quote(body, after)
    inner_quotes = [m.start for m in markers if m.kind == "quote" and m.start >= after]
    if inner_quotes and (quoted is None or inner_quotes[0] < quoted):
        quoted = inner_quotes[0]
    if quoted is not None and quoted < cut:
        cut = quoted
        result.flags.append("quoted_history_removed")
    result.text = clean_block(body[after:cut])
    if begin.label in t.GENERIC_BEGIN and end is not None and end.language:
        lang = end.language  # "Message:" is the same in every language; the end marker is not
    elif lang is None and end is not None:
        lang = end.language
    if begin.label in t.BILINGUAL_LABELS:
        result.flags.append("bilingual_template")
    result.language = lang
    return result


# --- template header: order, item ----------------------------------------------------------------

_TEMPLATE_ORDER = [
    re.compile(r"Order\s+ID\b[^\n\d]{0,40}(\d{3}-\d{7}-\d{7})", re.IGNORECASE),
    re.compile(r"^[ \t]*#[ \t]*(\d{3}-\d{7}-\d{7})[ \t]*:", re.MULTILINE),
    re.compile(r"(\d{3}-\d{7}-\d{7})[ \t]*:[ \t]*$", re.MULTILINE),
]
_BRACKET_ORDER = re.compile(r"\[\s*(\d{3}-\d{7}-\d{7})\s*\]")


def template_order_id(text: str) -> str | None:
    for pattern in _TEMPLATE_ORDER:
        match = pattern.search(text)
        if match:
            return match.group(1)
    return None


def bracket_order_id(text: str) -> str | None:
    match = _BRACKET_ORDER.search(text)
    return match.group(1) if match else None


def any_order_id(text: str) -> str | None:
    match = ORDER_ID.search(text)
    return match.group(1) if match else None


@dataclass(frozen=True)
class Item:
    quantity: int | None
    title: str | None
    asin: str | None
    sku: str | None


_ITEM_LINE = re.compile(
    r"^[ \t]*(?:(\d{1,4})[ \t]*(?:/|[^\W\d_]{1,3}(?:[ \t]*/[ \t]*[^\W\d_]{1,3})?)[ \t]+)?"
    r"([^\n]{1,600}?)[ \t]*\[ASIN:?[ \t]*([A-Z0-9]{10})[ \t]*\]",
    re.MULTILINE,
)
_ITEM_TABLE = re.compile(
    r"^[ \t]*(\d{1,4})[ \t]*\t[ \t]*([A-Z0-9]{10})[ \t]*\t[ \t]*([^\n]{1,600})$", re.MULTILINE
)
_SKU = re.compile(r"^(.*\S)\s+\|\s+([^\s|]{1,60})$")


def find_item(text: str) -> Item | None:
    match = _ITEM_LINE.search(text)
    if match:
        qty = int(match.group(1)) if match.group(1) else None
        title = match.group(2).strip()
        sku = None
        with_sku = _SKU.match(title)
        if with_sku:
            title, sku = with_sku.group(1), with_sku.group(2)
        return Item(qty, title or None, match.group(3), sku)
    table = _ITEM_TABLE.search(text)
    if table:
        return Item(int(table.group(1)), table.group(3).strip() or None, table.group(2), None)
    return None


# --- subject --------------------------------------------------------------------------------------

_REPLY_PREFIX = re.compile(
    r"^(?:\s*(?:re|aw|fw|fwd|wg|tr|rv|r|antw|sv|vs|res|enc|回复|答复|转发)\s*(?:\[\d+\])?\s*[:：]\s*)+",
    re.IGNORECASE,
)
_TRAILING_TAG = re.compile(r"\[[^\[\]]{1,30}\]\s*$")
_TRAILING_ORDER = re.compile(r"(?<![\s:#])[\s:#]*\d{3}-\d{7}-\d{7}\s*$")
_ORDER_PART = re.compile(r"\(\s*([^\W\d_][^():：]{0,24}?)\s*[:：]\s*([^()]{0,40})\)?\s*$")


@dataclass(frozen=True)
class Subject:
    topic: str | None
    order_id: str | None
    name: str | None
    language: str | None


def parse_subject(subject: str) -> Subject:
    text = _REPLY_PREFIX.sub("", subject[:MAX_SUBJECT]).strip()
    for _ in range(5):  # "[EXTERNAL]", "[Important]" after the order part
        tag = _TRAILING_TAG.search(text)
        if tag is None:
            break
        text = text[: tag.start()].rstrip()
    order_id = None
    language = None
    part = _ORDER_PART.search(text)
    if part:
        language = t.ORDER_WORDS.get(part.group(1).strip().lower())
        order_id = any_order_id(part.group(2))
        text = text[: part.start()].rstrip()
    else:
        order_id = any_order_id(text)
        # Notice subjects end with the bare id ("Rücksendeanfrage für Bestellung 304-…"): not topic.
        text = _TRAILING_ORDER.sub("", text)
    name = None
    phrase = t.CUSTOMER_PHRASES.search(text)
    if phrase:
        name = text[phrase.end() :].strip() or None
        text = text[: phrase.end()].strip()
    return Subject(text or None, order_id, name, language)


def display_name(name: str | None) -> str | None:
    """A buyer's name from a From display name, without the marketplace suffix; None if generic."""
    if not name:
        return None
    cleaned = t.NAME_SUFFIX.sub("", name[:500]).strip().strip('"').strip()
    if not cleaned or cleaned.lower() in t.GENERIC_NAMES:
        return None
    return cleaned

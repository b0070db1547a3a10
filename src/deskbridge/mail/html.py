"""HTML of an agent's reply → the plain text a buyer reads (line breaks, paragraphs, lists, links kept)."""

from __future__ import annotations

import html as html_lib
import re
import unicodedata
from urllib.parse import unquote

from lxml import etree
from lxml import html as lxml_html

MAX_HTML = 2_000_000  # characters; a reply longer than this is cut before parsing (Amazon takes 10 MB in all)

# Elements whose content is never text for the reader (inscriptis skips script and style; these too).
_NOT_TEXT = (
    "script",
    "style",
    "head",
    "title",
    "template",
    "noscript",
    "object",
    "embed",
    "iframe",
    "svg",
    "math",
)
_LINK_SCHEMES = ("http://", "https://", "mailto:", "tel:", "ftp://")
# Controls, zero-width spaces and bidirectional overrides: invisible, and able to hide or reorder what
# the buyer sees. ZWJ/ZWNJ (U+200C/D) stay: scripts such as Arabic and Persian need them.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]"
)
_PARSER = lxml_html.HTMLParser(huge_tree=True)  # nesting up to libxml2's 2,048 levels instead of 256
_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b[^>]{0,2000}>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]{0,2000}>")
_BREAK = re.compile(r"<\s*(?:br|/p|/div|/li|/tr|/h\d)\b[^>]{0,200}>", re.IGNORECASE)
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_BLANK_RUN = re.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    """Text as we send it: one kind of line break, no invisible or control characters, no trailing
    spaces, at most one blank line in a row. Idempotent."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = text.replace("\xa0", " ").replace("\u202f", " ").replace("\t", "    ")
    text = _INVISIBLE.sub("", text)
    text = _TRAILING_SPACE.sub("\n", text + "\n")
    return _BLANK_RUN.sub("\n\n", text).strip("\n")


def _parse(markup: str) -> lxml_html.HtmlElement | None:
    markup = markup[:MAX_HTML]
    # lxml refuses str input that declares an encoding, and NUL characters; neither is text.
    markup = re.sub(r"^\s*<\?xml[^>]*\?>", "", markup).replace("\x00", "")
    if not markup.strip():
        return None
    try:
        return lxml_html.document_fromstring(markup, parser=_PARSER)
    except (etree.ParserError, ValueError):
        return None


def _strip_tags(markup: str) -> str:
    """Last resort for markup lxml cannot lay out (nesting deeper than libxml2 follows)."""
    markup = _SCRIPT_OR_STYLE.sub(" ", markup[:MAX_HTML])
    text = html_lib.unescape(_TAG.sub(" ", _BREAK.sub("\n", markup)))
    return "\n".join(" ".join(line.split()) for line in text.split("\n"))


def _link_text(element: lxml_html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _same_target(text: str, href: str) -> bool:
    """Whether a link's text already says where it goes ("https://x.com/a" for https://x.com/a/,
    "x@y.z" for mailto:x@y.z), so writing the address again would only repeat it."""

    def norm(value: str) -> str:
        value = unquote(value.strip()).lower()
        for prefix in ("mailto:", "tel:", "https://", "http://", "www."):
            value = value.removeprefix(prefix)
        return value.rstrip("/")

    return norm(text) == norm(href)


def _prepare(root: lxml_html.HtmlElement) -> None:
    for element in list(root.iter(*_NOT_TEXT)):
        parent = element.getparent()
        if parent is not None:
            element.drop_tree()
    # The buyer reads plain text: a link keeps its words and, where they differ, the address after
    # them, so a link hidden behind friendly words is visible to the buyer and to the content checks.
    for anchor in root.iter("a"):
        href = " ".join((anchor.get("href") or "").split())
        if not href.lower().startswith(_LINK_SCHEMES):
            continue  # javascript:, data:, fragments and relative links lead nowhere for the buyer
        text = _link_text(anchor)
        if text and _same_target(text, href):
            continue
        shown = (
            href.removeprefix("mailto:").removeprefix("tel:")
            if href.startswith(("mailto:", "tel:"))
            else href
        )
        suffix = f" ({shown})" if text else shown
        anchor.tail = suffix + (anchor.tail or "")


def html_to_text(markup: str) -> str:
    """The readable text of an HTML reply.

    inscriptis lays out blocks as a browser would: paragraphs become blank-line separated, <br> a line
    break, <ul> items "* " bullets and <ol> items "1. " numbers. Scripts, styles, images and other
    non-text content are dropped; links are written "text (url)" unless the text is the address.
    """
    from inscriptis import Inscriptis
    from inscriptis.css_profiles import CSS_PROFILES
    from inscriptis.model.config import ParserConfig

    root = _parse(markup)
    if root is None:
        return ""
    _prepare(root)
    try:
        text = Inscriptis(root, ParserConfig(css=CSS_PROFILES["strict"])).get_text()
    except (RecursionError, ValueError):
        # A pathologically deep tree: fall back to the bare text content, still text only.
        text = root.text_content()
    text = clean_text(unicodedata.normalize("NFC", text))
    if not text and "<" in markup:
        text = clean_text(unicodedata.normalize("NFC", _strip_tags(markup)))
    return text

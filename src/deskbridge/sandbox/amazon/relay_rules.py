"""What the sandbox relay refuses in a seller's message (amazon.md §12.11, §13.3): email addresses,
telephone numbers, links to sites other than Amazon's, attachments over 10 MB in all, and video.

The reference notes that sources disagree on phone numbers and tracking links; the sandbox takes
the strict reading (both refused), so that deskbridge's own pre-send checks are tested against it.
"""

from __future__ import annotations

import re
from email.message import Message
from urllib.parse import urlsplit

from deskbridge.amazon.mail import mime
from deskbridge.amazon.mail.extract import ORDER_ID
from deskbridge.mail.authenticity import is_amazon_domain

MAX_ATTACHMENTS = 10 * 1024 * 1024  # bytes, all attachments of one message together
# Amazon's short-link domains count as Amazon's.
AMAZON_SHORT_LINKS = frozenset({"amzn.to", "amzn.eu", "amzn.asia", "a.co"})
VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".m4v", ".mov", ".avi", ".wmv", ".mkv", ".webm", ".flv", ".mpg", ".mpeg", ".3gp", ".ogv"}
)

_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'\]]+", re.IGNORECASE)
_HREF = re.compile(r"""\bhref\s*=\s*["']?\s*([^"'\s>]+)""", re.IGNORECASE)
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]{1,64}@((?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63})\b")
# A run of digits with the separators phone numbers are written with; judged by phone_numbers().
_DIGITS = re.compile(r"(?<![\w.+/-])(?:\+|\b)\(?\d[\d ()./-]{5,24}\d(?![\w-])")
_DATE = re.compile(r"(?<![\d./-])(\d{1,4})([./-])(\d{1,2})\2(\d{1,4})(?![./-]?\d)")
_TIME = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")
_SEPARATED = re.compile(r"\d[ ()./-]+\d")


def _is_amazon_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return bool(host) and (host in AMAZON_SHORT_LINKS or is_amazon_domain(host))


def _host(url: str) -> str:
    if url.lower().startswith("www."):
        url = "http://" + url
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _not_a_date(match: re.Match[str]) -> str:
    """A date (2026-05-01, 01.05.2026, 05/01/26) becomes a space; anything else stays."""
    first, _, middle, last = match.groups()
    a, b, c = int(first), int(middle), int(last)
    if len(first) == 4:
        is_date = 1 <= b <= 12 and 1 <= c <= 31
    else:
        is_date = len(first) <= 2 and len(last) in (2, 4) and 1 <= min(a, b) <= 12 and max(a, b) <= 31
    return " " if is_date else match.group(0)


def phone_numbers(text: str) -> list[str]:
    """Telephone numbers in `text`: 7 to 15 digits written as phone numbers are (a leading + or 0,
    or digit groups with separators); order ids, dates, times and the insides of links are not."""
    text = _URL.sub(" ", text)
    text = _DATE.sub(_not_a_date, text)
    text = _TIME.sub(" ", text)
    found = []
    for match in _DIGITS.finditer(text):
        candidate = match.group(0).strip(" ./-")
        digits = sum(c.isdigit() for c in candidate)
        if not 7 <= digits <= 15 or ORDER_ID.search(candidate):
            continue
        if candidate.startswith(("+", "0", "(")):
            found.append(candidate)
        elif _SEPARATED.search(candidate):
            # "2027 1000 units" is two numbers; "555 123 4567" is one phone number.
            spaced_only = not re.search(r"[()./-]", candidate)
            if not spaced_only or len(candidate.split()) >= 3:
                found.append(candidate)
    return found


def _texts(body: mime.Body) -> tuple[str, list[str]]:
    """The message's readable text, and the targets of its HTML links."""
    hrefs = [href for markup in body.html for href in _HREF.findall(markup)]
    return "\n".join([*body.plain, *(mime.html_to_text(markup) for markup in body.html)]), hrefs


def content_problem(message: Message) -> str | None:
    """Why Amazon would not deliver this message (one sentence), or None."""
    body = mime.read_body(message)
    text, hrefs = _texts(body)
    for info, _part in body.attachments:
        extension = "." + (info.filename or "").rpartition(".")[2].lower() if info.filename else ""
        if info.content_type.startswith("video/") or extension in VIDEO_EXTENSIONS:
            return f"It has a video attachment ({info.filename or info.content_type}); videos cannot be sent."
    total = sum(info.size for info, _part in body.attachments)
    if total > MAX_ATTACHMENTS:
        return f"Its attachments come to {total} bytes; at most 10 MB can be sent with one message."
    mailtos = [href[7:] for href in hrefs if href.lower().startswith("mailto:")]
    for address in [*(m.group(0) for m in _EMAIL.finditer(text)), *mailtos]:
        if not _is_amazon_host(address.rpartition("@")[2].split("?")[0]):
            return "It contains an email address; buyers and sellers write to each other through Amazon."
    links = [*_URL.findall(text), *(h for h in hrefs if h.lower().startswith(("http:", "https:", "www.")))]
    for link in links:
        if not _is_amazon_host(_host(link)):
            return f"It contains a link to a website other than Amazon ({_host(link) or link[:80]})."
    if phone_numbers(text):
        return "It contains a telephone number."
    return None

"""Property tests: read_amazon_mail never raises and always returns a serialisable AmazonMail.

Three kinds of input: arbitrary bytes, arbitrary MIME trees built from email.message objects (random
headers, parts, charsets, transfer encodings, some of them wrong), and corpus messages mutated at
random (truncated, bytes flipped, header lines deleted or duplicated).
"""

from __future__ import annotations

import json
import re
from email.message import Message
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deskbridge.amazon.mail import AmazonMail, MailClass, attachment_payloads, read_amazon_mail

CORPUS = sorted((Path(__file__).resolve().parents[1] / "data" / "eml").glob("*/*.eml"))
FORWARDING = "amz-de-a1pa6795ukmfr9-a3th9s8bh6gogm@deskbridge.localhost"
PROFILE = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def check(raw: bytes, forwarding: str | None = FORWARDING) -> AmazonMail:
    mail = read_amazon_mail(raw, forwarding)
    assert isinstance(mail, AmazonMail)
    assert isinstance(mail.mail_class, MailClass)
    assert isinstance(mail.text, str)
    data = mail.to_json()
    assert AmazonMail.from_json(json.loads(json.dumps(data))) == mail
    assert HEX64.match(mail.fingerprint())
    return mail


@PROFILE
@given(st.binary(max_size=3000))
def test_arbitrary_bytes(raw: bytes) -> None:
    check(raw)
    check(raw, None)


MAIL_LIKE = st.sampled_from(
    [
        b"From: x@marketplace.amazon.de\r\n",
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n",
        b"------------- Begin message -------------\n",
        b"------------- End message -------------\n",
        b"=?utf-8?B?w6k=?=",
        b"=?x-unknown?Q?=E9?=",
        b"Content-Transfer-Encoding: base64\r\n",
        b"\r\n\r\n",
        b"--b--\r\n",
        b"[commMgrTok:ABC]",
        b"# 123-1234567-1234567:\n",
        b"1 / t [ASIN: B000000000]\n",
        b"\xc3\xa9\xff\xfe\x00",
        b"-" * 200,
    ]
)


@PROFILE
@given(st.lists(st.one_of(MAIL_LIKE, st.binary(max_size=40)), max_size=40))
def test_arbitrary_mail_like_fragments(pieces: list[bytes]) -> None:
    mail = check(b"".join(pieces))
    assert isinstance(mail.flags, tuple)


# --- MIME trees -----------------------------------------------------------------------------------

HEADER_NAMES = st.sampled_from(
    [
        "From",
        "To",
        "Subject",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Date",
        "X-Space-Notification-Type",
        "X-Marketplace-ID",
        "Content-ID",
        "Content-Disposition",
        "X-Random",
    ]
)
HEADER_VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            '"Jane - Amazon Marketplace" <th6wqr1vf6dr43f@marketplace.amazon.com>',
            "donotreply@amazon.com",
            "MAILER-DAEMON@example.com",
            "BBC_MESSAGE_SENT_TO_MERCHANT",
            "BBC_MESSAGE_CONFIRMATION_TO_MERCHANT",
            "RETURN_REQUEST",
            "BUYER_OPTED_OUT_BSM_MESSAGES",
            "A_Z_CLAIM_SOMETHING_NEW",
            "A1PA6795UKMFR9",
            "Inquiry from Amazon customer Jo (Order: 111-1234567-1234567)",
            "=?utf-8?b?RnJhZ2Ugdm9uIEFtYXpvbi1LdW5kZSBKw7xyZ2Vu?=",
            "=?bogus?q?=ZZ?=",
            "<a@b> <c@d>",
            "attachment; filename*=utf-8''%E2%82%AC.pdf",
            "Tue, 99 Foo 2026 25:61:00 +9999",
        ]
    ),
)
CONTENT_TYPES = st.sampled_from(
    [
        "text/plain",
        "text/html",
        "image/png",
        "application/octet-stream",
        "message/rfc822",
        "message/delivery-status",
        "text/rfc822-headers",
        "application/pdf",
        "garbage",
    ]
)
CHARSETS = st.sampled_from(
    [None, "utf-8", "latin-1", "iso-2022-jp", "utf-16", "x-unknown", "", "windows-1252", "us-ascii"]
)
ENCODINGS = st.sampled_from([None, "7bit", "8bit", "base64", "quoted-printable", "binary", "x-bogus"])
BODIES = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "# 302-0000002-0000002:\n1 / Title [ASIN: B0FIXTURE2]\n\n------------- Message: -------------\n\n"
            "Hallo\n\n------------- Ende der Nachricht -------------\n",
            "<p>------------- Mensagem:  -------------</p><p>Olá</p>",
            "We were unable to deliver the message you sent for order [111-1234567-1234567]",
            "Final-Recipient: rfc822; x@marketplace.amazon.com\nStatus: 5.7.1\n",
            "DÃ©but du message",
            "=E9=\n=ZZ",
            "aGVsbG8=!!",
        ]
    ),
)


@st.composite
def leaves(draw: st.DrawFn) -> Message:
    part = Message()
    for _ in range(draw(st.integers(0, 3))):
        part[draw(HEADER_NAMES)] = draw(HEADER_VALUES)
    ctype = draw(CONTENT_TYPES)
    charset = draw(CHARSETS)
    part["Content-Type"] = ctype + (f"; charset={charset}" if charset is not None else "")
    encoding = draw(ENCODINGS)
    if encoding:
        part["Content-Transfer-Encoding"] = encoding
    if ctype.startswith("message/"):
        inner = Message()
        for _ in range(draw(st.integers(0, 3))):
            inner[draw(HEADER_NAMES)] = draw(HEADER_VALUES)
        inner.set_payload(draw(BODIES))
        part.set_payload([inner])
    else:
        part.set_payload(draw(BODIES))
    return part


def trees() -> st.SearchStrategy[Message]:
    def multipart(children: st.SearchStrategy[list[Message]]) -> st.SearchStrategy[Message]:
        @st.composite
        def build(draw: st.DrawFn) -> Message:
            node = Message()
            subtype = draw(st.sampled_from(["mixed", "alternative", "related", "report", "weird"]))
            node["Content-Type"] = (
                f'multipart/{subtype}; boundary="{draw(st.sampled_from(["b1", "b2", "=="]))}"'
            )
            node.set_payload(draw(children))
            return node

        return build()

    return st.recursive(leaves(), lambda kids: multipart(st.lists(kids, max_size=4)), max_leaves=8)


@st.composite
def mime_messages(draw: st.DrawFn) -> bytes:
    root = draw(trees())
    for _ in range(draw(st.integers(0, 6))):
        root[draw(HEADER_NAMES)] = draw(HEADER_VALUES)
    try:
        return root.as_bytes()
    except Exception:  # the generator refuses some trees (e.g. non-ASCII headers): serialise loosely
        return _loose(root)


def _loose(node: Message) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in node.items())
    payload = node.get_payload()
    if isinstance(payload, list):
        body = "".join(f"--b1\r\n{_loose(child).decode('utf-8', 'surrogateescape')}\r\n" for child in payload)
        body += "--b1--\r\n"
    else:
        body = str(payload)
    return (head + "\r\n" + body).encode("utf-8", "surrogateescape")


@PROFILE
@given(mime_messages())
def test_arbitrary_mime_trees(raw: bytes) -> None:
    check(raw)
    for info, payload in attachment_payloads(raw):
        assert isinstance(payload, bytes)
        assert info.size == len(payload)


# --- corpus mutations -----------------------------------------------------------------------------


@st.composite
def mutated_corpus(draw: st.DrawFn) -> bytes:
    raw = bytearray(CORPUS[draw(st.integers(0, len(CORPUS) - 1))].read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["truncate", "flip", "drop_header", "duplicate_header", "insert"]))
        if not raw:
            break
        at = draw(st.integers(0, len(raw) - 1))
        if kind == "truncate":
            del raw[at:]
        elif kind == "flip":
            raw[at] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            raw[at:at] = draw(st.binary(min_size=1, max_size=20))
        else:
            head_end = raw.find(b"\r\n\r\n")
            lines = bytes(raw[: head_end if head_end > 0 else len(raw)]).split(b"\r\n")
            index = draw(st.integers(0, max(len(lines) - 1, 0)))
            if kind == "drop_header":
                del lines[index]
            else:
                lines.insert(index, lines[index])
            rest = bytes(raw[head_end:]) if head_end > 0 else b""
            raw = bytearray(b"\r\n".join(lines) + rest)
    return bytes(raw)


@PROFILE
@given(mutated_corpus())
def test_mutated_corpus_messages(raw: bytes) -> None:
    check(raw)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, len(CORPUS) - 1), st.data())
def test_truncated_corpus_messages_read_the_same_every_time(index: int, data: st.DataObject) -> None:
    """A message cut anywhere reads without error, and reading it again gives the same result."""
    raw = CORPUS[index].read_bytes()
    cut = data.draw(st.integers(0, len(raw)))
    mail = check(raw[:cut])
    assert read_amazon_mail(raw[:cut], FORWARDING) == mail

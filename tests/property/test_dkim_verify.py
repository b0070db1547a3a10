"""deskbridge's DKIM verifier agrees with dkimpy: whatever dkimpy signs verifies, and after any small
change to the message both say the same (whitespace, folding, blank lines, bare LF, a changed byte)."""

from __future__ import annotations

import dkim
from dkim.util import InvalidTagValueList, parse_tag_value
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deskbridge.mail import authenticity, dkim_verify
from deskbridge.mail.dkimkeys import public_key_record as _public_key_record
from tests.mail.conftest import new_private_key

KEY = new_private_key()
RECORD = _public_key_record(KEY)
DOMAIN = b"marketplace.amazon.de"


def resolve(name: str, rdtype: str) -> list[str]:
    return [RECORD] if name.rstrip(".") == f"s1._domainkey.{DOMAIN.decode()}" else []


def dnsfunc(name: bytes, timeout: float = 5) -> bytes | None:
    found = resolve(name.decode(), "TXT")
    return found[0].encode() if found else None


def ours(raw: bytes) -> bool:
    head, body_at = authenticity.header_section(raw)
    try:
        message = dkim_verify.Message(raw, head, body_at)
    except dkim_verify.HeaderFormatError:
        return False
    signatures = message.signatures()
    if not signatures:
        return False
    try:
        tags = parse_tag_value(signatures[0][1])
    except InvalidTagValueList:
        return False
    return dkim_verify.verify(message, 0, tags, resolve).result == "pass"


def dkimpys(raw: bytes) -> bool:
    try:
        return bool(dkim.DKIM(raw).verify(dnsfunc=dnsfunc))
    except (dkim.DKIMException, IndexError):
        return False


text = st.text(alphabet=st.sampled_from(list("ab Z9.:;<>@=\t")), max_size=20)
field_value = st.lists(
    st.tuples(text, st.sampled_from(["", "\r\n ", "\r\n\t", "  ", "\t"])), min_size=1, max_size=4
).map(lambda parts: "".join(a + b for a, b in parts).rstrip("\r\n \t") or "x")
body_line = st.text(alphabet=st.sampled_from(list("ab .=\t")), max_size=30)


@st.composite
def messages(draw) -> bytes:
    fields = [("From", f"Jonas <a@{DOMAIN.decode()}>")]
    for name in draw(st.lists(st.sampled_from(["Subject", "To", "X-Extra", "Subject", "Date"]), max_size=5)):
        fields.append((name, draw(field_value)))
    draw(st.randoms()).shuffle(fields)
    head = "".join(f"{n}:{' ' if draw(st.booleans()) else ''}{v}\r\n" for n, v in fields)
    lines = draw(st.lists(body_line, max_size=8))
    trailer = draw(st.sampled_from(["", "\r\n", "\r\n\r\n", "  \r\n"]))
    return (head + "\r\n" + "\r\n".join(lines) + trailer).encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    messages(),
    st.sampled_from([b"relaxed/relaxed", b"relaxed/simple", b"simple/simple", b"simple/relaxed"]),
    st.booleans(),
    st.data(),
)
def test_dkimpy_and_deskbridge_agree(raw, c, length, data):
    header, _, body = c.partition(b"/")
    signed = dkim.sign(raw, b"s1", DOMAIN, KEY, canonicalize=(header, body), length=length) + raw
    assert ours(signed) and dkimpys(signed)

    at = data.draw(st.integers(0, len(signed)))
    change = data.draw(st.sampled_from([b" ", b"\t", b"\r\n", b"\n", b"\r\n ", b"x", b"", b"\r\n\r\n"]))
    cut = data.draw(st.integers(0, 2))
    changed = signed[:at] + change + signed[at + cut :]
    assert ours(changed) == dkimpys(changed), changed


# The quicker parts of the verifier, each against what dkimpy does, on text made of the bytes that
# matter to it (line ends alone and together, runs of spaces and tabs, other whitespace, base64).
wsp_text = st.lists(
    st.sampled_from(
        [b" ", b"  ", b"\t", b"\r\n", b"\n", b"\r", b"a", b"=", b"\r\n\r\n", b" \r\n", b"\x0b", b"\x0c"]
    ),
    max_size=40,
).map(b"".join)


@settings(max_examples=500)
@given(wsp_text)
def test_relaxed_body_is_dkimpys(body):
    from dkim import canonicalization as c

    dkimpys = c.correct_empty_body(
        c.strip_trailing_lines(c.compress_whitespace(c.strip_trailing_whitespace(body)))
    )
    assert dkim_verify.relaxed_body(body) == dkimpys


@settings(max_examples=500)
@given(st.sampled_from([b"Subject", b"X-Extra ", b"FROM"]), wsp_text)
def test_a_relaxed_field_is_dkimpys(name, value):
    from dkim.canonicalization import Relaxed

    value = value.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # as parse_header gives it: CRLF
    [(their_name, their_value)] = Relaxed.canonicalize_headers([(name, value)])
    assert dkim_verify._canonical_field(True, name, value) == their_name + b":" + their_value


@settings(max_examples=500)
@given(wsp_text)
def test_lines_are_split_as_the_regular_expression_splits_them(text):
    import re

    assert dkim_verify.split_lines(text) == re.split(rb"\r?\n", text)


tag_text = st.lists(
    st.sampled_from(
        [b"v", b"a", b"b", b"bh", b"1", b"=", b";", b" ", b"\t", b"\r\n ", b"9x", b"_", b"+/", b"=="]
    ),
    max_size=25,
).map(b"".join)


@settings(max_examples=800)
@given(tag_text)
def test_tags_are_read_as_dkimpy_reads_them(text):
    try:
        dkimpys: object = parse_tag_value(text)
    except InvalidTagValueList as exc:
        dkimpys = (type(exc), str(exc))
    try:
        ours: object = dkim_verify.parse_tags(text)
    except InvalidTagValueList as exc:
        ours = (type(exc), str(exc))
    assert ours == dkimpys


@settings(max_examples=800)
@given(tag_text)
def test_the_b_tag_is_emptied_as_dkimpy_empties_it(text):
    value = b" a=1; " + text + b"\r\n"
    assert dkim_verify._B_TAG.sub(rb"\1", value) == dkim.RE_BTAG.sub(rb"\1", value)


# Header sections that are mostly plain fields, with the defects that make one not plain: a bare
# LF or CR, a space before the colon, no line end at the end, an empty line, an mbox "From " line.
line_end = st.sampled_from([b"\r\n"] * 30 + [b"\n", b"\r", b""])
header_field = st.tuples(
    st.sampled_from([b"From", b"X-A", b"x-a", b"Subject"] * 5 + [b"From ", b" X-A"]),
    st.sampled_from([b":", b": ", b":\t"] * 5 + [b" :"]),
    st.lists(
        st.sampled_from([b"a", b" ", b"\t", b":", b"a b", b"\r\n ", b"\r\n\t"] * 3 + [b"\r"]), max_size=6
    ),
    line_end,
).map(lambda f: f[0] + f[1] + b"".join(f[2]) + f[3])
odd_line = st.sampled_from([b"From x Sat\r\n", b"\r\n"])
header_text = st.lists(
    st.one_of(header_field, header_field, header_field, header_field, odd_line), max_size=6
).map(b"".join)


@settings(max_examples=1500)
@given(header_text)
def test_a_plain_header_section_is_read_as_line_by_line(head):
    # The one-expression reading of plain header sections (most of them) gives the fields and
    # the values that reading the section line by line gives; any other section is read line by line.
    plain = dkim_verify._plain_fields(head)
    if plain is None:
        return
    assert list(plain) == dkim_verify._parse_header_lines(head)
    for name in ("From", "X-A", "x-a"):
        wanted = name.lower().encode()
        assert authenticity.header_values(head, name) == authenticity._header_values_by_lines(head, wanted)


def test_plain_header_sections_are_read_by_the_expression_and_others_line_by_line():
    plain = b"From: a@b.c\r\nSubject: x\r\n y\r\nX-A:\r\n"
    assert dkim_verify.plain_fields(plain) == (
        (b"From", b" a@b.c\r\n"),
        (b"Subject", b" x\r\n y\r\n"),
        (b"X-A", b"\r\n"),
    )
    for other in (b"From: a\nX: b\n", b"From a Sat\r\nX: b\r\n", b" x\r\nX: b\r\n", b"X: a\rb\r\n", b"X: a"):
        assert dkim_verify.plain_fields(other) is None


def test_big_header_sections_are_read_but_not_kept():
    dkim_verify._kept_plain_fields.cache_clear()
    big = b"X-Big: " + b"a" * dkim_verify.KEPT_HEADER_SECTION + b"\r\n"
    small = b"From: a@b.c\r\n"
    assert dkim_verify.plain_fields(big) == ((b"X-Big", big[6:]),)
    assert dkim_verify.plain_fields(small) == ((b"From", b" a@b.c\r\n"),)
    assert dkim_verify._kept_plain_fields.cache_info().currsize == 1

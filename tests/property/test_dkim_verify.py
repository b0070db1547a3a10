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

"""The receiver's quick reading of MAIL FROM / RCPT TO paths gives what aiosmtpd's own gives."""

from __future__ import annotations

from aiosmtpd.smtp import SMTP
from hypothesis import given, settings
from hypothesis import strategies as st

from deskbridge.mail.smtpd import InboundSMTP

ours = InboundSMTP.__new__(InboundSMTP)
theirs = SMTP.__new__(SMTP)
ours.local_part_limit = theirs.local_part_limit = 0

atom = st.text(alphabet="abcXYZ019!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=6)
piece = st.one_of(
    atom,
    st.sampled_from(
        ["<", ">", "@", ".", " ", "\t", '"', "\\", "(", ")", "[", "]", ":", ",", "SIZE=100", "é"]
    ),
)


def reading(server: SMTP, arg: str) -> object:
    try:
        return server._getaddr(arg)
    except Exception as exc:  # aiosmtpd's own reader raises on some input ("<"): so must ours
        return type(exc)


@settings(max_examples=600, deadline=None)
@given(st.lists(piece, max_size=12).map("".join))
def test_any_argument_is_read_as_aiosmtpd_reads_it(arg):
    assert reading(ours, arg) == reading(theirs, arg)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(atom, min_size=1, max_size=3).map(".".join),
    st.lists(st.from_regex(r"[A-Za-z0-9-]{1,8}", fullmatch=True), min_size=1, max_size=3).map(".".join),
    st.sampled_from(["", " ", "  SIZE=8123 BODY=8BITMIME", "\tSMTPUTF8", " x ", "   "]),
    st.sampled_from(["", " ", "\t"]),
)
def test_plain_paths_are_read_as_aiosmtpd_reads_them(local, domain, rest, lead):
    arg = f"{lead}<{local}@{domain}>{rest}"
    assert ours._getaddr(arg) == theirs._getaddr(arg)


def test_the_local_part_limit_still_holds():
    limited = InboundSMTP.__new__(InboundSMTP)
    limited.local_part_limit = 4
    assert limited._getaddr("<abcde@example.org>") == (None, None)
    assert limited._getaddr("<abcd@example.org>") == ("abcd@example.org", "")

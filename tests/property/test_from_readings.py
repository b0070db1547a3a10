"""The quick reading of plain From fields finds what getaddresses and the stdlib's header registry
both find, for every value its grammar takes (so reading it alone never changes a verdict), and the
readers still disagree where they should."""

from __future__ import annotations

import base64

from hypothesis import given, settings
from hypothesis import strategies as st

from deskbridge.mail import authenticity

ATEXT = "abcXYZ019!#$%&'*+/=?^_`{|}~-"
atom = st.text(alphabet=ATEXT, min_size=1, max_size=8)
quoted = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, blacklist_characters='"\\'), max_size=15
).map(lambda t: f'"{t}"')
hidden = st.sampled_from(["<x@amazon.de>", "x@amazon.de", "a@b.c, y@amazon.de", '"<z@amazon.de>"', "Jürgen"])
encoded_word = st.tuples(hidden, st.sampled_from(["q", "b"])).map(
    lambda p: (
        "=?utf-8?b?" + base64.b64encode(p[0].encode()).decode() + "?="
        if p[1] == "b"
        else "=?utf-8?q?" + "".join(f"={b:02X}" for b in p[0].encode()) + "?="
    )
)
word = st.one_of(atom, quoted, encoded_word)
label = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9-]{0,6}[A-Za-z0-9])?", fullmatch=True)
domain = st.lists(label, min_size=2, max_size=4).map(".".join)
local = st.lists(atom, min_size=1, max_size=3).map(".".join)
space = st.sampled_from(["", " ", "  ", "\t"])


@st.composite
def plain_from(draw) -> str:
    address = f"{draw(local)}@{draw(domain)}"
    if draw(st.booleans()):
        return draw(space) + address + draw(space)
    words = draw(st.lists(word, max_size=4))
    phrase = "".join(w + draw(st.sampled_from([" ", "  ", "\t"])) for w in words)
    return f"{draw(space)}{phrase}<{address}>{draw(space)}"


def both_readers(value: str) -> list[list[str]]:
    return [authenticity._domains_by_getaddresses([value]), authenticity._domains_by_header_registry([value])]


@settings(max_examples=1000, deadline=None)
@given(plain_from())
def test_the_quick_reading_agrees_with_both_readers(value):
    plain = authenticity._domains_by_grammar([value])
    assert plain is not None
    assert both_readers(value) == [plain, plain]


@st.composite
def near_plain_from(draw) -> str:
    """A plain From with a few characters that matter to the readers put in anywhere."""
    value = draw(plain_from())
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(value)))
        value = value[:at] + draw(st.sampled_from(list('@<>"\\(),;:. =?\t'))) + value[at:]
    return value


@settings(max_examples=600, deadline=None)
@given(near_plain_from())
def test_any_value_the_grammar_reads_is_read_alike_by_both_readers(value):
    # Outside the grammar both readers read it (and must agree); inside, the grammar alone does.
    plain = authenticity._domains_by_grammar([value])
    assert plain is None or both_readers(value) == [plain, plain]


def test_an_address_that_getaddresses_reads_otherwise_is_still_refused():
    # A quoted display name that looks like an address: readers that differ here must not let
    # whichever of them names Amazon decide.
    head = b'From: "a@amazon.de" <b@evil.example>\r\n'
    claims, _domain, problem = authenticity.amazon_claim(head)
    assert not claims or problem
    head = b"From: Jonas <x@amazon.de> <y@evil.example>\r\n"
    claims, _domain, problem = authenticity.amazon_claim(head)
    assert not claims or problem

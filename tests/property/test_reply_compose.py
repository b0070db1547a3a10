"""Property tests: composing and checking an agent's reply never raise, whatever text or HTML comes."""

from __future__ import annotations

import email
from email import policy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deskbridge.amazon.relay import DEFAULT_POLICY, Finding, check_reply, compose_reply

PROFILE = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
TAGS = ["p", "div", "br", "a", "ul", "ol", "li", "blockquote", "script", "style", "b", "table", "td", "img"]
PIECES = [
    "On Mon, Apr 3, 2023 Jane <j@x.com> wrote:", "> quoted", "##- Please type your reply above this line -##",
    "------------- Begin message -------------", "-- ", "Sent from my iPhone", "Von: a\nGesendet: b\nAn: c",
    "+49 30 1234567", "111-2222222-3333333", "https://myshop.example", "😀", "5 stars", "\r\n", "\x00", "\u202e",
    '<div class="gmail_quote">', '<div id="divRplyFwdMsg">', "<a href='javascript:x'>", "&amp;", "&#0;", "<!--",
]  # fmt: skip

texts = st.one_of(
    st.text(max_size=2000),
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=40)), max_size=40).map("\n".join),
)


@st.composite
def markup(draw) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 30))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            parts.append(f"<{draw(st.sampled_from(TAGS))}>")
        elif kind == 1:
            parts.append(f"</{draw(st.sampled_from(TAGS))}>")
        elif kind == 2:
            parts.append(draw(st.sampled_from(PIECES)))
        else:
            parts.append(draw(st.text(max_size=40)))
    return "".join(parts)


htmls = st.one_of(st.just(""), st.text(max_size=500), markup())


@PROFILE
@given(text=texts, html=htmls, subject=st.text(max_size=200))
def test_compose_and_check_never_raise(text, html, subject):
    reply = compose_reply(
        text=text,
        html=html,
        subject=subject,
        from_address="amz-de@deskbridge.localhost",
        to_alias="abc123@marketplace.amazon.de",
        in_reply_to="<buyer@amazon.de>",
        references=(),
        attachments=[],
        message_id_domain="deskbridge.localhost",
    )
    assert isinstance(reply.text, str)
    raw = reply.message.as_bytes()
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["To"] == "abc123@marketplace.amazon.de"
    assert parsed["Subject"].startswith("Re:")
    assert "\n" not in str(parsed["Subject"])
    assert parsed.get_content().rstrip("\n") == reply.text
    findings = check_reply(reply.text, DEFAULT_POLICY)
    assert all(isinstance(f, Finding) and f.severity in ("block", "warn") for f in findings)


@PROFILE
@given(
    text=st.text(max_size=3000), rules=st.dictionaries(st.text(max_size=15), st.text(max_size=8), max_size=5)
)
def test_check_never_raises_on_any_text_or_policy(text, rules):
    for finding in check_reply(text, rules):
        assert finding.rule in DEFAULT_POLICY
        assert finding.severity in ("block", "warn")
        assert finding.excerpt

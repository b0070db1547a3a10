"""HTML of an agent's reply to the plain text the buyer reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deskbridge.mail.html import clean_text, html_to_text

HELPDESKS = Path(__file__).resolve().parents[1] / "data" / "helpdesks"


def test_paragraphs_and_line_breaks_are_kept():
    text = html_to_text("<p>Hi Jane,</p><p>Sorry about that!<br>A replacement ships tomorrow.</p><p>Anna</p>")
    assert text == "Hi Jane,\n\nSorry about that!\nA replacement ships tomorrow.\n\nAnna"


def test_bullets_and_numbers_are_kept():
    text = html_to_text(
        "<p>Please:</p><ul><li>keep the box</li><li>add the label</li></ul><ol><li>pack</li><li>drop off</li></ol>"
    )
    assert "* keep the box\n  * add the label" in text
    assert " 1. pack\n 2. drop off" in text


def test_links_are_written_text_then_address_only_where_they_differ():
    text = html_to_text(
        '<p>See <a href="https://www.amazon.de/gp/css/order-history">your orders</a>, '
        '<a href="https://www.amazon.de/returns">https://www.amazon.de/returns</a>, '
        '<a href="mailto:help@example.com">help@example.com</a> and '
        '<a href="mailto:help@example.com">write to us</a>.</p>'
    )
    assert "your orders (https://www.amazon.de/gp/css/order-history)" in text
    assert "https://www.amazon.de/returns," in text
    assert "https://www.amazon.de/returns (" not in text
    assert "help@example.com and" in text
    assert "write to us (help@example.com)" in text


def test_a_link_hidden_behind_nothing_still_shows_its_address():
    assert html_to_text('<p>Click <a href="https://evil.example/x"><img src="x.png"></a></p>') == (
        "Click https://evil.example/x"
    )


def test_nothing_but_text_comes_out():
    text = html_to_text(
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<script>alert('x')</script><p>Hello&nbsp;there &amp; welcome</p>"
        '<img src="cid:logo" alt="LOGO"><iframe src="https://x"></iframe>'
        '<a href="javascript:alert(1)">click</a><svg><text>vector</text></svg>'
        "<p>right\u202eleft\u200b\x07</p></body></html>"
    )
    assert text == "Hello there & welcome\n\nclick\n\nrightleft"
    for absent in ("alert", "color", "LOGO", "<", "vector", "javascript", "\u202e", "\u200b", "\x07"):
        assert absent not in text


@pytest.mark.parametrize(
    "markup",
    [
        "",
        "   ",
        "<",
        "<<<>>>",
        "<p></p>",
        '<?xml version="1.0" encoding="utf-8"?><p>x</p>',
        "\x00",
        "<div>" * 3000 + "deep",
    ],
)
def test_odd_markup_gives_text_and_never_raises(markup):
    text = html_to_text(markup)
    assert isinstance(text, str)
    assert "<div>" not in text


def test_very_deep_nesting_keeps_the_words():
    assert html_to_text("<div>" * 5000 + "deep<br>words") == "deep\nwords"


def test_clean_text_is_idempotent_and_tidy():
    messy = "a  \r\nb\r\n\r\n\r\n\r\nc\u00a0d\t\n"
    once = clean_text(messy)
    assert once == "a\nb\n\nc d"
    assert clean_text(once) == once


def test_helpscout_thread_body_from_the_fixture():
    thread = json.loads((HELPDESKS / "helpscout" / "list-threads.json").read_text())["_embedded"]["threads"][
        0
    ]
    assert thread["type"] == "reply"
    assert html_to_text(thread["body"]) == "Sorry about that! A replacement ships tomorrow."


def test_gorgias_body_html_from_the_fixture():
    message = json.loads((HELPDESKS / "gorgias" / "buyer-follow-up.response.json").read_text())
    assert html_to_text(message["body_html"]) == message["body_text"]

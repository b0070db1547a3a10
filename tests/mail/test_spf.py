"""SPF (RFC 7208) over an injected resolver."""

from __future__ import annotations

import pytest

from deskbridge.mail.resolvers import TemporaryDNSError
from deskbridge.mail.spf import check_spf

ZONE = {
    ("TXT", "sender.example"): ["v=spf1 ip4:192.0.2.0/24 include:_spf.partner.example -all"],
    ("TXT", "_spf.partner.example"): ["v=spf1 ip6:2001:db8::/32 a:mail.partner.example/30 ~all"],
    ("A", "mail.partner.example"): ["198.51.100.4"],
    ("TXT", "mx.example"): ["v=spf1 mx -all"],
    ("MX", "mx.example"): ["mx1.mx.example"],
    ("A", "mx1.mx.example"): ["203.0.113.9"],
    ("TXT", "redirected.example"): ["v=spf1 redirect=sender.example"],
    ("TXT", "two.example"): ["v=spf1 -all", "v=spf1 +all"],
    ("TXT", "neutral.example"): ["v=spf1 ?all"],
    ("TXT", "nonsense.example"): ["v=spf1 ip4:192.0.2.0/24 frobnicate -all"],
    ("TXT", "macro.example"): ["v=spf1 exists:%{ir}.%{l1r+-}._spf.macro.example -all"],
    ("A", "9.2.0.192.bounce._spf.macro.example"): ["127.0.0.2"],
    ("TXT", "loop.example"): ["v=spf1 include:loop.example -all"],
    ("TXT", "void.example"): ["v=spf1 a:n1.void.example a:n2.void.example a:n3.void.example -all"],
    ("TXT", "other-txt.example"): ["google-site-verification=abc"],
}


def resolve(name: str, rdtype: str) -> list[str]:
    if name == "broken.example":
        raise TemporaryDNSError("TXT broken.example: Timeout")
    return ZONE.get((rdtype, name.rstrip(".")), [])


@pytest.mark.parametrize(
    ("ip", "mail_from", "expected"),
    [
        ("192.0.2.10", "a@sender.example", "pass"),
        ("2001:db8::25", "a@sender.example", "pass"),  # through include:
        ("198.51.100.6", "a@sender.example", "pass"),  # include's a:/30
        ("198.51.100.9", "a@sender.example", "fail"),  # include gives softfail: no match, then -all
        ("203.0.113.9", "a@mx.example", "pass"),
        ("203.0.113.10", "a@mx.example", "fail"),
        ("192.0.2.10", "a@redirected.example", "pass"),
        ("10.0.0.1", "a@redirected.example", "fail"),
        ("192.0.2.10", "a@two.example", "permerror"),
        ("192.0.2.10", "a@neutral.example", "neutral"),
        ("198.51.100.1", "a@nonsense.example", "permerror"),
        ("192.0.2.10", "a@nonsense.example", "pass"),  # matched before the unknown term
        ("192.0.2.9", "bounce@macro.example", "pass"),
        ("192.0.2.9", "other@macro.example", "fail"),
        ("192.0.2.10", "a@loop.example", "permerror"),
        ("192.0.2.10", "a@void.example", "permerror"),
        ("192.0.2.10", "a@nothing.example", "none"),
        ("192.0.2.10", "a@other-txt.example", "none"),
        ("192.0.2.10", "a@broken.example", "temperror"),
        ("::ffff:192.0.2.10", "a@sender.example", "pass"),  # IPv4-mapped IPv6
        ("", "a@sender.example", "none"),
    ],
)
def test_check_spf(ip, mail_from, expected):
    assert check_spf(ip, mail_from, "helo.example", resolve).result == expected


def test_a_bounce_is_checked_against_the_helo_name():
    result = check_spf("192.0.2.10", "", "sender.example", resolve)

    assert (result.result, result.domain) == ("pass", "sender.example")


def test_more_than_ten_lookups_is_a_permerror():
    zone = {f"d{n}.example": [f"v=spf1 include:d{n + 1}.example -all"] for n in range(12)}
    zone["d12.example"] = ["v=spf1 +all"]

    result = check_spf(
        "192.0.2.1", "a@d0.example", "h", lambda name, rdtype: zone.get(name, []) if rdtype == "TXT" else []
    )

    assert result.result == "permerror" and "more than 10" in result.reason

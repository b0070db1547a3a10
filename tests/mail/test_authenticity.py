"""Authenticity verdicts with injected DNS, and the sandbox key that production never accepts."""

from __future__ import annotations

import os
import stat

import pytest

from deskbridge.mail import authenticity, dkimkeys, intake, resolvers
from deskbridge.mail.authenticity import authenticate, is_amazon_domain
from deskbridge.mail.resolvers import TemporaryDNSError
from deskbridge.pipeline.models import InboundMessage
from deskbridge.sandbox.amazon import mail as sandbox_mail
from deskbridge.sandbox.amazon.mail import sandbox_resolve
from tests.conftest import make_tenant
from tests.mail.conftest import (
    buyer_message,
    connect,
    data_dir_key,
    new_private_key,
    send,
    sign_with_another_key,
    unsigned_amazon_message,
)

TO = "amz-de-1@deskbridge.localhost"


def public_record(pem: bytes) -> str:
    return dkimkeys.public_key_record(pem)


def resolver_with(records: dict[str, list[str]]):
    def resolve(name: str, rdtype: str) -> list[str]:
        return records.get(f"{rdtype} {name.lower().rstrip('.')}", [])

    return resolve


@pytest.mark.parametrize(
    ("domain", "amazon"),
    [
        ("amazon.de", True),
        ("marketplace.amazon.de", True),
        ("MARKETPLACE.AMAZON.CO.UK.", True),
        ("email.amazon.com", True),
        ("amazon.de.evil.example", False),
        ("notamazon.de", False),
        ("amazonses.com", False),
        ("marketplace-amazon.de", False),
    ],
)
def test_amazon_domains(domain, amazon):
    assert is_amazon_domain(domain) is amazon


def test_a_sandbox_signed_message_passes_with_the_sandbox_resolver(db):
    signed = sandbox_mail.sign(unsigned_amazon_message(TO))

    verdict = authenticate(
        signed, client_ip="127.0.0.1", mail_from="bounces@marketplace.amazon.de", resolve=sandbox_resolve
    )

    assert verdict.verdict == "pass" and verdict.from_domain == "marketplace.amazon.de"
    assert [(c.domain, c.selector, c.result, c.aligned) for c in verdict.dkim] == [
        ("marketplace.amazon.de", sandbox_mail.SELECTOR, "pass", True)
    ]
    assert verdict.spf["result"] == "pass"
    assert verdict.dmarc["result"] == "pass" and verdict.dmarc["policy"] == "reject"
    assert verdict.authentication_results.startswith("deskbridge.localhost; dkim=pass")


def test_the_sandbox_key_lives_in_the_data_dir_readable_by_its_owner_only(db):
    sandbox_mail.private_key_pem()

    mode = stat.S_IMODE(os.stat(data_dir_key()).st_mode)
    assert mode == 0o600


def test_production_never_asks_the_sandbox_resolver(settings):
    settings.SANDBOX_ENABLED = False
    assert authenticity.default_resolver() is resolvers.dns_resolve
    settings.SANDBOX_ENABLED = True
    assert authenticity.default_resolver() is sandbox_resolve


def test_the_sandbox_resolver_answers_nothing_outside_a_sandbox_installation(settings):
    key_name = f"{sandbox_mail.SELECTOR}._domainkey.marketplace.amazon.de"
    assert sandbox_resolve(key_name, "TXT")[0].startswith("v=DKIM1; k=rsa; p=")

    settings.SANDBOX_ENABLED = False

    assert sandbox_resolve(key_name, "TXT") == []
    assert sandbox_resolve("_dmarc.amazon.de", "TXT") == []


def test_production_refuses_a_sandbox_signed_message(db, settings, monkeypatch):
    """With the sandbox off, the default resolver is real DNS; it is stubbed here (no network in
    tests) to answer like the Internet does for the sandbox selector: nothing."""
    asked: list[str] = []

    def internet(name: str, rdtype: str) -> list[str]:
        asked.append(name)
        return []

    monkeypatch.setattr(authenticity, "dns_resolve", internet)
    signed = sandbox_mail.sign(unsigned_amazon_message(TO))
    settings.SANDBOX_ENABLED = False

    verdict = authenticate(signed)

    assert verdict.verdict == "fail"
    assert f"{sandbox_mail.SELECTOR}._domainkey.marketplace.amazon.de." in asked
    assert intake._refusal(verdict, "enforce").code == 550


def test_production_receiver_answers_550_to_the_sandbox_key(receiver, settings, monkeypatch):
    seller = connect(make_tenant())
    signed = buyer_message(seller)
    monkeypatch.setattr(authenticity, "dns_resolve", lambda name, rdtype: [])
    settings.SANDBOX_ENABLED = False

    _, data = send(receiver, signed, seller.forwarding_address)

    assert data[0] == 550 and data[1].startswith("5.7.1 ")
    assert not InboundMessage.objects.exists()


def test_a_signature_by_another_domain_is_not_amazons(db):
    key = new_private_key()
    signed = sign_with_another_key(unsigned_amazon_message(TO), domain="evil.example", key=key)
    resolve = resolver_with({f"TXT {sandbox_mail.SELECTOR}._domainkey.evil.example": [public_record(key)]})

    verdict = authenticate(signed, resolve=resolve)

    assert verdict.dkim[0].result == "pass" and not verdict.dkim[0].aligned
    assert (
        verdict.verdict == "fail" and verdict.reason == "signed by evil.example, not by marketplace.amazon.de"
    )


def test_a_signature_that_leaves_part_of_the_body_unsigned_does_not_count(db):
    key = new_private_key()
    signed = sign_with_another_key(unsigned_amazon_message(TO), key=key, length=True)
    signed += b"P.S. appended after signing\r\n"
    resolve = resolver_with(
        {f"TXT {sandbox_mail.SELECTOR}._domainkey.marketplace.amazon.de": [public_record(key)]}
    )

    verdict = authenticate(signed, resolve=resolve)

    assert verdict.dkim[0].result == "pass" and not verdict.dkim[0].whole_body
    assert verdict.verdict == "fail" and "l=" in verdict.reason


def test_a_second_from_field_makes_an_amazon_claim_fail(db):
    signed = sandbox_mail.sign(unsigned_amazon_message(TO))
    doubled = b"From: Amazon <donotreply@amazon.de>\r\n" + signed

    verdict = authenticate(doubled, resolve=sandbox_resolve)

    assert verdict.claims_amazon and verdict.verdict == "fail"
    assert "not exactly one unambiguous address" in verdict.reason


def test_an_amazon_address_in_the_display_name_is_no_claim(db):
    raw = b'From: "donotreply@amazon.de" <shop@example.org>\r\nTo: x@deskbridge.localhost\r\n\r\nhi\r\n'

    verdict = authenticate(raw, resolve=sandbox_resolve)

    assert verdict.verdict == "not_amazon" and not verdict.claims_amazon


def test_a_dns_timeout_defers_in_enforce_mode(db):
    signed = sandbox_mail.sign(unsigned_amazon_message(TO))

    def timing_out(name: str, rdtype: str) -> list[str]:
        raise TemporaryDNSError(f"{rdtype} {name}: Timeout")

    verdict = authenticate(signed, resolve=timing_out)

    assert verdict.verdict == "temperror"
    refusal = intake._refusal(verdict, "enforce")
    assert (refusal.code, refusal.status) == (451, "4.4.3")
    assert intake._refusal(verdict, "report") is None


def test_a_message_signed_twice_passes_on_the_aligned_signature(db):
    other = new_private_key()
    signed = sandbox_mail.sign(unsigned_amazon_message(TO))
    twice = sign_with_another_key(signed, domain="amazonses.com", key=other)

    def resolve(name: str, rdtype: str) -> list[str]:
        if name.startswith(f"{sandbox_mail.SELECTOR}._domainkey.amazonses.com"):
            return [public_record(other)]
        return sandbox_resolve(name, rdtype)

    verdict = authenticate(twice, resolve=resolve)

    assert [c.domain for c in verdict.dkim] == ["amazonses.com", "marketplace.amazon.de"]
    assert [c.result for c in verdict.dkim] == ["pass", "pass"]
    assert verdict.verdict == "pass"


def test_a_signed_message_whose_body_was_changed_fails(db):
    signed = sandbox_mail.sign(unsigned_amazon_message(TO))
    changed = signed.replace(b"Bitte senden Sie", b"Bitte senden Sie NICHT")

    verdict = authenticate(changed, resolve=sandbox_resolve)

    assert verdict.verdict == "fail" and verdict.dkim[0].result == "fail"
    assert "body hash mismatch" in verdict.dkim[0].reason


def test_an_arc_sealed_message_gets_an_arc_result(db):
    import dkim

    key = new_private_key()
    signed = sandbox_mail.sign(unsigned_amazon_message(TO))
    resolve = resolver_with(
        {
            "TXT arc._domainkey.forwarder.example": [public_record(key)],
            f"TXT {sandbox_mail.SELECTOR}._domainkey.marketplace.amazon.de": sandbox_resolve(
                f"{sandbox_mail.SELECTOR}._domainkey.marketplace.amazon.de", "TXT"
            ),
        }
    )
    results = b"Authentication-Results: forwarder.example; dkim=pass header.d=marketplace.amazon.de\r\n"
    seal = dkim.arc_sign(
        results + signed,
        b"arc",
        b"forwarder.example",
        key,
        b"forwarder.example",
        include_headers=[b"from", b"to", b"subject"],
    )

    verdict = authenticate(b"".join(seal) + results + signed, resolve=resolve)

    assert verdict.arc["result"] == "pass"
    assert verdict.verdict == "pass"


@pytest.mark.parametrize(
    "sender",
    [
        b"=?utf-8?q?J=C3=BCrgen?= - Amazon Marketplace <th6wqr1vf6dr43f@marketplace.amazon.de>",
        b"Jonas <TH6WQR1VF6DR43F@MARKETPLACE.AMAZON.DE>",
        b"donotreply@amazon.com",
    ],
)
def test_every_way_of_writing_an_amazon_from_is_a_claim(db, sender):
    raw = b"From: " + sender + b"\r\nTo: " + TO.encode() + b"\r\nSubject: x\r\n\r\nhi\r\n"

    verdict = authenticate(raw, resolve=sandbox_resolve)

    assert verdict.claims_amazon and verdict.verdict == "fail"


@pytest.mark.parametrize(
    ("raw", "head"),
    [
        (b"From: a\r\n\r\nbody\n\nmore\r\n", b"From: a\r\n"),  # a body's blank LF lines are the body's
        (b"From: a\n\nbody\r\n\r\n", b"From: a\n"),
        (b"From: a\n\n\r\nbody", b"From: a\n"),  # the LF blank line just before a CRLF one
        (b"From: a\r\nTo: b\r\n", b"From: a\r\nTo: b\r\n"),
        (b"\r\nbody", b""),
    ],
)
def test_the_header_section_ends_at_the_first_blank_line(raw, head):
    found, body_at = authenticity.header_section(raw)

    assert found == head and raw[body_at:] == raw[len(head) :].split(b"\n", 1)[-1]


def resolver_counting(records: dict[str, list[str]], asked: list[str]):
    def resolve(name: str, rdtype: str) -> list[str]:
        asked.append(name)
        answer = records.get(name.lower().rstrip("."))
        if answer == "timeout":
            raise TemporaryDNSError(f"{rdtype} {name}: Timeout")
        return list(answer or []) if rdtype == "TXT" else []

    return resolve


def test_a_dmarc_verdict_is_reused_only_while_dns_answers_the_same(db, monkeypatch):
    import authheaders

    judged: list[str] = []
    original = authheaders.dmarc_per_from
    monkeypatch.setattr(
        authheaders, "dmarc_per_from", lambda domain, **kw: judged.append(domain) or original(domain, **kw)
    )
    key_name = f"{sandbox_mail.SELECTOR}._domainkey.marketplace.amazon.de"
    records = {key_name: sandbox_resolve(key_name, "TXT"), "_dmarc.amazon.de": ["v=DMARC1; p=none"]}
    asked: list[str] = []
    resolve = resolver_counting(records, asked)
    signed = sandbox_mail.sign(unsigned_amazon_message(TO, sender="reuse-test@marketplace.amazon.de"))

    first = authenticate(signed, resolve=resolve).dmarc
    asked.clear()
    again = authenticate(signed, resolve=resolve).dmarc

    assert first == again and first["policy"] == "none" and len(judged) == 1
    assert "_dmarc.marketplace.amazon.de" in asked and "_dmarc.amazon.de" in asked  # DNS is asked every time

    records["_dmarc.amazon.de"] = ["v=DMARC1; p=reject"]
    assert authenticate(signed, resolve=resolve).dmarc["policy"] == "reject" and len(judged) == 2

    records["_dmarc.amazon.de"] = "timeout"
    assert authenticate(signed, resolve=resolve).dmarc == {
        "result": "temperror",
        "policy": "",
        "header_from": "",
        "reason": "TXT _dmarc.amazon.de: Timeout",
    }


def test_the_sandbox_key_record_is_the_key_of_the_data_dir_in_use(settings, tmp_path):
    record = sandbox_mail.public_key_record()
    assert record == sandbox_mail.public_key_record()

    settings.DATA_DIR = tmp_path

    other = sandbox_mail.public_key_record()
    assert other != record
    assert other == dkimkeys.public_key_record((tmp_path / sandbox_mail.KEY_FILE).read_bytes())


def test_a_from_domain_longer_than_dns_allows_is_judged_but_not_remembered(db):
    long = ".".join(["a" * 60] * 5) + ".amazon.de"
    raw = f"From: x@{long}\r\nTo: {TO}\r\nSubject: x\r\n\r\nhi\r\n".encode()

    verdict = authenticate(raw, resolve=sandbox_resolve)

    assert verdict.from_domain == long and verdict.verdict == "fail"
    assert verdict.dmarc["result"] == "fail" and verdict.dmarc["policy"] == "reject"
    assert not [key for key in authenticity._DMARC_VERDICTS if key[0] == long]


def test_names_a_crafted_message_makes_huge_are_not_kept_in_a_cache():
    """A From or d= domain, or a selector, can be as long as the message: a cache of them could hold
    a thousand messages' worth of memory. Such names are worked out each time instead."""
    huge = "x" * 20_000 + ".amazon.de"
    raw = (
        f"From: Amazon <seller@{huge}>\r\n"
        f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={huge}; s={'s' * 20_000};\r\n"
        " h=from; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA\r\n"
        "\r\nHello\r\n"
    ).encode()
    org_cached = authenticity._org_domain.cache_info().currsize
    results_cached = authenticity._results_header_of.cache_info().currsize

    verdict = authenticity.authenticate(raw, resolve=lambda name, rdtype: [])

    assert verdict.verdict == "fail" and verdict.from_domain == huge
    assert authenticity.org_domain(huge) == "amazon.de"
    assert authenticity._org_domain.cache_info().currsize == org_cached
    assert authenticity._results_header_of.cache_info().currsize == results_cached

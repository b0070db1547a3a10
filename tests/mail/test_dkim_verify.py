"""deskbridge.mail.dkim_verify against what dkimpy signs: the corpus's real-format Amazon mail in
every canonicalization, tampered bodies and fields, wrong keys, l=, over-signing, ed25519, and
several signatures on one message."""

from __future__ import annotations

import base64
import sys
import types
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from dkim.util import parse_tag_value

from deskbridge.mail import authenticity, dkim_verify, dkimkeys
from deskbridge.sandbox.amazon import mail as sandbox_mail
from tests.mail.conftest import new_private_key, unsigned_amazon_message

CORPUS = sorted((Path(__file__).parent.parent / "data" / "eml").glob("*/*.eml"))
CANONICALIZATIONS = [
    (b"relaxed", b"relaxed"),
    (b"relaxed", b"simple"),
    (b"simple", b"simple"),
    (b"simple", b"relaxed"),
]
SELECTOR = b"s1"
TO = "amz-de-1@deskbridge.localhost"
RSA_KEY = new_private_key()


def rsa_record(pem: bytes) -> str:
    return dkimkeys.public_key_record(pem)


class Keys:
    """A resolver publishing the keys given, by (selector, domain)."""

    def __init__(self, **records: str) -> None:
        self.records = {
            name.replace("__", "._domainkey.").replace("_", "."): r for name, r in records.items()
        }
        self.asked: list[str] = []

    def add(self, selector: bytes, domain: bytes, record: str) -> Keys:
        self.records[f"{selector.decode()}._domainkey.{domain.decode()}"] = record
        return self

    def __call__(self, name: str, rdtype: str) -> list[str]:
        self.asked.append(name)
        found = self.records.get(name.lower().rstrip("."))
        return [found] if found and rdtype == "TXT" else []


def dkimpy_keys(resolve: Keys):
    def txt(name: bytes, timeout: float = 5) -> bytes | None:
        found = resolve(name.decode(), "TXT")
        return found[0].encode() if found else None

    return txt


def results(raw: bytes, resolve: Keys) -> list[dkim_verify.Result]:
    head, body_at = authenticity.header_section(raw)
    message = dkim_verify.Message(raw, head, body_at)
    return [
        dkim_verify.verify(message, i, parse_tag_value(value), resolve)
        for i, (_, value) in enumerate(message.signatures())
    ]


def dkimpy_says(raw: bytes, resolve: Keys, index: int = 0) -> bool:
    try:
        return bool(dkim.DKIM(raw).verify(idx=index, dnsfunc=dkimpy_keys(resolve)))
    except dkim.DKIMException:
        return False


def sign(raw: bytes, domain: bytes = b"marketplace.amazon.de", key: bytes = RSA_KEY, **options) -> bytes:
    options.setdefault("include_headers", None)
    if options["include_headers"] is None:
        del options["include_headers"]
    return dkim.sign(raw, SELECTOR, domain, key, **options) + raw


def from_domain(raw: bytes) -> bytes:
    head, _ = authenticity.header_section(raw)
    value = authenticity.header_values(head, "From")[0]
    return value.rpartition("@")[2].strip(" >\t").encode() or b"example.org"


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: f"{p.parent.name}/{p.name}")
@pytest.mark.parametrize("canonicalize", CANONICALIZATIONS, ids=lambda c: b"/".join(c).decode())
def test_every_corpus_message_signed_by_dkimpy_verifies(path, canonicalize):
    raw = path.read_bytes()
    domain = from_domain(raw)
    keys = Keys().add(SELECTOR, domain, rsa_record(RSA_KEY))
    linesep = b"\r\n" if b"\r\n" in raw else b"\n"
    signed = dkim.DKIM(raw, linesep=linesep).sign(SELECTOR, domain, RSA_KEY, canonicalize=canonicalize) + raw

    assert [r.result for r in results(signed, keys)] == ["pass"]
    assert dkimpy_says(signed, keys)


@pytest.mark.parametrize("canonicalize", CANONICALIZATIONS, ids=lambda c: b"/".join(c).decode())
def test_a_changed_body_fails_on_its_hash(canonicalize):
    keys = Keys().add(SELECTOR, b"marketplace.amazon.de", rsa_record(RSA_KEY))
    signed = sign(unsigned_amazon_message(TO), canonicalize=canonicalize)

    [result] = results(signed.replace(b"Bankdaten", b"Kontodaten"), keys)

    assert result.result == "fail" and "body hash mismatch" in result.reason


def test_what_relaxed_canonicalization_forgives_and_what_it_does_not():
    keys = Keys().add(SELECTOR, b"marketplace.amazon.de", rsa_record(RSA_KEY))
    signed = sign(unsigned_amazon_message(TO), canonicalize=(b"relaxed", b"relaxed"))

    refolded = signed.replace(b"Subject: Frage", b"Subject:   \r\n\tFrage").replace(
        b"Bankdaten.\r\n", b"Bankdaten.  \r\n\r\n\r\n"
    )
    assert [r.result for r in results(refolded, keys)] == ["pass"]
    assert dkimpy_says(refolded, keys)
    reworded = signed.replace(b"Subject: Frage", b"Subject: Eine Frage")
    assert [r.result for r in results(reworded, keys)] == ["fail"]
    simple = sign(unsigned_amazon_message(TO), canonicalize=(b"simple", b"simple"))
    assert [r.result for r in results(simple.replace(b"Subject: Frage", b"Subject:  Frage"), keys)] == [
        "fail"
    ]


def test_a_changed_signed_field_fails_and_an_added_unsigned_one_does_not():
    keys = Keys().add(SELECTOR, b"marketplace.amazon.de", rsa_record(RSA_KEY))
    signed = sign(unsigned_amazon_message(TO), include_headers=[b"from", b"to", b"subject"])

    assert [r.result for r in results(signed.replace(b"To: amz-de-1", b"To: amz-de-2"), keys)] == ["fail"]
    assert [r.result for r in results(b"Received: from relay\r\n" + signed, keys)] == ["pass"]
    # Message-ID was not signed: changing it breaks nothing.
    assert [r.result for r in results(signed.replace(b"spoof-1", b"spoof-2"), keys)] == ["pass"]


def test_a_second_from_breaks_the_signature_even_above_the_signed_one():
    keys = Keys().add(SELECTOR, b"marketplace.amazon.de", rsa_record(RSA_KEY))
    signed = sign(unsigned_amazon_message(TO))
    head_end = signed.index(b"\r\n\r\n")
    appended = signed[:head_end] + b"\r\nFrom: Amazon <donotreply@amazon.de>" + signed[head_end:]

    assert [r.result for r in results(appended, keys)] == ["fail"]
    assert not dkimpy_says(appended, keys)


def test_over_signed_fields_cannot_be_added():
    keys = Keys().add(SELECTOR, b"marketplace.amazon.de", rsa_record(RSA_KEY))
    signed = sign(unsigned_amazon_message(TO), include_headers=[b"from", b"subject", b"subject", b"reply-to"])
    head_end = signed.index(b"\r\n\r\n")

    assert [r.result for r in results(signed, keys)] == ["pass"]
    for added in (b"Subject: another", b"Reply-To: thief@example.org"):
        changed = signed[:head_end] + b"\r\n" + added + signed[head_end:]
        assert [r.result for r in results(changed, keys)] == ["fail"]
        assert not dkimpy_says(changed, keys)


def test_a_signature_by_another_key_fails():
    keys = Keys().add(SELECTOR, b"marketplace.amazon.de", rsa_record(new_private_key()))
    signed = sign(unsigned_amazon_message(TO))

    [result] = results(signed, keys)

    assert result.result == "fail" and result.reason == "signature does not verify"


def test_no_key_a_revoked_key_and_a_key_for_other_services_fail():
    signed = sign(unsigned_amazon_message(TO))
    public = rsa_record(RSA_KEY)

    for record in (
        "",
        "v=DKIM1; k=rsa; p=",
        public + "; s=tlsrpt",
        public + "; h=sha1",
        "v=DKIM2; " + public[9:],
    ):
        keys = Keys().add(SELECTOR, b"marketplace.amazon.de", record) if record else Keys()
        assert [r.result for r in results(signed, keys)] == ["fail"], record
    assert [
        r.result
        for r in results(signed, Keys().add(SELECTOR, b"marketplace.amazon.de", public + "; h=sha256"))
    ] == ["pass"]


def test_the_key_is_asked_for_by_its_fully_qualified_name():
    keys = Keys().add(SELECTOR, b"marketplace.amazon.de", rsa_record(RSA_KEY))

    results(sign(unsigned_amazon_message(TO)), keys)

    assert keys.asked == ["s1._domainkey.marketplace.amazon.de."]


def test_a_key_in_pkcs1_form_is_read_too():
    key = serialization.load_pem_private_key(RSA_KEY, password=None).public_key()
    pkcs1 = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    keys = Keys().add(SELECTOR, b"marketplace.amazon.de", f"k=rsa; p={base64.b64encode(pkcs1).decode()}")

    assert [r.result for r in results(sign(unsigned_amazon_message(TO)), keys)] == ["pass"]


def test_l_hashes_only_that_much_of_the_body():
    keys = Keys().add(SELECTOR, b"marketplace.amazon.de", rsa_record(RSA_KEY))
    signed = sign(unsigned_amazon_message(TO), length=True)

    assert b" l=" in signed or b";l=" in signed.replace(b" ", b"")
    assert [r.result for r in results(signed + b"P.S. added on the way\r\n", keys)] == ["pass"]
    changed = signed.replace(b"Bankdaten", b"Kontodaten")
    assert [r.result for r in results(changed, keys)] == ["fail"]


def test_rsa_sha1_is_not_accepted():
    keys = Keys().add(SELECTOR, b"marketplace.amazon.de", rsa_record(RSA_KEY))
    signed = sign(unsigned_amazon_message(TO), signature_algorithm=b"rsa-sha1")

    [result] = results(signed, keys)

    assert result.result == "fail" and "RFC 8301" in result.reason


def test_tags_that_make_a_signature_unacceptable():
    keys = Keys().add(SELECTOR, b"marketplace.amazon.de", rsa_record(RSA_KEY))
    signed = sign(unsigned_amazon_message(TO))
    head, _ = authenticity.header_section(signed)
    message = dkim_verify.Message(signed, head, len(head) + 2)
    tags = parse_tag_value(message.signatures()[0][1])

    for change, reason in [
        ({b"h": b"to:subject"}, "h= does not include From"),
        ({b"i": b"@evil.example"}, "i= domain"),
        ({b"x": b"1000"}, "x= value is past"),
        ({b"t": b"99999999999"}, "t= value is in the future"),
        ({b"a": b"rsa-md5"}, "unknown signature algorithm"),
        ({b"v": b"2"}, "v= value is not 1"),
        ({b"q": b"http"}, "q= value"),
    ]:
        found = dkim_verify.verify(message, 0, {**tags, **change}, keys)
        assert found.result == "fail" and reason in found.reason, (change, found)
    without_d = {k: v for k, v in tags.items() if k != b"d"}
    assert dkim_verify.verify(message, 0, without_d, keys).reason == "missing d="


def test_two_signatures_each_checked_against_its_own_key():
    other = new_private_key()
    keys = (
        Keys()
        .add(SELECTOR, b"marketplace.amazon.de", rsa_record(RSA_KEY))
        .add(SELECTOR, b"amazonses.com", rsa_record(other))
    )
    twice = sign(sign(unsigned_amazon_message(TO)), domain=b"amazonses.com", key=other)

    assert [r.result for r in results(twice, keys)] == ["pass", "pass"]
    keys.add(SELECTOR, b"amazonses.com", rsa_record(new_private_key()))
    assert [r.result for r in results(twice, keys)] == ["fail", "pass"]


def test_an_unreadable_header_section_is_refused():
    signed = sign(unsigned_amazon_message(TO))

    with pytest.raises(dkim_verify.HeaderFormatError):
        dkim_verify.parse_header(b"no colon here\r\n" + signed.split(b"\r\n\r\n")[0])
    broken = b"\tcontinued\r\n" + signed
    head, body_at = authenticity.header_section(broken)
    [check] = authenticity._check_dkim(broken, head, body_at, Keys(), "")
    assert check.result == "permerror" and "unreadable header section" in check.reason


def test_parsed_keys_are_reused_and_a_changed_record_is_read_anew():
    dkim_verify.parse_key_record.cache_clear()
    keys = Keys().add(SELECTOR, b"marketplace.amazon.de", rsa_record(RSA_KEY))
    signed = sign(unsigned_amazon_message(TO))

    for _ in range(3):
        assert [r.result for r in results(signed, keys)] == ["pass"]
    assert dkim_verify.parse_key_record.cache_info().misses == 1
    keys.add(SELECTOR, b"marketplace.amazon.de", rsa_record(new_private_key()))  # rotated in DNS
    assert [r.result for r in results(signed, keys)] == ["fail"]


# --- ed25519 (RFC 8463) -----------------------------------------------------------------------
# dkimpy signs ed25519 through PyNaCl, which deskbridge does not install; this stand-in gives
# dkimpy the same signing call backed by `cryptography`, so dkimpy still canonicalizes and hashes.


class _SigningKey:
    def __init__(self, seed: bytes, encoder=None) -> None:
        self.key = ed25519.Ed25519PrivateKey.from_private_bytes(base64.b64decode(seed))

    def sign(self, digest: bytes):
        return types.SimpleNamespace(signature=self.key.sign(digest))


@pytest.fixture
def ed25519_signing(monkeypatch):
    nacl = types.SimpleNamespace(
        signing=types.SimpleNamespace(SigningKey=_SigningKey),
        encoding=types.SimpleNamespace(Base64Encoder=None),
        exceptions=types.SimpleNamespace(ValueError=ValueError),
    )
    monkeypatch.setattr(sys.modules["dkim"], "nacl", nacl, raising=False)
    key = ed25519.Ed25519PrivateKey.generate()
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(seed), f"v=DKIM1; k=ed25519; p={base64.b64encode(public).decode()}"


@pytest.mark.parametrize("canonicalize", CANONICALIZATIONS, ids=lambda c: b"/".join(c).decode())
def test_ed25519_signatures_verify_and_tampering_fails(ed25519_signing, canonicalize):
    seed, record = ed25519_signing
    keys = Keys().add(SELECTOR, b"marketplace.amazon.de", record)
    signed = sign(
        unsigned_amazon_message(TO),
        key=seed,
        signature_algorithm=b"ed25519-sha256",
        canonicalize=canonicalize,
    )

    assert b"a=ed25519-sha256" in signed
    assert [r.result for r in results(signed, keys)] == ["pass"]
    assert [r.result for r in results(signed.replace(b"Subject: Frage", b"Subject: Fragen"), keys)] == [
        "fail"
    ]
    other = ed25519.Ed25519PrivateKey.generate().public_key()
    wrong = base64.b64encode(other.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    keys.add(SELECTOR, b"marketplace.amazon.de", f"k=ed25519; p={wrong.decode()}")
    assert [r.result for r in results(signed, keys)] == ["fail"]


def test_an_rsa_key_for_an_ed25519_signature_fails(ed25519_signing):
    seed, _ = ed25519_signing
    keys = Keys().add(SELECTOR, b"marketplace.amazon.de", rsa_record(RSA_KEY))
    signed = sign(unsigned_amazon_message(TO), key=seed, signature_algorithm=b"ed25519-sha256")

    [result] = results(signed, keys)

    assert result.result == "fail" and "the key is rsa" in result.reason


def test_the_sandbox_amazons_mail_passes_through_authenticate(db):
    signed = sandbox_mail.sign(unsigned_amazon_message(TO))

    verdict = authenticity.authenticate(signed, resolve=sandbox_mail.sandbox_resolve)

    assert verdict.verdict == "pass" and [c.result for c in verdict.dkim] == ["pass"]

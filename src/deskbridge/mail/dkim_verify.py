"""DKIM verification (RFC 6376; rsa-sha256 and ed25519-sha256 of RFC 8463) with `cryptography`.

dkimpy verifies in pure Python (its own RSA, every header canonicalized by regular expressions):
about 1.4 ms of CPU for an 8 KB message, the receiver's largest single cost. This module does the
same checks with OpenSSL doing the arithmetic, and canonicalizes only the fields a signature
covers. dkimpy still signs (the sandbox Amazon) and verifies ARC; the tests check this module
against what dkimpy signs.

What it follows from dkimpy, so that verdicts do not change: the header section is read as dkimpy
reads it (an unreadable line is a permerror), fields are taken bottom-up with over-signing, one
more From is taken than h= names (a second, unsigned From breaks the signature), l= hashes that
many octets of the canonical body, t= may be 10 hours ahead, x= may be 10 hours past, keys under
1024 bits are refused. Where it is stricter: rsa-sha1 is not accepted (RFC 8301), h= must name From
(RFC 6376 §5.4), and a key record's h= must allow sha256.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa, utils
from dkim.canonicalization import (
    CanonicalizationPolicy,
    InvalidCanonicalizationPolicyError,
    strip_trailing_lines,
)
from dkim.util import InvalidTagValueList, parse_tag_value

from deskbridge.mail.resolvers import Resolve

MIN_RSA_BITS = 1024
CLOCK_SLOP_SECONDS = 36000  # dkimpy's leeway for senders with a wrong clock (10 hours)
ALGORITHMS = (b"rsa-sha256", b"ed25519-sha256")
_PKCS1v15 = padding.PKCS1v15()
_PREHASHED_SHA256 = utils.Prehashed(hashes.SHA256())

_FIELD_NAME = re.compile(rb"([\x21-\x7e]+?):")
_BASE64 = re.compile(rb"[\s0-9A-Za-z+/]+[\s=]*$")
# The b= tag's value, emptied before the signature field is hashed: dkimpy's RE_BTAG, whose folding
# whitespace (?:(?:\s*\r?\n)?\s+)? is any whitespace, written to take runs of base64 at once (its
# own form steps through the value a character at a time: 40 µs a message).
_B64_RUN = rb"[a-zA-Z0-9+/=]+"
_B_TAG = re.compile(rb"([;\s]b\s*=)(?:\s*" + _B64_RUN + rb"(?:\s+" + _B64_RUN + rb")*)?(?:\r?\n\Z)?")
_SPECIALS = re.compile(rb"[\(\)<>\[\]:;@\\,]")


class HeaderFormatError(ValueError):
    """The header section has a line that is neither a field nor a continuation."""


@dataclass(frozen=True)
class Result:
    result: str  # pass, fail, permerror
    reason: str = ""


def split_lines(text: bytes) -> list[bytes]:
    """`text` split at each LF or CRLF, as re.split(rb"\r?\n", text) does, a few times quicker."""
    return text.replace(b"\r\n", b"\n").split(b"\n")


# One field of a plain header section: a name, a colon, the value's lines; CRLF line ends only.
_PLAIN_FIELD = re.compile(rb"([\x21-\x39\x3b-\x7e]+):([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)\r\n")
KEPT_HEADER_SECTION = 64 * 1024  # bigger header sections are read each time, never kept


def plain_fields(head: bytes) -> tuple[tuple[bytes, bytes], ...] | None:
    """The fields of a header section made of fields only, each line ended by CRLF and with no other
    CR or LF in it (what every mail server sends), read by one regular expression; None for any
    other header section. Each value keeps its line ends, as parse_header gives them. The
    authenticity check reads one message's header section several times, so the last few are kept,
    unless they are big: a crafted message must not make the cache huge."""
    return _kept_plain_fields(head) if len(head) <= KEPT_HEADER_SECTION else _plain_fields(head)


def _plain_fields(head: bytes) -> tuple[tuple[bytes, bytes], ...] | None:
    fields = _PLAIN_FIELD.findall(head)
    if sum(len(name) + len(value) + 3 for name, value in fields) != len(head):  # not all of it
        return None
    return tuple((name, value + b"\r\n") for name, value in fields)


_kept_plain_fields = functools.lru_cache(maxsize=16)(_plain_fields)


def parse_header(head: bytes) -> list[tuple[bytes, bytes]]:
    """(name, value) for each field, in order; a value keeps its line ends (as CRLF), as dkimpy reads
    them. `head` is the header section without the empty line that ends it."""
    plain = plain_fields(head)
    return list(plain) if plain is not None else _parse_header_lines(head)


def _parse_header_lines(head: bytes) -> list[tuple[bytes, bytes]]:
    """parse_header for any header section, line by line."""
    fields: list[list[bytes]] = []
    lines = split_lines(head)
    if lines and not lines[-1]:
        lines.pop()
    for line in lines:
        if not line:
            break
        if line[0] in (0x09, 0x20):
            if fields:
                fields[-1][1] += line + b"\r\n"
                continue
            raise HeaderFormatError("a continuation line before the first field")
        found = _FIELD_NAME.match(line)
        if found is not None:
            fields.append([found.group(1), line[found.end() :] + b"\r\n"])
        elif not line.startswith(b"From "):
            raise HeaderFormatError(f"Unexpected characters in RFC822 header: {line[:80]!r}")
    return [(name, value) for name, value in fields]


def parse_tags(text: bytes) -> dict[bytes, bytes]:
    """A tag=value list (RFC 6376 §3.2) as dkimpy's parse_tag_value reads it, without its regular
    expression for each tag; a list it refuses is handed to it, to raise its InvalidTagValueList."""
    tags: dict[bytes, bytes] = {}
    specs = text.strip().split(b";")
    if not specs[-1]:
        specs.pop()  # one trailing semicolon is allowed
    for spec in specs:
        key, equals, value = spec.partition(b"=")
        key = key.strip()
        if not equals or not key[:1].isalpha() or key in tags:
            return parse_tag_value(text)
        tags[key] = value.strip()
    return tags


@dataclass(frozen=True)
class PublicKey:
    kind: str  # rsa, ed25519
    key: Any
    bits: int


@functools.lru_cache(maxsize=1024)
def parse_key_record(record: str) -> PublicKey | str:
    """A key record (the TXT text) parsed: the key, or why it cannot be used. Cached by the record's
    text, so a key changed in DNS is read anew as soon as the resolver returns the new record."""
    try:
        tags = parse_tags(record.encode("ascii"))
    except (InvalidTagValueList, UnicodeEncodeError) as exc:
        return f"unreadable key record: {exc}"
    if tags.get(b"v", b"DKIM1") != b"DKIM1":
        return "key record: bad version"
    services = {s.strip() for s in tags.get(b"s", b"*").split(b":")}
    if not services & {b"*", b"email"}:
        return "key record: not for email (s=)"
    if b"h" in tags and b"sha256" not in {h.strip() for h in tags[b"h"].split(b":")}:
        return "key record: its h= does not allow sha256"
    data = b"".join(tags.get(b"p", b"").split())
    if not data:
        return "key revoked (empty p=)"
    try:
        material = base64.b64decode(data, validate=True)
    except binascii.Error:
        return "key record: p= is not base64"
    kind = tags.get(b"k", b"rsa")
    if kind == b"ed25519":
        try:
            return PublicKey("ed25519", ed25519.Ed25519PublicKey.from_public_bytes(material), 256)
        except ValueError as exc:
            return f"could not parse ed25519 public key: {exc}"
    if kind != b"rsa":
        return f"unknown algorithm in k= tag: {kind.decode('ascii', 'replace')}"
    try:
        key = serialization.load_der_public_key(material)
    except (ValueError, UnsupportedAlgorithm) as exc:
        return f"could not parse RSA public key: {exc}"
    if not isinstance(key, rsa.RSAPublicKey):
        return "key record: k=rsa but p= is no RSA key"
    return PublicKey("rsa", key, key.key_size)


class Message:
    """One message's header fields and body, canonicalized at most once per algorithm."""

    def __init__(self, raw: bytes, head: bytes, body_at: int) -> None:
        self.fields = parse_header(head)
        # Where each field name occurs (lowercase), top to bottom.
        self.positions: dict[bytes, list[int]] = {}
        for at, (name, _value) in enumerate(self.fields):
            self.positions.setdefault(name.lower(), []).append(at)
        body = raw[body_at:]
        if body.count(b"\n") != body.count(b"\r\n"):
            body = re.sub(rb"(?<!\r)\n", b"\r\n", body)
        self._body = body
        self._canonical: dict[bytes, bytes] = {}

    def signatures(self) -> list[tuple[bytes, bytes]]:
        return [self.fields[at] for at in self.positions.get(b"dkim-signature", [])]

    def body(self, policy: CanonicalizationPolicy) -> bytes:
        name = policy.body_algorithm.name
        if name not in self._canonical:
            relaxed = name == b"relaxed"
            self._canonical[name] = relaxed_body(self._body) if relaxed else strip_trailing_lines(self._body)
        return self._canonical[name]


def _compress_whitespace(text: bytes) -> bytes:
    """Every run of spaces and tabs as one space (dkimpy's re.sub(b"[\\t ]+", b" ", …)); a text with
    no tab and no two spaces in a row is returned as it is, without a copy."""
    if b"\t" in text:
        text = text.replace(b"\t", b" ")
    while b"  " in text:
        text = text.replace(b"  ", b" ")
    return text


def relaxed_body(body: bytes) -> bytes:
    """The relaxed canonical body (RFC 6376 §3.4.4), byte for byte what dkimpy makes of any bytes, by
    bytes methods rather than its regular expressions (which scan and copy the whole body even when
    nothing changes: most of the cost of verifying an 8 KB message, and 50 MB for a 25 MB one)."""
    body = _compress_whitespace(body)
    # Runs are one space now, so a space before CRLF is the whole of a line's trailing whitespace.
    if b" \r\n" in body:
        body = body.replace(b" \r\n", b"\r\n")
    body = strip_trailing_lines(body)
    return b"" if body == b"\r\n" else body


def _canonical_field(relaxed: bool, name: bytes, value: bytes) -> bytes:
    """A field as hashed; `value` has CRLF line ends (parse_header's), so unfolding removes CRLFs."""
    if relaxed:
        return (
            name.lower().rstrip() + b":" + _compress_whitespace(value.replace(b"\r\n", b"")).strip() + b"\r\n"
        )
    return name + b":" + value


def _check_tags(tags: dict[bytes, bytes]) -> str:
    """Why the signature's tags are unacceptable, or ""."""
    for required in (b"v", b"a", b"b", b"bh", b"d", b"h", b"s"):
        if required not in tags:
            return f"missing {required.decode()}="
    if tags[b"v"] != b"1":
        return "v= value is not 1"
    if tags[b"a"] == b"rsa-sha1":
        return "rsa-sha1 signatures are not accepted (RFC 8301)"
    if tags[b"a"] not in ALGORITHMS:
        return f"unknown signature algorithm: {tags[b'a'].decode('ascii', 'replace')}"
    for tag in (b"b", b"bh"):
        if _BASE64.match(tags[tag]) is None or len(b"".join(tags[tag].split())) % 4:
            return f"{tag.decode()}= value is not valid base64"
    domain = tags[b"d"]
    if not domain or (domain.isascii() and _SPECIALS.search(domain)):
        return "d= value is not valid"
    if b"i" in tags:
        identity = tags[b"i"].lower()
        if not identity.endswith(domain.lower()) or identity[-len(domain) - 1 : -len(domain)] not in (
            b"@",
            b".",
        ):
            return "i= domain is not a subdomain of d="
    if b"l" in tags and re.fullmatch(rb"\d{1,76}", tags[b"l"]) is None:
        return "l= value is not a decimal integer"
    if b"q" in tags and tags[b"q"] != b"dns/txt":
        return "q= value is not dns/txt"
    now = int(time.time())
    signed_at = None
    if b"t" in tags:
        if not tags[b"t"].isdigit():
            return "t= value is not a decimal integer"
        signed_at = int(tags[b"t"])
        if signed_at > now + CLOCK_SLOP_SECONDS:
            return "t= value is in the future"
    if b"x" in tags:
        if not tags[b"x"].isdigit():
            return "x= value is not a decimal integer"
        expires = int(tags[b"x"])
        if expires < now - CLOCK_SLOP_SECONDS:
            return "x= value is past"
        if signed_at and expires < signed_at:
            return "x= value is less than t= value"
    return ""


def verify(message: Message, index: int, tags: dict[bytes, bytes], resolve: Resolve) -> Result:
    """Verify the message's DKIM-Signature number `index` (0 is the topmost), whose tags are `tags`.
    Raises what `resolve` raises when DNS does not answer (TemporaryDNSError)."""
    problem = _check_tags(tags)
    if problem:
        return Result("fail", problem)
    signed = [h.strip().lower() for h in tags[b"h"].split(b":")]
    if b"from" not in signed:
        return Result("fail", "h= does not include From")
    try:
        policy = CanonicalizationPolicy.from_c_value(tags.get(b"c", b"simple/simple"))
    except InvalidCanonicalizationPolicyError as exc:
        return Result("permerror", f"invalid c= value: {exc.args[0]!r}")

    body = message.body(policy)
    if b"l" in tags:
        body = body[: int(tags[b"l"])]
    body_hash = hashlib.sha256(body).digest()
    expected = base64.b64decode(tags[b"bh"])  # whitespace in it is skipped
    if body_hash != expected:
        return Result(
            "fail",
            f"body hash mismatch (got {base64.b64encode(body_hash).decode()}, "
            f"expected {tags[b'bh'].decode('ascii', 'replace')})",
        )

    selector, domain = (tags[t].decode("ascii", "replace") for t in (b"s", b"d"))
    record = resolve(f"{selector}._domainkey.{domain}.", "TXT")  # fully qualified, as dkimpy asks
    if not record:
        return Result("fail", "no key in DNS")
    key = parse_key_record(record[0])
    if isinstance(key, str):
        return Result("fail", key)
    if key.kind != tags[b"a"].partition(b"-")[0].decode("ascii"):
        return Result("fail", f"the key is {key.kind}, the signature {tags[b'a'].decode('ascii')}")

    relaxed = policy.header_algorithm.name == b"relaxed"
    # Taken bottom-up; a name listed more often than the field occurs adds nothing (over-signing).
    # One more From than h= names: a second From, unsigned, must break the signature (dkimpy).
    taken: dict[bytes, int] = {}
    fields = []
    for name in [*signed, b"from"] if b"from" in signed else signed:
        positions = message.positions.get(name, ())
        count = taken.get(name, 0)
        if count < len(positions):
            fields.append(message.fields[positions[-1 - count]])
        taken[name] = count + 1
    own_name, own_value = message.signatures()[index]
    hasher = hashlib.sha256(b"".join([_canonical_field(relaxed, name, value) for name, value in fields]))
    hasher.update(_canonical_field(relaxed, own_name, _B_TAG.sub(rb"\1", own_value)).rstrip())
    signature = base64.b64decode(tags[b"b"])
    try:
        if key.kind == "rsa":
            if key.bits < MIN_RSA_BITS:
                return Result("permerror", f"public key too small: {key.bits}")
            key.key.verify(signature, hasher.digest(), _PKCS1v15, _PREHASHED_SHA256)
        else:
            key.key.verify(signature, hasher.digest())
    except InvalidSignature:
        return Result("fail", "signature does not verify")
    return Result("pass")

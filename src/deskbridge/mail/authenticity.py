"""Is this mail Amazon's? DKIM, SPF, DMARC and ARC verdicts (dkimpy, authheaders) over injectable DNS.

The rule the receiver enforces: mail whose From names an Amazon domain (amazon.<tld>,
marketplace.amazon.<tld> and every other subdomain of a marketplace's domain; Amazon's system
senders such as donotreply@amazon.com live there too) must carry a DKIM signature that verifies,
covers the whole body (no l=) and is DMARC-aligned with that From domain. Mail that does not claim
to be Amazon's is not judged here; it is recorded as such and the classifier calls it not_amazon.

DNS comes from a resolver function (deskbridge.mail.resolvers): real DNS in production; the
sandbox Amazon's own records only while settings.SANDBOX_ENABLED is true.
"""

from __future__ import annotations

import email.utils
import functools
import importlib.resources
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from typing import Any

import authheaders
import authheaders.dmarc_lookup
import dkim
import dkim.canonicalization
from authres import AuthenticationResultsHeader, DKIMAuthenticationResult, SPFAuthenticationResult
from authres.arc import ARCAuthenticationResult
from authres.dmarc import DMARCAuthenticationResult
from django.conf import settings
from dkim.util import InvalidTagValueList
from publicsuffix2 import PublicSuffixList

from deskbridge.amazon import marketplaces
from deskbridge.mail import dkim_verify, spf
from deskbridge.mail.resolvers import Resolve, TemporaryDNSError, dns_resolve, for_authheaders, for_dkimpy

AMAZON_DOMAINS = frozenset(m.domain for m in marketplaces.MARKETPLACES)
_AMAZON_SUBDOMAIN_ENDS = tuple(sorted("." + d for d in AMAZON_DOMAINS))

# dkimpy logs every failed signature at ERROR; the verdict records it, so keep its logger quiet.
_dkimpy_log = logging.getLogger("deskbridge.mail.dkimpy")
_dkimpy_log.addHandler(logging.NullHandler())
_dkimpy_log.propagate = False

_BARE_LF = re.compile(rb"(?<!\r)\n")
# "amazon" as written, or what a parser might decode into it (encoded words, quoted pairs).
_MIGHT_NAME_AMAZON = re.compile(r"amazon|=\?|\\", re.IGNORECASE)


@functools.cache
def _public_suffix_list() -> PublicSuffixList:
    try:
        from authheaders.findpsl import location  # a system copy, when the packager provides one

        listing: Any = Path(location)
    except ModuleNotFoundError:
        listing = importlib.resources.files("authheaders") / "public_suffix_list.txt"
    with importlib.resources.as_file(listing) as path, open(path, encoding="utf-8") as text:
        return PublicSuffixList(text)


# What a crafted message can make as long as itself (a From or d= domain, a selector) is worked out
# again rather than kept: a cache of such keys could hold a thousand messages' worth of memory.
CACHED_UP_TO = 253  # the longest name DNS has


def _keepable(*names: str | None) -> bool:
    """Whether a cache may keep an entry made of these names (None counts as empty)."""
    return all(len(name or "") <= CACHED_UP_TO for name in names)


def org_domain(domain: str) -> str:
    """The organizational domain (RFC 7489 §3.2) from the same Public Suffix List as authheaders
    (which passes None too)."""
    return (_org_domain if _keepable(domain) else _org_domain.__wrapped__)(domain)


@functools.lru_cache(maxsize=4096)
def _org_domain(domain: str) -> str:
    return str(_public_suffix_list().get_public_suffix(domain))


# authheaders reads and parses the whole Public Suffix List again on every call (about 0.25 s of
# CPU, several times a message); give it the same answer from the list parsed once.
authheaders.get_org_domain = org_domain
authheaders.dmarc_lookup.get_org_domain = org_domain


# dkimpy's relaxed body canonicalization copies the whole body twice with regular expressions even
# when they change nothing (a base64 attachment has no tab, no run of spaces, no trailing blank):
# 50 MB for a 25 MB message. Where dkimpy still canonicalizes (ARC, the sandbox's signing), ours.
dkim.canonicalization.Relaxed.canonicalize_body = staticmethod(dkim_verify.relaxed_body)


def is_amazon_domain(domain: str) -> bool:
    """amazon.de, marketplace.amazon.de, …: a marketplace's domain or one of its subdomains."""
    name = domain.lower().rstrip(".")
    return name in AMAZON_DOMAINS or name.endswith(_AMAZON_SUBDOMAIN_ENDS)


def default_resolver() -> Resolve:
    """Real DNS; the sandbox Amazon's resolver only in a sandbox/demo installation."""
    if settings.SANDBOX_ENABLED:
        from deskbridge.sandbox.amazon.mail import sandbox_resolve

        return sandbox_resolve
    return dns_resolve


def header_section(raw: bytes) -> tuple[bytes, int]:
    """The header lines (each with its line end) and where the body starts, without copying the body."""
    if raw.startswith(b"\r\n"):
        return b"", 2
    if raw.startswith(b"\n"):
        return b"", 1
    crlf = raw.find(b"\n\r\n")
    # A bare LF line before it, looked for only up to it (not through a CRLF message's whole body).
    lf = raw.find(b"\n\n", 0, len(raw) if crlf < 0 else crlf + 1)
    if lf >= 0:
        return raw[: lf + 1], lf + 2
    if crlf >= 0:
        return raw[: crlf + 1], crlf + 3
    return raw, len(raw)


def header_values(head: bytes, name: str) -> list[str]:
    """Every field `name` in the header section, unfolded; bytes that are not UTF-8 kept as surrogates."""
    wanted = name.lower().encode("ascii")
    plain = dkim_verify.plain_fields(head)
    if plain is None:
        return _header_values_by_lines(head, wanted)
    return [
        v.replace(b"\r\n", b"").strip().decode("utf-8", "surrogateescape")
        for n, v in plain
        if n.lower() == wanted
    ]


def _header_values_by_lines(head: bytes, wanted: bytes) -> list[str]:
    """header_values for any header section, line by line: whatever it holds is read."""
    fields: list[list[bytes]] = []
    for line in dkim_verify.split_lines(head):
        if line[:1] in (b" ", b"\t"):
            if fields:
                fields[-1][1] += line
            continue
        field_name, colon, value = line.partition(b":")
        # A line that is no field (an mbox "From " line, garbage) ends the previous one.
        fields.append([field_name.strip().lower(), value] if colon else [b"", b""])
    return [v.strip().decode("utf-8", "surrogateescape") for n, v in fields if n == wanted]


@dataclass
class DkimCheck:
    domain: str
    selector: str
    result: str  # pass, fail, permerror, temperror
    aligned: bool = False  # DMARC (relaxed) alignment with the From domain
    whole_body: bool = True  # False when l= leaves part of the body unsigned
    reason: str = ""


@dataclass
class Verdict:
    """What the receiver found; `as_json()` is what InboundMessage.authentication stores."""

    verdict: str  # pass | fail | temperror | not_amazon
    claims_amazon: bool
    from_domain: str
    reason: str
    dkim: list[DkimCheck] = field(default_factory=list)
    spf: dict[str, str] = field(default_factory=dict)
    dmarc: dict[str, str] = field(default_factory=dict)
    arc: dict[str, str] = field(default_factory=dict)
    authentication_results: str = ""
    resolver: str = ""

    def as_json(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies every value, a measurable cost at a few hundred a second.
        return {
            "verdict": self.verdict,
            "claims_amazon": self.claims_amazon,
            "from_domain": self.from_domain,
            "reason": self.reason,
            "dkim": [vars(check).copy() for check in self.dkim],
            "spf": dict(self.spf),
            "dmarc": dict(self.dmarc),
            "arc": dict(self.arc),
            "authentication_results": self.authentication_results,
            "resolver": self.resolver,
        }


def authenticate(
    raw: bytes,
    *,
    client_ip: str = "",
    mail_from: str = "",
    helo: str = "",
    resolve: Resolve | None = None,
) -> Verdict:
    """Check a message as it arrived. SPF is checked only when the SMTP client's address is given
    (not behind an MTA over LMTP, nor for the HTTP intake: the client there is not the sender)."""
    resolve = resolve or default_resolver()
    head, body_at = header_section(raw)
    claims, from_domain, from_problem = amazon_claim(head)

    checks = _check_dkim(raw, head, body_at, resolve, from_domain)
    spf_result = (
        spf.check_spf(client_ip, mail_from, helo, resolve)
        if client_ip
        else spf.SpfResult("none", "", "not checked: the client is not the sending server")
    )
    best = next((c for c in checks if c.result == "pass" and c.aligned and c.whole_body), None)
    dmarc = _check_dmarc(
        head, from_domain, spf_result, best or next((c for c in checks if c.result == "pass"), None), resolve
    )
    arc = _check_arc(raw, head, resolve)

    if not claims:
        verdict, reason = "not_amazon", "the From address is not an Amazon domain"
    elif from_problem:
        verdict, reason = "fail", from_problem
    elif best is None:
        verdict, reason = _why_not(checks, from_domain)
    elif dmarc.get("result") == "fail":
        verdict, reason = "fail", f"DMARC for {from_domain} fails (its policy asks for strict alignment)"
    else:
        verdict, reason = (
            "pass",
            f"DKIM signature of {best.domain} verifies and is aligned with {from_domain}",
        )
    return Verdict(
        verdict=verdict,
        claims_amazon=claims,
        from_domain=from_domain,
        reason=reason,
        dkim=checks,
        spf={"result": spf_result.result, "domain": spf_result.domain, "reason": spf_result.reason},
        dmarc=dmarc,
        arc=arc,
        authentication_results=_results_header(checks, spf_result, dmarc, arc),
        resolver=getattr(resolve, "__name__", "custom"),
    )


def amazon_claim(head: bytes) -> tuple[bool, str, str]:
    """(claims Amazon, its From domain, why that From cannot be judged or "")."""
    values = header_values(head, "From")
    if not any(_MIGHT_NAME_AMAZON.search(v) for v in values):
        return False, "", ""  # no reading can find an Amazon domain in text that does not spell one
    plain = _domains_by_grammar(values)
    readings = (
        [plain]
        if plain is not None
        else [_domains_by_getaddresses(values), _domains_by_header_registry(values)]
    )
    domains = {d for found in readings for d in found}
    counts = {len(found) for found in readings}
    if not any(is_amazon_domain(d) for d in domains):
        return False, "", ""
    if len(values) != 1 or counts != {1} or len(domains) != 1:
        return True, "", "the From field names Amazon but is not exactly one unambiguous address"
    return True, domains.pop(), ""


def _domains_by_getaddresses(values: list[str]) -> list[str]:
    found = []
    for _name, address in email.utils.getaddresses(values):
        if "@" in address:
            found.append(address.rpartition("@")[2].strip().rstrip(".").lower())
    return found


# The plainest From fields, read by a regular expression of RFC 5322's grammar: a display name of
# atoms (encoded words among them) or quoted strings with no escapes, then <local@domain>; or a bare
# local@domain. No comments, no groups, no obsolete syntax. Within this grammar getaddresses and the
# stdlib's header registry (the two readers otherwise, whose disagreement is refused) both find the
# same domain as it does (tests/property checks that), so it reads alone, at a tenth of their cost.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_DOMAIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
_WORD = rf'(?:{_ATEXT}+|"[\x20\x21\x23-\x5b\x5d-\x7e]*")'
_PLAIN_FROM = re.compile(
    rf"[ \t]*(?:(?:{_WORD}(?:[ \t]+{_WORD})*[ \t]*)?<{_DOT_ATOM}@(?P<angled>{_DOMAIN})>"
    rf"|{_DOT_ATOM}@(?P<bare>{_DOMAIN}))[ \t]*"
)


def _domains_by_grammar(values: list[str]) -> list[str] | None:
    """The domains of plain From fields; None when one of them is not plain."""
    found = []
    for value in values:
        plain = _PLAIN_FROM.fullmatch(value)
        if plain is None:
            return None
        found.append((plain.group("angled") or plain.group("bare")).lower())
    return found


def _domains_by_header_registry(values: list[str]) -> list[str]:
    found = []
    for value in values:
        try:
            header = policy.default.header_factory("From", value)
            addresses = header.addresses
        except Exception:  # noqa: S112 (a reading that fails names no domain; the other one decides)
            continue
        found += [a.domain.strip().rstrip(".").lower() for a in addresses if a.domain]
    return found


def _load(signer: Any, message: bytes | None) -> None:
    """dkimpy's set_message, reading the header section only and taking the body as one slice
    (its own parser splits the whole message into lines: several copies of a 25 MB body)."""
    dkim.DomainSigner.set_message(signer, None)
    if message:
        head, body_at = header_section(message)
        signer.headers, _ = dkim.rfc822_parse(head + b"\r\n")
        body = message[body_at:]
        # Counting is far quicker than searching a 25 MB body with a look-behind.
        bare_lf = body.count(b"\n") != body.count(b"\r\n")
        signer.body = _BARE_LF.sub(b"\r\n", body) if bare_lf else body


class _ArcMessage(dkim.ARC):
    set_message = _load


def _aligned(signing_domain: str, from_domain: str) -> bool:
    if not signing_domain or not from_domain:
        return False
    return org_domain(signing_domain.lower()) == org_domain(from_domain.lower())


def _check_dkim(raw: bytes, head: bytes, body_at: int, resolve: Resolve, from_domain: str) -> list[DkimCheck]:
    if b"dkim-signature" not in head.lower():
        return []
    try:
        message = dkim_verify.Message(raw, head, body_at)
    except dkim_verify.HeaderFormatError as exc:
        return [DkimCheck("", "", "permerror", reason=f"unreadable header section: {exc}")]
    checks = []
    for index, (_name, value) in enumerate(message.signatures()):
        try:
            tags = dkim_verify.parse_tags(value)
        except InvalidTagValueList as exc:
            checks.append(DkimCheck("", "", "permerror", reason=f"unreadable signature: {exc}"))
            continue
        domain = tags.get(b"d", b"").decode("ascii", "replace").lower()
        selector = tags.get(b"s", b"").decode("ascii", "replace")
        check = DkimCheck(domain, selector, "fail", aligned=_aligned(domain, from_domain))
        check.whole_body = b"l" not in tags
        try:
            found = dkim_verify.verify(message, index, tags, resolve)
            check.result, check.reason = found.result, found.reason[:200]
        except TemporaryDNSError as exc:
            check.result, check.reason = "temperror", str(exc)
        checks.append(check)
    return checks


def _why_not(checks: list[DkimCheck], from_domain: str) -> tuple[str, str]:
    aligned = [c for c in checks if c.aligned]
    if any(c.result == "temperror" for c in aligned):
        return "temperror", f"DNS did not answer for the DKIM key of {from_domain}"
    if not checks:
        return "fail", f"no DKIM signature, but the From domain is {from_domain}"
    if not aligned:
        signers = ", ".join(sorted({c.domain or "?" for c in checks}))
        return "fail", f"signed by {signers}, not by {from_domain}"
    if any(c.result == "pass" for c in aligned):
        return "fail", f"the DKIM signature of {from_domain} leaves part of the body unsigned (l=)"
    first = aligned[0]
    return "fail", f"the DKIM signature of {first.domain} does not verify ({first.reason or first.result})"


def _check_dmarc(
    head: bytes, from_domain: str, spf_result: spf.SpfResult, dkim_check: DkimCheck | None, resolve: Resolve
) -> dict[str, str]:
    """DMARC through authheaders. When the From domain is known already (one address, read alike by
    both readers), authheaders judges that domain without parsing the header section again."""
    spf_domain = spf_result.domain if spf_result.result == "pass" else None
    dkim_domain = dkim_check.domain if dkim_check else None
    dnsfunc = for_authheaders(resolve)
    try:
        if from_domain:
            return _remembered_dmarc(from_domain, spf_domain, dkim_domain, dnsfunc)
        return _judge_dmarc(head, "", spf_domain, dkim_domain, dnsfunc)
    except TemporaryDNSError as exc:
        return {"result": "temperror", "policy": "", "header_from": "", "reason": str(exc)}


# Verdicts of _judge_dmarc for a From domain, with the DNS questions it asked and the answers.
_DMARC_VERDICTS: dict[
    tuple[str, str | None, str | None], tuple[list[tuple[str, str | None]], dict[str, str]]
] = {}
_DMARC_VERDICTS_KEPT = 4096


def _remembered_dmarc(
    from_domain: str, spf_domain: str | None, dkim_domain: str | None, dnsfunc: Callable[[str], str | None]
) -> dict[str, str]:
    """_judge_dmarc's verdict, reused while DNS answers as before. The verdict is a function of the
    domains and of what authheaders reads from DNS (the From domain's _dmarc record, perhaps the
    organizational domain's, the From domain for np=); DNS is asked the same questions in the same
    order and, if every answer is the same, authheaders and its result objects (most of the cost of
    the check) are skipped. A question DNS does not answer raises, as it would in authheaders."""
    key = (from_domain, spf_domain, dkim_domain)
    if not _keepable(*key):
        return _judge_dmarc(b"", from_domain, spf_domain, dkim_domain, dnsfunc)
    remembered = _DMARC_VERDICTS.get(key)
    if remembered is not None and all(dnsfunc(name) == answer for name, answer in remembered[0]):
        return dict(remembered[1])
    asked: list[tuple[str, str | None]] = []

    def recording(name: str) -> str | None:
        answer = dnsfunc(name)
        asked.append((name, answer))
        return answer

    verdict = _judge_dmarc(b"", from_domain, spf_domain, dkim_domain, recording)
    if len(_DMARC_VERDICTS) >= _DMARC_VERDICTS_KEPT:
        _DMARC_VERDICTS.clear()
    _DMARC_VERDICTS[key] = (asked, verdict)
    return dict(verdict)


def _judge_dmarc(
    head: bytes,
    from_domain: str,
    spf_domain: str | None,
    dkim_domain: str | None,
    dnsfunc: Callable[[str], str | None],
) -> dict[str, str]:
    """authheaders' DMARC verdict for `from_domain`, or for the From of `head` when it is ""."""
    spf_arg = (
        SPFAuthenticationResult(result="pass", smtp_mailfrom=spf_domain) if spf_domain is not None else None
    )
    dkim_arg = (
        DKIMAuthenticationResult(result="pass", header_d=dkim_domain) if dkim_domain is not None else None
    )
    try:
        if from_domain:
            try:
                result, comment, header_from, policy = authheaders.dmarc_per_from(
                    from_domain, spf_result=spf_arg, dkim_result=dkim_arg, dnsfunc=dnsfunc
                )
            except authheaders.dmarc_lookup.DMARCException as exc:
                result, comment, header_from, policy = "permerror", str(exc), from_domain, "none"
            found: Any = DMARCAuthenticationResult(
                result=result, result_comment=comment, header_from=header_from, policy=policy
            )
        else:
            found = authheaders.check_dmarc(
                head + b"\r\n", spf_result=spf_arg, dkim_result=dkim_arg, dnsfunc=dnsfunc
            )
    except TemporaryDNSError:
        raise
    except Exception as exc:
        return {"result": "permerror", "policy": "", "header_from": "", "reason": type(exc).__name__}
    return {
        "result": str(found.result or "none"),
        "policy": str(getattr(found, "policy", "") or ""),
        "header_from": str(getattr(found, "header_from", "") or ""),
        "reason": str(found.result_comment or ""),
    }


def _check_arc(raw: bytes, head: bytes, resolve: Resolve) -> dict[str, str]:
    if b"arc-seal" not in head.lower() or not header_values(head, "ARC-Seal"):
        return {"result": "none", "reason": ""}
    try:
        chain, _results, comment = _ArcMessage(raw, logger=_dkimpy_log).verify(dnsfunc=for_dkimpy(resolve))
    except TemporaryDNSError as exc:
        return {"result": "temperror", "reason": str(exc)}
    except Exception as exc:
        return {"result": "fail", "reason": f"{type(exc).__name__}: {exc}"[:200]}
    result = chain.decode("ascii") if isinstance(chain, bytes) else "none"
    return {"result": result, "reason": "" if comment == "success" else str(comment)[:200]}


def _results_header(
    checks: list[DkimCheck], spf_result: spf.SpfResult, dmarc: dict[str, str], arc: dict[str, str]
) -> str:
    """An RFC 8601 Authentication-Results value, for people and helpdesks (never added to the mail)."""
    key = (
        tuple((c.result, c.domain, c.selector) for c in checks),
        (spf_result.result, spf_result.domain),
        (dmarc.get("result") or "none", dmarc.get("header_from") or ""),
        arc.get("result") or "none",
        settings.INBOUND_DOMAIN,
    )
    named = [c.domain for c in checks] + [c.selector for c in checks] + [spf_result.domain, key[2][1]]
    small = len(checks) <= 8 and _keepable(*named)
    return (_results_header_of if small else _results_header_of.__wrapped__)(*key)


@functools.lru_cache(maxsize=1024)
def _results_header_of(
    checks: tuple[tuple[str, str, str], ...],
    spf_result: tuple[str, str],
    dmarc: tuple[str, str],
    arc: str,
    authserv_id: str,
) -> str:
    # A pure function of a few values that repeat from message to message: formatted once each.
    results: list[Any] = [
        DKIMAuthenticationResult(result=result, header_d=domain or None, header_s=selector or None)
        for result, domain, selector in checks
    ] or [DKIMAuthenticationResult(result="none")]
    results.append(SPFAuthenticationResult(result=spf_result[0], smtp_mailfrom=spf_result[1] or None))
    results.append(DMARCAuthenticationResult(result=dmarc[0], header_from=dmarc[1] or None))
    results.append(ARCAuthenticationResult(result=arc))
    header = str(AuthenticationResultsHeader(authserv_id=authserv_id, results=results))
    return header.removeprefix("Authentication-Results: ")

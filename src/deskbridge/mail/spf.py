"""SPF (RFC 7208 check_host) over an injectable resolver, for the SMTP receiver's verdict.

authheaders checks SPF only through pyspf, which deskbridge does not depend on; this is the part
of RFC 7208 that mail needs: ip4, ip6, a, mx, include, exists, all, redirect, macros, and the
limits of ten DNS-querying terms and two void lookups. `ptr` never matches (RFC 7208 §5.5 says it
SHOULD NOT be used); `exp=` is ignored (we only record the result, we explain nothing to anyone).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass

from deskbridge.mail.resolvers import Resolve, TemporaryDNSError

MAX_LOOKUPS = 10
MAX_VOID_LOOKUPS = 2
MAX_MX_HOSTS = 10
QUALIFIERS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
_RECORD = re.compile(r"^v=spf1(?: |$)", re.IGNORECASE)
_MODIFIER = re.compile(r"^([a-zA-Z][a-zA-Z0-9_.-]*)=(.*)$")
_MECHANISM = re.compile(r"^(all|include|a|mx|ptr|ip4|ip6|exists)(?=$|[:/])(.*)$", re.IGNORECASE)
_MACRO = re.compile(r"%(?:\{([slodiphcrtv])(\d*)(r?)([.+,/_=-]*)\}|(.))", re.IGNORECASE)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class SpfResult:
    result: str  # pass fail softfail neutral none permerror temperror
    domain: str  # the domain whose policy was checked (MAIL FROM's, or HELO's for bounces)
    reason: str


class _PermError(Exception):
    pass


def check_spf(ip: str, mail_from: str, helo: str, resolve: Resolve) -> SpfResult:
    """The SPF result for a client at `ip` sending as `mail_from` (or `postmaster@helo` for <>)."""
    sender = mail_from.strip() or f"postmaster@{helo.strip()}"
    local, at, domain = sender.rpartition("@")
    if not at:
        local, domain = "postmaster", sender
    domain = domain.strip().rstrip(".").lower()
    if not domain or "." not in domain:
        return SpfResult("none", domain, "no domain to check")
    address = _client_address(ip)
    if address is None:
        return SpfResult("none", domain, "no client address")
    check = _Check(address, local or "postmaster", domain, helo.strip(), resolve)
    try:
        result, reason = check.host(domain)
    except _PermError as exc:
        return SpfResult("permerror", domain, str(exc))
    except TemporaryDNSError as exc:
        return SpfResult("temperror", domain, str(exc))
    return SpfResult(result, domain, reason)


# Parsed once per distinct text: a few clients and the networks of a few SPF records, every message.
@functools.lru_cache(maxsize=1024)
def _client_address(ip: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


@functools.lru_cache(maxsize=4096)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text, strict=False)


class _Check:
    def __init__(self, ip: IPAddress, local: str, sender_domain: str, helo: str, resolve: Resolve) -> None:
        self.ip = ip
        self.local = local
        self.sender_domain = sender_domain
        self.helo = helo
        self.resolve = resolve
        self.lookups = 0
        self.void = 0

    # --- DNS, with the RFC's limits ---

    def _count(self) -> None:
        self.lookups += 1
        if self.lookups > MAX_LOOKUPS:
            raise _PermError(f"more than {MAX_LOOKUPS} DNS-querying terms")

    def _query(self, name: str, rdtype: str) -> list[str]:
        found = self.resolve(name, rdtype)
        if not found:
            self.void += 1
            if self.void > MAX_VOID_LOOKUPS:
                raise _PermError(f"more than {MAX_VOID_LOOKUPS} lookups found nothing")
        return found

    def _addresses(self, name: str) -> list[str]:
        rdtype = "A" if isinstance(self.ip, ipaddress.IPv4Address) else "AAAA"
        return self._query(name, rdtype)

    # --- check_host() ---

    def host(self, domain: str, depth: int = 0) -> tuple[str, str]:
        if depth > MAX_LOOKUPS:
            raise _PermError("include/redirect loop")
        records = [r for r in self._query(domain, "TXT") if _RECORD.match(r)]
        if not records:
            return "none", f"{domain} publishes no SPF record"
        if len(records) > 1:
            raise _PermError(f"{domain} publishes more than one SPF record")
        redirect = None
        for term in records[0].split()[1:]:
            modifier = _MODIFIER.match(term)
            if modifier and not _MECHANISM.match(term):
                if modifier.group(1).lower() == "redirect":
                    if redirect is not None:
                        raise _PermError("two redirect= modifiers")
                    redirect = modifier.group(2)
                continue  # exp= and unknown modifiers are ignored (RFC 7208 §6)
            qualifier = "+"
            if term[:1] in QUALIFIERS:
                qualifier, term = term[0], term[1:]
            if self._matches(term, domain, depth):
                return QUALIFIERS[qualifier], f"{domain}: matched {qualifier}{term}"
        if redirect is not None:
            self._count()
            target = self._expand(redirect, domain)
            result, reason = self.host(target, depth + 1)
            if result == "none":
                raise _PermError(f"redirect to {target}, which has no SPF record")
            return result, reason
        return "neutral", f"{domain}: no term matched"

    def _matches(self, term: str, domain: str, depth: int) -> bool:
        found = _MECHANISM.match(term)
        if not found:
            raise _PermError(f"unknown term {term!r}")
        name, rest = found.group(1).lower(), found.group(2)
        if name == "all":
            if rest:
                raise _PermError(f"bad term {term!r}")
            return True
        if name == "ip4" or name == "ip6":
            return self._in_network(rest, version=4 if name == "ip4" else 6)
        if name == "include":
            self._count()
            target = self._expand(self._argument(rest, term), domain)
            result, _ = self.host(target, depth + 1)
            if result == "pass":
                return True
            if result in {"fail", "softfail", "neutral"}:
                return False
            raise _PermError(f"include:{target} gave {result}")
        if name == "exists":
            self._count()
            target = self._expand(self._argument(rest, term), domain)
            return bool(self._query(target, "A"))
        if name == "ptr":
            self._count()
            return False
        spec, cidr4, cidr6 = self._split_cidr(rest)
        target = self._expand(spec, domain) if spec else domain
        self._count()
        if name == "a":
            return self._any_in(self._addresses(target), cidr4, cidr6)
        hosts = self._query(target, "MX")
        if len(hosts) > MAX_MX_HOSTS:
            raise _PermError(f"{target} has more than {MAX_MX_HOSTS} MX hosts")
        return any(self._any_in(self._addresses(h), cidr4, cidr6) for h in hosts)

    # --- terms' arguments ---

    @staticmethod
    def _argument(rest: str, term: str) -> str:
        if not rest.startswith(":") or len(rest) < 2:
            raise _PermError(f"bad term {term!r}")
        return rest[1:]

    @staticmethod
    def _split_cidr(rest: str) -> tuple[str, int | None, int | None]:
        found = re.match(r"^(?::([^/]+))?(?:/(\d+))?(?://(\d+))?$", rest)
        if not found:
            raise _PermError(f"bad domain or prefix length in {rest!r}")
        cidr4 = int(found.group(2)) if found.group(2) else None
        cidr6 = int(found.group(3)) if found.group(3) else None
        if (cidr4 is not None and cidr4 > 32) or (cidr6 is not None and cidr6 > 128):
            raise _PermError(f"prefix length out of range in {rest!r}")
        return found.group(1) or "", cidr4, cidr6

    def _in_network(self, rest: str, version: int) -> bool:
        if not rest.startswith(":"):
            raise _PermError(f"bad ip{version} term")
        try:
            network = _network(rest[1:])
        except ValueError:
            raise _PermError(f"bad ip{version} network {rest[1:]!r}") from None
        if network.version != version:
            raise _PermError(f"ip{version} with an IPv{network.version} network")
        return self.ip.version == version and self.ip in network

    def _any_in(self, addresses: list[str], cidr4: int | None, cidr6: int | None) -> bool:
        prefix = (cidr4 if cidr4 is not None else 32) if self.ip.version == 4 else (cidr6 or 128)
        for text in addresses:
            try:
                network = _network(f"{text}/{prefix}")
            except ValueError:
                continue
            if network.version == self.ip.version and self.ip in network:
                return True
        return False

    # --- macros (RFC 7208 §7) ---

    def _expand(self, spec: str, domain: str) -> str:
        def letter_value(letter: str) -> str:
            return {
                "s": f"{self.local}@{self.sender_domain}",
                "l": self.local,
                "o": self.sender_domain,
                "d": domain,
                "i": self._dotted_ip(),
                "p": "unknown",
                "v": "in-addr" if self.ip.version == 4 else "ip6",
                "h": self.helo or "unknown",
            }.get(letter, "")

        def replace(found: re.Match[str]) -> str:
            if found.group(5) is not None:
                escape = {"%": "%", "_": " ", "-": "%20"}.get(found.group(5))
                if escape is None:
                    raise _PermError(f"bad macro in {spec!r}")
                return escape
            value = letter_value(found.group(1).lower())
            delimiters = found.group(4) or "."
            parts = re.split("[" + re.escape(delimiters) + "]", value)
            if found.group(3):
                parts.reverse()
            if found.group(2):
                keep = int(found.group(2))
                if keep == 0:
                    raise _PermError(f"bad macro in {spec!r}")
                parts = parts[-keep:]
            return ".".join(parts)

        expanded = _MACRO.sub(replace, spec).rstrip(".")
        while len(expanded) > 253 and "." in expanded:
            expanded = expanded.split(".", 1)[1]
        if not expanded or ".." in expanded:
            raise _PermError(f"bad domain {spec!r}")
        return expanded

    def _dotted_ip(self) -> str:
        if self.ip.version == 4:
            return str(self.ip)
        return ".".join(self.ip.exploded.replace(":", ""))

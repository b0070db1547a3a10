"""DNS for mail authentication: the resolver function type, real DNS, and adapters for dkimpy/authheaders.

A resolver is a plain function `resolve(name, rdtype) -> list[str]`: TXT answers as text (a
record's strings joined), A/AAAA as addresses, MX as host names by preference. It returns [] when
the name or the record does not exist and raises `TemporaryDNSError` when DNS does not answer.
Production uses `dns_resolve` (dnspython); tests and the sandbox pass their own function.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import dns.exception
import dns.name
import dns.resolver

Resolve = Callable[[str, str], list[str]]

LOOKUP_SECONDS = 5.0


class TemporaryDNSError(Exception):
    """DNS did not answer (timeout, SERVFAIL): the verdict is 'try again later', not 'fail'."""


_local = threading.local()
_cache = dns.resolver.LRUCache(max_size=4096)


def _resolver() -> dns.resolver.Resolver:
    # dnspython resolvers are not documented as thread-safe: one per thread, one shared cache.
    resolver = getattr(_local, "resolver", None)
    if resolver is None:
        resolver = dns.resolver.Resolver()
        resolver.lifetime = LOOKUP_SECONDS
        resolver.cache = _cache
        _local.resolver = resolver
    return resolver


def dns_resolve(name: str, rdtype: str) -> list[str]:
    """Real DNS through the system's resolvers (dnspython), with a shared TTL-honouring cache."""
    return _answers(_resolver(), name, rdtype)


def _answers(resolver: dns.resolver.Resolver, name: str, rdtype: str) -> list[str]:
    try:
        answer = resolver.resolve(name.rstrip(".") + ".", rdtype, search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.YXDOMAIN):
        return []
    except (dns.exception.SyntaxError, dns.name.NameTooLong):
        return []  # a name that cannot exist has no records
    except dns.exception.DNSException as exc:  # timeouts, SERVFAIL from every server, no resolv.conf
        raise TemporaryDNSError(f"{rdtype} {name}: {type(exc).__name__}") from None
    if rdtype == "TXT":
        return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]
    if rdtype == "MX":
        return [str(r.exchange).rstrip(".") for r in sorted(answer, key=lambda r: r.preference)]
    return [r.to_text() for r in answer]


_ANSWERS_AT_ONCE: set[Resolve] = set()


def answers_at_once(resolve: Resolve) -> Resolve:
    """Marks a resolver that answers from memory, never waiting on the network (the sandbox's)."""
    _ANSWERS_AT_ONCE.add(resolve)
    return resolve


class AtHand:
    """A resolver limited to the answers it has at hand, so that a message can be checked on the
    receiver's event loop without waiting: real DNS from the shared cache only (positive and
    negative answers, within their TTL), a resolver marked `answers_at_once` as it is.

    A name that is not in the cache is answered [] and remembered in `missed`: the verdict reached
    with such an answer is thrown away and the message checked again in a thread, with real DNS
    (which fills the cache for the next message)."""

    def __init__(self, resolve: Resolve) -> None:
        self.resolve = resolve
        self.missed = False
        self.__name__ = getattr(resolve, "__name__", "custom")  # what a verdict records

    @classmethod
    def of(cls, resolve: Resolve) -> AtHand | None:
        """The at-hand form of `resolve`; None when it may wait (a resolver of unknown speed)."""
        return cls(resolve) if resolve is dns_resolve or resolve in _ANSWERS_AT_ONCE else None

    def __call__(self, name: str, rdtype: str) -> list[str]:
        if self.resolve is not dns_resolve:
            return self.resolve(name, rdtype)
        try:
            return _answers(_cache_only(), name, rdtype)
        except TemporaryDNSError:  # not in the cache: a query would have been sent
            self.missed = True
            return []


def _cache_only() -> dns.resolver.Resolver:
    """A resolver with no servers on the shared cache: it answers what the cache holds and fails
    (NoNameservers) for anything else, without sending a query."""
    resolver = getattr(_local, "cache_only", None)
    if resolver is None:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = []
        resolver.cache = _cache
        _local.cache_only = resolver
    return resolver


def for_dkimpy(resolve: Resolve) -> Callable[..., bytes | None]:
    """dkimpy's dnsfunc(name: bytes, timeout) -> the first TXT record as bytes, or None."""

    def txt(name: bytes | str, timeout: float = LOOKUP_SECONDS) -> bytes | None:
        text = name.decode("ascii", "replace") if isinstance(name, bytes) else name
        found = resolve(text, "TXT")
        return found[0].encode("utf-8") if found else None

    return txt


def for_authheaders(resolve: Resolve) -> Callable[[str], str | None]:
    """authheaders' dnsfunc(name) -> the one DMARC record at a _dmarc name (None for none or two)."""

    def txt(name: str) -> str | None:
        found = resolve(name, "TXT")
        dmarc = [r for r in found if r.startswith("v=DMARC1")]
        if len(dmarc) == 1:
            return dmarc[0]
        if not name.startswith("_dmarc.") and found:
            return found[0]
        return None

    return txt

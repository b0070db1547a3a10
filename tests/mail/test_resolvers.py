"""Real DNS (dnspython against a DNS server on loopback) and its at-hand form, which answers from
the cache only and never sends a query: what lets the receiver check a message on its event loop."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import dns.message
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.rrset
import pytest

from deskbridge.mail import authenticity, resolvers, smtpd
from deskbridge.mail.resolvers import AtHand, answers_at_once, dns_resolve
from deskbridge.pipeline.models import InboundMessage
from deskbridge.sandbox.amazon.mail import sandbox_resolve
from tests.conftest import make_tenant
from tests.mail.conftest import buyer_message, connect, send

RECORDS = {("_dmarc.amazon.example.", "TXT"): "v=DMARC1; p=reject"}


def published(name: str, rdtype: str) -> list[str]:
    """What the server publishes: RECORDS, and the sandbox Amazon's DKIM key, SPF and DMARC."""
    text = RECORDS.get((name, rdtype))
    return [text] if text else sandbox_resolve(name, rdtype)


class DNSServer:
    """A UDP DNS server on loopback that answers what is `published` (TTL 300), NXDOMAIN for
    anything else, and keeps the queries it gets."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.queries: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                wire, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(wire)
            if len(query.question) != 1:
                continue
            question = query.question[0]
            rdtype = dns.rdatatype.to_text(question.rdtype)
            self.queries.append(f"{question.name} {rdtype}")
            response = dns.message.make_response(query)
            texts = published(str(question.name), rdtype)
            if not texts:
                response.set_rcode(dns.rcode.NXDOMAIN)
            else:  # a TXT record's strings are at most 255 bytes each
                records = [" ".join(f'"{t[i : i + 255]}"' for i in range(0, len(t), 255)) for t in texts]
                response.answer.append(dns.rrset.from_text_list(question.name, 300, "IN", rdtype, records))
            self.sock.sendto(response.to_wire(), peer)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server(monkeypatch) -> Iterator[DNSServer]:
    """dns_resolve, in every thread, asking the server, on an empty shared cache."""
    running = DNSServer()
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = running.port
    resolver.lifetime = 5
    resolver.cache = resolvers._cache
    resolvers._cache.flush()
    monkeypatch.setattr(resolvers, "_resolver", lambda: resolver)
    yield running
    resolvers._cache.flush()
    running.close()


def test_at_hand_sends_no_query_and_says_it_missed(server):
    at_hand = AtHand.of(dns_resolve)
    assert at_hand is not None

    assert at_hand("_dmarc.amazon.example", "TXT") == []

    assert at_hand.missed
    assert server.queries == []


def test_after_a_real_lookup_the_answer_is_at_hand(server):
    assert dns_resolve("_dmarc.amazon.example", "TXT") == ["v=DMARC1; p=reject"]
    at_hand = AtHand(dns_resolve)

    assert at_hand("_dmarc.amazon.example.", "TXT") == ["v=DMARC1; p=reject"]

    assert not at_hand.missed
    assert server.queries == ["_dmarc.amazon.example. TXT"]


def test_a_name_that_does_not_exist_is_at_hand_once_looked_up(server):
    assert dns_resolve("nothing.amazon.example", "TXT") == []
    at_hand = AtHand(dns_resolve)

    assert at_hand("nothing.amazon.example", "TXT") == []

    assert not at_hand.missed
    assert server.queries == ["nothing.amazon.example. TXT"]


def test_only_resolvers_that_cannot_wait_have_an_at_hand_form():
    def slow(name: str, rdtype: str) -> list[str]:
        return []

    def local(name: str, rdtype: str) -> list[str]:
        return ["v=spf1 -all"] if rdtype == "TXT" else []

    assert AtHand.of(slow) is None  # a resolver of unknown speed is asked in a thread
    at_hand = AtHand.of(answers_at_once(local))
    assert at_hand is not None and at_hand("x.example", "TXT") == ["v=spf1 -all"]
    assert not at_hand.missed and at_hand.__name__ == "local"


def test_the_receiver_checks_in_a_thread_until_the_answers_are_at_hand(server, receiver, monkeypatch):
    """With real DNS, the first message is checked in a thread (its answers are not cached yet),
    the next on the event loop from the cache, sending no query; both verdicts are the same."""
    monkeypatch.setattr(authenticity, "default_resolver", lambda: dns_resolve)
    at_once: list[authenticity.Verdict | None] = []  # what each message's check on the loop gave
    real = smtpd._verdict_at_once

    def recording(*args):
        at_once.append(real(*args))
        return at_once[-1]

    monkeypatch.setattr(smtpd, "_verdict_at_once", recording)
    seller = connect(make_tenant())

    _, first = send(
        receiver, buyer_message(seller, order_id="302-0000000-0000001"), seller.forwarding_address
    )
    asked = list(server.queries)
    _, second = send(
        receiver, buyer_message(seller, order_id="302-0000000-0000002"), seller.forwarding_address
    )

    assert first[0] == second[0] == 250
    assert at_once == [None, at_once[1]] and at_once[1] is not None
    assert asked and server.queries == asked  # the second asked nothing
    rows = InboundMessage.objects.order_by("pk")
    assert [row.authentication["verdict"] for row in rows] == ["pass", "pass"]
    assert rows[0].authentication["resolver"] == rows[1].authentication["resolver"] == "dns_resolve"
    first_auth, second_auth = (
        {k: v for k, v in row.authentication.items() if k != "checked_at"} for row in rows
    )
    assert first_auth == second_auth

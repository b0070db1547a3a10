"""POST /intake/mime: raw MIME over HTTPS through the same acceptance code as SMTP."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from deskbridge.pipeline.models import InboundMessage
from tests.conftest import make_tenant
from tests.mail.conftest import DOMAIN, buyer_message, connect, plain_message, unsigned_amazon_message

SECRET = "intake-secret-for-tests-0123456789"
URL = "/intake/mime"


@pytest.fixture
def seller(db, settings):
    settings.INTAKE_SECRET = SECRET
    return connect(make_tenant())


def post(body: bytes, *, token: str | None = SECRET, query: str = "", **headers: str):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return Client().post(f"{URL}{query}", body, content_type="message/rfc822", headers=headers)


def test_the_url_is_named_intake_mime():
    assert reverse("intake_mime") == URL


def test_a_message_is_stored_and_answered_202_with_its_id(seller):
    raw = buyer_message(seller)

    response = post(raw, query=f"?rcpt={seller.forwarding_address}&mail_from=bounces@marketplace.amazon.de")

    assert response.status_code == 202
    row = InboundMessage.objects.get()
    assert response.json() == {"stored": [{"rcpt": seller.forwarding_address, "id": row.pk}], "refused": {}}
    assert bytes(row.raw) == raw
    assert row.organisation_id == seller.organisation_id and row.mail_from == "bounces@marketplace.amazon.de"
    assert row.authentication["via"] == "http" and row.authentication["verdict"] == "pass"
    assert row.authentication["spf"]["result"] == "none"  # the HTTP client is not the sending server
    seller.refresh_from_db()
    assert seller.last_message_at is not None


@pytest.mark.parametrize(
    "token", [None, "", "wrong-secret-of-the-same-length-000", SECRET + "x", SECRET[:-1], f"Basic {SECRET}"]
)
def test_a_missing_or_wrong_token_gets_401(seller, token):
    response = post(buyer_message(seller), token=token, query=f"?rcpt={seller.forwarding_address}")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not InboundMessage.objects.exists()


def test_everything_is_refused_while_no_secret_is_set(seller, settings):
    settings.INTAKE_SECRET = ""

    for token in ("", SECRET):
        assert (
            post(buyer_message(seller), token=token, query=f"?rcpt={seller.forwarding_address}").status_code
            == 401
        )
    assert not InboundMessage.objects.exists()


def test_a_message_over_the_size_limit_gets_413(seller, settings):
    settings.SMTP_MAX_SIZE = 4096

    response = post(
        plain_message(seller.forwarding_address, "x" * 5000), query=f"?rcpt={seller.forwarding_address}"
    )

    assert response.status_code == 413
    assert "4096" in response.json()["error"]
    assert not InboundMessage.objects.exists()


def test_an_unknown_recipient_gets_422(seller):
    response = post(plain_message(f"nobody@{DOMAIN}"), query=f"?rcpt=nobody@{DOMAIN}")

    assert response.status_code == 422
    assert response.json()["refused"][f"nobody@{DOMAIN}"].startswith("550 5.1.1")
    assert not InboundMessage.objects.exists()


def test_a_spoofed_amazon_message_gets_422_in_enforce_mode(seller):
    response = post(
        unsigned_amazon_message(seller.forwarding_address), query=f"?rcpt={seller.forwarding_address}"
    )

    assert response.status_code == 422
    assert "claims to be Amazon's" in response.json()["error"]
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize(
    "body", [b"", b'{"json": "is not a message"}', b"--boundary\r\nContent-Type: text/plain\r\n"]
)
def test_an_unreadable_body_gets_400(seller, body):
    response = post(body, query=f"?rcpt={seller.forwarding_address}")

    assert response.status_code == 400
    assert response.json()["error"].startswith("unreadable")


def test_no_recipient_gets_400(seller):
    response = post(buyer_message(seller).replace(b"\r\nTo:", b"\r\nX-To:"))

    assert response.status_code == 400
    assert response.json()["error"].startswith("no recipient")


def test_recipients_from_the_x_original_to_header(seller):
    other = connect(make_tenant())

    response = post(
        plain_message(seller.forwarding_address),
        **{"X-Original-To": f"{seller.forwarding_address}, {other.forwarding_address}"},
    )

    assert response.status_code == 202
    assert {r["rcpt"] for r in response.json()["stored"]} == {
        seller.forwarding_address,
        other.forwarding_address,
    }


def test_recipients_from_the_messages_own_x_original_to(seller):
    raw = (
        b"X-Original-To: "
        + seller.forwarding_address.upper().encode()
        + b"\r\n"
        + plain_message(seller.forwarding_address)
    )

    response = post(raw)

    assert response.status_code == 202
    assert InboundMessage.objects.get().rcpt_to == seller.forwarding_address


def test_known_recipients_are_stored_and_unknown_ones_reported(seller):
    response = post(
        plain_message(seller.forwarding_address),
        query=f"?rcpt={seller.forwarding_address}&rcpt=nobody@{DOMAIN}&rcpt=x@example.com",
    )

    assert response.status_code == 202
    body = response.json()
    assert [r["rcpt"] for r in body["stored"]] == [seller.forwarding_address]
    assert body["refused"][f"nobody@{DOMAIN}"].startswith("550 5.1.1")
    assert body["refused"]["x@example.com"].startswith("550 5.7.1 Relaying denied")


def test_only_post_is_allowed(seller):
    assert Client().get(URL, headers={"Authorization": f"Bearer {SECRET}"}).status_code == 405

"""`deskbridge sandbox buyer-message` and `sandbox sign`: realistic Amazon mail the receiver accepts."""

from __future__ import annotations

import email
import re
import subprocess
from email import policy

import pytest
from django.core.management import CommandError, call_command

from deskbridge.mail.authenticity import authenticate
from deskbridge.pipeline.models import InboundMessage
from deskbridge.sandbox.amazon import mail as sandbox_mail
from deskbridge.sandbox.amazon.mail import sandbox_resolve
from tests.conftest import make_tenant
from tests.mail.conftest import GERMANY, UNITED_STATES, connect
from tests.processes import command_env, deskbridge

ORDER = "302-1234567-7654321"


@pytest.fixture
def aimed(receiver, settings):
    """`sandbox buyer-message` sends to this installation's SMTP_HOST:SMTP_PORT: the test receiver."""
    settings.SMTP_HOST, settings.SMTP_PORT = "127.0.0.1", receiver.port
    return receiver


def buyer_message(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("sandbox", "buyer-message", *args, stdout=out)
    return out.getvalue()


def test_buyer_message_is_accepted_in_enforce_mode_by_the_running_receiver(aimed, settings, tmp_path):
    assert settings.INBOUND_AUTH == "enforce"
    seller = connect(make_tenant(), GERMANY)
    photo = tmp_path / "kaputt.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg \xff\xd9")

    printed = buyer_message(
        "--to",
        seller.forwarding_address,
        "--order",
        ORDER,
        "--text",
        "Das Paket kam beschädigt an.",
        "--attach",
        str(photo),
    )

    assert re.match(
        r"sent <.+@marketplace\.amazon\.de> to amz-de-\d+@deskbridge\.localhost: 250 2\.0\.0 Stored", printed
    )
    row = InboundMessage.objects.get()
    assert row.authentication["verdict"] == "pass" and row.authentication["mode"] == "enforce"
    assert row.organisation_id == seller.organisation_id
    message = email.message_from_bytes(bytes(row.raw), policy=policy.default)
    display, alias = message["From"].addresses[0].display_name, message["From"].addresses[0].addr_spec
    assert display.endswith(" - Amazon Marketplace")
    name = display.removesuffix(" - Amazon Marketplace")
    assert re.fullmatch(r"[a-z0-9]{15}@marketplace\.amazon\.de", alias)
    assert message["Subject"] == f"Frage von Amazon-Kunde {name} (Bestellung: {ORDER})"
    assert message["X-Space-Notification-Type"] == "BBC_MESSAGE_SENT_TO_MERCHANT"
    assert message["X-Marketplace-ID"] == GERMANY.id
    assert message["To"] == seller.forwarding_address
    assert message["Message-ID"] == row.message_id and message["Date"]
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert f"Order ID {ORDER}:\n1 of " in text and "[ASIN: B0" in text
    assert (
        "------------- Anfang der Nachricht -------------\n\nDas Paket kam beschädigt an.\n\n"
        "------------- Ende der Nachricht -------------"
    ) in text
    assert "Wichtiger Hinweis:" in text and "&mp=A1PA6795UKMFR9&" in text and "[commMgrTok:" in text
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "kaputt.jpg" and attachment.get_content_type() == "image/jpeg"
    assert attachment.get_content() == photo.read_bytes()


def test_the_buyer_alias_is_stable_per_seller_and_order(aimed):
    seller = connect(make_tenant(), UNITED_STATES)
    for order in (ORDER, ORDER, "111-0000000-0000001"):
        buyer_message("--to", seller.forwarding_address, "--order", order, "--text", "Hello?")

    aliases = [
        email.message_from_bytes(bytes(raw), policy=policy.default)["From"].addresses[0].addr_spec
        for raw in InboundMessage.objects.order_by("pk").values_list("raw", flat=True)
    ]
    assert aliases[0] == aliases[1] != aliases[2]
    assert all(a.endswith("@marketplace.amazon.com") for a in aliases)


@pytest.mark.parametrize(
    ("lang", "begin", "end", "subject"),
    [
        (
            "en",
            "------------- Begin message -------------",
            "------------- End message -------------",
            "Product details inquiry from Amazon customer {} (Order: {})",
        ),
        (
            "fr",
            "------------- Début du message -------------",
            "------------- Fin du message -------------",
            "Question du client Amazon {} (Commande : {})",
        ),
        (
            "it",
            "------------- Inizio messaggio -------------",
            "------------- Fine messaggio -------------",
            "Domanda dal cliente Amazon {} (Ordine: {})",
        ),
        (
            "es",
            "------------- Iniciar mensaje -------------",
            "------------- Finalizar mensaje -------------",
            "Consulta del cliente de Amazon {} (Pedido: {})",
        ),
        (
            "ja",
            "------------- メッセージはここから -------------",
            "------------- メッセージはここまで -------------",
            "Amazonのお客様 {} からの問い合わせ (注文番号: {})",
        ),
        (
            "pt",
            "------------- Mensagem:  -------------",
            "------------- Encerrar mensagem -------------",
            "Pergunta do cliente da Amazon {} (Pedido: {})",
        ),
    ],
)
def test_each_language_has_its_markers_and_subject(db, lang, begin, end, subject):
    seller = connect(make_tenant(), GERMANY)
    composed = sandbox_mail.compose_buyer_message(
        to=seller.forwarding_address,
        marketplace=GERMANY,
        seller_id="A2SELLER",
        order_id=ORDER,
        text="Hi",
        language=lang,
        name="Kim",
    )

    parsed = email.message_from_bytes(composed.as_bytes(), policy=policy.default)
    text = parsed.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert parsed["Subject"] == subject.format("Kim", ORDER)
    assert f"{begin}\n\nHi\n\n{end}" in text
    assert (f"# {ORDER}:\n1 / " if lang == "pt" else f"Order ID {ORDER}:\n1 of ") in text


def test_buyer_message_refuses_an_address_that_is_not_ours(aimed):
    with pytest.raises(CommandError, match="is not a forwarding address of this installation"):
        buyer_message("--to", "nobody@deskbridge.localhost", "--order", ORDER, "--text", "hi")


def test_buyer_message_refuses_a_malformed_order_id(aimed):
    seller = connect(make_tenant())
    with pytest.raises(CommandError, match="is not an Amazon order id"):
        buyer_message("--to", seller.forwarding_address, "--order", "12345", "--text", "hi")


def test_buyer_message_says_when_no_receiver_listens(db, settings):
    seller = connect(make_tenant())
    settings.SMTP_HOST, settings.SMTP_PORT = "127.0.0.1", 9  # discard: nothing listens

    with pytest.raises(CommandError, match=r"could not deliver to the SMTP receiver at 127\.0\.0\.1:9 "):
        buyer_message("--to", seller.forwarding_address, "--order", ORDER, "--text", "hi")


SAMPLE = (
    b"From: Cherri - Amazon Marketplace <th6wqr1vf6dr43f@marketplace.amazon.com>\n"
    b"To: amz-us-1@deskbridge.localhost\n"
    b"Subject: Product details inquiry from Amazon customer Cherri (Order: 111-3958185-1645065)\n"
    b"Message-ID: <sample-1@marketplace.amazon.com>\n"
    b"X-Space-Notification-Type: BBC_MESSAGE_SENT_TO_MERCHANT\n"
    b"\n"
    b"------------- Begin message -------------\n\nIs this in stock?\n\n------------- End message -------------\n"
)


def test_sandbox_sign_output_verifies_with_the_sandbox_resolver(db):
    result = subprocess.run(
        [*deskbridge_argv(), "sandbox", "sign"],
        input=SAMPLE,
        capture_output=True,
        env=command_env(),
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr.decode()
    signed = result.stdout
    assert signed.startswith(b"DKIM-Signature: ") and signed.endswith(SAMPLE)
    assert b"\r\n" not in signed  # the sample's own line ends are kept
    verdict = authenticate(signed, resolve=sandbox_resolve)
    assert verdict.verdict == "pass"
    assert [(c.domain, c.result, c.aligned) for c in verdict.dkim] == [
        ("marketplace.amazon.com", "pass", True)
    ]


def test_sandbox_sign_refuses_a_message_not_from_amazon(db):
    sample = SAMPLE.replace(b"th6wqr1vf6dr43f@marketplace.amazon.com", b"shop@example.org")
    result = subprocess.run(
        [*deskbridge_argv(), "sandbox", "sign"],
        input=sample,
        capture_output=True,
        env=command_env(),
        timeout=60,
        check=False,
    )

    assert result.returncode != 0 and result.stdout == b""
    assert b"not an Amazon address" in result.stderr


def deskbridge_argv() -> list[str]:
    import sys

    return [sys.executable, "-m", "deskbridge"]


def test_the_sandbox_command_lists_its_subcommands():
    process = deskbridge("sandbox", "--help", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, _ = process.communicate(timeout=60)
    assert b"{serve,buyer-message,sign}" in out

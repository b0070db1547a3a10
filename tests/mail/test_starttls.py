"""STARTTLS: offered when a certificate is configured (made here, self-signed), absent otherwise."""

from __future__ import annotations

import datetime
import smtplib
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from deskbridge.errors import SettingsError
from deskbridge.mail.smtpd import Receiver
from deskbridge.pipeline.models import InboundMessage
from tests.conftest import make_tenant
from tests.mail.conftest import DOMAIN, buyer_message, connect, running_receiver


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"mx.{DOMAIN}")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(f"mx.{DOMAIN}")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_starttls_is_offered_with_a_certificate_and_mail_goes_through_it(
    transactional_db, settings, tmp_path
):
    settings.SMTP_TLS_CERT, settings.SMTP_TLS_KEY = (str(p) for p in self_signed(tmp_path))
    seller = connect(make_tenant())
    with running_receiver() as receiver:
        client = smtplib.SMTP("127.0.0.1", receiver.port, timeout=60)
        client.ehlo("mx.test.example")
        assert client.has_extn("starttls")
        context = ssl.create_default_context(cafile=settings.SMTP_TLS_CERT)
        context.check_hostname = False  # the certificate names mx.deskbridge.localhost, we dial 127.0.0.1
        code, _ = client.starttls(context=context)
        assert code == 220
        assert client.sock.version() in {"TLSv1.2", "TLSv1.3"}
        peer = x509.load_der_x509_certificate(client.sock.getpeercert(binary_form=True))
        assert peer.subject.rfc4514_string() == f"CN=mx.{DOMAIN}"
        client.ehlo("mx.test.example")
        assert not client.has_extn("starttls")
        client.sendmail("bounces@marketplace.amazon.de", [seller.forwarding_address], buyer_message(seller))
        client.quit()
    assert InboundMessage.objects.get().authentication["verdict"] == "pass"


def test_no_starttls_without_a_certificate(receiver):
    client = smtplib.SMTP("127.0.0.1", receiver.port, timeout=30)
    try:
        client.ehlo("mx.test.example")
        assert not client.has_extn("starttls")
        assert client.docmd("STARTTLS")[0] == 454
    finally:
        client.close()


def test_an_unreadable_certificate_is_a_clear_settings_error(settings, tmp_path):
    settings.SMTP_TLS_CERT = str(tmp_path / "missing.crt")

    with pytest.raises(SettingsError, match="DESKBRIDGE_SMTP_TLS_CERT"):
        Receiver(port=0)

"""The alert e-mail sender against a real SMTP server on loopback (aiosmtpd): STARTTLS with the
server's certificate verified against a given CA, login, UTF-8 Vietnamese, and refusals that become
retryable delivery failures without a full address in them."""

from __future__ import annotations

import datetime as dt
import ssl

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.publish import storage_alerts as A
from services.publish.domain.alerts import AtRiskFacts, Finding, Send, UnitFacts, alert_document
from services.publish.domain.documents import canonical_json
from services.publish.domain.subscriptions import DeliveryFailed, Outgoing
from services.publish.mail_client import MailSettings, SmtpSender
from services.shared.db import Database, migrate
from tests.integration.test_alerts import Inbox, free_port

ADDRESS = "chanh.vanphong@phutho.gov.vn"


def self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "smtp.pem", tmp_path / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def item(delivery_id="d-1"):
    facts = UnitFacts("H25", "UBND tỉnh Phú Thọ", "2026-08", "80.30", "GOOD", 25, 25,
                      AtRiskFacts(3, "80.30", "GOOD", "77.77", "FAIR", 3, ()))
    finding = Finding("projection_below_band", True, "UBND tỉnh Phú Thọ: có thể xuống mức Khá", "…", "…")
    doc = alert_document("a-1", Send("projection_below_band", "OPEN", finding), facts, "email",
                         "2026-08-27T03:00:00Z", "https://chiso.example.vn")
    return Outgoing(delivery_id, "email", 1, 3, canonical_json(doc), "application/vnd.chiso.alert+json", b"", "k")


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'mail.db'}"
    migrate(url)
    database = Database(url)
    with database.write() as conn:
        A.add_recipient(conn, "H25", ADDRESS, 1)
    yield database
    database.dispose()


def test_starttls_with_a_verified_certificate_and_login(tmp_path, db):
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins = []

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret"
        logins.append((mechanism, ok))
        return AuthResult(success=ok)

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, server_hostname="localhost",
                            tls_context=context, require_starttls=True, authenticator=authenticate,
                            auth_require_tls=True)
    controller.start()
    try:
        settings = MailSettings("localhost", port, starttls=True, username="chiso", password="s3cret",  # noqa: S106
                                sender="chiso@phutho.gov.vn", ca_file=str(cert))
        SmtpSender(settings, db).send(item(), timeout=10)
        assert logins and all(ok for _, ok in logins)
        (msg,) = inbox.messages
        assert msg["Subject"] == "[Chỉ số 766] UBND tỉnh Phú Thọ: có thể xuống mức Khá"
        assert msg["Message-ID"] == "<d-1@chiso>" and inbox.envelopes[0][1] == [ADDRESS]
        # without STARTTLS the server refuses: a failure to retry, addresses masked in it
        with pytest.raises(DeliveryFailed) as failed:
            SmtpSender(MailSettings("localhost", port), db).send(item("d-2"), timeout=10)
        assert "smtp" in str(failed.value) and ADDRESS not in str(failed.value)
        # a certificate nobody vouches for is refused too
        with pytest.raises(DeliveryFailed):
            SmtpSender(MailSettings("localhost", port, starttls=True), db).send(item("d-3"), timeout=10)
        assert len(inbox.messages) == 1
    finally:
        controller.stop()


def test_a_refused_recipient_is_a_failure_without_the_address(db):
    class Refusing(Inbox):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
            return f"550 5.1.1 <{address}>: mailbox unavailable"

    inbox, port = Refusing(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with pytest.raises(DeliveryFailed) as failed:
            SmtpSender(MailSettings("127.0.0.1", port), db).send(item(), timeout=10)
        assert "SMTPRecipientsRefused" in str(failed.value)
        assert ADDRESS not in str(failed.value) and "c***@p***.vn" in str(failed.value)
    finally:
        controller.stop()


def test_no_recipients_left_sends_nothing(db):
    with db.write() as conn:
        A.remove_recipient(conn, "H25", ADDRESS)
    SmtpSender(MailSettings("127.0.0.1", free_port()), db).send(item(), timeout=1)  # no connection made

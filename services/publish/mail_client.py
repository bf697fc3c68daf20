"""Sends alert deliveries of the reserved ``email`` subscription by e-mail (the PortalSender port).

Standard library only (``smtplib``): plain SMTP or STARTTLS, optional login. One message per delivery
to the unit's recipients as they are when it is sent, in Vietnamese, UTF-8 (``email_text``), with the
delivery id as its Message-ID (a mail client shows a message re-sent after a crash as the same one).
Failures raise ``DeliveryFailed`` — retried with backoff, set aside after the bound, replayable, like
a portal's deliveries. Addresses never reach a log line or a stored error in full (``mask_address``).
"""

from __future__ import annotations

import json
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

import structlog

from services.publish.domain.alerts import email_text, mask_address
from services.publish.domain.subscriptions import DeliveryFailed, Outgoing
from services.shared.db import Database

log = structlog.get_logger("chiso.publish.mail")
_ADDRESS = re.compile(r"[^\s<>\"'@,;:]+@[^\s<>\"'@,;:]+")


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int = 25
    starttls: bool = False
    username: str = ""
    password: str = ""  # noqa: S105 — a setting, empty by default
    sender: str = "chiso@localhost"
    ca_file: str = ""


def scrub(text: str) -> str:
    """``text`` with every e-mail address in it masked."""
    return _ADDRESS.sub(lambda m: mask_address(m.group(0)), text)


class SmtpSender:
    def __init__(self, settings: MailSettings, db: Database) -> None:
        self.settings = settings
        self.db = db

    def _recipients(self, unit_code: str) -> list[str]:
        from services.publish import storage_alerts as A

        with self.db.read() as conn:
            return A.addresses_of(conn, unit_code)

    def send(self, item: Outgoing, timeout: float) -> None:
        doc = json.loads(item.payload)
        unit = doc["unit"]["code"]
        to = self._recipients(unit)
        if not to:
            log.info("alert not e-mailed: the unit has no recipients now", delivery_id=item.delivery_id,
                     unit_code=unit)
            return
        subject, body = email_text(doc)
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = self.settings.sender
        msg["To"] = ", ".join(to)
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = f"<{item.delivery_id}@chiso>"
        msg["X-Chiso-Delivery-Id"] = item.delivery_id
        msg["X-Chiso-Alert-Id"] = doc["alertId"]
        msg.set_content(body, charset="utf-8")
        s = self.settings
        try:
            with smtplib.SMTP(s.host, s.port, timeout=timeout) as smtp:
                if s.starttls:
                    smtp.starttls(context=ssl.create_default_context(cafile=s.ca_file or None))
                if s.username:
                    smtp.login(s.username, s.password)
                refused = smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(scrub(f"smtp: {type(exc).__name__}: {exc}")[:1000]) from None
        log.info("alert e-mailed", delivery_id=item.delivery_id, unit_code=unit, alert_id=doc["alertId"],
                 recipients=[mask_address(a) for a in to], refused=len(refused))

    def close(self) -> None:
        pass

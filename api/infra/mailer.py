"""Sending email: SMTP when configured, else (development) a local mailbox folder.

The Message-ID is derived from the job that sends the message, so a job retried
after a crash sends a message that mail systems can recognise as a duplicate."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from api.settings import Settings

log = logging.getLogger("glassshop.mail")


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    text: str
    key: str  # stable per job: becomes the Message-ID

    def message(self, sender: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = sender
        message["To"] = self.to
        message["Subject"] = self.subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        # The same for every attempt of one job, unlike make_msgid's random part.
        message["Message-ID"] = f"<{self.key}@glassshop.mail>"
        # Plain 7-bit when possible, so links in the raw message can be copied as they are.
        message.set_content(self.text, cte="7bit" if self.text.isascii() else "quoted-printable")
        return message


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def send(self, mail: Mail) -> None:
        message = mail.message(self._settings.mail_from)
        if self._settings.smtp_host:
            await asyncio.to_thread(self._send_smtp, message)
        else:
            await asyncio.to_thread(self._write_to_mailbox, mail, message)

    def _send_smtp(self, message: EmailMessage) -> None:
        s = self._settings
        assert s.smtp_host is not None
        smtp: smtplib.SMTP
        if s.smtp_tls == "ssl":
            context = ssl.create_default_context()
            smtp = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds, context=context
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
        with smtp:
            if s.smtp_tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if s.smtp_username and s.smtp_password:
                smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
            smtp.send_message(message)

    def _write_to_mailbox(self, mail: Mail, message: EmailMessage) -> None:
        folder = self._settings.mailbox_dir
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{mail.key}.eml"
        path.write_bytes(bytes(message))
        # Development only (production requires SMTP): the newcomer clicks the link here.
        log.info("email to %s (%s) written to %s:\n%s", mail.to, mail.subject, path, mail.text)

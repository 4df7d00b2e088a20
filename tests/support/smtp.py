"""A real SMTP server for the tests: aiosmtpd on a free loopback port, keeping what it receives.

The worker talks to it over a real socket exactly as it would to a mail relay. The
server can also misbehave on purpose: answer the end of the first session with an
error after it has accepted the message (so the sender cannot know the mail went
out), or hold that session open (so a test can kill the sender mid-send)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

LINK = re.compile(r"https?://\S+")
WAIT_SECONDS = 20.0


@dataclass(frozen=True)
class CapturedMail:
    """One message as the SMTP server received it (envelope and parsed content)."""

    mail_from: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def text(self) -> str:
        body = self.message.get_body(("plain",))
        assert body is not None, self.message
        content = body.get_content()
        assert isinstance(content, str)
        return content

    def links(self) -> list[str]:
        return LINK.findall(self.text)

    def link(self, path: str) -> str:
        """The one link in the text whose path is `path`."""
        found = [link for link in self.links() if urlsplit(link).path == path]
        assert len(found) == 1, (path, self.text)
        return found[0]

    def token(self, path: str) -> str:
        """The `token` query parameter of the link to `path`."""
        values = parse_qs(urlsplit(self.link(path)).query)["token"]
        assert len(values) == 1, values
        return values[0]


class MailCapture:
    """aiosmtpd handler: accepts every message and keeps it (thread-safe reads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mails: list[CapturedMail] = []
        self._fail_next_quit = False
        self._hold_next_quit = False
        self.holding = threading.Event()  # set while a session is held at QUIT
        self._release = threading.Event()

    # --- aiosmtpd hooks (run on the server's event loop) ---

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        data = raw if isinstance(raw, bytes) else str(raw).encode()
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        mail = CapturedMail(
            mail_from=str(envelope.mail_from),
            recipients=tuple(str(r) for r in envelope.rcpt_tos),
            message=message,
        )
        with self._lock:
            self._mails.append(mail)
        return "250 Message accepted for delivery"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            fail, self._fail_next_quit = self._fail_next_quit, False
            hold, self._hold_next_quit = self._hold_next_quit, False
        if hold:
            self.holding.set()
            await asyncio.to_thread(self._release.wait, 60)
        if fail:
            return "421 Service closing transmission channel"
        return "221 Bye"

    # --- what the tests use ---

    def fail_next_quit(self) -> None:
        """The next session's message is accepted, then its QUIT is answered with 421:
        smtplib raises, so the sender believes the sending failed though it went out."""
        with self._lock:
            self._fail_next_quit = True

    def hold_next_quit(self) -> None:
        """The next session's message is accepted, then its QUIT gets no answer until
        `release()`: the sender is stuck after the mail went out (see `holding`)."""
        with self._lock:
            self._hold_next_quit = True

    def release(self) -> None:
        self._release.set()

    def clear(self) -> None:
        with self._lock:
            self._mails.clear()
            self._fail_next_quit = self._hold_next_quit = False

    @property
    def mails(self) -> list[CapturedMail]:
        with self._lock:
            return list(self._mails)

    def to(self, address: str, *, subject: str | None = None) -> list[CapturedMail]:
        """The messages whose envelope names `address` (and with `subject`, if given)."""
        return [
            mail
            for mail in self.mails
            if address in mail.recipients and (subject is None or mail.subject == subject)
        ]

    async def wait_for(
        self,
        count: int,
        *,
        to: str | None = None,
        subject: str | None = None,
        within: float = WAIT_SECONDS,
    ) -> list[CapturedMail]:
        """At least `count` messages (to `to`, with `subject`), waiting up to `within` s."""
        deadline = time.monotonic() + within
        while True:
            mails = self.to(to, subject=subject) if to is not None else self.mails
            if len(mails) >= count:
                return mails
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} email(s) to {to or 'anyone'} ({subject or 'any subject'})"
                    f" within {within}s; got {[(m.recipients, m.subject) for m in self.mails]}"
                )
            await asyncio.sleep(0.05)

    async def wait_for_one(
        self, to: str, *, subject: str | None = None, within: float = WAIT_SECONDS
    ) -> CapturedMail:
        """The first message to `to` (with `subject`, if given)."""
        return (await self.wait_for(1, to=to, subject=subject, within=within))[0]


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    capture: MailCapture


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    """A running SMTP server on 127.0.0.1 (plain, no TLS, no auth), stopped on exit."""
    capture = MailCapture()
    for attempt in range(5):
        port = _free_loopback_port()
        controller = Controller(capture, hostname="127.0.0.1", port=port, ready_timeout=10)
        try:
            controller.start()
        except OSError:
            # The port was free when chosen but taken before the server bound it.
            if attempt == 4:
                raise
            continue
        break
    try:
        yield SmtpServer("127.0.0.1", port, capture)
    finally:
        capture.release()
        controller.stop()

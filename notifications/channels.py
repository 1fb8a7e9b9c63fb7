"""Delivery channels for reminder notifications: email building, iCalendar, SMTP and an outbox.

A :class:`Message` is what the reminder engine wants delivered; a channel delivers it.
Delivery is made safe to repeat by the message's ``idempotency_key``: the email's
``Message-ID`` is derived from it (so a resend after a crash carries the same
Message-ID and mail clients fold the two together) and the outbox names its file
after it (so a resend overwrites rather than duplicates).

This module is a pure adapter: it imports neither SQLAlchemy nor ``workflow``.
"""

from __future__ import annotations

import email.policy
import email.utils
import hashlib
import os
import re
import smtplib
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # icalendar is imported by the first invitation: most commands send none
    import icalendar

__all__ = [
    "Attachment",
    "Channel",
    "Message",
    "OutboxChannel",
    "PartiallyRefused",
    "SmtpChannel",
    "build_email",
    "channel_from_env",
    "meeting_ics",
    "message_id_for",
]

DEFAULT_SENDER = "collab@localhost"
FALLBACK_DOMAIN = "collab.invalid"
MEETING_ZONE = ZoneInfo("Europe/London")
PRODID = "-//collab//reminders//EN"
KEY_HEADER = "X-Collab-Key"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Message:
    to: tuple[str, ...]
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()
    idempotency_key: str = ""


# --------------------------------------------------------------------------- email


def _domain(sender: str) -> str:
    """The domain of `sender`'s address when it has a dotted one, else 'collab.invalid'."""
    _, address = email.utils.parseaddr(sender)
    _, at, domain = address.rpartition("@")
    domain = domain.strip().lower()
    if at and "." in domain and re.fullmatch(r"[a-z0-9.-]+", domain):
        return domain
    return FALLBACK_DOMAIN


def message_id_for(idempotency_key: str, sender: str = "") -> str:
    """The Message-ID for a key: the same key (and sender domain) always gives the same id."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]  # 128 bits
    return f"<collab.{digest}@{_domain(sender)}>"


def build_email(message: Message, sender: str) -> EmailMessage:
    """A multipart/alternative (text, then HTML) email, inside multipart/mixed when there are attachments."""
    if not message.to:
        raise ValueError("a message needs at least one recipient")
    for field, value in (("subject", message.subject), ("idempotency_key", message.idempotency_key)):
        if "\r" in value or "\n" in value:
            raise ValueError(f"message {field} must be a single line: {value!r}")
    msg = EmailMessage(policy=email.policy.default)
    msg["From"] = sender
    msg["To"] = ", ".join(message.to)
    msg["Subject"] = message.subject
    msg["Date"] = email.utils.format_datetime(datetime.now(timezone.utc))
    if message.idempotency_key:
        msg["Message-ID"] = message_id_for(message.idempotency_key, sender)
        msg[KEY_HEADER] = message.idempotency_key
    else:
        msg["Message-ID"] = email.utils.make_msgid(domain=_domain(sender))
    msg.set_content(message.text)
    msg.add_alternative(message.html, subtype="html")
    for attachment in message.attachments:
        _attach(msg, attachment)
    return msg


def _attach(msg: EmailMessage, attachment: Attachment) -> None:
    header = EmailMessage(policy=email.policy.default)
    header["Content-Type"] = attachment.content_type
    maintype, subtype = header.get_content_maintype(), header.get_content_subtype()
    params = dict(header["Content-Type"].params)
    if maintype == "multipart":
        raise ValueError(f"attachment {attachment.filename!r}: multipart content type not allowed")
    if maintype == "text" and "charset" not in params:
        try:
            attachment.data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            params["charset"] = "utf-8"
    msg.add_attachment(
        attachment.data, maintype=maintype, subtype=subtype, params=params, filename=attachment.filename
    )


# --------------------------------------------------------------------------- iCalendar


def meeting_ics(
    *,
    uid: str,
    summary: str,
    starts: datetime,
    duration: timedelta = timedelta(hours=2),
    description: str = "",
    organizer: str | None = None,
    attendees: Sequence[str] = (),
    stamp: datetime | None = None,
    location: str | None = None,
    sequence: int = 0,
    method: str = "PUBLISH",
) -> Attachment:
    """An iCalendar file with one event, for attaching to a reminder.

    A naive `starts` is taken as UK local time; an aware one is shown in UK time.
    `uid` must be stable for the meeting so that calendars update rather than duplicate it.
    `stamp` (DTSTAMP) defaults to now. A changed meeting is sent with its `sequence` of changes (RFC 5546):
    method REQUEST for a moved one (its new DTSTART), CANCEL for a cancelled one (STATUS:CANCELLED).
    """
    if not uid:
        raise ValueError("meeting_ics needs a non-empty uid")
    if duration <= timedelta(0):
        raise ValueError(f"meeting duration must be positive, got {duration}")
    start = starts.replace(tzinfo=MEETING_ZONE) if starts.tzinfo is None else starts.astimezone(MEETING_ZONE)
    end = start + duration  # wall-clock arithmetic in Europe/London, as a calendar would do
    stamp = (stamp or datetime.now(timezone.utc)).astimezone(timezone.utc)

    import icalendar

    can_add_timezones = hasattr(icalendar.Calendar, "add_missing_timezones")  # icalendar >= 6.1
    if not can_add_timezones:  # pragma: no cover - older icalendar: use UTC rather than an undefined TZID
        start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", summary)
    if location:
        event.add("location", location)
    if sequence:
        event.add("sequence", sequence)
    if method == "CANCEL":
        event.add("status", "CANCELLED")
    if description:
        event.add("description", description)
    if organizer:
        event.add("organizer", _cal_address(organizer))
    for attendee in attendees:
        event.add("attendee", _cal_address(attendee))
    calendar.add_component(event)
    if can_add_timezones:
        # a VTIMEZONE covering the year either side of the meeting: small, and right beyond 2038
        calendar.add_missing_timezones(
            first_date=start.date() - timedelta(days=366), last_date=end.date() + timedelta(days=366)
        )
    return Attachment(filename="meeting.ics", content_type=f"text/calendar; method={method}", data=calendar.to_ical())


def _cal_address(address: str) -> icalendar.vCalAddress:
    import icalendar

    name, mail = email.utils.parseaddr(address)
    value = icalendar.vCalAddress(f"mailto:{mail or address}")
    if name:
        value.params["CN"] = icalendar.vText(name)
    return value


# --------------------------------------------------------------------------- channels


@runtime_checkable
class Channel(Protocol):
    def send(self, message: Message) -> None: ...


class PartiallyRefused(smtplib.SMTPRecipientsRefused):
    """The server accepted the message for some recipients and refused the others.

    ``recipients`` maps each refused address to (code, response), as smtplib does;
    the message *was* delivered to the rest.
    """


class SmtpChannel:
    """Send through an SMTP server, one connection per message."""

    def __init__(self, host: str, port: int, sender: str, timeout: float = 30):
        self.host = host
        self.port = port
        self.sender = sender
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"SmtpChannel({self.host!r}, {self.port!r}, sender={self.sender!r})"

    def send(self, message: Message) -> None:
        msg = build_email(message, self.sender)
        _, envelope_from = email.utils.parseaddr(self.sender)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            refused = smtp.send_message(msg, from_addr=envelope_from or self.sender, to_addrs=list(message.to))
        if refused:
            raise PartiallyRefused(refused)


def _slug(text: str, limit: int = 60) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "message"


class OutboxChannel:
    """Write each message as an .eml file in a directory (for development, tests and air-gapped sites).

    The file is named ``<slug>-<hash>.eml`` where both parts come from the idempotency key,
    so a resend replaces the earlier file. Files are written atomically: a reader never
    sees a half-written .eml (temporary files start with '.' and end in '.tmp').
    A message without a key gets a unique name.
    """

    def __init__(self, directory: Path, sender: str):
        self.directory = Path(directory)
        self.sender = sender

    def __repr__(self) -> str:
        return f"OutboxChannel({str(self.directory)!r}, sender={self.sender!r})"

    def path_for(self, message: Message) -> Path:
        if message.idempotency_key:
            digest = hashlib.sha256(message.idempotency_key.encode("utf-8")).hexdigest()[:16]
            return self.directory / f"{_slug(message.idempotency_key)}-{digest}.eml"
        return self.directory / f"{_slug(message.subject)}-{uuid.uuid4().hex}.eml"

    def send(self, message: Message) -> None:
        data = build_email(message, self.sender).as_bytes()  # LF line ends, as files on this host
        target = self.path_for(message)
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=self.directory, prefix=f".{target.stem}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, 0o644)
            os.replace(temp, target)
        except BaseException:
            try:
                os.unlink(temp)
            except FileNotFoundError:
                pass
            raise
        _fsync_directory(self.directory)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some filesystems refuse
        pass
    finally:
        os.close(fd)


def _parse_smtp(value: str) -> tuple[str, int]:
    expected = "COLLAB_SMTP must be HOST:PORT, e.g. 'mail.example.org:25' or '[::1]:25'"
    host, colon, port_text = value.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not colon or not host or not re.fullmatch(r"[0-9]{1,5}", port_text):
        raise ValueError(f"{expected}; got {value!r}")
    port = int(port_text)
    if not 0 < port < 65536:
        raise ValueError(f"{expected} with PORT from 1 to 65535; got {value!r}")
    return host, port


def channel_from_env(environ: Mapping[str, str], default_outbox: Path) -> Channel:
    """The channel configured by the environment.

    ``COLLAB_SMTP=host:port`` sends through SMTP; otherwise ``COLLAB_OUTBOX=DIR`` writes to an
    outbox in DIR; otherwise an outbox in `default_outbox`. ``COLLAB_MAIL_FROM`` is the sender
    (default 'collab@localhost'). A variable set to an empty string counts as unset.
    """
    sender = environ.get("COLLAB_MAIL_FROM", "").strip() or DEFAULT_SENDER
    smtp = environ.get("COLLAB_SMTP", "").strip()
    if smtp:
        host, port = _parse_smtp(smtp)
        return SmtpChannel(host, port, sender)
    outbox = environ.get("COLLAB_OUTBOX", "").strip()
    return OutboxChannel(Path(outbox) if outbox else Path(default_outbox), sender)

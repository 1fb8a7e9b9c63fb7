"""Notification rendering (jinja2, sandboxed, strict) and delivery channels (SMTP, outbox)."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from aiosmtpd.controller import Controller

from notifications.channels import (
    Channel,
    Message,
    OutboxChannel,
    PartiallyRefused,
    SmtpChannel,
    build_email,
    channel_from_env,
    meeting_ics,
)
from notifications.render import (
    DEFAULT_DIRECTORY,
    KINDS,
    Rendered,
    TemplateError,
    Templates,
    load_templates,
)
from workflow.formatting import FILTERS, format_date, format_number, format_quantity

LONDON = ZoneInfo("Europe/London")
PROJECT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- contexts


def board():
    return {"name": "Joint Collaboration Board", "partner": "Avon and Somerset Police"}


def meeting():
    return {"starts": datetime(2027, 1, 5, 14, 30, tzinfo=LONDON), "date": date(2027, 1, 5)}


def collaboration():
    return {"key": "CC-2025-007", "title": "Shared firearms licensing"}


def benefit(**changes):
    value = {
        "id": "B-12",
        "title": "Licence processing time",
        "measure": "Staff hours per 100 licences",
        "unit": "hours",
        "baseline": 2400,
        "target": 1250.5,
        "latest": 1834.0,
        "latest_on": date(2026, 10, 1),
    }
    value.update(changes)
    return value


def agenda_context(**review_changes):
    first = {
        "benefit_id": "B-12",
        "title": "Licence processing time",
        "category": "efficiency",
        "owner": "Tom Reid",
        "status": "awaiting figure",
        "last_measured_on": date(2026, 10, 1),
        "latest": 1834.0,
        "unit": "hours",
        "target": 1250.5,
    }
    first.update(review_changes)
    return {
        "board": board(),
        "recipient": {"name": "Priya Shah", "email": "priya.shah@example.police.uk"},
        "meeting": meeting(),
        "collaborations": [
            {
                "key": "CC-2025-007",
                "title": "Shared firearms licensing",
                "reviews": [
                    first,
                    {
                        "benefit_id": "B-13",
                        "title": "Cashable saving",
                        "category": "economic",
                        "owner": "Ann Lee",
                        "status": "figure received",
                        "last_measured_on": None,
                        "latest": None,
                        "unit": "£",
                        "target": 250000,
                    },
                ],
            },
            {
                "key": "CC-2026-002",
                "title": "Regional dog unit",
                "reviews": [
                    {
                        "benefit_id": "B-20",
                        "title": "Out-of-hours dog cover",
                        "category": "quality",
                        "owner": "Sam Okafor",
                        "status": "awaiting figure",
                        "last_measured_on": date(2026, 11, 3),
                        "latest": 82.5,
                        "unit": "%",
                        "target": 90.0,
                    }
                ],
            },
        ],
    }


def measurement_context(**benefit_changes):
    return {
        "recipient": {"name": "Tom Reid", "email": "tom.reid@example.police.uk"},
        "board": board(),
        "meeting": meeting(),
        "collaboration": collaboration(),
        "benefit": benefit(**benefit_changes),
    }


def escalation_context(days_overdue=15):
    return {
        "recipient": {"name": "Chief Constable Sarah Crew", "email": "cc@example.police.uk"},
        "board": board(),
        "meeting": meeting(),
        "collaboration": collaboration(),
        "benefit": benefit(latest=None, latest_on=None),
        "days_overdue": days_overdue,
    }


def pir_context(overdue=False):
    return {
        "recipient": {"name": "Dev Patel", "email": "dev.patel@example.police.uk"},
        "collaboration": collaboration(),
        "closed_on": date(2026, 3, 31),
        "pir_due": date(2026, 9, 30),
        "overdue": overdue,
    }


def cancellation_context():
    return {"recipient": {"name": "Sam Clerk", "email": "sam@example.police.uk"}, "board": board(),
            "meeting": meeting(), "reason": "not quorate"}


def escalations_context():
    """A review missed and a PIR overdue, for one person."""
    missed, pir = escalation_context(), pir_context(overdue=True)
    del missed["recipient"], pir["recipient"]
    return {"recipient": escalation_context()["recipient"],
            "escalations": [{"kind": "escalation", **missed}, {"kind": "pir-escalation", **pir}]}


def digest_context():
    return {"recipient": {"name": "Dev Patel", "email": "dev.patel@example.police.uk"}, "week": date(2026, 10, 19),
            "items": [{"kind": kind, "collaboration": "SA", "item": item, "due_on": due}
                      for kind, item, due in (("approval", "delivery", None), ("variation", "pid", None),
                                              ("handover", "B1", None), ("figure", "B2", date(2026, 11, 3)),
                                              ("review", "B2", date(2026, 11, 3)), ("address", "owner2", None))]}


CONTEXTS = {
    "agenda": agenda_context,
    "measurement-request": measurement_context,
    "escalation": escalation_context,
    "pir-reminder": pir_context,
    "meeting-cancelled": cancellation_context,
    "escalations": escalations_context,
    "digest": digest_context,
}


@pytest.fixture(scope="module")
def templates() -> Templates:
    return load_templates(None, FILTERS)


@pytest.fixture
def template_dir(tmp_path) -> Path:
    """A private copy of the shipped templates, to break."""
    directory = tmp_path / "templates"
    shutil.copytree(DEFAULT_DIRECTORY, directory)
    return directory


# --------------------------------------------------------------------------- filters


def test_date_filter_formats_british_long_dates():
    assert format_date(date(2027, 1, 5)) == "Tue 5 January 2027"
    assert format_date(datetime(2026, 10, 1, 9, 0)) == "Thu 1 October 2026"
    # an aware datetime is shown on its UK calendar day: 23:30 UTC on 30 June is 00:30 BST on 1 July
    assert format_date(datetime(2026, 6, 30, 23, 30, tzinfo=timezone.utc)) == "Wed 1 July 2026"
    with pytest.raises(TypeError):
        format_date("2027-01-05")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (1234567, "1,234,567"),
        (1234.0, "1,234"),
        (1234.5, "1,234.5"),
        (-2500.25, "-2,500.25"),
        (0.125, "0.12"),  # at most two decimal places (binary float 0.125 rounds half to even)
        (-0.001, "0"),
        (99.999, "100"),
    ],
)
def test_number_filter(value, expected):
    assert format_number(value) == expected


def test_quantity_filter_places_units():
    assert format_quantity(82.5, "%") == "82.5%"
    assert format_quantity(250000, "£") == "£250,000"
    assert format_quantity(-1500.0, "£") == "-£1,500"
    assert format_quantity(1834.0, "hours") == "1,834 hours"
    assert format_quantity(7, "") == "7"


# --------------------------------------------------------------------------- rendering each kind


def test_contract_is_the_documented_one():
    assert KINDS == {
        "agenda": {"board", "recipient", "meeting", "collaborations"},
        "measurement-request": {"recipient", "board", "meeting", "collaboration", "benefit"},
        "escalation": {"recipient", "board", "meeting", "collaboration", "benefit", "days_overdue"},
        "pir-reminder": {"recipient", "collaboration", "closed_on", "pir_due", "overdue"},
        "meeting-cancelled": {"recipient", "board", "meeting", "reason"},
        "escalations": {"recipient", "escalations"},
        "digest": {"recipient", "week", "items"},
    }


def test_agenda_groups_reviews_by_collaboration(templates):
    rendered = templates.render("agenda", agenda_context())
    assert isinstance(rendered, Rendered)
    assert rendered.subject == "Benefit reviews for the Joint Collaboration Board meeting on Tue 5 January 2027"

    text = rendered.text
    assert text.startswith("Dear Priya Shah,")
    assert "meets on Tue 5 January 2027 at 14:30" in text
    assert "Avon and Somerset Police" in text
    # grouped: each collaboration's heading precedes its own reviews
    first, second = text.index("CC-2025-007: Shared firearms licensing"), text.index("CC-2026-002: Regional dog unit")
    assert first < text.index("Licence processing time") < text.index("Cashable saving") < second
    assert second < text.index("Out-of-hours dog cover")
    assert "Figure from:  Tom Reid" in text
    assert "Status:       awaiting figure" in text
    assert "Latest value: 1,834 hours, measured on Thu 1 October 2026" in text
    assert "Target:       1,250.5 hours" in text
    assert "Latest value: no figure recorded yet" in text
    assert "Target:       £250,000" in text
    assert "Latest value: 82.5%, measured on Tue 3 November 2026" in text
    assert "{{" not in text and "{%" not in text

    html = rendered.html
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="en-GB">' in html
    assert html.count("<table") == 2
    assert '<th scope="col"' in html and '<th scope="row"' in html
    assert "<caption" in html
    assert "<td style=\"padding:6px 8px;border-bottom:1px solid #b1b4b6;\">Tom Reid</td>" in html
    assert "1,834 hours" in html and "1,250.5 hours" in html and "No figure yet" in html
    # self-contained: inline CSS only, nothing fetched from elsewhere
    for external in ("<link", "<script", "src=", "http://", "https://", "<style"):
        assert external not in html


def test_agenda_without_reviews_says_so(templates):
    context = agenda_context()
    context["collaborations"] = []
    rendered = templates.render("agenda", context)
    assert "No benefit reviews are due at this meeting." in rendered.text
    assert "No benefit reviews are due at this meeting." in rendered.html
    assert "<table" not in rendered.html


def test_measurement_request(templates):
    rendered = templates.render("measurement-request", measurement_context())
    assert rendered.subject == "Figure needed by Tue 5 January 2027: Licence processing time (CC-2025-007)"
    text = rendered.text
    assert text.startswith("Dear Tom Reid,")
    assert "Joint Collaboration Board" in text and "Tue 5 January 2027 at 14:30" in text
    assert "Collaboration: Shared firearms licensing (CC-2025-007)" in text
    assert "Benefit:       Licence processing time (benefit B-12)" in text
    assert "Measure:       Staff hours per 100 licences" in text
    assert "Baseline:      2,400 hours" in text
    assert "Target:        1,250.5 hours" in text
    assert "Latest figure: 1,834 hours, measured on Thu 1 October 2026" in text
    assert "2,400 hours" in rendered.html and "Thu 1 October 2026" in rendered.html


def test_measurement_request_without_any_figure_yet(templates):
    rendered = templates.render(
        "measurement-request", measurement_context(latest=None, latest_on=None, baseline=None, measure=None)
    )
    assert "Latest figure: none recorded yet" in rendered.text
    assert "Baseline:      not set" in rendered.text
    assert "Measure:       not recorded" in rendered.text
    assert "None recorded yet" in rendered.html


def test_escalation(templates):
    rendered = templates.render("escalation", escalation_context(days_overdue=15))
    assert rendered.subject == "Review missed, 15 days overdue: Licence processing time (CC-2025-007)"
    assert rendered.text.startswith("Dear Chief Constable Sarah Crew,")
    assert "meeting on Tue 5 January 2027, but it was not reviewed" in rendered.text
    assert "15 days overdue" in rendered.text
    assert "Latest figure: none recorded" in rendered.text
    assert "<strong>15 days overdue</strong>" in rendered.html
    one = templates.render("escalation", escalation_context(days_overdue=1))
    assert one.subject.startswith("Review missed, 1 day overdue:")


@pytest.mark.parametrize("overdue", [False, True])
def test_pir_reminder(templates, overdue):
    rendered = templates.render("pir-reminder", pir_context(overdue=overdue))
    assert "CC-2025-007" in rendered.subject and "Wed 30 September 2026" in rendered.subject
    assert rendered.subject.startswith("Overdue:") is overdue
    assert "Shared firearms licensing, closed on Tue 31 March 2026" in rendered.text
    if overdue:
        assert "was due on Wed 30 September 2026 and has not yet been recorded" in rendered.text
    else:
        assert "is due on Wed 30 September 2026." in rendered.text
    assert "<li>upload the PIR report.</li>" in rendered.html


def test_meeting_cancelled(templates):
    rendered = templates.render("meeting-cancelled", cancellation_context())
    assert "meeting of" in rendered.subject and "is cancelled" in rendered.subject
    assert "Reason: not quorate" in rendered.text and "No benefit reviews are owed at it." in rendered.text
    assert "<p>Reason: not quorate</p>" in rendered.html


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_subject_is_one_clean_line(templates, kind):
    subject = templates.render(kind, CONTEXTS[kind]()).subject
    assert subject and "\n" not in subject and subject == subject.strip() and "  " not in subject


# --------------------------------------------------------------------------- escaping and strictness


def test_html_is_autoescaped_and_text_is_not(templates):
    nasty = "<script>alert(1)</script>"
    rendered = templates.render("agenda", agenda_context(title=nasty))
    assert nasty in rendered.text
    assert nasty not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html

    rendered = templates.render("measurement-request", measurement_context(title=nasty))
    assert nasty in rendered.subject  # the subject is a text part, not HTML
    assert "&lt;script&gt;" in rendered.html and nasty not in rendered.html


def test_render_rejects_a_context_missing_a_variable(templates):
    context = measurement_context()
    del context["benefit"]
    with pytest.raises(TemplateError, match="missing 'benefit'"):
        templates.render("measurement-request", context)


def test_render_rejects_an_unexpected_variable(templates):
    with pytest.raises(TemplateError, match="unexpected 'secretary'"):
        templates.render("pir-reminder", {**pir_context(), "secretary": "X"})


def test_render_rejects_a_missing_attribute_naming_the_template(templates):
    context = agenda_context()
    del context["collaborations"][0]["reviews"][0]["owner"]
    with pytest.raises(TemplateError, match=r"agenda\.(txt|html).*owner"):
        templates.render("agenda", context)


def test_render_rejects_an_unknown_kind(templates):
    with pytest.raises(TemplateError, match="unknown notification kind 'minutes'"):
        templates.render("minutes", {})


# --------------------------------------------------------------------------- load-time validation


def test_unknown_variable_is_rejected_at_load(template_dir):
    (template_dir / "agenda.txt").write_text("Dear {{ secretary }},\n{{ board.name }}\n", encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        load_templates(template_dir, FILTERS)
    assert str(caught.value) == (
        "agenda.txt: unknown variable 'secretary' (allowed: board, collaborations, meeting, recipient)"
    )


def test_variable_of_another_kind_is_rejected_at_load(template_dir):
    # `days_overdue` is fine in escalation, not in a measurement request
    (template_dir / "measurement-request.html").write_text("<p>{{ days_overdue }}</p>", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"^measurement-request\.html: unknown variable 'days_overdue'"):
        load_templates(template_dir, FILTERS)


def test_syntax_error_names_file_and_line(template_dir):
    (template_dir / "escalation.txt").write_text(
        "Dear {{ recipient.name }},\n\n{% if days_overdue > 14 %}\nLate.\n{% endfor %}\n", encoding="utf-8"
    )
    with pytest.raises(TemplateError, match=r"^escalation\.txt, line 5: syntax error"):
        load_templates(template_dir, FILTERS)


def test_missing_template_file_is_named(template_dir):
    (template_dir / "pir-reminder.html").unlink()
    with pytest.raises(TemplateError, match=r"^pir-reminder\.html: template file missing"):
        load_templates(template_dir, FILTERS)


def test_included_templates_are_checked_too(template_dir):
    (template_dir / "_footer.txt").write_text("Sent to {{ recipient.email }} by {{ sender }}\n", encoding="utf-8")
    (template_dir / "pir-reminder.txt").write_text(
        "Dear {{ recipient.name }},\n{% include '_footer.txt' %}", encoding="utf-8"
    )
    with pytest.raises(TemplateError, match=r"^_footer\.txt \(used by pir-reminder\.txt\): unknown variable 'sender'"):
        load_templates(template_dir, FILTERS)


def test_a_valid_include_is_followed_and_rendered(template_dir):
    (template_dir / "_footer.txt").write_text("Sent to {{ recipient.email }}.\n", encoding="utf-8")
    (template_dir / "pir-reminder.txt").write_text(
        "Dear {{ recipient.name }},\n{% include '_footer.txt' %}", encoding="utf-8"
    )
    rendered = load_templates(template_dir, FILTERS).render("pir-reminder", pir_context())
    assert rendered.text == "Dear Dev Patel,\nSent to dev.patel@example.police.uk.\n"


def test_missing_directory_is_reported(tmp_path):
    with pytest.raises(TemplateError, match="does not exist"):
        load_templates(tmp_path / "nowhere", FILTERS)


# --------------------------------------------------------------------------- sandbox


@pytest.mark.parametrize(
    "expression",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ recipient.name.__class__.__base__.__subclasses__() }}",
        "{{ overdue.__init__.__globals__ }}",
    ],
)
def test_sandbox_blocks_introspection(template_dir, expression):
    (template_dir / "pir-reminder.txt").write_text(f"Dear {{{{ recipient.name }}}}, {expression}\n", encoding="utf-8")
    templates = load_templates(template_dir, FILTERS)  # nothing wrong by name: it is caught when it runs
    with pytest.raises(TemplateError, match=r"pir-reminder\.txt: (SecurityError|UndefinedError)") as caught:
        templates.render("pir-reminder", pir_context())
    assert "unsafe" in str(caught.value)


# --------------------------------------------------------------------------- purity


def test_adapters_import_neither_sqlalchemy_nor_workflow():
    code = (
        "import sys, notifications.render, notifications.channels\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'workflow'))\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- email and calendar


def sample_message(key="agenda:board-3:2027-01-05", **changes) -> Message:
    values = dict(
        to=("priya.shah@example.police.uk", "deputy@example.police.uk"),
        subject="Benefit reviews for the Joint Collaboration Board meeting on Tue 5 January 2027",
        text="Dear Priya Shah,\n\nThree reviews.\n",
        html="<p>Dear Priya Shah,</p><p>Three reviews.</p>",
        attachments=(),
        idempotency_key=key,
    )
    values.update(changes)
    return Message(**values)


def test_build_email_structure_and_headers():
    msg = build_email(sample_message(), "Collab reminders <collab@example.police.uk>")
    assert msg.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["To"] == "priya.shah@example.police.uk, deputy@example.police.uk"
    assert msg["From"] == "Collab reminders <collab@example.police.uk>"
    assert msg["X-Collab-Key"] == "agenda:board-3:2027-01-05"
    assert msg["Date"].datetime.tzinfo is not None
    assert msg["Message-ID"].endswith("@example.police.uk>")


def test_message_id_is_stable_for_a_key_and_differs_between_keys():
    first = build_email(sample_message(), "collab@localhost")["Message-ID"]
    again = build_email(sample_message(text="edited after a crash"), "collab@localhost")["Message-ID"]
    other = build_email(sample_message(key="agenda:board-4:2027-01-05"), "collab@localhost")["Message-ID"]
    assert first == again != other
    assert first.startswith("<") and first.endswith("@collab.invalid>")  # 'localhost' is no domain to vouch for


def test_message_without_key_gets_a_fresh_id_and_no_key_header():
    one = build_email(sample_message(key=""), "collab@localhost")
    two = build_email(sample_message(key=""), "collab@localhost")
    assert one["Message-ID"] != two["Message-ID"]
    assert one["X-Collab-Key"] is None


def test_build_email_refuses_bad_messages():
    with pytest.raises(ValueError, match="recipient"):
        build_email(sample_message(to=()), "collab@localhost")
    with pytest.raises(ValueError, match="single line"):
        build_email(sample_message(subject="Hello\nBcc: everyone@example.org"), "collab@localhost")


def parse_ics(data: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(data)
    events = [c for c in calendar.walk("VEVENT")]
    assert len(events) == 1
    return calendar, events[0]


def test_meeting_ics_is_a_published_event_in_uk_time():
    starts = datetime(2027, 6, 8, 10, 0, tzinfo=LONDON)
    attachment = meeting_ics(
        uid="meeting-41@collab",
        summary="Joint Collaboration Board",
        starts=starts,
        description="Benefit reviews: CC-2025-007, CC-2026-002",
        organizer="Priya Shah <priya.shah@example.police.uk>",
        attendees=["tom.reid@example.police.uk"],
        stamp=datetime(2027, 6, 1, 9, 0, tzinfo=timezone.utc),
    )
    assert attachment.filename == "meeting.ics"
    assert attachment.content_type == "text/calendar; method=PUBLISH"
    calendar, event = parse_ics(attachment.data)
    assert str(calendar["PRODID"]) == "-//collab//reminders//EN"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]
    assert str(event["UID"]) == "meeting-41@collab"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == starts and start.utcoffset() == timedelta(hours=1)  # BST
    assert end - start == timedelta(hours=2)
    assert event.decoded("DTSTAMP") == datetime(2027, 6, 1, 9, 0, tzinfo=timezone.utc)
    assert str(event["SUMMARY"]) == "Joint Collaboration Board"
    assert str(event["DESCRIPTION"]) == "Benefit reviews: CC-2025-007, CC-2026-002"
    assert str(event["ORGANIZER"]) == "mailto:priya.shah@example.police.uk"
    assert event["ORGANIZER"].params["CN"] == "Priya Shah"
    assert b"DTSTART;TZID=Europe/London:20270608T100000" in attachment.data


def test_meeting_ics_reads_a_naive_start_as_uk_local_and_converts_aware_ones():
    _, event = parse_ics(meeting_ics(uid="m1", summary="Board", starts=datetime(2027, 1, 5, 14, 0)).data)
    assert event.decoded("DTSTART") == datetime(2027, 1, 5, 14, 0, tzinfo=LONDON)
    utc_start = datetime(2027, 7, 1, 9, 0, tzinfo=timezone.utc)
    attachment = meeting_ics(uid="m2", summary="Board", starts=utc_start, duration=timedelta(minutes=90))
    _, event = parse_ics(attachment.data)
    assert event.decoded("DTSTART") == utc_start
    assert b"DTSTART;TZID=Europe/London:20270701T100000" in attachment.data
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=90)


def test_meeting_ics_refuses_nonsense():
    with pytest.raises(ValueError):
        meeting_ics(uid="", summary="Board", starts=datetime(2027, 1, 5, 14))
    with pytest.raises(ValueError):
        meeting_ics(uid="m", summary="Board", starts=datetime(2027, 1, 5, 14), duration=timedelta(0))


# --------------------------------------------------------------------------- SMTP against a real server


class Collector:
    """An aiosmtpd handler that keeps every envelope and can refuse chosen recipients."""

    def __init__(self, refuse: frozenset[str] = frozenset()):
        self.envelopes = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    collector = Collector(refuse=frozenset({"nobody@example.police.uk"}))
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, collector
    finally:
        controller.stop()


def test_smtp_delivers_multipart_mail_with_calendar(smtp_server, templates):
    controller, collector = smtp_server
    context = agenda_context()
    rendered = templates.render("agenda", context)
    invite = meeting_ics(
        uid="meeting-2027-01-05-board-3@collab",
        summary="Joint Collaboration Board",
        starts=context["meeting"]["starts"],
        description=rendered.text,
    )
    message = Message(
        to=("priya.shah@example.police.uk", "deputy.secretary@example.police.uk"),
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        attachments=(invite,),
        idempotency_key="agenda:board-3:2027-01-05",
    )
    channel = SmtpChannel(controller.hostname, controller.port, "collab@example.police.uk", timeout=10)
    assert isinstance(channel, Channel)
    channel.send(message)

    assert len(collector.envelopes) == 1
    envelope = collector.envelopes[0]
    assert envelope.mail_from == "collab@example.police.uk"
    assert envelope.rcpt_tos == ["priya.shah@example.police.uk", "deputy.secretary@example.police.uk"]

    received = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert received["Subject"] == "Benefit reviews for the Joint Collaboration Board meeting on Tue 5 January 2027"
    assert received["To"] == "priya.shah@example.police.uk, deputy.secretary@example.police.uk"
    assert received["X-Collab-Key"] == "agenda:board-3:2027-01-05"
    assert received["Message-ID"].strip() == build_email(message, "collab@example.police.uk")["Message-ID"]
    assert received.get_content_type() == "multipart/mixed"
    alternative, calendar_part = list(received.iter_parts())
    assert alternative.get_content_type() == "multipart/alternative"
    text_part, html_part = list(alternative.iter_parts())
    assert text_part.get_content_type() == "text/plain"
    assert "Latest value: 1,834 hours, measured on Thu 1 October 2026" in text_part.get_content()
    assert "Target:       £250,000" in text_part.get_content()  # non-ASCII survives the trip
    assert html_part.get_content_type() == "text/html"
    assert "<table" in html_part.get_content()
    assert received.get_body(preferencelist=("plain",)).get_content() == text_part.get_content()

    assert calendar_part.get_content_type() == "text/calendar"
    assert calendar_part.get_param("method") == "PUBLISH"
    assert calendar_part.get_filename() == "meeting.ics"
    _, event = parse_ics(calendar_part.get_content().encode("utf-8"))
    assert str(event["UID"]) == "meeting-2027-01-05-board-3@collab"
    assert event.decoded("DTSTART") == context["meeting"]["starts"]
    assert "Licence processing time" in str(event["DESCRIPTION"])


def test_smtp_reports_partly_refused_recipients(smtp_server):
    controller, collector = smtp_server
    channel = SmtpChannel(controller.hostname, controller.port, "collab@example.police.uk", timeout=10)
    message = sample_message(to=("priya.shah@example.police.uk", "nobody@example.police.uk"))
    with pytest.raises(PartiallyRefused) as caught:
        channel.send(message)
    assert set(caught.value.recipients) == {"nobody@example.police.uk"}
    assert [e.rcpt_tos for e in collector.envelopes] == [["priya.shah@example.police.uk"]]


def test_smtp_connection_failure_raises():
    channel = SmtpChannel("127.0.0.1", free_port(), "collab@localhost", timeout=2)
    with pytest.raises(OSError):
        channel.send(sample_message())


# --------------------------------------------------------------------------- outbox


def test_outbox_resend_overwrites_rather_than_duplicates(tmp_path):
    outbox = tmp_path / "outbox"
    channel = OutboxChannel(outbox, "collab@localhost")
    invite = meeting_ics(uid="m-1@collab", summary="Board", starts=datetime(2027, 1, 5, 14))
    channel.send(sample_message(attachments=(invite,)))
    channel.send(sample_message(attachments=(invite,), text="Second attempt after a crash.\n"))

    files = sorted(outbox.iterdir())
    assert len(files) == 1, files
    assert files[0].suffix == ".eml"
    assert files[0].name.startswith("agenda-board-3-2027-01-05-")  # readable, then the hash
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert parsed["X-Collab-Key"] == "agenda:board-3:2027-01-05"
    assert parsed["Subject"] == sample_message().subject
    assert parsed.get_body(preferencelist=("plain",)).get_content() == "Second attempt after a crash.\n"
    assert parsed.get_body(preferencelist=("html",)).get_content().startswith("<p>Dear Priya Shah,</p>")
    attachments = list(parsed.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["meeting.ics"]


def test_outbox_keeps_different_keys_apart(tmp_path):
    channel = OutboxChannel(tmp_path, "collab@localhost")
    channel.send(sample_message(key="measurement-request:B-12:2027-01-05"))
    channel.send(sample_message(key="measurement-request:B-13:2027-01-05"))
    channel.send(sample_message(key=""))
    channel.send(sample_message(key=""))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 4
    assert not [n for n in names if n.endswith(".tmp")]  # no temporary files left behind


def test_outbox_same_slug_but_different_keys_do_not_collide(tmp_path):
    channel = OutboxChannel(tmp_path, "collab@localhost")
    channel.send(sample_message(key="agenda:board 3"))
    channel.send(sample_message(key="agenda/board-3"))
    assert len(list(tmp_path.iterdir())) == 2


# --------------------------------------------------------------------------- configuration


def test_channel_from_env_smtp(tmp_path):
    channel = channel_from_env({"COLLAB_SMTP": "mail.example.police.uk:2525"}, tmp_path)
    assert isinstance(channel, SmtpChannel)
    assert (channel.host, channel.port, channel.sender) == ("mail.example.police.uk", 2525, "collab@localhost")
    channel = channel_from_env(
        {"COLLAB_SMTP": "[::1]:25", "COLLAB_MAIL_FROM": "reminders@example.police.uk", "COLLAB_OUTBOX": "/x"},
        tmp_path,
    )
    assert isinstance(channel, SmtpChannel)
    assert (channel.host, channel.port, channel.sender) == ("::1", 25, "reminders@example.police.uk")


def test_channel_from_env_outbox(tmp_path):
    channel = channel_from_env({"COLLAB_OUTBOX": str(tmp_path / "box"), "COLLAB_MAIL_FROM": "r@example.org"}, tmp_path)
    assert isinstance(channel, OutboxChannel)
    assert channel.directory == tmp_path / "box" and channel.sender == "r@example.org"


@pytest.mark.parametrize("environ", [{}, {"COLLAB_SMTP": "", "COLLAB_OUTBOX": "  "}])
def test_channel_from_env_default_outbox(tmp_path, environ):
    channel = channel_from_env(environ, tmp_path / "default")
    assert isinstance(channel, OutboxChannel)
    assert channel.directory == tmp_path / "default" and channel.sender == "collab@localhost"


@pytest.mark.parametrize("value", ["mail.example.org", "mail.example.org:", "mail.example.org:smtp", ":25", "host:70000", "host:-1"])
def test_channel_from_env_rejects_a_bad_smtp_setting(tmp_path, value):
    with pytest.raises(ValueError, match=r"COLLAB_SMTP must be HOST:PORT") as caught:
        channel_from_env({"COLLAB_SMTP": value}, tmp_path)
    assert repr(value) in str(caught.value)


def test_the_escalations_and_the_digest_list_each_item_escaping_html(templates):
    escalations = templates.render("escalations", escalations_context())
    assert escalations.subject == "2 reviews missed and overdue: your collaborations need attention"
    assert "14 days overdue" not in escalations.text and "15 days overdue" in escalations.text
    assert "The post-implementation review of" in escalations.text and escalations.html.count("<li>") == 2
    digest = templates.render("digest", digest_context())
    assert digest.subject == "Your week from Mon 19 October 2026: 6 things owed in collab"
    assert "* approve the delivery gate of SA." in digest.text
    context = digest_context()
    context["items"][0]["collaboration"] = "<b>SA</b>"
    assert "approve the delivery gate of &lt;b&gt;SA&lt;/b&gt;" in templates.render("digest", context).html
    assert "* record a figure for benefit B2 of SA, by Tue 3 November 2026." in digest.text
    assert "* give owner2 an email address: a reminder to them cannot go out." in digest.text

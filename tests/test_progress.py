"""Progress bars for `remind`, `audit verify` and `report --all`: the engine tells a callback how far it is; the CLI
draws a bar on stderr only on a terminal and only once a run has taken more than a second."""

from __future__ import annotations

import io
from datetime import date

import cli
from builders import open_as
from scripted import in_delivery
from test_delivery import OCT_20, FakeChannel
from workflow.reminders import Reminders
from workflow.reports import portfolio_report


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_engine_tells_how_far_verify_report_and_remind_are(db: str) -> None:
    in_delivery(db, date(2026, 9, 2))
    app = open_as(db, "root")
    told: list[tuple[int, int]] = []
    events = app.verify(progress=lambda done, total: told.append((done, total))).events
    assert told[-1] == (events, events) and all(total == events for _, total in told)
    told.clear()
    portfolio_report(app.ctx, progress=lambda done, total: told.append((done, total)))
    assert told[-1] == (events, events)
    sends: list[tuple[int, int]] = []
    Reminders(app.ctx, channel=FakeChannel()).remind(OCT_20, progress=lambda done, total: sends.append((done, total)))
    assert sends == [(n, 5) for n in range(1, 6)]  # one message to each of pm and both forces' chiefs and PCCs


def test_a_bar_shows_only_on_a_terminal_and_only_after_a_second() -> None:
    moments = iter([0.0, 0.5, 1.5, 1.6, 1.7])
    terminal = Terminal()
    with cli.ProgressBar("verifying the history", terminal, clock=lambda: next(moments)) as bar:
        bar(10, 100)  # at 0.5 s: too soon
        assert terminal.getvalue() == ""
        bar(50, 100)  # at 1.5 s: the bar appears
        bar(100, 100)
    shown = terminal.getvalue()
    assert "verifying the history" in shown and "100%" in shown and shown.endswith("\n")

    piped, late = io.StringIO(), iter([0.0, 5.0, 6.0])
    with cli.ProgressBar("sending", piped, clock=lambda: next(late)) as bar:
        bar(1, 2)
        bar(2, 2)
    assert piped.getvalue() == ""

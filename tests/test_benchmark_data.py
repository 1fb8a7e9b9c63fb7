"""The HTML report benchmark builds its collaboration through the API as the default definition now wants
(it broke unseen once when the delivery gate began to want linked benefits). No timings here."""

import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import report  # noqa: E402  (a script folder, not an installed package)


def test_the_report_benchmark_builds_its_collaboration_and_renders_every_benefit(tmp_path: Path) -> None:
    db = str(tmp_path / "bench.db")
    report.build(db)
    app = report.at(db, "owner", date(2023, 3, 31))
    assert len(app.history(report.KEY)) == report.EVENTS
    assert app.show(report.KEY)["stage"] == "delivery"
    page = report.render(report.collaboration_report(app.ctx, report.KEY), "html")
    assert page.count("<figure") == report.BENEFITS

"""`collab demo` replaces an earlier demo, and nothing else: a demo someone has added to is left untouched."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from conftest import collab


@pytest.fixture(scope="module")
def earlier_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    collab(str(folder / "unused.db"), "demo", "--db", str(folder / "demo.db"), check=0)
    return folder / "demo.db"


@pytest.fixture
def demo_copy(earlier_demo: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "demo.db"
    for suffix in ("", "-wal"):
        if Path(f"{earlier_demo}{suffix}").exists():
            shutil.copy(f"{earlier_demo}{suffix}", f"{copy}{suffix}")
    return copy


def _state(db: Path) -> tuple[str, object]:
    history = collab(str(db), "history", "--all", "--json", actor="auditor", check=0).json()
    return hashlib.sha256(db.read_bytes()).hexdigest(), history


@pytest.mark.parametrize("addition", [
    ["--as", "admin", "user", "add", "someone", "--role", "auditor"],
    ["--as", "pm.alliance", "new", "MINE", "--title", "My own collaboration"],
    ["--as", "ba.finance", "benefit", "measure", "SA", "B1", "11.5"],
])
def test_a_demo_with_anything_added_is_refused_and_untouched(demo_copy: Path, addition: list[str]) -> None:
    collab(str(demo_copy), *addition, check=0)
    before = _state(demo_copy)
    result = collab(str(demo_copy.parent / "unused.db"), "demo", "--db", str(demo_copy), check=2)
    assert result.err.strip() == (f"{demo_copy} exists and is not an earlier demo alone (it holds other users, "
                                  "collaborations or history): give the demo a new file with --db")
    assert _state(demo_copy) == before


def test_an_earlier_demo_alone_is_replaced(demo_copy: Path) -> None:
    collab(str(demo_copy.parent / "unused.db"), "demo", "--db", str(demo_copy), check=0)
    assert collab(str(demo_copy), "audit", "verify", actor="auditor", check=0).out.startswith("history verified")


def test_the_alliance_reports_a_net_benefit_per_force(earlier_demo: Path) -> None:
    report = collab(str(earlier_demo), "report", "SA", "--format", "json", actor="auditor", check=0).json()
    assert {c["partner"] for c in report["costs"]} == {"Devon & Cornwall Police", "Dorset Police"}  # type: ignore[index]
    net = {(n["partner"], n["year"]): n for n in report["net_benefit"]}  # type: ignore[index]
    # B1 measured £3.9m a year by the end of 2015-16, split 70 / 30, less each force's own running costs
    assert net["Devon & Cornwall Police", "2015-16"] == {"partner": "Devon & Cornwall Police", "year": "2015-16",
                                                         "savings": 2730000.0, "costs": 600000.0, "net": 2130000.0}
    assert net["Dorset Police", "2014-15"]["net"] == -770000.0
    assert report["verification"]["ok"]  # type: ignore[index]


def test_b1_is_reviewed_by_both_forces_resource_control_boards(earlier_demo: Path) -> None:
    shown = collab(str(earlier_demo), "show", "SA", "--json", actor="auditor", check=0).json()
    boards = {b["id"]: b["boards"] for b in shown["benefits"]}
    assert boards["B1"] == ["D&C Resource Control Board", "Dorset Resource Control Board"]
    assert boards["B2"] == ["Dorset Resource Control Board"]
    assert collab(str(earlier_demo), "audit", "verify", actor="auditor", check=0).out.startswith("history verified")

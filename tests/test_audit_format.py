"""docs/audit-format.md is exact: the independent verifier it prints accepts collab's exports and rejects tampered ones.

The verifier is taken from the Markdown as it stands and run with plain python3, in isolated
mode without site-packages, so that it can rely on the standard library only.
"""

from __future__ import annotations

import json
import random
import re
import struct
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from sqlalchemy import insert, text, update
from sqlalchemy.exc import DBAPIError

from builders import open_as, people, scoped
from conftest import collab, database, migrate
from tampering import tamper
from workflow import audit
from workflow.clock import LONDON
from workflow.db import engine_for
from workflow.model import Benefit, ChainHead, Collaboration, Event, User

SPEC = Path(__file__).resolve().parent.parent / "docs" / "audit-format.md"


def verifier_source() -> str:
    [source] = re.findall(r"^```python verifier\n(.*?)^```$", SPEC.read_text(encoding="utf-8"), re.S | re.M)
    return source


def test_the_verifier_is_short_and_uses_the_standard_library_only() -> None:
    source = verifier_source()
    assert len(source.splitlines()) <= 50
    imported = {name.strip().split(".")[0] for line in re.findall(r"^import (.*)|^from (\S+) import", source, re.M)
                for names in line for name in names.split(",") if name}
    assert imported and imported <= sys.stdlib_module_names


@pytest.fixture
def verifier(tmp_path: Path) -> Path:
    path = tmp_path / "verify_export.py"
    path.write_text(verifier_source(), encoding="utf-8")
    return path


def run_verifier(verifier: Path, bundle: dict[str, Any], tmp_path: Path, *anchor: str) -> tuple[int, str]:
    export = tmp_path / "export.json"
    export.write_text(json.dumps(bundle, indent=1, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run([sys.executable, "-I", "-S", str(verifier), str(export), *anchor],
                          capture_output=True, text=True, timeout=60)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout.strip()


def export(db: str, key: str = "SA") -> dict[str, Any]:
    return collab(db, "audit", "export", key, actor="audit", check=0).json()  # type: ignore[return-value]


# -- format 2 ------------------------------------------------------------------------------------------

@pytest.fixture
def history_db(db: str) -> str:
    people(db)
    scoped(db).advance("SA")
    open_as(db, "pm").new("SB", "Second", on=date(2019, 1, 2))
    awkward = {"value": 0.1, "big": 1e21, "tiny": 1.5e-7, "whole": 78.0, "huge": 2**53 - 1, "none": None,
               "flags": [True, False], "text": "é \n\t\x01 \u2028 🚓 \"quoted\" \\", "order": {"\U0001f600": 1, "\ue000": 2, "b": 3}}
    with open_as(db, "pm").ctx.uow.write() as session:
        audit.append(session, actor="pm", action="noted", recorded_at=datetime.now(LONDON), effective_on=date.today(),
                     collaboration="SA", reason="awkward values", payload=awkward)
    open_as(db, "pm").update("SA", objective="Share more services")
    return db


def test_a_genuine_export_verifies(history_db: str, verifier: Path, tmp_path: Path) -> None:
    bundle = export(history_db)
    assert {e["format"] for e in bundle["events"]} == {2}
    assert run_verifier(verifier, bundle, tmp_path) == (0, "export verified")
    newest = bundle["events"][-1]
    assert run_verifier(verifier, bundle, tmp_path, f"{newest['seq']}:{newest['hash']}") == (0, "export verified")
    assert run_verifier(verifier, export(history_db, "SB"), tmp_path) == (0, "export verified")


@pytest.mark.parametrize("edit", [
    lambda events: events[2].update(reason="nothing to see"),
    lambda events: events[1]["payload"].update(risk_appetite="eager"),
    lambda events: next(e for e in events if e["action"] == "noted")["payload"].update(value=0.2),
    lambda events: events[0].update(actor="someone"),
    lambda events: events.pop(3),
    lambda events: events.insert(0, events.pop(1)),
])
def test_a_tampered_export_is_rejected(history_db: str, verifier: Path, tmp_path: Path, edit: Any) -> None:
    bundle = export(history_db)
    edit(bundle["events"])
    code, problem = run_verifier(verifier, bundle, tmp_path)
    assert code == 1 and problem.startswith("event ")


def test_an_export_cut_short_misses_its_anchor(history_db: str, verifier: Path, tmp_path: Path) -> None:
    bundle = export(history_db)
    newest = bundle["events"].pop()
    anchor = f"{newest['seq']}:{newest['hash']}"
    assert run_verifier(verifier, bundle, tmp_path) == (0, "export verified")  # what the anchor is for
    assert run_verifier(verifier, bundle, tmp_path, anchor) == (1, f"the export does not hold event {anchor}")


def test_an_export_of_a_tampered_database_is_rejected(history_db: str, verifier: Path, tmp_path: Path) -> None:
    seq = export(history_db)["events"][2]["seq"]
    tamper(history_db, f"UPDATE events SET reason = 'rewritten' WHERE seq = {seq}")
    assert run_verifier(verifier, export(history_db), tmp_path) == (1, f"event {seq} does not match its hash")


def test_the_verifiers_numbers_are_rfc_8785s() -> None:
    namespace: dict[str, Any] = {}
    exec(verifier_source().replace('if __name__ == "__main__":', "if False:"), namespace)
    rng = random.Random(8785)
    doubles = [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(20000)]
    values = [x for x in doubles if x == x and abs(x) != float("inf")]
    values += [rng.randint(-10**6, 10**6) * 10.0 ** rng.randint(-25, 25) for _ in range(20000)]
    values += [0.0, -0.0, 1e21, 1e-7, 1e-6, 5e-324, 1.7976931348623157e308, 123.456, 2.0**53]
    mismatched = [x for x in values if namespace["jcs"](x) != rfc8785.dumps(x).decode()]
    assert mismatched == []


# -- format 1: a database upgraded from revision 0002 --------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def legacy_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database written at revision 0002 (format-1 events), then upgraded by the 0004 migration."""
    with database(request.param, tmp_path, "0002") as target:
        write_format_1_history(target)
        migrate(target)
        yield target


NOBODY = {"email": None, "partner": None}
LEGACY = [  # collaboration, actor, action, payload: a history and the tables it implies (written below)
    (None, "root", "user-added", {"user": "root", "role": "admin", **NOBODY}),
    (None, "root", "user-added", {"user": "pm", "role": "programme-manager", **NOBODY}),
    ("SA", "pm", "registered", {"title": "Strategic Alliance", "objective": None, "public_benefit": None,
                                "origin": "programme", "manager": "pm", "definition": "police-collaboration v1"}),
    ("SA", "pm", "benefit-added", {"benefit": "B1", "title": "Savings", "category": "economic", "dis_benefit": False,
                                   "measure": None, "unit": "", "baseline": 0.0, "target": 77.0, "target_date": None,
                                   "owner": None, "board": None}),
    ("SA", "pm", "benefit-updated", {"benefit": "B1", "changes": {"target": {"from": 77.0, "to": 1e16}}, "note": "é"}),
    (None, "root", "user-added", {"user": "audit", "role": "auditor", **NOBODY}),
]


def write_format_1_history(target: str) -> None:
    """Rows as collab wrote them before 0004 (format 1, no collab_prev), through Core at revision 0002."""
    events, prev = [], audit.GENESIS
    for seq, (key, actor, action, payload) in enumerate(LEGACY, start=1):
        fields = {"seq": seq, "format": 1, "collaboration": key, "recorded_at": f"2025-06-0{seq}T09:00:00.000000+01:00",
                  "effective_on": f"2025-06-0{seq}", "actor": actor, "action": action, "from_stage": None,
                  "to_stage": "scoping" if action == "registered" else None, "reason": None,
                  "payload": audit.canonical_json(payload), "prev_hash": prev}
        prev = audit.event_hash(fields)
        events.append({name: value for name, value in fields.items() if name != "format"} | {"hash": prev})
    with engine_for(target).begin() as connection:
        day = date(2025, 6, 3)
        connection.execute(insert(User.__table__), [
            {"id": n, "name": name, "role": role, "created_on": date(2025, 6, joined)}
            for n, (name, role, joined) in enumerate((("root", "admin", 1), ("pm", "programme-manager", 2),
                                                      ("audit", "auditor", 6)), 1)])
        connection.execute(insert(Collaboration.__table__).values(
            id=1, key="SA", title="Strategic Alliance", origin="programme", manager_id=2,
            definition_name="police-collaboration", definition_version=1, stage="scoping", stage_since=day,
            created_on=day, version=3))
        connection.execute(insert(Benefit.__table__).values(
            collaboration_id=1, code="B1", title="Savings", category="economic", dis_benefit=False, unit="",
            baseline=0.0, target=1e16, start_on=date(2025, 6, 4)))
        connection.execute(insert(Event.__table__), events)  # names only the columns given: those of 0002
        connection.execute(update(ChainHead.__table__).values(seq=len(events), hash=prev))


def test_an_upgraded_database_keeps_its_history_and_its_guards(legacy_db: str, verifier: Path, tmp_path: Path) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        with engine_for(legacy_db).begin() as connection:
            connection.execute(text("UPDATE events SET actor = 'someone' WHERE seq = 3"))
    collab(legacy_db, "audit", "verify", actor="audit", check=0)
    collab(legacy_db, "update", "SA", "--objective", "Share services", actor="pm", check=0)
    result = collab(legacy_db, "audit", "verify", "--json", actor="audit", check=0).json()
    assert result["events"] == len(LEGACY) + 1
    bundle = export(legacy_db)
    assert [(e["format"], e["collab_prev"]) for e in bundle["events"]] == [
        (1, None), (1, None), (1, None), (2, bundle["events"][2]["hash"])]
    assert bundle["events"][2]["payload"]["changes"]["target"] == {"from": 77.0, "to": 1e16}
    assert run_verifier(verifier, bundle, tmp_path) == (0, "export verified")


def test_an_edited_format_1_event_is_named(legacy_db: str, verifier: Path, tmp_path: Path) -> None:
    tamper(legacy_db, "UPDATE events SET reason = 'rewritten' WHERE seq = 4")
    result = collab(legacy_db, "audit", "verify", "--json", actor="audit", check=3).json()
    assert result["first_bad"] == 4
    assert run_verifier(verifier, export(legacy_db), tmp_path) == (1, "event 4 does not match its hash")


def downgrade(target: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from workflow.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine_for(target).begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_0004_goes_back_only_while_every_event_is_format_1(legacy_db: str) -> None:
    downgrade(legacy_db, "0002")
    with pytest.raises(DBAPIError, match="append-only"):
        with engine_for(legacy_db).begin() as connection:
            connection.execute(text("DELETE FROM events WHERE seq = 5"))
    migrate(legacy_db)
    collab(legacy_db, "update", "SA", "--objective", "Share services", actor="pm", check=0)
    with pytest.raises(RuntimeError, match="format 2"):
        downgrade(legacy_db, "0002")
    collab(legacy_db, "audit", "verify", actor="audit", check=0)

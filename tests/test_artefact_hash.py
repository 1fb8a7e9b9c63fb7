"""Artefacts may carry the SHA-256 of the document they name (`--file PATH` computes it, `--sha256 HEX` gives it),
recorded in the artefact and its event, replayed by `audit verify`, printed by `show` and the report; a new version
of an approved document is a variation."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from builders import as_of, in_delivery, open_as, people
from conftest import collab
from tampering import tamper

NOW = {"COLLAB_NOW": "2020-01-08T12:00"}


def test_a_documents_hash_is_recorded_shown_reported_and_replayed(db: str, tmp_path: Path) -> None:
    people(db)
    with as_of("2020-01-06T12:00"):
        in_delivery(db)
    document = tmp_path / "agreement.pdf"
    document.write_bytes(b"%PDF s.22A agreement, signed version\n" * 50_000)  # read in blocks
    expected = hashlib.sha256(document.read_bytes()).hexdigest()
    added = collab(db, "artefact", "add", "SA", "closure-report", "--ref", "docs/closure.pdf", "--file", str(document),
                   "--json", actor="pm", env=NOW, check=0).json()
    assert added == {"key": "SA", "kind": "closure-report", "ref": "docs/closure.pdf", "on": "2020-01-08",
                     "sha256": expected}
    given = "AB" * 32
    said = collab(db, "artefact", "add", "SA", "closure-report", "--ref", "remote", "--sha256", given, actor="pm",
                  env=NOW, check=0).out
    assert said == f"SA: artefact closure-report recorded (remote, 2020-01-08), sha256 {given.lower()}\n"
    shown = collab(db, "show", "SA", "--json", actor="audit", env=NOW, check=0).json()
    assert [a["sha256"] for a in shown["artefacts"]][-2:] == [expected, given.lower()]  # type: ignore[index]
    assert f"docs/closure.pdf (2020-01-08) sha256 {expected}" in collab(db, "show", "SA", actor="audit", env=NOW).out
    report = collab(db, "report", "SA", "--format", "json", actor="audit", env=NOW, check=0).json()
    assert report["artefacts"][-1]["sha256"] == given.lower()  # type: ignore[index]
    page = tmp_path / "sa.html"
    collab(db, "report", "SA", "--out", str(page), actor="audit", env=NOW, check=0)
    assert f'<td class="hash">{expected}</td>' in page.read_text()
    events = [e["payload"] for e in open_as(db, "audit").history("SA") if e["action"] == "artefact-added"]
    assert events[-1]["sha256"] == given.lower() and "sha256" not in events[0]
    assert open_as(db, "audit").verify().ok
    tamper(db, f"UPDATE artefacts SET sha256 = '{'0' * 64}' WHERE sha256 = '{expected}'")
    failed = collab(db, "audit", "verify", actor="audit", check=3)
    assert "table artefacts" in failed.out + failed.err


def test_a_bad_hash_or_both_sources_change_nothing(db: str, tmp_path: Path) -> None:
    people(db)
    with as_of("2020-01-06T12:00"):
        in_delivery(db)
    before = len(open_as(db, "audit").history("SA"))
    for extra, said in ((["--sha256", "abc"], "is not a SHA-256: give its 64 hexadecimal digits"),
                        (["--sha256", "g" * 64], "is not a SHA-256"),
                        (["--file", str(tmp_path / "missing.pdf")], "cannot read"),
                        (["--file", __file__, "--sha256", "a" * 64], "give either --file PATH or --sha256 HEX")):
        refused = collab(db, "artefact", "add", "SA", "pid", "--ref", "x", *extra, actor="pm", env=NOW, check=2)
        assert said in refused.err
    assert len(open_as(db, "audit").history("SA")) == before


def test_a_new_version_of_an_approved_document_is_a_variation(db: str) -> None:
    people(db)
    with as_of("2020-01-06T12:00"):
        pm = in_delivery(db)  # its pid was approved without a hash: those approvals still hold
        assert pm.check("SA")["variations"] == []
        pm.add_artefact("SA", "pid", "ref/pid", sha256="c" * 64, on=date(2020, 1, 6))
        varied = pm.check("SA")["variations"]
    assert varied and all(any(f"artefact pid: ref/pid -> ref/pid (sha256 {'c' * 64})" in change
                              for change in v["changed"]) for v in varied)

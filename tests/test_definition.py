"""Definitions are validated fully, every error with file and line."""

from pathlib import Path

import pytest

from conftest import collab
from workflow import definition
from workflow.errors import BadInput

BUILTIN = Path(definition.builtin_files()["police-collaboration"])
TEXT = BUILTIN.read_text()


def errors_of(text: str) -> list[str]:
    with pytest.raises(BadInput) as caught:
        definition.parse(text, "d.yaml")
    return [r.text for r in caught.value.reasons]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_default_definition_encodes_domain_md() -> None:
    d = definition.find("police-collaboration")
    assert (d.name, d.version, d.initial) == ("police-collaboration", 2, "scoping")
    assert [t.dest for t in d.transitions if t.trigger == "advance"] == ["pid", "delivery", "closure", "pir", "bau"]
    assert {t.source for t in d.transitions if t.trigger == "withdraw"} == {"scoping", "pid", "delivery", "closure", "pir", "on-hold"}
    assert [name for name, _ in d.gate("delivery")] == ["artefacts", "approved", "cost-shares-complete", "benefit-profiles-complete",
                                                     "no-open-variations"]
    assert d.reviews.pir_after_months == 6
    assert d.reviews.stages == ("delivery", "closure", "pir", "bau") and d.reviews.begin == "delivery"
    assert (d.reviews.pir_artefact, d.reviews.escalate_to) == ("pir-report", ("programme-manager", "chief-officer"))
    assert {(t.dest, t.effects) for t in d.transitions if t.effects} == {
        ("closure", ("close-programme", "schedule-pir")), ("pir", ("hand-over-benefits",))}


def test_unknown_stage_is_reported_with_its_line() -> None:
    text = TEXT.replace("{trigger: advance, from: pir, to: bau}", "{trigger: advance, from: pir, to: baux}")
    problems = errors_of(text)
    assert f"d.yaml:{line_of(text, 'to: baux')}: to: unknown stage 'baux'" in problems


def test_unknown_requirement_is_reported_with_its_line() -> None:
    text = TEXT.replace("- rationale-recorded", "- rationale-recordd")
    problems = errors_of(text)
    assert any(p.startswith(f"d.yaml:{line_of(text, 'rationale-recordd')}: rationale-recordd: unknown requirement") for p in problems)


def test_unreachable_stage_is_reported() -> None:
    text = TEXT.replace("  - {trigger: advance, from: pir, to: bau}\n", "")
    assert any("stage 'bau' cannot be reached from 'scoping'" in p for p in errors_of(text))


def test_duplicate_trigger_is_reported_with_both_lines() -> None:
    text = TEXT.replace("  - {trigger: advance, from: scoping, to: pid}\n",
                        "  - {trigger: advance, from: scoping, to: pid}\n  - {trigger: advance, from: scoping, to: pid}\n")
    first = line_of(text, "{trigger: advance, from: scoping, to: pid}")
    assert f"d.yaml:{first + 1}: trigger: duplicate trigger 'advance' from 'scoping' to 'pid' (also at line {first})" in errors_of(text)


def test_bad_parameter_type_is_reported() -> None:
    text = TEXT.replace("partners: {at_least: 2}", "partners: {at_least: two}")
    assert f"d.yaml:{line_of(text, 'at_least: two')}: partners: requirement 'partners': 'at_least' must be a whole number, not 'two'" in errors_of(text)


def test_every_error_is_reported_at_once() -> None:
    text = TEXT.replace("- rationale-recorded", "- nope").replace("version: 2", "version: one")
    problems = errors_of(text)
    assert len(problems) == 2
    assert any("version" in p for p in problems) and any("nope" in p for p in problems)


def test_malformed_yaml_names_file_and_line() -> None:
    problems = errors_of("name: x\nversion: 1\nstages: [a, b\n")
    assert problems == ["d.yaml:4: malformed YAML: expected ',' or ']', but got '<stream end>'"]


def test_validate_command_exit_codes(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(TEXT)
    bad = tmp_path / "bad.yaml"
    bad.write_text(TEXT.replace("to: pid}", "to: pidd}", 1))
    assert "valid" in collab(str(tmp_path / "x.db"), "definition", "validate", str(good), check=0).out
    result = collab(str(tmp_path / "x.db"), "definition", "validate", str(bad), check=2)
    assert f"{bad}:{line_of(bad.read_text(), 'to: pidd')}: to: unknown stage 'pidd'" in result.err


def test_show_as_mermaid_draws_every_transition(tmp_path: Path) -> None:
    collab(str(tmp_path / "x.db"), "init", check=0)
    out = collab(str(tmp_path / "x.db"), "definition", "show", "police-collaboration", "--format", "mermaid", check=0).out
    assert out.startswith("stateDiagram-v2")
    assert "scoping --> pid: advance [8 checks]" in out
    assert "on_hold --> delivery: resume (back)" in out

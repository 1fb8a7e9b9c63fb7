"""Definitions are validated fully, every error with file and line."""

from pathlib import Path

import pytest

from conftest import collab
from workflow import definition
from workflow.errors import BadInput
from workflow.yaml_lines import LineMap

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
    assert (d.name, d.version, d.initial) == ("police-collaboration", 4, "scoping")
    assert [t.dest for t in d.transitions if t.trigger == "advance"] == ["pid", "delivery", "closure", "pir", "bau"]
    assert {t.source for t in d.transitions if t.trigger == "withdraw"} == {"scoping", "pid", "delivery", "closure", "pir", "on-hold"}
    assert [name for name, _ in d.gate("delivery")] == ["artefacts", "approved", "cost-shares-complete", "benefit-profiles-complete",
                                                     "benefits-linked", "no-open-variations"]
    assert d.reviews.pir_after_months == 6
    assert d.reviews.stages == ("delivery", "closure", "pir", "bau") and d.reviews.begin == "delivery"
    assert (d.reviews.pir_artefact, d.reviews.escalate_to) == ("pir-report", ("programme-manager", "chief-officer", "pcc"))
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


def test_a_signed_flag_must_be_true_or_false() -> None:
    plain = "approved: {roles: [chief-officer, pcc], partner_kind: police}"
    text = TEXT.replace(plain, plain[:-1] + ", signed: yes please}")
    assert f"d.yaml:{line_of(text, 'signed: yes please')}: approved: requirement 'approved': 'signed' must be true or " \
           "false, not 'yes please'" in errors_of(text)
    assert definition.parse(TEXT.replace(plain, plain[:-1] + ", signed: true}"), "d.yaml").gate("delivery")


def test_every_error_is_reported_at_once() -> None:
    text = TEXT.replace("- rationale-recorded", "- nope").replace("version: 4", "version: one")
    problems = errors_of(text)
    assert len(problems) == 2
    assert any("version" in p for p in problems) and any("nope" in p for p in problems)


def test_malformed_yaml_names_file_and_line() -> None:
    problems = errors_of("name: x\nversion: 1\nstages: [a, b\n")
    # PyYAML's own parser says "expected ',' or ']', but got '<stream end>'"; libyaml's, used where
    # installed, says "did not find expected ',' or ']'".
    assert len(problems) == 1 and problems[0].startswith("d.yaml:4: malformed YAML: ")
    assert "expected ',' or ']'" in problems[0]


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


# -- hostile and sloppy YAML ------------------------------------------------------------------------

BILLION_LAUGHS = """\
name: lol
version: 1
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
stages: *i
"""


def test_billion_laughs_fails_fast_naming_file_and_line(tmp_path: Path) -> None:
    import time

    started = time.perf_counter()
    problems = errors_of(BILLION_LAUGHS)
    assert time.perf_counter() - started < 2
    assert len(problems) == 1
    assert problems[0].startswith("d.yaml:") and "more than 16 aliases" in problems[0]
    line = int(problems[0].split(":")[1])
    assert 4 <= line <= 12  # a line holding aliases
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BILLION_LAUGHS)
    result = collab(str(tmp_path / "x.db"), "definition", "validate", str(bomb), check=2)
    assert result.err.startswith(f"{bomb}:") and "aliases" in result.err


def test_merge_keys_bomb_is_refused_before_it_expands() -> None:
    levels = "".join(f"m{n}: &m{n} {{<<: [{', '.join([f'*m{n - 1}'] * 9)}]}}\n" for n in range(1, 9))
    problems = errors_of("name: x\nversion: 1\nm0: &m0 {a: 1, b: 2}\n" + levels)
    assert "more than 16 aliases" in problems[0]


def test_a_few_aliases_still_load() -> None:
    text = TEXT.replace("  - {trigger: advance, from: scoping, to: pid}",
                        "  - &first {trigger: advance, from: scoping, to: pid}")
    assert definition.parse(text, "d.yaml").name == "police-collaboration"


def test_duplicate_keys_name_both_lines() -> None:
    text = TEXT.replace("version: 4\n", "version: 4\nversion: 5\n", 1)
    first = line_of(text, "version: 4")
    assert errors_of(text) == [f"d.yaml:{first + 1}: version: duplicate key (also at line {first})"]


def test_duplicate_keys_in_a_nested_mapping_are_reported_with_other_errors() -> None:
    text = TEXT.replace("partners: {at_least: 2}", "partners: {at_least: 2, at_least: 3}").replace(
        "- rationale-recorded", "- nope")
    problems = errors_of(text)
    line = line_of(text, "at_least: 3")
    assert f"d.yaml:{line}: at_least: duplicate key (also at line {line})" in problems
    assert any("nope" in p for p in problems)


@pytest.mark.parametrize(("entry", "problem"), [
    ("1: one", "key '1' must be text: quote it ('1')"),
    ("yes: sure", "key 'yes' must be text: quote it ('yes')"),
    ("? [a, b]\n: c", "a key must be text, not a list or a mapping"),
    ("? {a: b}\n: c", "a key must be text, not a list or a mapping"),
])
def test_keys_that_are_not_text_are_reported_with_their_line(entry: str, problem: str) -> None:
    text = TEXT.replace("version: 4\n", f"version: 4\n{entry}\n", 1)
    assert f"d.yaml:{line_of(text, 'version: 4') + 1}: {problem}" in errors_of(text)


def test_deep_nesting_is_refused_with_a_message() -> None:
    problems = errors_of("name: x\nversion: 1\nstages: " + "[" * 5000 + "]" * 5000 + "\n")
    assert problems[0].startswith("d.yaml:") and "malformed YAML" in problems[0]


def test_validation_is_linear_in_the_number_of_stages() -> None:
    """80,000 stages in a chain: the duplicate and reachability checks were quadratic (minutes)."""
    import time

    n = 80_000
    data = LineMap(stages=[f"s{i}" for i in range(n)])
    data.lines, data.line = {"stages": 3}, 1
    errors = definition._Errors("big.yaml")
    started = time.perf_counter()
    stages = definition._stages(data, errors)
    chain = [definition.Transition("advance", f"s{i}", f"s{i + 1}") for i in range(n - 1)]
    definition._check_reachable(data, "s0", [s.name for s in stages], chain, errors)
    assert time.perf_counter() - started < 10
    assert len(stages) == n and errors.items == []

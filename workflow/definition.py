"""Load and validate a lifecycle definition (YAML) into plain dataclasses.

Every error names the file, the line and the field, and validation reports all
errors at once rather than stopping at the first.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from workflow import board_types, effects, gates
from workflow.board_types import BoardTypes
from workflow.errors import BadInput
from workflow.permissions import DEFAULT_WRITERS
from workflow.vocabulary import ROLES
from workflow.yaml_lines import LineList, LineMap, load

BUILTIN_PACKAGE = "definitions"


@dataclass(frozen=True)
class Stage:
    name: str
    description: str = ""
    final: bool = False


@dataclass(frozen=True)
class Transition:
    trigger: str
    source: str
    dest: str
    back: bool = False  # resume: only to the stage the collaboration was held from
    effects: tuple[str, ...] = ()  # names in workflow.effects, run once the move is made


@dataclass(frozen=True)
class Reviews:
    """When benefits are reviewed, what satisfies the PIR, and who hears of a missed review."""

    stages: tuple[str, ...] = ()  # benefits are reviewed in these stages (and on hold from them)
    begin: str | None = None  # reviews begin on first entering this stage
    pir_artefact: str | None = None  # the artefact that satisfies the post-implementation review
    pir_after_months: int = 6  # the PIR falls due this long after the schedule-pir effect
    escalate_to: tuple[str, ...] = ()  # roles told of a missed review (programme-manager: the collaboration's own)
    agenda_days_before: int = 7
    escalation_grace_days: int = 14


_REVIEW_NUMBERS = ("pir_after_months", "agenda_days_before", "escalation_grace_days")


@dataclass(frozen=True)
class Definition:
    name: str
    version: int
    title: str
    initial: str
    stages: tuple[Stage, ...]
    transitions: tuple[Transition, ...]
    gates: dict[str, tuple[tuple[str, dict[str, Any]], ...]]
    artefact_kinds: tuple[str, ...]
    reviews: Reviews
    source: str = field(repr=False, compare=False)
    boards: BoardTypes = BoardTypes()
    writers: tuple[str, ...] = DEFAULT_WRITERS  # roles that may change any of its collaborations, besides the manager
    digest: str = ""

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(stage.name for stage in self.stages)

    def transitions_from(self, stage: str, held_from: str | None = None) -> list[Transition]:
        """The moves open from `stage`; a `back` move only to where it was held from."""
        return [
            t for t in self.transitions if t.source == stage and (not t.back or t.dest == held_from)
        ]

    def gate(self, stage: str) -> tuple[tuple[str, dict[str, Any]], ...]:
        return self.gates.get(stage, ())

    def reviewed(self, stage: str, held_from: str | None = None) -> bool:
        """Whether benefits are reviewed at `stage` (or on hold from a reviewed stage)."""
        return (held_from or stage) in self.reviews.stages

    def is_final(self, stage: str) -> bool:
        return any(s.final for s in self.stages if s.name == stage)

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


class _Errors:
    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[str] = []

    def add(self, where: Any, key: str | None, message: str, line: int | None = None) -> None:
        """Record `message` at the line of `key` in mapping `where` (or of `where` itself, or `line`)."""
        if line is None and isinstance(where, LineMap) and key is not None:
            line = where.lines.get(key, where.line)
        elif line is None:
            line = getattr(where, "line", 1)
        self.items.append(f"{self.path}:{line}: {key + ': ' if key else ''}{message}")


def _names(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


@functools.lru_cache(maxsize=64)
def parse(text: str, path: str = "<definition>") -> Definition:
    """Parse and validate definition text; BadInput lists every problem with its line.

    Cached: a Definition is immutable, and a report that checks the gates of every collaboration
    would otherwise parse the same stored version once per collaboration.
    """
    data, key_problems = load(text, path)
    errors = _Errors(path)
    errors.items += [f"{path}:{line}: {problem}" for line, problem in sorted(key_problems)]
    if not isinstance(data, LineMap):
        raise BadInput(*errors.items, f"{path}:1: a definition must be a mapping with name, version, stages, transitions and gates")

    known = {"name", "version", "title", "initial", "stages", "transitions", "gates", "artefact_kinds", "reviews", "writers",
             "boards"}
    for key in data:
        if key not in known:
            errors.add(data, key, f"unknown field (known: {', '.join(sorted(known))})")
    name, version = data.get("name"), data.get("version")
    if not isinstance(name, str) or not name.strip():
        errors.add(data, "name" if "name" in data else None, "a definition needs a name (text)")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        errors.add(data, "version" if "version" in data else None, "a definition needs a version (a whole number from 1)")

    stages = _stages(data, errors)
    stage_names = [s.name for s in stages]
    initial = data.get("initial", stage_names[0] if stage_names else None)
    if stage_names and initial not in stage_names:
        errors.add(data, "initial", f"unknown stage '{initial}'")
    transitions = _transitions(data, set(stage_names), errors)
    gate_map = _gates(data, set(stage_names), errors)
    artefact_kinds = data.get("artefact_kinds", [])
    if _names(artefact_kinds) is None:
        errors.add(data, "artefact_kinds", "must be a list of names")
        artefact_kinds = []
    known_kinds = set(artefact_kinds)
    for stage, requirements in gate_map.items():
        for requirement, params in requirements:
            if requirement == "artefacts":
                for kind in params.get("kinds", []):
                    if kind not in known_kinds:
                        errors.add(data["gates"], stage, f"artefact kind '{kind}' is not in artefact_kinds")
    reviews = _reviews(data, set(stage_names), list(artefact_kinds), errors)
    if any("schedule-pir" in t.effects for t in transitions) and reviews.pir_artefact is None:
        errors.add(data, "reviews", "the schedule-pir effect needs reviews: pir: artefact (the artefact that satisfies the PIR)")
    writers = _names(data.get("writers", list(DEFAULT_WRITERS)))
    if writers is None or not set(writers) <= set(ROLES):
        errors.add(data, "writers", f"must be a list of roles (roles: {', '.join(ROLES)})")
    boards = board_types.parse(data, errors)
    if stage_names and initial in stage_names:
        _check_reachable(data, initial, stage_names, transitions, errors)
    if errors.items:
        raise BadInput(*errors.items)
    assert isinstance(name, str) and isinstance(version, int) and isinstance(initial, str)  # else an error was recorded
    return Definition(
        name=name,
        version=version,
        title=str(data.get("title", name)),
        initial=initial,
        stages=tuple(stages),
        transitions=tuple(transitions),
        gates=gate_map,
        artefact_kinds=tuple(artefact_kinds),
        reviews=reviews,
        source=text,
        writers=tuple(writers or ()), boards=boards,
        digest=hashlib.sha256(text.encode()).hexdigest(),
    )


def _stages(data: LineMap, errors: _Errors) -> list[Stage]:
    raw = data.get("stages")
    if not isinstance(raw, list) or not raw:
        errors.add(data, "stages" if "stages" in data else None, "a definition needs a list of stages")
        return []
    stages: list[Stage] = []
    names: set[str] = set()
    for item in raw:
        if isinstance(item, str):
            item_map: Any = LineMap(name=item)
            item_map.lines, item_map.line = {}, data.lines["stages"]
            item = item_map
        if not isinstance(item, LineMap) or not isinstance(item.get("name"), str):
            errors.add(data, "stages", "each stage needs a name")
            continue
        for key in item:
            if key not in {"name", "description", "final"}:
                errors.add(item, key, "unknown stage field (known: name, description, final)")
        if not isinstance(item.get("final", False), bool):
            errors.add(item, "final", "must be true or false")
        if item["name"] in names:
            errors.add(item, "name", f"duplicate stage '{item['name']}'")
            continue
        names.add(item["name"])
        stages.append(Stage(item["name"], str(item.get("description", "")), bool(item.get("final", False))))
    return stages


def _transitions(data: LineMap, stage_names: set[str], errors: _Errors) -> list[Transition]:
    raw = data.get("transitions")
    if not isinstance(raw, list):
        errors.add(data, "transitions" if "transitions" in data else None, "a definition needs a list of transitions")
        return []
    transitions: list[Transition] = []
    seen: dict[tuple[str, str, str], int] = {}
    for item in raw:
        if not isinstance(item, LineMap):
            errors.add(data, "transitions", "each transition must be a mapping with trigger, from and to")
            continue
        for key in item:
            if key not in {"trigger", "from", "to", "back", "effects"}:
                errors.add(item, key, "unknown transition field (known: trigger, from, to, back, effects)")
        trigger = item.get("trigger")
        sources, dests = _names(item.get("from")), _names(item.get("to"))
        back = item.get("back", False)
        if not isinstance(trigger, str) or not trigger:
            errors.add(item, "trigger" if "trigger" in item else None, "a transition needs a trigger name")
            continue
        if sources is None:
            errors.add(item, "from" if "from" in item else None, "must be a stage name or a list of them")
            continue
        if dests is None:
            errors.add(item, "to" if "to" in item else None, "must be a stage name or a list of them")
            continue
        if not isinstance(back, bool):
            errors.add(item, "back", "must be true or false")
            continue
        named = _names(item.get("effects", []))
        if named is None:
            errors.add(item, "effects", "must be a list of effect names")
            continue
        unknown = [name for name in named if name not in effects.EFFECTS]
        if unknown:
            errors.add(item, "effects", f"unknown effect(s) {', '.join(unknown)} (known: {', '.join(sorted(effects.EFFECTS))})")
            continue
        if len(dests) > 1 and not back:
            errors.add(item, "to", "several destinations need 'back: true' (return to the stage held from)")
            continue
        for stage in sources + dests:
            if stage not in stage_names:
                errors.add(item, "from" if stage in sources else "to", f"unknown stage '{stage}'")
        for source in sources:
            if back:
                for dest in dests:
                    transitions.append(Transition(trigger, source, dest, back=True, effects=tuple(named)))
                continue
            if (trigger, source, dests[0]) in seen:
                errors.add(item, "trigger", f"duplicate trigger '{trigger}' from '{source}' to '{dests[0]}' "
                           f"(also at line {seen[(trigger, source, dests[0])]})")
                continue
            seen[(trigger, source, dests[0])] = item.lines.get("trigger", item.line)
            transitions.append(Transition(trigger, source, dests[0], effects=tuple(named)))
    return transitions


def _gates(data: LineMap, stage_names: set[str], errors: _Errors) -> dict[str, tuple[tuple[str, dict[str, Any]], ...]]:
    raw = data.get("gates", LineMap())
    if not isinstance(raw, LineMap):
        errors.add(data, "gates", "must map a stage name to its list of requirements")
        return {}
    result: dict[str, tuple[tuple[str, dict[str, Any]], ...]] = {}
    for stage, requirements in raw.items():
        if stage not in stage_names:
            errors.add(raw, stage, f"gate for unknown stage '{stage}'")
            continue
        if not isinstance(requirements, list):
            errors.add(raw, stage, "must be a list of requirements")
            continue
        parsed = []
        for index, requirement in enumerate(requirements):
            params: Any  # YAML: a mapping once checked below
            line = requirements.lines[index] if isinstance(requirements, LineList) else None
            if isinstance(requirement, str):
                name, params = requirement, {}
            elif isinstance(requirement, LineMap) and len(requirement) == 1:
                name, params = next(iter(requirement.items()))
                params = params if params is not None else {}
                if not isinstance(params, dict):
                    errors.add(requirement, name, "parameters must be a mapping")
                    continue
            else:
                errors.add(raw, stage, f"a requirement is a name or a one-key mapping of name to parameters, not {requirement!r}")
                continue
            for problem in gates.parameter_errors(name, dict(params)):
                errors.add(requirement, name, problem, line=None if isinstance(requirement, LineMap) else line)
            parsed.append((name, dict(params)))
        result[stage] = tuple(parsed)
    return result


def _reviews(data: LineMap, stage_names: set[str], artefact_kinds: list[str], errors: _Errors) -> Reviews:
    raw = data.get("reviews", LineMap())
    if not isinstance(raw, LineMap):
        errors.add(data, "reviews", "must be a mapping")
        return Reviews()
    values: dict[str, Any] = {}
    pir = raw.get("pir", LineMap())
    if not isinstance(pir, LineMap):
        errors.add(raw, "pir", "must be a mapping with artefact and after_months")
        pir = LineMap()
    numbers = [(raw, key, key) for key in _REVIEW_NUMBERS] + [(pir, "after_months", "pir_after_months")]
    for where, key, field_name in numbers:
        if key in where:
            value = where[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                errors.add(where, key, f"must be a whole number of days or months, not {value!r}")
            else:
                values[field_name] = value
    for key in pir:
        if key not in {"artefact", "after_months"}:
            errors.add(pir, key, "unknown PIR setting (known: artefact, after_months)")
    if "artefact" in pir:
        if pir["artefact"] not in artefact_kinds:
            errors.add(pir, "artefact", f"artefact kind '{pir['artefact']}' is not in artefact_kinds")
        values["pir_artefact"] = str(pir["artefact"])
    for key, choices, what in (("stages", stage_names, "stage"), ("escalate_to", set(ROLES), "role")):
        if key not in raw:
            continue
        listed = _names(raw[key])
        if listed is None:
            errors.add(raw, key, f"must be a list of {what} names")
            continue
        for name in listed:
            if name not in choices:
                errors.add(raw, key, f"unknown {what} '{name}'")
        values[key] = tuple(listed)
    begin = raw.get("begin", values.get("stages", (None,))[0])
    if begin is not None and begin not in values.get("stages", ()):
        errors.add(raw, "begin", f"reviews begin at '{begin}', which is not one of the reviewed stages")
    values["begin"] = begin
    for key in raw:
        if key not in {"stages", "begin", "pir", "escalate_to", *_REVIEW_NUMBERS}:
            errors.add(raw, key, "unknown review setting (known: stages, begin, pir, escalate_to, "
                       f"{', '.join(_REVIEW_NUMBERS[1:])})")
    return Reviews(**values)


def _check_reachable(data: LineMap, initial: str, stage_names: list[str], transitions: list[Transition], errors: _Errors) -> None:
    following: dict[str, list[str]] = {}
    for t in transitions:
        following.setdefault(t.source, []).append(t.dest)
    reached, frontier = {initial}, [initial]
    while frontier:
        for dest in following.get(frontier.pop(), ()):
            if dest not in reached:
                reached.add(dest)
                frontier.append(dest)
    for stage in stage_names:
        if stage not in reached:
            errors.add(data, "stages", f"stage '{stage}' cannot be reached from '{initial}'")


def read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{path}: cannot read definition: {getattr(error, 'strerror', None) or error}") from None


def load_file(path: Path) -> Definition:
    return parse(read_file(path), str(path))


def builtin_files() -> dict[str, Path]:
    """Definition files shipped with collab, by definition name (the file's stem)."""
    folder = resources.files(BUILTIN_PACKAGE)
    return {Path(str(entry)).stem: Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".yaml")}


def find(name: str) -> Definition:
    files = builtin_files()
    if name not in files:
        raise BadInput(f"unknown definition '{name}' (known: {', '.join(sorted(files))})")
    definition = load_file(files[name])
    if definition.name != name:
        raise BadInput(f"{files[name]}: file is named '{name}' but defines '{definition.name}'")
    return definition

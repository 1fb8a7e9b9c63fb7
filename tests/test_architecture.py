"""The shape the engine keeps: the definition owns its names, only front ends speak of commands and flags,
imports flow one way, and modules stay small."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from workflow import definition

ROOT = Path(__file__).resolve().parents[1]
ENGINE = sorted([*ROOT.glob("workflow/*.py"), *ROOT.glob("notifications/*.py")])
DEFAULT = yaml.safe_load(Path(definition.builtin_files()["police-collaboration"]).read_text())
# Words of the definition format and of the domain that a default name happens to share: "pir" is also the
# key of the PIR settings in a definition's reviews block and the kind of a post-implementation review.
FORMAT_WORDS = {"pir"}
SCENARIOS = {"demo.py"}  # the demo walks the default definition by name and prints each command a person would type
VOCABULARY = {"vocabulary.py", "permissions.py"}  # the domain's roles and who may do what


def strings(path: Path, docstrings: bool) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    skip = set()
    if not docstrings:
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
                first = node.body[0]
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                    skip.add(id(first.value))
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skip]


def test_no_stage_artefact_or_role_of_the_default_definition_appears_in_engine_code() -> None:
    names = ({s["name"] for s in DEFAULT["stages"]} | set(DEFAULT["artefact_kinds"])) - FORMAT_WORDS
    roles = set(DEFAULT["reviews"]["escalate_to"]) | {role for gate in DEFAULT["gates"].values() for r in gate
                                                       if isinstance(r, dict) for p in r.values() if p
                                                       for role in p.get("roles", [])}
    found = [
        f"{path.relative_to(ROOT)}:{line}: {value!r}"
        for path in ENGINE if path.name not in SCENARIOS
        for line, value in strings(path, docstrings=False)
        if value in names or (value in roles and path.name not in VOCABULARY)
    ]
    assert found == []


PG_DUMP = re.compile(r"pg_dump|--schema=")  # PostgreSQL's backup command, which collab names but does not own


def test_no_engine_module_mentions_a_cli_flag_or_command() -> None:
    flag = re.compile(r"(?<![\w-])--[a-z][a-z-]+|`?collab [a-z]+ [A-Z]")
    found = [f"{path.relative_to(ROOT)}:{line}: {value!r}" for path in ENGINE if path.name not in SCENARIOS
             for line, value in strings(path, docstrings=False) if flag.search(value) and not PG_DUMP.search(value)]
    assert found == []


def imports(path: Path) -> set[str]:
    """The workflow and notifications modules `path` imports at run time (not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text())
    guarded = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
               for child in node.body for n in ast.walk(child)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module in ("workflow", "notifications"):
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
            else:
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {name for name in found if name.split(".")[0] in ("workflow", "notifications")}


# Lowest first: a module may import its own layer and those below, never one above.
LAYERS = [
    {"workflow.errors", "workflow.vocabulary", "workflow.clock", "workflow.formatting", "workflow.validate",
     "workflow.realisation", "workflow.calendar", "workflow.charts", "workflow.text", "workflow.gates",
     "notifications.channels", "notifications.render", "workflow.permissions", "workflow.inert", "workflow.periods",
     "workflow.yaml_lines", "workflow.netbenefit", "workflow.progress", "workflow.board_types", "workflow.spool",
     "workflow.prepared"},
    {"workflow.model", "workflow.db", "workflow.audit", "workflow.lookups", "workflow.effects", "workflow.definition",
     "workflow.machine", "workflow.facts", "workflow.stored", "workflow.diagram", "workflow.delivery", "workflow.reviews",
     "workflow.approvals", "workflow.replay", "workflow.verification", "workflow.backup", "workflow.signing", "workflow.meetings",
     "workflow.drafts", "workflow.owed"},
    {"workflow.context"},
    {"workflow.people", "workflow.register", "workflow.lifecycle", "workflow.benefits", "workflow.views",
     "workflow.catalogue", "workflow.keys", "workflow.grants", "workflow.accounts", "workflow.screens",
     "workflow.corrections", "workflow.logicmap", "workflow.costs", "workflow.boards",
     "workflow.meeting_changes", "workflow.outcomes", "workflow.board_assignment"},
    {"workflow.service", "workflow.reminders", "workflow.agendas", "workflow.reports", "workflow.report_formats", "workflow.worker",
     "workflow.demo", "workflow.todo", "workflow.digests"},
]


def test_imports_flow_one_way_between_layers_and_packages() -> None:
    layer = {module: n for n, modules in enumerate(LAYERS) for module in modules}
    modules = {f"{p.parent.name}.{p.stem}": p for p in ENGINE if p.stem != "__init__"}
    assert set(modules) == set(layer), "every engine module has a layer"
    upward = [f"{name} imports {other}" for name, path in modules.items() for other in imports(path)
              if other in layer and layer[other] > layer[name]]
    assert upward == []
    notifications = [name for name in modules if name.startswith("notifications.")]
    assert [(n, i) for n in notifications for i in imports(modules[n]) if i.startswith("workflow")] == []


def test_engine_modules_stay_small() -> None:
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in ENGINE}
    assert {name: n for name, n in sizes.items() if n > 400} == {}

"""Render reminder notifications from jinja2 templates.

Each notification kind has three templates in ``templates/``: ``KIND.subject.txt``
(one line), ``KIND.txt`` (the plain-text part) and ``KIND.html`` (the HTML part).
What a kind's templates may refer to is a fixed contract (:data:`KINDS`), checked
when the templates are loaded, so that a typo in a template fails at start-up
rather than in the middle of a reminder run.

The environment is sandboxed (templates are data that operators may edit) and
strict: an undefined name or attribute is an error, never an empty string.
HTML templates are autoescaped; text templates are not.

This module is a pure adapter: it imports neither SQLAlchemy nor ``workflow``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jinja2 is imported by the first load: commands that render nothing never pay for it
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

__all__ = [
    "KINDS",
    "PARTS",
    "Rendered",
    "TemplateError",
    "Templates",
    "load_templates",
]

#: kind -> the top-level variable names its templates may use (and that the caller passes).
KINDS: Mapping[str, frozenset[str]] = {
    "agenda": frozenset({"board", "recipient", "meeting", "collaborations"}),
    "measurement-request": frozenset({"recipient", "board", "meeting", "collaboration", "benefit"}),
    "escalation": frozenset({"recipient", "board", "meeting", "collaboration", "benefit", "days_overdue"}),
    "pir-reminder": frozenset({"recipient", "collaboration", "closed_on", "pir_due", "overdue"}),
    "meeting-cancelled": frozenset({"recipient", "board", "meeting", "reason"}),
    # every escalation owed to one person in one run, each {"kind": escalation|pir-escalation, ...its context}
    "escalations": frozenset({"recipient", "escalations"}),
    # the weekly digest: `todo`'s items for one person, due_on a date or None
    "digest": frozenset({"recipient", "week", "items"}),
}

#: part -> file-name suffix of that part's template.
PARTS: Mapping[str, str] = {"subject": ".subject.txt", "text": ".txt", "html": ".html"}

DEFAULT_DIRECTORY = Path(__file__).parent / "templates"

_DICT_ATTRIBUTES = frozenset(dir(dict))  # what getattr finds on a plain dict (which has no instance attributes)


class TemplateError(Exception):
    """A template is missing, malformed, breaks the variable contract or failed to render."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


# --------------------------------------------------------------------------- loading


def _autoescape(name: str | None) -> bool:
    return name is not None and name.endswith(".html")


def _environment(directory: Path, filters: Mapping[str, Callable[..., str]]) -> SandboxedEnvironment:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    class Sandbox(SandboxedEnvironment):
        def getattr(self, obj: Any, attribute: str) -> Any:
            """`a.b` of a plain dict without an attribute b is its item b, as the sandbox finds it, but without
            the AttributeError it raises and catches first: most of the lookups of a subject line, 60,000 a run."""
            if type(obj) is dict and attribute not in _DICT_ATTRIBUTES and attribute in obj:
                return obj[attribute]
            return super().getattr(obj, attribute)

    env = Sandbox(
        loader=jinja2.FileSystemLoader(str(directory)),
        undefined=jinja2.StrictUndefined,
        autoescape=_autoescape,
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(filters)
    return env


def _undeclared(env: SandboxedEnvironment, directory: Path, name: str, seen: set[str]) -> dict[str, set[str]]:
    """Undeclared top-level names of template `name` and of what it includes/extends/imports.

    Returns file name -> its undeclared names, so an error can name the file at fault.
    Raises TemplateError for a missing file, a syntax error or a dynamic template reference.
    """
    import jinja2
    from jinja2 import meta

    if name in seen:
        return {}
    seen.add(name)
    path = directory / name
    try:
        path.resolve().relative_to(directory.resolve())
    except ValueError:
        raise TemplateError(f"{name}: template outside the template directory {directory}") from None
    if not path.is_file():
        raise TemplateError(f"{name}: template file missing from {directory}")
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{name}: cannot read template: {exc}") from exc
    try:
        ast = env.parse(source, name, str(path))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{name}, line {exc.lineno}: syntax error: {exc.message}") from exc
    found = {name: set(meta.find_undeclared_variables(ast))}
    for referenced in meta.find_referenced_templates(ast):
        if referenced is None:
            raise TemplateError(f"{name}: includes, extends or imports a template chosen at render time; only literal template names can be checked")
        for other, names in _undeclared(env, directory, referenced, seen).items():
            found.setdefault(other, set()).update(names)
    return found


class Templates:
    """The loaded, checked templates of every kind. Build with :func:`load_templates`."""

    def __init__(self, env: SandboxedEnvironment, templates: Mapping[str, Mapping[str, jinja2.Template]]):
        from jinja2 import TemplateError as JinjaError
        from jinja2.runtime import new_context

        self._env = env
        self._templates = templates
        self._globals: dict[str | None, dict[str, Any]] = {}
        self._new_context = new_context  # imported once, not at each of a run's 60,000 renders
        # what a render may raise, reported as a TemplateError: UndefinedError (a missing attribute), SecurityError
        # (sandbox), ...; and from a filter given the wrong type of value, and the like
        self._faults: tuple[type[Exception], ...] = (JinjaError, TypeError, ValueError, ArithmeticError)

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._templates)

    def render(self, kind: str, context: Mapping[str, Any]) -> Rendered:
        self._check(kind, context)
        parts = {part: self._part(template, context) for part, template in self._templates[kind].items()}
        return Rendered(subject=self._subject(kind, parts["subject"]), text=parts["text"], html=parts["html"])

    def subject(self, kind: str, context: Mapping[str, Any]) -> str:
        """Just the subject line, for a dry run that shows only that (the text and HTML cost the most)."""
        self._check(kind, context)
        return self._subject(kind, self._part(self._templates[kind]["subject"], context))

    def _check(self, kind: str, context: Mapping[str, Any]) -> None:
        allowed = KINDS.get(kind)
        if allowed is None or kind not in self._templates:
            raise TemplateError(f"unknown notification kind '{kind}' (known: {', '.join(sorted(KINDS))})")
        if context.keys() == allowed:  # the usual case, without sorting the two differences (60,000 a run)
            return
        given = set(context)
        missing = sorted(allowed - given)
        unexpected = sorted(given - allowed)
        if missing or unexpected:
            problems = []
            if missing:
                problems.append("missing " + ", ".join(f"'{n}'" for n in missing))
            if unexpected:
                problems.append("unexpected " + ", ".join(f"'{n}'" for n in unexpected))
            raise TemplateError(
                f"{kind}: context does not match the contract: {'; '.join(problems)} "
                f"(expected: {', '.join(sorted(allowed))})"
            )

    def _part(self, template: jinja2.Template, context: Mapping[str, Any]) -> str:
        """template.render(context), less its copy of the globals (a ChainMap walked at every render: a third of
        a subject line's time, 60,000 of them a run): merged once, then shared as the context's parent, and
        given as the globals whose names the context keeps (template.new_context walks the ChainMap for them)."""
        merged = self._globals.get(template.name)
        if merged is None:
            merged = self._globals[template.name] = dict(template.globals)
        try:
            return template.environment.concat(template.root_render_func(self._new_context(
                template.environment, template.name, template.blocks, {**merged, **context}, True, merged)))
        except self._faults as exc:
            raise TemplateError(f"{template.name}: {type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _subject(kind: str, rendered: str) -> str:
        subject = " ".join(rendered.split())
        if not subject:
            raise TemplateError(f"{kind}{PARTS['subject']}: rendered an empty subject")
        return subject


def load_templates(directory: Path | None = None, filters: Mapping[str, Callable[..., str]] | None = None) -> Templates:
    """Load, parse and check every template of every kind; raise TemplateError on the first fault.

    `filters` are the formatters the templates use (date, time, number, quantity): the caller's, so that
    mail and reports format alike without this adapter importing the engine.
    """
    directory = Path(directory) if directory is not None else DEFAULT_DIRECTORY
    if not directory.is_dir():
        raise TemplateError(f"template directory {directory} does not exist")
    import jinja2

    env = _environment(directory, filters or {})
    templates: dict[str, dict[str, jinja2.Template]] = {}
    for kind, allowed in KINDS.items():
        templates[kind] = {}
        for part, suffix in PARTS.items():
            name = kind + suffix
            for filename, names in _undeclared(env, directory, name, set()).items():
                unknown = sorted(names - allowed)
                if unknown:
                    where = filename if filename == name else f"{filename} (used by {name})"
                    listed = ", ".join(f"'{n}'" for n in unknown)
                    noun = "variable" if len(unknown) == 1 else "variables"
                    raise TemplateError(f"{where}: unknown {noun} {listed} (allowed: {', '.join(sorted(allowed))})")
            try:
                templates[kind][part] = env.get_template(name)
            except jinja2.TemplateError as exc:  # pragma: no cover - parsed just above
                raise TemplateError(f"{name}: {exc}") from exc
    return Templates(env, templates)

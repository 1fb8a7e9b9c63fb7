"""A definition as data, as text and as a Mermaid state diagram, for people and other tools."""

from __future__ import annotations

from typing import Any

from workflow.definition import Definition


def _requirement_text(name: str, params: dict[str, Any]) -> str:
    if not params:
        return name
    return name + " (" + ", ".join(f"{k}={','.join(v) if isinstance(v, list) else v}" for k, v in params.items()) + ")"


def definition_json(definition: Definition) -> dict[str, Any]:
    return {
        "name": definition.name,
        "version": definition.version,
        "title": definition.title,
        "initial": definition.initial,
        "stages": [{"name": s.name, "description": s.description, "final": s.final} for s in definition.stages],
        "transitions": [
            {"trigger": t.trigger, "from": t.source, "to": t.dest, "back": t.back, "effects": list(t.effects)}
            for t in definition.transitions
        ],
        "gates": {stage: [{"requirement": n, "params": p} for n, p in reqs] for stage, reqs in definition.gates.items()},
        "artefact_kinds": list(definition.artefact_kinds),
        "reviews": vars(definition.reviews),
        "digest": definition.digest,
    }


def definition_text(definition: Definition) -> str:
    lines = [f"{definition.name} v{definition.version}: {definition.title}", f"sha256 {definition.digest}", "", "stages:"]
    for stage in definition.stages:
        marks = " (start)" if stage.name == definition.initial else " (final)" if stage.final else ""
        lines.append(f"  {stage.name}{marks}: {stage.description}")
    lines += ["", "transitions:"]
    seen: set[tuple[str, str]] = set()
    for t in definition.transitions:
        if t.back:
            if (t.trigger, t.source) not in seen:
                seen.add((t.trigger, t.source))
                lines.append(f"  {t.trigger}: {t.source} -> the stage it was held from")
            continue
        effects = f" (then {', '.join(t.effects)})" if t.effects else ""
        lines.append(f"  {t.trigger}: {t.source} -> {t.dest}{effects}")
    lines += ["", "gates (named after the stage they lead into):"]
    for gate, requirements in definition.gates.items():
        lines.append(f"  {gate}:")
        lines += [f"    - {_requirement_text(n, p)}" for n, p in requirements]
    r = definition.reviews
    lines += ["", f"artefact kinds: {', '.join(definition.artefact_kinds)}",
              f"reviews: in {', '.join(r.stages) or 'no stage'}, from entering {r.begin or '-'}; PIR satisfied by "
              f"{r.pir_artefact or '-'}, due {r.pir_after_months} months after schedule-pir; agenda "
              f"{r.agenda_days_before} days before a meeting; escalation to {', '.join(r.escalate_to) or 'nobody'} "
              f"after {r.escalation_grace_days} days' grace"]
    return "\n".join(lines)


def _node(stage: str) -> str:
    return stage.replace("-", "_")


def definition_mermaid(definition: Definition) -> str:
    """A `stateDiagram-v2`; each edge is labelled with its trigger and the number of gate requirements."""
    lines = ["stateDiagram-v2", f"    [*] --> {_node(definition.initial)}"]
    for stage in definition.stages:
        if stage.name != _node(stage.name):
            lines.append(f"    state \"{stage.name}\" as {_node(stage.name)}")
    for t in definition.transitions:
        gate = len(definition.gate(t.dest)) if not t.back else 0
        label = t.trigger + (f" [{gate} checks]" if gate else "") + (" (back)" if t.back else "")
        lines.append(f"    {_node(t.source)} --> {_node(t.dest)}: {label}")
    for stage in definition.stages:
        if stage.final:
            lines.append(f"    {_node(stage.name)} --> [*]")
    return "\n".join(lines)

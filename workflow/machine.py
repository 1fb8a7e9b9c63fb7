"""One `transitions` machine per definition version, shared by every collaboration.

Building a machine per collaboration costs memory and time in proportion to the
number of collaborations; instead a short-lived `Subject` carries one
collaboration's stage and gate facts through the shared machine.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from workflow import effects, gates
from workflow.definition import Definition
from workflow.errors import Reason, Refused, reason

if TYPE_CHECKING:
    from transitions import EventData
    from transitions.core import Callback


@dataclass
class Subject:
    """One collaboration as the machine sees it for the length of one trigger.

    `facts` may be given as a function that gathers the queried facts named (gates.QUERIED): it is
    called only when a gate with requirements is evaluated (a resume re-enters a passed gate and reads
    none), for just the facts its requirements read.
    """

    state: str
    facts: gates.GateFacts | Callable[[frozenset[str]], gates.GateFacts]
    held_from: str | None = None
    wanted: str | None = None
    effected: effects.Effected | None = None  # where the move's effects act; None for a check
    unmet: list[Reason] = field(default_factory=list)
    _gathered: tuple[frozenset[str], gates.GateFacts] | None = None

    def gate_facts(self, needed: frozenset[str] = gates.QUERIED) -> gates.GateFacts:
        if isinstance(self.facts, gates.GateFacts):
            return self.facts
        if self._gathered is None or not needed <= self._gathered[0]:
            needed |= self._gathered[0] if self._gathered else frozenset()
            self._gathered = needed, self.facts(needed)
        return self._gathered[1]


class Lifecycle:
    """A definition compiled into a machine whose guards are the definition's gates."""

    def __init__(self, definition: Definition) -> None:
        from transitions import Machine  # imported by the first move: commands that move nothing never pay for it

        self.definition = definition
        self.machine = Machine(
            model=None,
            states=list(definition.stage_names),
            initial=definition.initial,
            auto_transitions=False,
            send_event=True,
        )
        for t in definition.transitions:
            # A return from a pause re-enters a stage whose gate was already passed.
            conditions: list[Callback] = [self._returns_to_held, self._is_wanted] if t.back else [self._is_wanted, self._gate_clear]
            after: list[Callback] = [functools.partial(_run_effect, effects.EFFECTS[name]) for name in t.effects]
            self.machine.add_transition(t.trigger, t.source, t.dest, conditions=conditions, after=after)

    @staticmethod
    def _is_wanted(event: EventData) -> bool:
        subject = cast(Subject, event.model)
        assert event.transition is not None  # set before a transition's conditions and callbacks run
        return subject.wanted is None or subject.wanted == event.transition.dest

    @staticmethod
    def _returns_to_held(event: EventData) -> bool:
        assert event.transition is not None
        return cast(Subject, event.model).held_from == event.transition.dest

    def _gate_clear(self, event: EventData) -> bool:
        subject = cast(Subject, event.model)
        assert event.transition is not None and event.transition.dest is not None  # every defined move has a destination
        dest = event.transition.dest
        requirements = self.definition.gate(dest)
        subject.unmet = gates.unmet(dest, requirements, subject.gate_facts(gates.reads(requirements))) if requirements else []
        return not subject.unmet

    def destinations(self, trigger: str, stage: str, held_from: str | None = None) -> list[str]:
        return [t.dest for t in self.definition.transitions_from(stage, held_from) if t.trigger == trigger]

    def check(self, stage: str, dest: str, facts: gates.GateFacts) -> list[Reason]:
        """What stands between `stage` and `dest` ([] = ready), without moving anything."""
        return gates.unmet(dest, self.definition.gate(dest), facts)

    def fire(self, trigger: str, subject: Subject) -> str:
        """Move the subject by `trigger`; Refused lists every unmet requirement and nothing moves."""
        options = self.destinations(trigger, subject.state, subject.held_from)
        if not options:
            raise Refused(self._not_allowed(trigger, subject.state))
        if subject.wanted is None and len(options) > 1:
            raise Refused(reason("destination-ambiguous", f"'{trigger}' from {subject.state} can go to "
                                 f"{', '.join(options)}: choose one", trigger=trigger, options=options))
        if subject.wanted is not None and subject.wanted not in options:
            raise Refused(reason("destination-not-open", f"cannot {trigger} from {subject.state} to {subject.wanted}; "
                                 f"possible: {', '.join(options)}", trigger=trigger, options=options))
        from transitions import MachineError

        try:
            moved = self.machine.events[trigger].trigger(subject)
        except MachineError:
            raise Refused(self._not_allowed(trigger, subject.state)) from None
        if not moved:
            raise Refused(*subject.unmet)
        return subject.state

    def _not_allowed(self, trigger: str, stage: str) -> Reason:
        open_moves = sorted({t.trigger for t in self.definition.transitions_from(stage)})
        if self.definition.is_final(stage):
            return reason("final-stage", f"'{trigger}' is not allowed: {stage} is a final stage", trigger=trigger, stage=stage)
        return reason("move-not-allowed", f"'{trigger}' is not allowed from {stage} "
                      f"(possible here: {', '.join(open_moves) or 'nothing'})", trigger=trigger, stage=stage)


def _run_effect(run: effects.Effect, event: EventData) -> None:
    subject = cast(Subject, event.model)
    if subject.effected is not None:
        run(subject.effected)


_MACHINES: dict[tuple[str, int, str], Lifecycle] = {}
_MACHINES_KEPT = 64  # definition versions a process keeps machines for


def lifecycle(definition: Definition) -> Lifecycle:
    """The shared machine of a definition version (built once per process, from the definition given: it is
    not parsed again)."""
    key = (definition.name, definition.version, definition.digest)
    found = _MACHINES.get(key)
    if found is None:
        if len(_MACHINES) >= _MACHINES_KEPT:
            _MACHINES.clear()
        found = _MACHINES[key] = Lifecycle(definition)
    return found

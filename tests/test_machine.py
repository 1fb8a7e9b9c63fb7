"""The shared machine reads a collaboration's gate facts only when a gate with requirements decides, and of the
queried facts only those its requirements read."""

import pytest

from workflow.definition import find
from workflow.errors import Refused
from workflow.gates import GateFacts, reads
from workflow.machine import Subject, lifecycle


def counting(facts: GateFacts) -> tuple[list[frozenset[str]], object]:
    """A gatherer of `facts` that records which queried facts each call asked for."""
    calls: list[frozenset[str]] = []

    def gather(needed: frozenset[str]) -> GateFacts:
        calls.append(needed)
        return facts

    return calls, gather


def test_resume_reads_no_gate_facts() -> None:
    calls, gather = counting(GateFacts())
    subject = Subject(state="on-hold", held_from="pid", facts=gather)
    assert lifecycle(find("police-collaboration")).fire("resume", subject) == "pid"
    assert calls == []


def test_hold_gathers_the_facts_once_and_its_gate_decides() -> None:
    machine = lifecycle(find("police-collaboration"))
    calls, gather = counting(GateFacts(reason="budget review"))
    assert machine.fire("hold", Subject(state="pid", facts=gather)) == "on-hold"
    assert calls == [frozenset()]  # the on-hold gate wants a reason: no query for partners, benefits, approvals...
    calls, gather = counting(GateFacts(reason=None))
    with pytest.raises(Refused) as refused:
        machine.fire("hold", Subject(state="pid", facts=gather))
    assert refused.value.reasons == ["no reason given"]
    assert calls == [frozenset()]


def test_a_gate_gathers_just_the_queried_facts_its_requirements_read() -> None:
    definition = find("police-collaboration")
    calls, gather = counting(GateFacts())
    with pytest.raises(Refused):
        lifecycle(definition).fire("advance", Subject(state="scoping", facts=gather))
    assert calls == [reads(definition.gate("pid"))]
    assert calls[0] == {"partners", "benefits", "variations"}  # what the pid gate's requirements read
    assert reads((("reason-recorded", {}), ("objective-recorded", {}))) == frozenset()
    assert reads((("approved", {"roles": ["chief-officer"]}),)) == {"partners", "approvals", "stale", "unsigned"}
    assert reads(tuple((name, {}) for name in ("lessons-recorded", "artefacts"))) == {"lessons", "artefacts"}

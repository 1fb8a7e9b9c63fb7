"""The shared machine reads a collaboration's gate facts only when a gate with requirements decides."""

import pytest

from workflow.definition import find
from workflow.errors import Refused
from workflow.gates import GateFacts
from workflow.machine import Subject, lifecycle


def counting(facts: GateFacts) -> tuple[list[int], object]:
    calls: list[int] = []

    def gather() -> GateFacts:
        calls.append(1)
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
    assert calls == [1]
    calls, gather = counting(GateFacts(reason=None))
    with pytest.raises(Refused) as refused:
        machine.fire("hold", Subject(state="pid", facts=gather))
    assert refused.value.reasons == ["no reason given"]
    assert calls == [1]

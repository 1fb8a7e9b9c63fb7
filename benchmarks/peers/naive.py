"""The naive baselines: a state-machine library alone, with its state and an audit row written by hand.

What a team would write with only `transitions` or only python-statemachine and sqlite3 (or
psycopg): per move, in one transaction, read the record, let the library check the guard and
pick the target stage, write the stage with an optimistic version check and append an audit row.
The guard of the pid gate asks the database for its facts only when it is evaluated, as collab's
does. No hash chain, no roles, no stored definition: this is the floor for "library + table".

- `transitions`: one `Machine(model=None)` built once; each move adds the loaded record as a
  model (`add_model(record, initial=stage)`), triggers, and removes it again (the library's own
  way to serve many objects; building a machine per record is what collab's README warns about).
- python-statemachine: the documented domain-model binding, `Lifecycle(model=record,
  state_field="stage")`, one machine instance per move (the class is compiled once).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from benchmarks.peers.store import DELIVERY, Moves, ON_HOLD, PID, Refused, SCOPING, Store


class Record:
    """One record as the libraries see it for one move; the gate's facts are read on demand."""

    def __init__(self, store: Store, row: tuple[Any, ...], reason: str | None = None) -> None:
        self.id, self.stage, self.held_from, self.rationale, self.version = row
        self.store = store
        self.reason = reason

    # guards, looked up by name by both libraries
    def gate_met(self, *_: Any, **__: Any) -> bool:
        partners, benefits = self.store.facts(self.id)
        return bool(self.rationale) and partners >= 2 and benefits >= 1

    def reason_given(self, *_: Any, **__: Any) -> bool:
        return bool(self.reason)

    def held_at_pid(self, *_: Any, **__: Any) -> bool:
        return self.held_from == PID

    def held_at_delivery(self, *_: Any, **__: Any) -> bool:
        return self.held_from == DELIVERY


class NaivePeer(Moves):
    """Load, let the library decide, write: one transaction per move."""

    name = title = ""

    def __init__(self, backend: str, target: str, schema: str | None, delivery: list[str], scoping: list[str]) -> None:
        self.store = Store(backend, target, schema)
        self.store.create_schema()
        self.store.seed(delivery, scoping)

    def trigger(self, record: Record, action: str) -> str:
        """Fire `action` on the record through the library; the new stage, or Refused."""
        raise NotImplementedError

    def fire(self, key: str, action: str, reason: str | None = None) -> None:
        with self.store.transaction() as store:
            row = store.execute("SELECT id, stage, held_from, rationale, version FROM record WHERE key = ?",
                                (key,)).fetchone()
            record = Record(store, row, reason)
            from_stage = record.stage
            to_stage = self.trigger(record, action)
            store.move(record.id, record.version, action, from_stage, to_stage,
                       from_stage if action == "hold" else None, reason)

    def connections(self) -> list[sqlite3.Connection]:
        return [self.store.connection] if self.store.backend == "sqlite" else []

    def close(self) -> None:
        self.store.close()


class TransitionsPeer(NaivePeer):
    name, title = "transitions", "transitions alone, hand-written SQL"

    def __init__(self, *args: Any) -> None:
        from transitions import Machine

        self.machine = Machine(model=None, states=[SCOPING, PID, DELIVERY, ON_HOLD], initial=SCOPING,
                               auto_transitions=False, model_attribute="stage")
        self.machine.add_transition("advance", SCOPING, PID, conditions="gate_met")
        self.machine.add_transition("advance", PID, DELIVERY)
        self.machine.add_transition("hold", [PID, DELIVERY], ON_HOLD, conditions="reason_given")
        self.machine.add_transition("resume", ON_HOLD, PID, conditions="held_at_pid")
        self.machine.add_transition("resume", ON_HOLD, DELIVERY, conditions="held_at_delivery")
        super().__init__(*args)

    def trigger(self, record: Record, action: str) -> str:
        from transitions import MachineError

        stage = record.stage
        self.machine.add_model(record, initial=stage)
        try:
            if not record.trigger(action):  # type: ignore[attr-defined]
                raise Refused(f"{action} from {stage}: a guard said no")
        except MachineError as error:
            raise Refused(str(error)) from None
        finally:
            self.machine.remove_model(record)
        return record.stage


def statemachine_class() -> type:
    """The lifecycle as a python-statemachine class (built on first use: the package is optional)."""
    from statemachine import State, StateMachine

    class Lifecycle(StateMachine):
        scoping = State(value=SCOPING, initial=True)
        pid = State(value=PID)
        delivery = State(value=DELIVERY)
        on_hold = State(value=ON_HOLD)

        advance = scoping.to(pid, cond="gate_met") | pid.to(delivery)
        hold = pid.to(on_hold, cond="reason_given") | delivery.to(on_hold, cond="reason_given")
        resume = on_hold.to(pid, cond="held_at_pid") | on_hold.to(delivery, cond="held_at_delivery")

    return Lifecycle


class StatemachinePeer(NaivePeer):
    name, title = "statemachine", "python-statemachine alone, hand-written SQL"

    def __init__(self, *args: Any) -> None:
        self.lifecycle = statemachine_class()
        super().__init__(*args)

    def trigger(self, record: Record, action: str) -> str:
        from statemachine.exceptions import TransitionNotAllowed

        machine = self.lifecycle(model=record, state_field="stage")
        try:
            machine.send(action)
        except TransitionNotAllowed as error:
            raise Refused(str(error)) from None
        return record.stage

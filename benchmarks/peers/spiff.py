"""SpiffWorkflow 3: the lifecycle as BPMN (lifecycle.bpmn), its state serialised with the library's serializer.

Persistence is the one SpiffWorkflow documents: `BpmnWorkflowSerializer.serialize_json(workflow)`
gives one JSON document (the task tree, the data and the process spec) that the application
stores; `deserialize_json` restores it. Per move, in one transaction: read the record and its
serialised workflow, restore it, complete the ready user task with the move's data (for the pid
gate: the rationale and the partner and benefit counts read from the database; the exclusive
gateway's condition checks them), run the engine steps, check the workflow reached the stage the
move asked for (else nothing is written), and write the new serialisation, the stage and an
audit row.

A loop in BPMN adds tasks to the tree: every hold/resume pair grows the serialised state
(reported as `state_bytes`), so hold/resume here runs over a pool of records, each held and
resumed once a round, rather than thousands of times on one record.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from benchmarks.peers.store import DELIVERY, Moves, ON_HOLD, PID, Refused, SCOPING, Store

BPMN = Path(__file__).with_name("lifecycle.bpmn")
STAGE_OF_TASK = {"scoping": SCOPING, "pid": PID, "delivery": DELIVERY, "on_hold": ON_HOLD}
MOVES = {"advance": (SCOPING, PID), "hold": (DELIVERY, ON_HOLD), "resume": (ON_HOLD, DELIVERY)}


class SpiffPeer(Moves):
    name, title = "spiff", "SpiffWorkflow 3 (BPMN, JSON serializer)"

    def __init__(self, backend: str, target: str, schema: str | None, delivery: list[str], scoping: list[str]) -> None:
        from SpiffWorkflow.bpmn import BpmnWorkflow
        from SpiffWorkflow.bpmn.parser import BpmnParser
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer

        parser = BpmnParser()
        parser.add_bpmn_file(str(BPMN))
        self.spec = parser.get_spec("lifecycle")
        self.serializer = BpmnWorkflowSerializer()
        workflow = BpmnWorkflow(self.spec)
        workflow.do_engine_steps()
        at_scoping = self.serializer.serialize_json(workflow)
        self._complete(workflow, rationale="agreed", partners=2, benefits=2)
        self._complete(workflow)
        at_delivery = self.serializer.serialize_json(workflow)
        assert self._stage(workflow) == DELIVERY
        self.seed_bytes = len(at_delivery)
        self.store = Store(backend, target, schema)
        self.store.create_schema()
        self.store.seed(delivery, scoping, state={SCOPING: at_scoping, DELIVERY: at_delivery}.get)

    @staticmethod
    def _ready(workflow: Any) -> Any:
        from SpiffWorkflow import TaskState

        return workflow.get_next_task(state=TaskState.READY, manual=True)

    def _stage(self, workflow: Any) -> str | None:
        task = self._ready(workflow)
        return STAGE_OF_TASK.get(task.task_spec.name) if task is not None else None

    def _complete(self, workflow: Any, **data: Any) -> None:
        task = self._ready(workflow)
        task.set_data(**data)
        task.run()
        workflow.do_engine_steps()

    def fire(self, key: str, action: str, reason: str | None = None) -> None:
        source, target = MOVES[action]
        with self.store.transaction() as store:
            record_id, stage, rationale, version, state = store.execute(
                "SELECT id, stage, rationale, version, state FROM record WHERE key = ?", (key,)).fetchone()
            workflow = self.serializer.deserialize_json(state)
            if self._stage(workflow) != source:
                raise Refused(f"{action} is not possible from {stage}")
            if action == "advance":
                partners, benefits = store.facts(record_id)
                self._complete(workflow, rationale=rationale, partners=partners, benefits=benefits)
            else:
                self._complete(workflow, action=action, reason=reason)
            if self._stage(workflow) != target:  # the gateway took another way: the move is refused
                raise Refused(f"{action} from {stage}: the gateway's condition is not met")
            store.move(record_id, version, action, stage, target, stage if action == "hold" else None, reason,
                       state=self.serializer.serialize_json(workflow))

    def state_bytes(self, key: str) -> int:
        with self.store.transaction() as store:
            return len(store.execute("SELECT state FROM record WHERE key = ?", (key,)).fetchone()[0])

    def connections(self) -> list[sqlite3.Connection]:
        return [self.store.connection] if self.store.backend == "sqlite" else []

    def close(self) -> None:
        self.store.close()

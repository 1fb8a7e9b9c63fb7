"""Hypothesis's stateful testing: random sequences of use cases against a simple model of what they should do.

After every step the collaborations read back equal the model, and `audit verify` passes: the history's chain
holds and replaying the history yields exactly the tables' state. Each example runs on a fresh SQLite file.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from builders import open_as, people
from conftest import init
from workflow.db import engine_for
from workflow.errors import BadInput, Refused

KEYS = st.sampled_from(["SA", "SB", "SC"])
WORDS = st.text(alphabet="abcdefghij ", min_size=1, max_size=12).map(str.strip).filter(bool)
PARTNERS = st.sampled_from(["Devon & Cornwall Police", "Dorset Police", "Hampshire Constabulary"])
APPETITES = st.sampled_from(["averse", "minimal", "cautious", "open", "eager"])


@dataclass
class Model:
    title: str
    stage: str = "scoping"
    held_from: str | None = None
    partners: dict[str, str | None] = field(default_factory=dict)  # name -> risk appetite
    benefits: set[str] = field(default_factory=set)
    lessons: int = 0


class UseCases(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.mkdtemp(prefix="collab-stateful-")
        self.db = str(Path(self.folder) / "collab.db")
        self.model: dict[str, Model] = {}

    @initialize()
    def people(self) -> None:
        init(self.db, "head")
        people(self.db)

    def teardown(self) -> None:
        engine_for(self.db).dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    @rule(key=KEYS, title=WORDS)
    def register(self, key: str, title: str) -> None:
        if key in self.model:
            try:
                open_as(self.db, "pm").new(key, title)
            except BadInput:
                return
            raise AssertionError(f"{key} registered twice")
        open_as(self.db, "pm").new(key, title)
        self.model[key] = Model(title)

    @precondition(lambda self: self.model)
    @rule(data=st.data(), title=WORDS)
    def retitle(self, data: st.DataObject, title: str) -> None:
        key = data.draw(st.sampled_from(sorted(self.model)))
        open_as(self.db, "pm").update(key, title=title)
        self.model[key].title = title

    @precondition(lambda self: self.model)
    @rule(data=st.data(), partner=PARTNERS, appetite=st.none() | APPETITES)
    def add_partner(self, data: st.DataObject, partner: str, appetite: str | None) -> None:
        key = data.draw(st.sampled_from(sorted(self.model)))
        open_as(self.db, "pm").add_partner(key, partner, risk_appetite=appetite)
        partners = self.model[key].partners
        partners[partner] = appetite or partners.get(partner)

    @precondition(lambda self: self.model)
    @rule(data=st.data(), code=st.sampled_from(["B1", "B2", "B3"]), category=st.sampled_from(["economic", "effectiveness"]))
    def add_benefit(self, data: st.DataObject, code: str, category: str) -> None:
        key = data.draw(st.sampled_from(sorted(self.model)))
        try:
            open_as(self.db, "pm").add_benefit(key, code, title=f"benefit {code}", category=category)
        except BadInput:
            assert code in self.model[key].benefits
            return
        assert code not in self.model[key].benefits
        self.model[key].benefits.add(code)

    @precondition(lambda self: self.model)
    @rule(data=st.data(), text=WORDS)
    def add_lesson(self, data: st.DataObject, text: str) -> None:
        key = data.draw(st.sampled_from(sorted(self.model)))
        open_as(self.db, "pm").add_lesson(key, text)
        self.model[key].lessons += 1

    @precondition(lambda self: self.model)
    @rule(data=st.data(), why=WORDS)
    def hold_or_resume(self, data: st.DataObject, why: str) -> None:
        key = data.draw(st.sampled_from(sorted(self.model)))
        pm, collaboration = open_as(self.db, "pm"), self.model[key]
        if collaboration.stage == "on-hold":
            pm.resume(key)
            collaboration.stage, collaboration.held_from = collaboration.held_from or "", None
        else:
            pm.hold(key, reason=why)
            collaboration.stage, collaboration.held_from = "on-hold", collaboration.stage

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def advance_when_ready(self, data: st.DataObject) -> None:
        """Advancing is refused unless the gate is met; either way the model says what must follow."""
        key = data.draw(st.sampled_from(sorted(self.model)))
        collaboration = self.model[key]
        try:
            open_as(self.db, "pm").advance(key)
        except Refused:
            return
        assert collaboration.stage == "scoping" and len(collaboration.partners) >= 2
        collaboration.stage = "pid"

    @invariant()
    def state_is_the_model_and_the_replay_of_history(self) -> None:
        if not self.model:
            return
        auditor = open_as(self.db, "audit")
        for key, expected in self.model.items():
            shown = auditor.show(key)
            assert (shown["title"], shown["stage"]) == (expected.title, expected.stage)
            assert {p["name"]: p["risk_appetite"] for p in shown["partners"]} == expected.partners
            assert {b["id"] for b in shown["benefits"]} == expected.benefits
            assert sum(1 for lesson in auditor.lessons() if lesson["collaboration"] == key) == expected.lessons
        verified = auditor.verify()
        assert verified.ok, verified.problem


UseCases.TestCase.settings = settings(max_examples=12, stateful_step_count=12, deadline=None)
test_use_cases_keep_state_equal_to_the_model_and_to_the_replay_of_history = UseCases.TestCase

"""The engine's API: one object per acting person, whose methods are the use cases.

Each use case is one unit of work (one transaction, one or more history events) and lives in the
module of its area; `Collab` only binds them to a context. The CLI and the web app are thin front
ends over it, and a notebook can drive it directly:

    app = Collab.open("collab.db", "pm.alliance")
    app.advance("SA")
"""

from __future__ import annotations

from workflow.accounts import AccountCases
from workflow.benefits import BenefitCases
from workflow.boards import BoardCases
from workflow.board_assignment import BoardAssignmentCases
from workflow.catalogue import DefinitionCases
from workflow.clock import Clock
from workflow.context import Context
from workflow.corrections import CorrectionCases
from workflow.costs import CostCases
from workflow.grants import GrantCases
from workflow.keys import KeyCases
from workflow.lifecycle import LifecycleCases
from workflow.logicmap import LogicMapCases
from workflow.meeting_changes import MeetingCases
from workflow.outcomes import OutcomeCases
from workflow.people import PeopleCases
from workflow.register import RegisterCases
from workflow.screens import ScreenCases
from workflow.todo import TodoCases
from workflow.views import ViewCases


class Collab(PeopleCases, BoardCases, MeetingCases, OutcomeCases, GrantCases, KeyCases, DefinitionCases, RegisterCases,
             LifecycleCases, BenefitCases, BoardAssignmentCases, LogicMapCases, CorrectionCases, CostCases, ViewCases,
             TodoCases, AccountCases, ScreenCases):
    """The use cases of every area, run as one person against one database."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @classmethod
    def open(cls, db: str, actor: str | None = None, clock: Clock | None = None) -> Collab:
        return cls(Context.open(db, actor, clock))

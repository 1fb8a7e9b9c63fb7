"""The lifecycle as django-fsm-2 transitions on a model, each logged by django-fsm-log.

The same lifecycle as the other peers: scoping -advance-> pid (condition: a rationale, at least
two partners, at least one benefit, counted in the database), pid -> delivery, hold from pid or
delivery with a reason, resume back to where the record was held. `ConcurrentTransitionMixin`
is django-fsm's optimistic check (the UPDATE also matches the stage that was read).
"""

from __future__ import annotations

from django.db import models
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description

SCOPING, PID, DELIVERY, ON_HOLD = "scoping", "pid", "delivery", "on-hold"


def gate_met(record: Record) -> bool:
    return bool(record.rationale) and record.partners.count() >= 2 and record.benefits.count() >= 1


def was_held(record: Record) -> bool:
    return record.held_from in (PID, DELIVERY)


class Record(ConcurrentTransitionMixin, models.Model):
    key = models.CharField(max_length=60, unique=True)
    stage = FSMField(default=SCOPING)
    held_from = models.CharField(max_length=20, null=True, blank=True)
    rationale = models.TextField(blank=True, default="")

    @fsm_log_by
    @fsm_log_description
    @transition(field=stage, source=SCOPING, target=PID, conditions=[gate_met])
    def advance(self, by: object = None, description: str | None = None) -> None:
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=stage, source=[PID, DELIVERY], target=ON_HOLD)
    def hold(self, by: object = None, description: str | None = None) -> None:
        if not description:
            raise ValueError("a hold needs a reason")
        self.held_from = self.stage

    @fsm_log_by
    @fsm_log_description
    @transition(field=stage, source=ON_HOLD, target=RETURN_VALUE(PID, DELIVERY), conditions=[was_held])
    def resume(self, by: object = None, description: str | None = None) -> str:
        held, self.held_from = self.held_from, None
        return held


class Partner(models.Model):
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="partners")
    name = models.CharField(max_length=120)


class Benefit(models.Model):
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="benefits")
    code = models.CharField(max_length=20)

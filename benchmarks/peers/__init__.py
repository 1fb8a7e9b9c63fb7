"""Peers (issue 14, part 7): the throughput benchmark's work on the engines a user would pick instead.

The peers' packages are the optional extra `peers` (`pip install -e '.[peers]'`), never needed
by collab or its tests; `transitions` is one of collab's own dependencies. Each peer lists the
distributions it needs and the module that shows each is installed.
"""

from __future__ import annotations

import importlib.util

EXTRA = "peers"
INSTALL = f"pip install -e '.[{EXTRA}]'"

NEEDS: dict[str, tuple[tuple[str, str], ...]] = {
    "django_fsm": (("Django", "django"), ("django-fsm-2", "django_fsm"), ("django-fsm-log", "django_fsm_log")),
    "spiff": (("SpiffWorkflow", "SpiffWorkflow"),),
    "transitions": (("transitions", "transitions"),),
    "statemachine": (("python-statemachine", "statemachine"),),
}


def importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing(peer: str) -> list[str]:
    """The distributions `peer` needs that are not installed."""
    return [distribution for distribution, module in NEEDS[peer] if not importable(module)]

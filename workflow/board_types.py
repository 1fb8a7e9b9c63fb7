"""A definition's `boards:` block: the types of board, and which types review which categories of benefit.

    boards:
      types: [resource-control, executive, performance]
      review: {economic: [resource-control, executive], effectiveness: [performance]}

The types are data: the engine knows none of them. A benefit added or handed over without a board is given the
partners' boards of its category's types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from workflow.vocabulary import CATEGORIES
from workflow.yaml_lines import LineMap


class Problems(Protocol):
    def add(self, where: Any, key: str | None, message: str, line: int | None = None) -> None: ...


@dataclass(frozen=True)
class BoardTypes:
    types: tuple[str, ...] = ()
    review: dict[str, tuple[str, ...]] = field(default_factory=dict)  # category -> the board types reviewing it

    def for_category(self, category: str) -> tuple[str, ...]:
        return self.review.get(category, ())


def _listed(value: Any) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def parse(data: LineMap, errors: Problems) -> BoardTypes:
    """The `boards:` block, every problem recorded at its line; none at all is no board types."""
    raw = data.get("boards", LineMap())
    if not isinstance(raw, LineMap):
        errors.add(data, "boards", "must be a mapping with types and review")
        return BoardTypes()
    for key in raw:
        if key not in {"types", "review"}:
            errors.add(raw, key, "unknown boards setting (known: types, review)")
    types = _listed(raw.get("types", []))
    if types is None:
        errors.add(raw, "types", "must be a list of board type names")
        types = []
    mapping = raw.get("review", LineMap())
    if not isinstance(mapping, LineMap):
        errors.add(raw, "review", "must map benefit categories to lists of board types")
        mapping = LineMap()
    review: dict[str, tuple[str, ...]] = {}
    for category, listed in mapping.items():
        kinds = _listed(listed)
        if category not in CATEGORIES:
            errors.add(mapping, category, f"unknown category (categories: {', '.join(CATEGORIES)})")
        elif kinds is None or not set(kinds) <= set(types):
            errors.add(mapping, category, f"must be a list of board types (types: {', '.join(types) or 'none'})")
        else:
            review[category] = tuple(kinds)
    return BoardTypes(tuple(types), review)

"""Safe YAML for definitions: plain data whose mappings and lists know their lines, so every error can
name file and line; hostile documents are refused before they can expand.

Refused: more than MAX_ALIASES alias uses (a "billion laughs" expands exponentially, in memory or in
a message that prints it), duplicate keys (YAML would silently keep the last), non-text keys. yaml is
imported by the first load: commands that only read never pay for it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from workflow.errors import BadInput

if TYPE_CHECKING:
    import yaml

__all__ = ["MAX_ALIASES", "LineList", "LineMap", "load"]


class LineMap(dict):
    """A mapping that knows the line of each key (`lines`) and its own (`line`)."""

    lines: dict[str, int]
    line: int


MAX_ALIASES = 16  # a definition needs no alias at all; a few are tolerated, a "billion laughs" is not
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _construct_mapping(loader: Any, node: yaml.MappingNode) -> LineMap:
    """A dict that knows the line of each key. Duplicate and non-text keys are left out and noted in
    `loader.problems`, which load() returns for the caller to report with its own."""
    mapping = LineMap()
    mapping.lines = {}
    mapping.line = node.start_mark.line + 1
    duplicates: set[int] = set()
    first_line: dict[str, int] = {}
    for key_node, _ in node.value:  # the mapping's own keys: one overriding a merged (<<) key is no duplicate
        if key_node.id == "scalar" and key_node.tag != _MERGE_TAG:
            line = key_node.start_mark.line + 1
            if key_node.value in first_line:
                loader.problems.append((line, f"{key_node.value}: duplicate key (also at line {first_line[key_node.value]})"))
                duplicates.add(id(key_node))
            else:
                first_line[key_node.value] = line
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if key_node.id != "scalar":
            loader.problems.append((line, "a key must be text, not a list or a mapping"))
            continue
        if id(key_node) in duplicates:
            continue  # the first one stands
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            loader.problems.append((line, f"key {key_node.value!r} must be text: quote it ('{key_node.value}')"))
            continue
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = line
    return mapping


class LineList(list):
    """A list that knows the line of each item."""

    lines: list[int]


def _construct_list(loader: Any, node: yaml.SequenceNode) -> Iterator[LineList]:
    """A list that knows the line of each item (a gate's requirement named by a bare string).

    Lines are kept per list item rather than on every string: a str subclass with a line costs
    three times as much to build, which on a large file is most of the loading time.
    """
    items = LineList()
    items.lines = [child.start_mark.line + 1 for child in node.value]
    yield items  # as PyYAML's own list constructor does, so that a list may contain itself
    items.extend(loader.construct_sequence(node))


@functools.cache
def _loader() -> type:
    """A safe loader (on libyaml's parser where PyYAML has it: five times faster on a large file) that
    keeps the line of every mapping key so that errors can point at it."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc, valid-type]
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.problems: list[tuple[int, str]] = []

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_list)
    return Loader


def _alias_overuse(root: yaml.Node) -> int | None:
    """The line of the collection holding the alias use past MAX_ALIASES, or None.

    An alias makes the composed graph share a node; counting shared visits (iteratively, each node
    expanded once) costs the document's size, not the size of what the aliases would expand to.
    """
    import yaml

    seen: set[int] = set()
    uses = 0
    stack: list[tuple[yaml.Node, yaml.Node]] = [(root, root)]
    while stack:
        node, parent = stack.pop()
        if id(node) in seen:
            uses += 1
            if uses > MAX_ALIASES:
                return parent.start_mark.line + 1
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, node) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend((child, node) for pair in node.value for child in pair)
    return None


def load(text: str, path: str) -> tuple[Any, list[tuple[int, str]]]:
    """The document's data and the key problems found while building it; BadInput for what cannot be read."""
    import yaml

    loader = _loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, []
        line = _alias_overuse(node) if "*" in text else None  # no '*', no alias
        if line is not None:
            raise BadInput(f"{path}:{line}: more than {MAX_ALIASES} aliases (*name): a definition needs none, "
                           "write the values out")
        return loader.construct_document(node), loader.problems
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        raise BadInput(f"{path}:{line}: malformed YAML: {error.problem or error}") from None
    except yaml.YAMLError as error:
        raise BadInput(f"{path}: malformed YAML: {error}") from None
    except RecursionError:
        raise BadInput(f"{path}:1: malformed YAML: nested too deeply for a definition") from None
    finally:
        loader.dispose()

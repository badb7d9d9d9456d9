"""Decoding a config document sent over the API (YAML or JSON), strictly (pure).

``yaml.safe_load`` is safe from code execution but not from three things a request
body can carry: aliases that expand into an exponentially large tree (a few KB
"billion laughs" document would take the validator minutes, and ``&a [*a]`` is a
list that contains itself), a key given twice (the last silently wins, as with
JSON), and nesting deep enough to exhaust the recursion of the composer. Anchors
and aliases are fine (``yaml.safe_dump`` writes them for shared values, and
operators use them for shared schedules) as long as the document they expand to
stays within :data:`MAX_NODES` values and 32 levels; the rest is refused with a
message naming the line.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node

from router.core.errors import InvalidInput, RouterError
from router.core.json_input import MAX_DEPTH, loads_strict

# A 500-pool config is about 30,000 values; ten times that is still a config.
MAX_NODES = 300_000


class DocumentError(RouterError, ValueError):
    """The body is not an acceptable YAML or JSON document; the message says why."""


class _StrictLoader(yaml.SafeLoader):
    """``SafeLoader`` without aliases, duplicate keys or deep nesting."""

    def __init__(self, stream: str | bytes) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise DocumentError(f"line {mark.line + 1}: nested more than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: the constructor reports it
                break
            if duplicate:
                line = key_node.start_mark.line + 1
                raise DocumentError(f"line {line}: the key {key!r} appears twice in one mapping")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_document(raw: bytes) -> Any:
    """The decoded document; :class:`DocumentError` for invalid YAML/JSON, duplicate
    keys, or a document that expands past :data:`MAX_NODES` values or 32 levels.

    A JSON object is decoded as JSON (a 600 KB one in 10 ms, where the YAML loader,
    pure Python, takes 2 s), with the same refusals; anything else as YAML."""
    if raw.lstrip()[:1] == b"{":
        try:
            return loads_strict(raw)
        except InvalidInput as exc:
            if exc.reason != "not_json":  # JSON, but a duplicate key or too deep
                raise DocumentError(exc.problem) from None
            # not JSON: a YAML flow mapping such as {pools: [...]}, decoded below
    try:
        data = yaml.load(raw, Loader=_StrictLoader)  # a SafeLoader subclass
    except DocumentError:
        raise
    except yaml.YAMLError as exc:
        raise DocumentError(f"not valid YAML or JSON: {exc}") from None
    _check_expanded(data)
    return data


def _check_expanded(data: Any) -> None:
    """Walk the document as its consumers will (each alias expanded), iteratively and
    within a budget, so a self-containing or exponential one is refused quickly."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    budget = MAX_NODES
    while stack:
        value, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise DocumentError(
                f"the document expands to more than {MAX_NODES} values (YAML aliases?)"
            )
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise DocumentError(f"nested more than {MAX_DEPTH} levels (YAML aliases?)")
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)

"""Integers sent as integral floats (`"n": 2.0`) become ints, where the contract says integer.

JSON Schema's `integer` accepts `2.0`, and so does the real API; Python handlers then
fail on `range(2.0)` or a slice. So once a body has passed its contract, every value
the contract types as an integer is made an `int`, here and only here, for every family.

Each request schema is compiled once into a `Shape`: the paths under which integers can
occur (properties, additional properties, array items, through `$ref` and unions), with
everything that holds no integer pruned away. Converting a body then visits only those
paths: a chat request costs a handful of dict lookups.
"""

from __future__ import annotations

from typing import Any


class Shape:
    """Where integers live below one schema node. Each child is a list of alternatives
    (the branches of a union that name the same key)."""

    __slots__ = ("integer", "props", "extra", "items")

    def __init__(self) -> None:
        self.integer = False  # this node takes integers, and not other numbers
        self.props: dict[str, list[Shape]] = {}
        self.extra: list[Shape] = []  # additionalProperties
        self.items: list[Shape] = []

    def children(self) -> list["Shape"]:
        return [s for subs in self.props.values() for s in subs] + self.extra + self.items


def compile_shape(schema: dict) -> Shape | None:
    """The integer paths of a whole schema, or None when it holds no integer at all."""
    defs = schema.get("$defs") or schema.get("definitions") or {}
    memo: dict[str, Shape] = {}
    all_shapes: list[Shape] = []

    def types_of(node: Any, depth: int = 0) -> set:
        node = resolve(node)
        kind = node.get("type")
        if kind is not None:
            return set(kind) if isinstance(kind, list) else {kind}
        found: set = set()
        if depth < 8:
            for key in ("anyOf", "oneOf", "allOf"):
                for branch in node.get(key) or ():
                    found |= types_of(branch, depth + 1)
        return found

    def resolve(node: Any) -> dict:
        for _ in range(32):
            if not isinstance(node, dict) or "$ref" not in node:
                break
            node = defs.get(str(node["$ref"]).rsplit("/", 1)[-1], {})
        return node if isinstance(node, dict) else {}

    def build(node: Any) -> Shape:
        if isinstance(node, dict) and "$ref" in node:
            name = str(node["$ref"]).rsplit("/", 1)[-1]
            if name not in memo:
                memo[name] = shape = Shape()  # placed first: a recursive $ref finds it
                fill(shape, defs.get(name, {}))
            return memo[name]
        shape = Shape()
        fill(shape, node)
        return shape

    def fill(shape: Shape, node: Any) -> None:
        all_shapes.append(shape)
        if not isinstance(node, dict):
            return
        kinds = types_of(node)
        shape.integer = "integer" in kinds and "number" not in kinds
        for key, sub in (node.get("properties") or {}).items():
            shape.props.setdefault(key, []).append(build(sub))
        if isinstance(node.get("additionalProperties"), dict):
            shape.extra.append(build(node["additionalProperties"]))
        if isinstance(node.get("items"), dict):
            shape.items.append(build(node["items"]))
        for key in ("anyOf", "oneOf", "allOf"):
            for branch in node.get(key) or ():
                merge(shape, build(branch))

    def merge(into: Shape, branch: Shape) -> None:
        """A union's branch adds its paths beside the node's own (shallowly: the children
        stay shared, so recursive schemas never unfold)."""
        into.integer = into.integer or branch.integer
        for key, subs in branch.props.items():
            into.props.setdefault(key, []).extend(subs)
        into.extra.extend(branch.extra)
        into.items.extend(branch.items)

    root = build(schema)
    # Prune: a shape is useful when an integer can be reached from it (a fixpoint, since
    # recursive schemas make the graph cyclic).
    useful = {id(s) for s in all_shapes if s.integer}
    changed = True
    while changed:
        changed = False
        for s in all_shapes:
            if id(s) not in useful and any(id(c) in useful for c in s.children()):
                useful.add(id(s))
                changed = True
    for s in all_shapes:
        s.props = {k: kept for k, subs in s.props.items() if (kept := _dedupe([c for c in subs if id(c) in useful]))}
        s.extra = _dedupe([c for c in s.extra if id(c) in useful])
        s.items = _dedupe([c for c in s.items if id(c) in useful])
    return root if id(root) in useful else None


def _dedupe(shapes: list[Shape]) -> list[Shape]:
    seen: set[int] = set()
    return [s for s in shapes if not (id(s) in seen or seen.add(id(s)))]


INT64 = (-(2**63), 2**63 - 1)  # what the real API's integers hold (and what orjson writes back)


class OutOfRange(Exception):
    """An integer beyond 64 bits (`"max_tokens": 1e30`): no typed API can take it."""

    def __init__(self, value: float) -> None:
        self.value = value
        self.path: list = []


def make_integral(shape: Shape, value: Any) -> Any:
    """`value` with every integral float the shape types as an integer made an int
    (containers changed in place); raises OutOfRange, with its path, past 64 bits."""
    return _fix((shape,), value, 0)


def _fix(shapes: tuple[Shape, ...] | list[Shape], value: Any, depth: int) -> Any:
    kind = type(value)
    if kind is float:
        if value.is_integer() and any(s.integer for s in shapes):
            if not INT64[0] <= value <= INT64[1]:
                raise OutOfRange(value)
            return int(value)
        return value
    if depth > 200:  # bodies are refused past 100 levels before this runs
        return value
    key: Any = None
    try:
        if kind is dict:
            for shape in shapes:
                props = shape.props
                if shape.extra or len(value) < len(props):  # walk whichever side is smaller
                    for key, item in value.items():
                        subs = props.get(key) or shape.extra
                        if subs:
                            value[key] = _fix(subs, item, depth + 1)
                else:
                    for key, subs in props.items():
                        if key in value:
                            value[key] = _fix(subs, value[key], depth + 1)
        elif kind is list:
            for shape in shapes:
                if shape.items:
                    for key, item in enumerate(value):
                        value[key] = _fix(shape.items, item, depth + 1)
    except OutOfRange as problem:
        problem.path.insert(0, key)
        raise
    return value

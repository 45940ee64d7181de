"""Word a schema failure the way the real API does.

A JSON Schema validator says *that* a body is invalid; a client sees *which*
parameter and why. The walker finds the first problem in a deterministic order
(required, unknown, then each field in the body's order); in a union it follows the
branch the body meant, chosen by its discriminator (`role`, `type`), so a bad user
message is reported against the user-message shape. It runs only after the fast
validator has rejected a body.

The real API words problems in two dialects, and each operation declares its own:
- "modern" (chat completions, Responses): `Invalid type for 'messages[0].content':
  expected ..., but got ... instead.` with `param` and a `code`;
- "legacy" (embeddings): python-jsonschema's sentence and the path, as in
  `-42 is less than the minimum of 1 - 'dimensions'`, with `param` and `code` null.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .errors import TYPE_PHRASE as _TYPE_PHRASE
from .errors import OpenAIError, json_type

@dataclass
class Problem:
    kind: str  # missing, unknown, type, value, range, items, length, pattern, properties
    path: tuple
    value: Any = None
    expected: str = ""  # type phrase, for "type"
    expected_types: list[str] = field(default_factory=list)
    options: list = field(default_factory=list)  # for "value"
    limit: Any = None
    above: bool = False
    integer: bool = False


def explain(schema: dict, value: Any, *, top_level_unknown: str = "unrecognized", dialect: str = "modern") -> OpenAIError | None:
    """The real API's error for the first problem in `value`, or None if none is found."""
    problem = _Walker(schema).check(schema, value, ())
    if problem is None:
        return None
    if dialect == "legacy":
        return legacy_error(problem, top_level_unknown)
    return modern_error(problem, top_level_unknown)


def param_name(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# --- the two dialects -----------------------------------------------------------------


def modern_error(p: Problem, top_level_unknown: str) -> OpenAIError:
    param = param_name(p.path)
    if p.kind == "missing":
        return errors.missing_parameter(param)
    if p.kind == "unknown":
        # Chat and embeddings at the top level: "Unrecognized request argument supplied: foo"
        # (publicly reported, e.g. openai/openai-python#433). Elsewhere "Unknown parameter: 'x'."
        # with `unknown_parameter` (recorded: test_openai_metrics/test_image_gen_metrics#1; nested,
        # publicly reported: labring/FastGPT#1253, theopenco/llmgateway#2820).
        if len(p.path) == 1 and top_level_unknown == "unrecognized":
            return errors.unrecognized_argument(p.path[0])
        return errors.unknown_parameter(param)
    if p.kind == "type":
        return errors.invalid_type(param, p.expected, p.value)
    if p.kind == "value":
        return errors.invalid_value(param, p.value, p.options)
    if p.kind == "range":
        return errors.out_of_range(param, p.value, p.limit, above=p.above, integer=p.integer)
    if p.kind in ("items", "length"):
        kind = "array" if p.kind == "items" else "string"
        return errors.length_error(param, kind, len(p.value), p.limit, too_long=p.above)
    if p.kind == "pattern":
        return errors.invalid_request(
            f"Invalid '{param}': string does not match pattern. Expected a string that matches the pattern '{p.limit}'.",
            param=param,
            code="invalid_value",
        )
    return errors.invalid_request(
        f"Invalid '{param}': too many properties. Expected an object with at most {p.limit} properties, "
        f"but got an object with {len(p.value)} properties instead.",
        param=param,
        code="object_above_max_properties",
    )


def legacy_error(p: Problem, top_level_unknown: str) -> OpenAIError:
    """python-jsonschema's message, then ` - 'dotted.path'` to the value's container."""
    v = _py(p.value)
    where = p.path
    if p.kind == "missing":
        text, where = f"'{p.path[-1]}' is a required property", p.path[:-1]
    elif p.kind == "unknown":
        if len(p.path) == 1 and top_level_unknown == "unrecognized":
            return errors.unrecognized_argument(p.path[0])
        text, where = f"Additional properties are not allowed ('{p.path[-1]}' was unexpected)", p.path[:-1]
    elif p.kind == "type":
        kinds = p.expected_types or ["object"]
        text = f"{v} is not of type {', '.join(repr(k) for k in kinds)}" if len(kinds) == 1 else f"{v} is not valid under any of the given schemas"
    elif p.kind == "value":
        text = f"{v} is not one of {_py(p.options)}" if len(p.options) != 1 else f"{_py(p.options[0])} was expected"
    elif p.kind == "range":
        text = f"{v} is {'greater than the maximum' if p.above else 'less than the minimum'} of {_py(p.limit)}"
    elif p.kind in ("items", "length"):
        text = f"{v} is too {'long' if p.above else 'short'}"
    elif p.kind == "pattern":
        text = f"{v} does not match {p.limit!r}"
    else:
        text = f"{v} has too many properties"
    dotted = ".".join(str(part) for part in where)
    return errors.invalid_request(f"{text} - '{dotted}'" if dotted else text)


def _py(value: Any) -> str:
    """A JSON value as Python's repr writes it (the legacy dialect quotes values that way)."""
    return repr(value)


# --- the walk ---------------------------------------------------------------------------


def type_matches(expected: str | list, value: Any) -> bool:
    if isinstance(expected, list):
        return any(type_matches(t, value) for t in expected)
    actual = json_type(value)
    if expected == actual:
        return True
    if expected == "number":
        return actual == "integer"
    if expected == "integer":
        return actual == "number" and float(value).is_integer()
    return False


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON means it: `true` is not `1`."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


class _Walker:
    def __init__(self, root: dict) -> None:
        self.defs = root.get("$defs", {})

    def resolve(self, node: Any) -> dict:
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 64:
            target = self.defs.get(node["$ref"].rsplit("/", 1)[-1], {})
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            node = {**target, **siblings} if siblings else target
            seen += 1
        return node if isinstance(node, dict) else {}

    # what a schema node accepts, in words

    def declared_types(self, node: dict) -> set[str]:
        node = self.resolve(node)
        if "type" in node:
            t = node["type"]
            return set(t) if isinstance(t, list) else {t}
        if "const" in node:
            return {json_type(node["const"])}
        if "enum" in node:
            return {json_type(v) for v in node["enum"]}
        if "properties" in node:
            return {"object"}
        if "items" in node:
            return {"array"}
        branches = node.get("anyOf") or node.get("oneOf")
        if branches:
            return set().union(*(self.declared_types(b) for b in branches))
        return set(_TYPE_PHRASE) | {"null"}

    def accepts_type(self, node: dict, value: Any) -> bool:
        return any(type_matches(t, value) for t in self.declared_types(node))

    def phrase(self, node: dict, article: bool = True) -> str:
        node = self.resolve(node)
        t = node.get("type")
        if t == "array" and "items" in node:
            inner = self.phrase(node["items"], article=False)
            text = f"array of {inner if inner.startswith('array') else inner + 's'}"
            return f"an {text}" if article else text
        words = _TYPE_PHRASE.get(t) if isinstance(t, str) else None
        if words is None:
            kinds = sorted(self.declared_types(node) - {"null"})
            words = _TYPE_PHRASE.get(kinds[0], "a value") if len(kinds) == 1 else "a value"
        return words if article else words.split(" ", 1)[1]

    def expected(self, branches: list[dict]) -> str:
        phrases = list(dict.fromkeys(self.phrase(b) for b in branches if self.declared_types(b) != {"null"}))
        if not phrases:
            return "null"
        if len(phrases) == 1:
            return phrases[0]
        rest = [p.split(" ", 1)[1] for p in phrases[1:]]
        if len(phrases) == 2:
            return f"one of {phrases[0]} or {rest[0]}"
        return f"one of {phrases[0]}, {', '.join(rest[:-1])}, or {rest[-1]}"

    def type_problem(self, branches: list[dict], value: Any, path: tuple) -> Problem:
        kinds = sorted(set().union(*(self.declared_types(b) for b in branches)) - {"null"})
        return Problem("type", path, value, expected=self.expected(branches), expected_types=kinds)

    # the walk itself

    def check(self, node: Any, value: Any, path: tuple) -> Problem | None:
        node = self.resolve(node)
        branches = node.get("anyOf") or node.get("oneOf")
        if branches:
            problem = self.union(branches, value, path)
            if problem is not None:
                return problem
        for sub in node.get("allOf", ()):
            problem = self.check(sub, value, path)
            if problem is not None:
                return problem
        if "type" in node and not type_matches(node["type"], value):
            return self.type_problem([node], value, path)
        if "const" in node and not json_equal(node["const"], value):
            return Problem("value", path, value, options=[node["const"]])
        if "enum" in node and not any(json_equal(option, value) for option in node["enum"]):
            return Problem("value", path, value, options=list(node["enum"]))
        if isinstance(value, dict):
            return self.object(node, value, path)
        if isinstance(value, list):
            return self.array(node, value, path)
        if isinstance(value, str):
            return self.string(node, value, path)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return self.number(node, value, path)
        return None

    def union(self, branches: list, value: Any, path: tuple) -> Problem | None:
        resolved = [self.resolve(b) for b in branches]
        found = []
        for branch in resolved:
            problem = self.check(branch, value, path)
            if problem is None:
                return None
            found.append((branch, problem))
        fitting = [(b, p) for b, p in found if self.accepts_type(b, value)]
        if not fitting:
            return self.type_problem(resolved, value, path)
        if len(fitting) > 1 and isinstance(value, dict):
            key = self.discriminator([b for b, _ in fitting])
            if key is not None:
                if key not in value:
                    return Problem("missing", path + (key,))
                for branch, problem in fitting:
                    if json_equal(self.resolve(branch["properties"][key])["const"], value[key]):
                        return problem
                options = [self.resolve(b["properties"][key])["const"] for b, _ in fitting]
                return Problem("value", path + (key,), value[key], options=options)
        if isinstance(value, dict) and isinstance(value.get("type"), str):
            # Branches that only mostly pin `type` (optional, or nullable) still name it.
            named = [(b, p, self.constants(b, "type")) for b, p in fitting]
            named = [(b, p, c) for b, p, c in named if c]
            if named:
                chosen = [(b, p) for b, p, c in named if value["type"] in c]
                if not chosen:
                    options = list(dict.fromkeys(v for _, _, c in named for v in c))
                    return Problem("value", path + ("type",), value["type"], options=options)
                fitting = chosen
        # Otherwise the branch that got furthest into the value is the one it meant.
        return max(fitting, key=lambda pair: len(pair[1].path))[1]

    def constants(self, branch: dict, key: str) -> list:
        """The constant values a branch allows for `key` (through `anyOf` and `enum`)."""
        node = self.resolve(branch.get("properties", {}).get(key, {}))
        options = node.get("anyOf") or node.get("oneOf") or [node]
        out = []
        for option in options:
            option = self.resolve(option)
            if "const" in option:
                out.append(option["const"])
            out.extend(v for v in option.get("enum", []) if v is not None)
        return [v for v in out if v is not None]

    def discriminator(self, branches: list[dict]) -> str | None:
        """A property every branch pins to a different constant (`role`, `type`)."""
        candidates = None
        for branch in branches:
            keys = {k for k, v in branch.get("properties", {}).items() if "const" in self.resolve(v)}
            candidates = keys if candidates is None else candidates & keys
        for key in ("type", "role"):
            if candidates and key in candidates:
                return key
        return sorted(candidates)[0] if candidates else None

    def object(self, node: dict, value: dict, path: tuple) -> Problem | None:
        properties = node.get("properties", {})
        for name in node.get("required", ()):
            if name not in value:
                return Problem("missing", path + (name,))
        extra = node.get("additionalProperties", True)
        limit = node.get("maxProperties")
        if limit is not None and len(value) > limit:
            return Problem("properties", path, value, limit=limit, above=True)
        longest = (node.get("propertyNames") or {}).get("maxLength")
        if longest is not None:
            for key in value:
                if len(key) > longest:  # named by the key itself: `metadata.<key>`
                    return Problem("length", path + (key,), key, limit=longest, above=True)
        for key, item in value.items():
            if key in properties:
                continue
            if extra is False:
                return Problem("unknown", path + (key,), item)
            if isinstance(extra, dict):
                problem = self.check(extra, item, path + (key,))
                if problem is not None:
                    return problem
        for key, item in value.items():
            if key in properties:
                problem = self.check(properties[key], item, path + (key,))
                if problem is not None:
                    return problem
        return None

    def array(self, node: dict, value: list, path: tuple) -> Problem | None:
        if "minItems" in node and len(value) < node["minItems"]:
            return Problem("items", path, value, limit=node["minItems"])
        if "maxItems" in node and len(value) > node["maxItems"]:
            return Problem("items", path, value, limit=node["maxItems"], above=True)
        items = node.get("items")
        if isinstance(items, dict):
            for index, item in enumerate(value):
                problem = self.check(items, item, path + (index,))
                if problem is not None:
                    return problem
        return None

    def string(self, node: dict, value: str, path: tuple) -> Problem | None:
        if "minLength" in node and len(value) < node["minLength"]:
            return Problem("length", path, value, limit=node["minLength"])
        if "maxLength" in node and len(value) > node["maxLength"]:
            return Problem("length", path, value, limit=node["maxLength"], above=True)
        if "pattern" in node and not re.search(node["pattern"], value):
            return Problem("pattern", path, value, limit=node["pattern"])
        return None

    def number(self, node: dict, value: float, path: tuple) -> Problem | None:
        kinds = self.declared_types(node)
        integer = "integer" in kinds and "number" not in kinds
        for key, above in (("minimum", False), ("exclusiveMinimum", False), ("maximum", True), ("exclusiveMaximum", True)):
            if key not in node:
                continue
            limit = node[key]
            exclusive = key.startswith("exclusive")
            bad = (value > limit or (exclusive and value == limit)) if above else (value < limit or (exclusive and value == limit))
            if bad:
                return Problem("range", path, value, limit=limit, above=above, integer=integer)
        return None

"""A JSON value that validates against a caller's JSON Schema, drawn from a seeded random source.

Used for `response_format: json_schema` and for tool-call arguments. It covers the
subset structured outputs accept and a little more: objects, arrays, enums, const,
anyOf/oneOf/allOf, `$ref` into `$defs`/`definitions` (recursive schemas stop at a
depth), string formats and patterns, numeric bounds and multiples, length bounds.
"""

from __future__ import annotations

import math
import random
import re
import string
from typing import Any

try:  # Python 3.11+
    import re._parser as sre_parse  # type: ignore[import-not-found]
    from re._constants import MAXREPEAT  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse  # type: ignore[no-redef]
    from sre_constants import MAXREPEAT  # type: ignore[no-redef]

from . import text

MAX_DEPTH = 6


def instance(schema: Any, rng: random.Random) -> Any:
    """A value valid against `schema` (a JSON Schema as a dict; `True`/`{}` accept anything)."""
    return _Builder(schema if isinstance(schema, dict) else {}, rng).build(schema, 0, "")


class _Builder:
    def __init__(self, root: dict, rng: random.Random) -> None:
        self.root = root
        self.rng = rng

    def resolve(self, node: Any) -> dict:
        for _ in range(32):
            if not isinstance(node, dict) or "$ref" not in node:
                break
            ref = node["$ref"]
            target: Any = self.root
            if ref != "#":
                for part in ref.lstrip("#/").split("/"):
                    target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, dict) else {}
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            node = {**target, **siblings} if isinstance(target, dict) else siblings
        return node if isinstance(node, dict) else {}

    def build(self, node: Any, depth: int, name: str) -> Any:
        node = self.resolve(node)
        rng = self.rng
        if depth > 4 * MAX_DEPTH:  # a schema with no finite instance: stop somewhere
            return None
        if "const" in node:
            return node["const"]
        if "enum" in node and node["enum"]:
            return rng.choice(node["enum"])
        for key in ("anyOf", "oneOf"):
            if node.get(key):
                branches = [self.resolve(b) for b in node[key]]
                # Past the depth limit, prefer a branch that ends the recursion.
                simple = [b for b in branches if b.get("type") == "null"] if depth >= MAX_DEPTH else []
                others = [b for b in branches if b.get("type") != "null"] or branches
                branch = (simple or others)[0] if depth >= MAX_DEPTH else rng.choice(others)
                merged = {**{k: v for k, v in node.items() if k != key}, **branch}
                return self.build(merged, depth, name)
        if node.get("allOf"):
            merged = {k: v for k, v in node.items() if k != "allOf"}
            for sub in node["allOf"]:
                merged = _merge(merged, self.resolve(sub))
            return self.build(merged, depth, name)
        kind = node.get("type")
        if isinstance(kind, list):
            options = [k for k in kind if k != "null"] or kind
            kind = options[0] if depth >= MAX_DEPTH else rng.choice(options)
        if kind is None:
            kind = "object" if "properties" in node else "array" if "items" in node else "string"
        return getattr(self, f"_{kind}", self._string)(node, depth, name)

    def _object(self, node: dict, depth: int, name: str) -> dict:
        props = node.get("properties") or {}
        required = set(node.get("required") or ())
        out: dict[str, Any] = {}
        for key, sub in props.items():
            # Optional properties appear at shallow depth, so nested shapes get exercised.
            if key in required or (depth < 2 and self.rng.random() < 0.5):
                out[key] = self.build(sub, depth + 1, key)
        minimum = node.get("minProperties", 0)
        extra = node.get("additionalProperties")
        i = 0
        while len(out) < minimum and extra is not False:
            out[f"key_{i}"] = self.build(extra if isinstance(extra, dict) else {"type": "string"}, depth + 1, "")
            i += 1
        return out

    def _array(self, node: dict, depth: int, name: str) -> list:
        prefix = node.get("prefixItems") or []
        low = max(node.get("minItems", 0), len(prefix))
        high = node.get("maxItems", low + 3)
        if depth >= MAX_DEPTH:
            high = low
        count = self.rng.randint(low, max(low, min(high, low + 3) if depth < MAX_DEPTH else low))
        items = node.get("items", {})
        out = [self.build(p, depth + 1, name) for p in prefix[:count]]
        while len(out) < count:
            value = self.build(items if items is not True else {}, depth + 1, name)
            if node.get("uniqueItems") and value in out:
                if len(out) >= low:
                    break
                continue
            out.append(value)
        return out

    def _string(self, node: dict, depth: int, name: str) -> str:
        rng = self.rng
        low = node.get("minLength", 0)
        high = node.get("maxLength")
        fmt = node.get("format")
        if "pattern" in node:
            value = from_pattern(node["pattern"], rng)
        elif fmt in _FORMATS:
            value = _FORMATS[fmt](rng)
        else:
            value = text.words(rng, 1, 4)
        if len(value) < low:
            value += "".join(rng.choice(string.ascii_lowercase) for _ in range(low - len(value)))
        if high is not None and len(value) > high:
            value = value[:high]
        return value

    def _integer(self, node: dict, depth: int, name: str) -> int:
        low, high = _bounds(node, 0, 100, integer=True)
        step = node.get("multipleOf")
        if isinstance(step, int) and step > 0:
            first = -(-low // step) * step
            options = (high - first) // step
            return first + step * self.rng.randint(0, max(0, options)) if first <= high else first
        return self.rng.randint(low, max(low, high))

    def _number(self, node: dict, depth: int, name: str) -> float | int:
        low, high = _bounds(node, 0, 100, integer=False)
        step = node.get("multipleOf")
        if isinstance(step, (int, float)) and step > 0:
            first, last = math.ceil(low / step), math.floor(high / step)
            value = round(self.rng.randint(first, max(first, last)) * step, 10)
            return int(value) if float(value).is_integer() else value
        value = round(self.rng.uniform(low, high), 2)
        return min(max(value, low), high)

    def _boolean(self, node: dict, depth: int, name: str) -> bool:
        return self.rng.random() < 0.5

    def _null(self, node: dict, depth: int, name: str) -> None:
        return None


def _bounds(node: dict, low: float, high: float, *, integer: bool) -> tuple:
    nudge = 1 if integer else 0.01
    if "minimum" in node:
        low = node["minimum"]
    if "exclusiveMinimum" in node:
        low = node["exclusiveMinimum"] + nudge
    if "maximum" in node:
        high = node["maximum"]
    if "exclusiveMaximum" in node:
        high = node["exclusiveMaximum"] - nudge
    if high < low:
        high = low if ("maximum" not in node and "exclusiveMaximum" not in node) else high
        low = min(low, high)
    if integer:
        return math.ceil(low), math.floor(high)
    return low, high


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for key, value in b.items():
        if key == "properties" and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        elif key == "required":
            out[key] = list(dict.fromkeys([*out.get(key, []), *value]))
        else:
            out[key] = value
    return out


def _date(rng: random.Random) -> str:
    return f"{rng.randint(2000, 2030):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _time(rng: random.Random) -> str:
    return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"


_FORMATS = {
    "date-time": lambda r: f"{_date(r)}T{_time(r)}",
    "date": _date,
    "time": _time,
    "duration": lambda r: f"P{r.randint(1, 30)}DT{r.randint(0, 23)}H",
    "email": lambda r: f"{r.choice(['ada', 'grace', 'alan', 'edsger'])}{r.randint(1, 99)}@example.com",
    "hostname": lambda r: f"{r.choice(['api', 'www', 'mail'])}.example.com",
    "ipv4": lambda r: ".".join(str(r.randint(1, 254)) for _ in range(4)),
    "ipv6": lambda r: ":".join(f"{r.randint(0, 65535):x}" for _ in range(8)),
    "uuid": lambda r: "%08x-%04x-4%03x-%04x-%012x" % (r.getrandbits(32), r.getrandbits(16), r.getrandbits(12), 0x8000 | r.getrandbits(14), r.getrandbits(48)),
    "uri": lambda r: f"https://example.com/{r.choice(['a', 'docs', 'items'])}/{r.randint(1, 999)}",
}


# --- strings from a regular expression ----------------------------------------------

_CATEGORY_CHARS = {
    "CATEGORY_DIGIT": string.digits,
    "CATEGORY_NOT_DIGIT": string.ascii_letters,
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": string.ascii_letters + string.digits,
    "CATEGORY_WORD": string.ascii_letters + string.digits + "_",
    "CATEGORY_NOT_WORD": " -.,",
}
_PRINTABLE = string.ascii_letters + string.digits


def from_pattern(pattern: str, rng: random.Random, attempts: int = 20) -> str:
    """A string that `re.search(pattern, s)` accepts, or "" when none is found."""
    try:
        parsed = sre_parse.parse(pattern)
        compiled = re.compile(pattern)
    except (re.error, RecursionError):
        return ""
    for _ in range(attempts):
        groups: dict[int, str] = {}
        try:
            value = _emit(parsed, rng, groups)
        except (ValueError, IndexError, RecursionError):
            continue
        if compiled.search(value):
            return value
    return ""


def _emit(items: Any, rng: random.Random, groups: dict[int, str]) -> str:
    out = []
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "NOT_LITERAL":
            out.append(rng.choice([c for c in _PRINTABLE if ord(c) != arg]))
        elif name == "ANY":
            out.append(rng.choice(_PRINTABLE))
        elif name == "IN":
            out.append(_charset(arg, rng))
        elif name == "BRANCH":
            out.append(_emit(rng.choice(arg[1]), rng, groups))
        elif name == "SUBPATTERN":
            group, sub = arg[0], arg[-1]
            value = _emit(sub, rng, groups)
            if group:
                groups[group] = value
            out.append(value)
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, sub = arg
            high = low + 3 if high == MAXREPEAT else min(high, low + 3)
            out.append("".join(_emit(sub, rng, groups) for _ in range(rng.randint(low, high))))
        elif name == "GROUPREF":
            out.append(groups.get(arg, ""))
        elif name == "ATOMIC_GROUP":
            out.append(_emit(arg, rng, groups))
        # AT (anchors), ASSERT, ASSERT_NOT: nothing to emit
    return "".join(out)


def _charset(items: Any, rng: random.Random) -> str:
    negate = False
    chars: list[str] = []
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            chars.append(chr(arg))
        elif name == "RANGE":
            low, high = arg
            chars.extend(chr(c) for c in range(low, min(high, low + 200) + 1))
        elif name == "CATEGORY":
            chars.extend(_CATEGORY_CHARS.get(str(arg), _PRINTABLE))
    if negate:
        excluded = set(chars)
        chars = [c for c in _PRINTABLE if c not in excluded]
    return rng.choice(chars)

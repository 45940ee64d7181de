"""A JSON value that validates against a caller's JSON Schema, drawn from a seeded random source.

Used for `response_format: json_schema` and for tool-call arguments. It covers the
subset structured outputs accept and a little more: objects, arrays, enums, const,
anyOf/oneOf/allOf, `$ref` into `$defs`/`definitions` (recursive schemas stop at a
depth), string formats and patterns, numeric bounds and multiples, length bounds.

The schema is the caller's, so nothing in it may make the work unbounded: a
`minItems` of a billion, a `{1000000}` in a pattern or a `$ref` cycle with no finite
instance. The work is bounded by a budget in characters (`render`), derived from the
answer's token budget: what the schema demands beyond it is not built, and the text
written so far (a prefix of a valid document) comes back flagged as truncated, as a
real model stops at its output limit with `finish_reason: "length"`. Steps that write
nothing (empty repetitions, retries) draw on the same budget. Contradictory schemas
(minimum above maximum, a `uniqueItems` array longer than its enum) get some value;
nothing raises.
"""

from __future__ import annotations

import json
import math
import random
import string
from dataclasses import dataclass
from typing import Any

import orjson

from . import text
from .budget import MAX_CHARS, MAX_NEST, WORK_PER_NODE, Budget
from .pattern import Pattern

MAX_DEPTH = 6

_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1  # what a JSON encoder writes as an integer


@dataclass
class Written:
    """The JSON text a schema's instance is written as, and whether the budget cut it."""

    text: str
    truncated: bool = False


def render(schema: Any, rng: random.Random, chars: int | None = None) -> Written:
    """The instance as compact JSON text, cut at `chars` characters (a prefix of the
    document the schema asks for) when it would be longer; `truncated` says so."""
    builder = _Builder(schema, rng, Budget(chars if chars is not None else MAX_CHARS))
    value = builder.build(schema, 0, "")
    written = _dumps(value)
    budget = builder.budget
    if budget.full:
        return Written(written[: max(0, budget.cut or 0)], True)
    return Written(written, False)


def instance(schema: Any, rng: random.Random, chars: int | None = None) -> Any:
    """A value valid against `schema` (a JSON Schema as a dict; `True`/`{}` accept anything).
    Bounded by `chars` (default MAX_CHARS): past it the value is left unfinished."""
    return _Builder(schema, rng, Budget(chars if chars is not None else MAX_CHARS)).build(schema, 0, "")


class _Builder:
    def __init__(self, root: Any, rng: random.Random, budget: Budget) -> None:
        self.root = root if isinstance(root, dict) else {}
        self.rng = rng
        self.budget = budget
        self.nest = 0
        self.refs: dict[str, Any] = {}
        self.resolved: dict[int, tuple] = {}
        self.patterns: dict[str, Pattern | None] = {}
        self.kinds = {"object": self._object, "array": self._array, "string": self._string, "integer": self._integer,
                      "number": self._number, "boolean": self._boolean, "null": self._null}

    def resolve(self, node: Any) -> dict:
        if not isinstance(node, dict):
            return {}
        if "$ref" not in node:
            return node
        found = self.resolved.get(id(node))
        if found is None:  # each node of the schema resolved once (kept, so its id stays its own)
            found = self.resolved[id(node)] = (node, self._resolve(node))
        return found[1]

    def _resolve(self, node: Any) -> dict:
        for _ in range(32):
            if not isinstance(node, dict) or "$ref" not in node:
                break
            target = self._target(node["$ref"])
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            if isinstance(target, dict):
                self.budget.spend(len(target) // 8 + 1)
                node = {**target, **siblings}
            else:
                node = siblings
        return node if isinstance(node, dict) else {}

    def _target(self, ref: Any) -> Any:
        if not isinstance(ref, str):
            return {}
        if ref == "#":
            return self.root
        found = self.refs.get(ref)
        if found is None:
            target: Any = self.root
            parts = ref.lstrip("#/").split("/")
            self.budget.spend(len(parts))
            for part in parts:
                target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, dict) else {}
            found = self.refs[ref] = target
        return found

    def build(self, node: Any, depth: int, name: str) -> Any:
        budget = self.budget
        if budget.full:
            return None
        budget.work -= WORK_PER_NODE
        if budget.work < 0:
            budget.stop()
            return None
        if self.nest >= MAX_NEST:  # anyOf in anyOf in ...: stop somewhere
            budget.write(4)
            return None
        self.nest += 1
        value = self._build(node, depth, name)
        self.nest -= 1  # (after an exception the builder is dropped: no need to restore it)
        return value

    def _build(self, node: Any, depth: int, name: str) -> Any:
        if depth > 4 * MAX_DEPTH:  # a schema with no finite instance: stop somewhere
            self.budget.write(4)
            return None
        if node.__class__ is not dict or "$ref" in node:
            node = self.resolve(node)
        rng = self.rng
        if "const" in node:
            return self._copy(node["const"])
        enum = node.get("enum")
        if isinstance(enum, list) and enum:
            return self._copy(rng.choice(enum))
        for key in ("anyOf", "oneOf"):
            options = node.get(key)
            if isinstance(options, list) and options:
                self.budget.spend(len(options))
                branches = [self.resolve(b) for b in options]
                # Past the depth limit, prefer a branch that ends the recursion.
                simple = [b for b in branches if b.get("type") == "null"] if depth >= MAX_DEPTH else []
                others = [b for b in branches if b.get("type") != "null"] or branches
                branch = (simple or others)[0] if depth >= MAX_DEPTH else rng.choice(others)
                merged = {**{k: v for k, v in node.items() if k != key}, **branch}
                return self.build(merged, depth, name)
        subs = node.get("allOf")
        if isinstance(subs, list) and subs:
            self.budget.spend(len(subs))
            merged = _merge({k: v for k, v in node.items() if k != "allOf"}, [self.resolve(sub) for sub in subs])
            return self.build(merged, depth, name)
        kind = node.get("type")
        if isinstance(kind, list):
            options = [k for k in kind if k != "null"] or kind
            kind = (options[0] if depth >= MAX_DEPTH else rng.choice(options)) if options else None
        if kind is None:
            kind = "object" if "properties" in node else "array" if "items" in node else "string"
        return self.kinds.get(kind if isinstance(kind, str) else "string", self._string)(node, depth, name)

    def _copy(self, value: Any) -> Any:
        """A value given by the schema (const, enum), written as it is."""
        self.budget.write(_size(value))
        return value

    def _object(self, node: dict, depth: int, name: str) -> dict:
        budget = self.budget
        props = node.get("properties")
        props = props if isinstance(props, dict) else {}
        required = node.get("required")
        required = {k for k in required if isinstance(k, str)} if isinstance(required, list) else set()
        budget.spend((len(props) + len(required)) // 8)  # looked through, even where nothing is built
        out: dict[str, Any] = {}
        budget.write(1)
        for key, sub in props.items():
            if budget.full:
                break
            # Optional properties appear at shallow depth, so nested shapes get exercised.
            if key in required or (depth < 2 and self.rng.random() < 0.5):
                budget.written += len(key) + 3 + (1 if out else 0)  # '"key":', after a comma
                if budget.written > budget.limit:
                    budget.stop()
                out[key] = self.build(sub, depth + 1, key)
        minimum = _count(node.get("minProperties"), 0)
        extra = node.get("additionalProperties")
        i = 0
        while len(out) < minimum and extra is not False and not budget.full:
            key = f"key_{i}"
            i += 1
            if key in out:
                continue
            budget.write(len(key) + 3 + (1 if out else 0))
            out[key] = self.build(extra if isinstance(extra, dict) else {"type": "string"}, depth + 1, "")
        budget.write(1)
        return out

    def _array(self, node: dict, depth: int, name: str) -> list:
        budget = self.budget
        prefix = node.get("prefixItems")
        prefix = prefix if isinstance(prefix, list) else []
        low = max(_count(node.get("minItems"), 0), len(prefix))
        high = node.get("maxItems")
        high = _count(high, low + 3) if high is not None else low + 3
        if depth >= MAX_DEPTH:
            high = low
        count = self.rng.randint(low, max(low, min(high, low + 3) if depth < MAX_DEPTH else low))
        items = node.get("items", {})
        items = items if items is not True else {}
        budget.write(1)
        out: list = []
        for sub in prefix[:count]:
            if budget.full:
                break
            budget.write(1 if out else 0)
            out.append(self.build(sub, depth + 1, name))
        unique = bool(node.get("uniqueItems"))
        seen = {_key(v) for v in out} if unique else set()
        misses = 0
        while len(out) < count and not budget.full:
            mark = budget.written
            if out:  # the comma
                budget.write(1)
            value = self.build(items, depth + 1, name)
            if unique and not budget.full:
                key = _key(value)
                if key in seen:  # not written after all
                    budget.written = mark
                    misses += 1
                    if len(out) >= low or misses > 200:  # a contradiction (more items than values): stop
                        break
                    continue
                seen.add(key)
                misses = 0
            out.append(value)
        budget.write(1)
        return out

    def _string(self, node: dict, depth: int, name: str) -> str:
        rng = self.rng
        budget = self.budget
        start = budget.written
        low = _count(node.get("minLength"), 0)
        high = _count(node.get("maxLength"), -1)  # -1: no bound
        fmt = node.get("format")
        pattern = node.get("pattern")
        if isinstance(pattern, str):
            value = self._pattern(pattern)
        elif isinstance(fmt, str) and fmt in _FORMATS:
            value = _FORMATS[fmt](rng)
        else:
            value = text.words(rng, 1, 4)
        if len(value) < low and not budget.full:
            need = low - len(value)
            value += _letters(rng, need, min(need, max(0, budget.left) + 1), budget)
        if 0 <= high < len(value):
            value = value[:high]
        if budget.full and budget.cut is not None and budget.cut <= start:
            # The work ran out while this string was being written: what it holds so far
            # was written too.
            budget.cut = min(budget.limit, start + 1 + len(value))
        budget.write(len(value) + 2)
        return value

    def _pattern(self, pattern: str) -> str:
        if pattern not in self.patterns:
            self.patterns[pattern] = Pattern.of(pattern)
        parsed = self.patterns[pattern]
        if parsed is None:
            return ""
        value = parsed.sample(self.rng, self.budget, max(0, self.budget.left) + 1)
        if value is None:  # no string found in twenty attempts: not worth another twenty
            self.patterns[pattern] = None
            return ""
        return value

    def _integer(self, node: dict, depth: int, name: str) -> int | float:
        low, high = _bounds(node, 0, 100, integer=True)
        step = node.get("multipleOf")
        if isinstance(step, int) and step > 0:
            first = -(-low // step) * step
            options = (high - first) // step
            value = first + step * self.rng.randint(0, max(0, options)) if first <= high else first
        else:
            value = self.rng.randint(low, max(low, high))
        value = _fit_integer(value, low, high)
        self.budget.write(_number_size(value))
        return value

    def _number(self, node: dict, depth: int, name: str) -> float | int:
        value = self._a_number(node)
        self.budget.write(_number_size(value))
        return value

    def _a_number(self, node: dict) -> float | int:
        low, high = _bounds(node, 0, 100, integer=False)
        step = node.get("multipleOf")
        if isinstance(step, (int, float)) and step > 0:
            try:
                first, last = math.ceil(low / step), math.floor(high / step)
                value = round(self.rng.randint(first, max(first, last)) * step, 10)
                if value.__class__ is int or float(value).is_integer():
                    return _fit_integer(int(value), low, high)
                if math.isfinite(value):
                    return value
            except (OverflowError, ValueError):  # bounds and multiple too far apart for a float
                pass
        value = round(self.rng.uniform(low, high), 2)
        value = min(max(value, low), high)
        return value if math.isfinite(value) else low

    def _boolean(self, node: dict, depth: int, name: str) -> bool:
        value = self.rng.random() < 0.5
        self.budget.write(4)
        return value

    def _null(self, node: dict, depth: int, name: str) -> None:
        self.budget.write(4)
        return None


def _count(value: Any, default: int) -> int:
    """A size keyword (minItems, maxLength, ...) as a non-negative int, or `default`."""
    if value.__class__ is int:
        return value if value >= 0 else 0
    if value.__class__ is not float or not math.isfinite(value):
        return default
    return max(0, int(value))


def _number_of(node: dict, key: str) -> int | float | None:
    value = node.get(key)
    if value is None or value.__class__ is int:
        return value
    if value.__class__ is not float or not math.isfinite(value):
        return None
    return value


def _bounds(node: dict, low: float, high: float, *, integer: bool) -> tuple:
    nudge = 1 if integer else 0.01
    minimum, maximum = _number_of(node, "minimum"), _number_of(node, "maximum")
    above, below = _number_of(node, "exclusiveMinimum"), _number_of(node, "exclusiveMaximum")
    if minimum is not None:
        low = minimum
    if above is not None:
        low = above + nudge
        if low == above or not math.isfinite(low):  # too large for the nudge to show
            low = math.nextafter(above, math.inf)
            low = low if math.isfinite(low) else above
    if maximum is not None:
        high = maximum
    if below is not None:
        high = below - nudge
        if high == below or not math.isfinite(high):
            high = math.nextafter(below, -math.inf)
            high = high if math.isfinite(high) else below
    if high < low:
        high = low if (maximum is None and below is None) else high
        low = min(low, high)
    if integer:
        return math.ceil(low), math.floor(high)
    return low, high


def _fit_integer(value: int, low: float, high: float) -> int | float:
    """An integer a JSON encoder can write: past 64 bits, the float of it (still integral)."""
    if _INT_MIN <= value <= _INT_MAX:
        return value
    try:
        number = float(value)
    except OverflowError:  # a multiple just past the largest double
        return math.copysign(1.7976931348623157e308, value)
    if number < low:
        number = math.nextafter(number, math.inf)
    if number > high:
        number = math.nextafter(number, -math.inf)
    return number


def _merge(base: dict, parts: list[dict]) -> dict:
    """`base` with each of `parts` laid over it in turn: a later key wins, but `properties`
    are united and `required` lists joined. In one pass (an allOf of thousands of parts
    must not cost thousands of copies)."""
    out = dict(base)
    props: dict | None = None  # out["properties"] once it is this merge's own copy
    required: dict | None = None  # out["required"] as an ordered set, once joined
    for part in parts:
        for key, value in part.items():
            if key == "properties" and isinstance(value, dict) and isinstance(out.get(key), dict):
                if props is None:
                    props = out[key] = dict(out[key])
                props.update(value)
            elif key == "required" and isinstance(value, list):
                if required is None:
                    before = out.get(key)
                    required = dict.fromkeys(k for k in (before if isinstance(before, list) else []) if isinstance(k, str))
                required.update(dict.fromkeys(k for k in value if isinstance(k, str)))
            else:
                out[key] = value
                if key == "properties":
                    props = None
                elif key == "required":
                    required = None
    if required is not None:
        out["required"] = list(required)
    return out


def _dumps(value: Any) -> str:
    """Compact JSON; a `const` nested deeper than orjson writes goes through json."""
    try:
        return orjson.dumps(value).decode()
    except (orjson.JSONEncodeError, TypeError):
        try:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except (ValueError, TypeError, RecursionError):
            return "null"


def _number_size(value: int | float) -> int:
    """How many characters a number takes in the JSON text (at least: `1e+300` is `1e300`)."""
    if value.__class__ is int:
        return len(str(value)) if -(10**18) < value < 10**18 else 19
    text = repr(value)
    exponent = text.find("e")
    return len(text) if exponent < 0 else exponent + 2


def _size(value: Any) -> int:
    """How many characters `value` takes in the JSON text (at least)."""
    if isinstance(value, str):
        return len(value) + 2
    if value is None or isinstance(value, bool):
        return 4
    if isinstance(value, (int, float)):
        return _number_size(value)
    return len(_dumps(value))


def _key(value: Any) -> Any:
    """Equal JSON values, equal keys (for uniqueItems); as Python compares them, 1 == 1.0 == True."""
    if isinstance(value, (dict, list)):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except (orjson.JSONEncodeError, TypeError):
            return ("unhashable", id(value))
    return value


_TO_LETTER = bytes(ord(string.ascii_lowercase[b % 26]) for b in range(256))


def _letters(rng: random.Random, need: int, count: int, budget: Budget) -> str:
    """`count` random lowercase letters: the first `count` of the `need` a minLength asks
    for (one draw a letter, as always, when `need` is small; in bulk when it is large)."""
    if need <= 1024:
        budget.spend(count)
        return "".join(rng.choice(string.ascii_lowercase) for _ in range(count))
    budget.spend(count // 64 + 1)
    size = -(-count // 4) * 4  # whole 32-bit words, so a shorter run is a prefix of a longer one
    return rng.randbytes(size)[:count].translate(_TO_LETTER).decode("ascii")


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



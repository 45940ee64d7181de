"""Strings that match a caller's regular expression (`pattern` in a JSON Schema), within a budget.

Repeat counts are clamped to the budget and runs of one character class written in
bulk; a pattern of literals, classes, alternations and repeats matches whatever is
written item by item, so it is not checked again; the others (lookarounds,
backreferences) are checked with a backtracking-bounded engine.
"""

from __future__ import annotations

import random
import re
import string
from functools import lru_cache
from typing import Any

import jsonschema_rs

try:  # Python 3.11+
    import re._parser as sre_parse  # type: ignore[import-not-found]
    from re._constants import MAXREPEAT  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse  # type: ignore[no-redef]
    from sre_constants import MAXREPEAT  # type: ignore[no-redef]

from .budget import MAX_CHARS, Budget

_CATEGORY_CHARS = {
    "CATEGORY_DIGIT": string.digits,
    "CATEGORY_NOT_DIGIT": string.ascii_letters,
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": string.ascii_letters + string.digits,
    "CATEGORY_WORD": string.ascii_letters + string.digits + "_",
    "CATEGORY_NOT_WORD": " -.,",
}
_PRINTABLE = string.ascii_letters + string.digits
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT")
# What a string written item by item always matches: no lookaround, backreference,
# word boundary, possessive or atomic matching, conditional, or anchor inside.
_CONSTRUCTIVE = {"LITERAL", "NOT_LITERAL", "ANY", "IN", "BRANCH", "SUBPATTERN", *_REPEATS}
# Checking a written string for the other patterns: the fancy-regex engine (ECMA-262-like,
# as JSON Schema patterns are meant), whose backtracking is bounded, unlike Python's `re`
# (`(a+){50}(?=b)` would hold the event loop for good). A pattern it cannot compile
# (Python-only syntax, or too large) is taken as written.
_CHECK_OPTIONS = jsonschema_rs.FancyRegexOptions(backtrack_limit=20_000, size_limit=1 << 18, dfa_size_limit=1 << 20)
_CHECK_MAX = 10_000  # longer strings are not checked (a large automaton on a long string is slow)
_CHECK_COST = 32  # work units a check costs (one that backtracks to the limit takes ~0.2 ms)
_FLAGS_OK = sre_parse.SRE_FLAG_UNICODE


def from_pattern(pattern: str, rng: random.Random, attempts: int = 20) -> str:
    """A string that `re.search(pattern, s)` accepts, or "" when none is found (at most
    MAX_CHARS long: a longer one is cut)."""
    parsed = Pattern.of(pattern) if isinstance(pattern, str) else None
    if parsed is None:
        return ""
    return parsed.sample(rng, Budget(MAX_CHARS), MAX_CHARS + 1, attempts) or ""


class Pattern:
    """A pattern parsed once, writing strings within a budget."""

    def __init__(self, pattern: str, parsed: Any) -> None:
        self.pattern = pattern
        self.items = _plain(parsed)
        flags = getattr(getattr(parsed, "state", None), "flags", 0)
        self.constructive = not (flags & ~_FLAGS_OK) and _constructive(self.items, top=True)
        self.sets: dict[int, Any] = {}

    @staticmethod
    def of(pattern: str) -> "Pattern | None":
        return _parsed(pattern) if len(pattern) <= 4096 else _parse(pattern)

    def sample(self, rng: random.Random, budget: Budget, cap: int, attempts: int = 20) -> str | None:
        """A string the pattern matches (or, cut by the budget, the start of one); None
        when every attempt failed."""
        for _ in range(attempts):
            if budget.full:
                return ""
            emitter = _Emitter(self, rng, budget, cap)
            try:
                value = emitter.run()
            except (ValueError, IndexError, RecursionError):
                continue
            if emitter.cut:  # longer than the budget: what was written, unchecked
                return value
            if self.constructive or self._accepts(value, budget):
                return value
        return None

    def _accepts(self, value: str, budget: Budget) -> bool:
        if len(value) > _CHECK_MAX:
            return True
        check = _checker(self.pattern)
        if check is None:
            return True
        budget.spend(_CHECK_COST + len(value) // 16)
        try:
            return bool(check.is_valid(value))
        except Exception:  # noqa: BLE001 - the engine gave up: take the string
            return True


def _parse(pattern: str) -> Pattern | None:
    try:
        parsed = sre_parse.parse(pattern)
        re.compile(pattern)
        return Pattern(pattern, parsed)
    except (re.error, RecursionError, OverflowError, ValueError, TypeError):
        return None


def _plain(items: Any) -> list:
    """The parsed pattern as plain lists of (name, argument), faster to walk than the
    parser's own objects."""
    out = []
    for op, arg in items:
        name = str(op)
        if name == "BRANCH":
            arg = (arg[0], [_plain(branch) for branch in arg[1]])
        elif name == "SUBPATTERN":
            arg = (arg[0], arg[1], arg[2], _plain(arg[-1]))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            arg = (arg[0], arg[1], _plain(arg[2]))
        elif name == "ATOMIC_GROUP":
            arg = _plain(arg)
        elif name == "IN":
            arg = [(str(o), a) for o, a in arg]
        elif name in ("AT", "CATEGORY"):
            arg = str(arg)
        out.append((name, arg))
    return out


_parsed = lru_cache(maxsize=256)(_parse)


@lru_cache(maxsize=64)
def _checker(pattern: str) -> Any:
    try:
        return jsonschema_rs.validator_for({"type": "string", "pattern": pattern}, pattern_options=_CHECK_OPTIONS,
                                           validate_formats=False)
    except Exception:  # noqa: BLE001 - not a pattern the engine takes
        return None


def _constructive(items: list, top: bool = False) -> bool:
    for index, (name, arg) in enumerate(items):
        if name == "AT":
            if not (top and ((index == 0 and arg in ("AT_BEGINNING", "AT_BEGINNING_STRING"))
                             or (index == len(items) - 1 and arg in ("AT_END", "AT_END_STRING")))):
                return False
        elif name not in _CONSTRUCTIVE:
            return False
        elif name == "BRANCH":
            if not all(_constructive(branch) for branch in arg[1]):
                return False
        elif name == "SUBPATTERN":
            if arg[1] or arg[2] or not _constructive(arg[-1]):  # inline flags: check instead
                return False
        elif name in _REPEATS:
            if not _constructive(arg[2]):
                return False
        elif name == "IN" and any(o not in ("LITERAL", "RANGE", "CATEGORY", "NEGATE")
                                  or (o == "CATEGORY" and str(a) not in _CATEGORY_CHARS) for o, a in arg):
            return False
    return True


class _Emitter:
    """One string for a pattern, item by item, stopping at `cap` characters or when the
    budget's work runs out (`cut`: the string is a prefix, not a match)."""

    def __init__(self, pattern: Pattern, rng: random.Random, budget: Budget, cap: int) -> None:
        self.pattern = pattern
        self.rng = rng
        self.budget = budget
        self.cap = cap
        self.out: list[str] = []
        self.size = 0
        self.cut = False
        self.groups: dict[int, str] = {}

    def run(self) -> str:
        self.emit(self.pattern.items)
        value = "".join(self.out)
        if self.cut:
            value = value[: self.cap]
        if not value.isascii():  # a lone surrogate cannot be written as JSON
            value = value.encode("utf-8", "replace").decode("utf-8")
        return value

    def put(self, piece: str) -> None:
        self.out.append(piece)
        self.size += len(piece)
        if self.size >= self.cap:
            self.cut = True

    def emit(self, items: Any) -> None:
        rng = self.rng
        budget = self.budget
        for name, arg in items:
            if self.cut or not budget.spend(1):
                self.cut = True
                return
            if name == "LITERAL":
                self.put(chr(arg))
            elif name == "NOT_LITERAL":
                self.put(rng.choice(self._chars(("not", arg), lambda: [c for c in _PRINTABLE if ord(c) != arg])))
            elif name == "ANY":
                self.put(rng.choice(_PRINTABLE))
            elif name == "IN":
                self.put(rng.choice(self._chars(id(arg), lambda: _charset(arg))))
            elif name == "BRANCH":
                self.emit(rng.choice(arg[1]))
            elif name == "SUBPATTERN":
                group, sub = arg[0], arg[-1]
                start = len(self.out)
                self.emit(sub)
                if group:
                    self.groups[group] = "".join(self.out[start:])
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                low, high, sub = arg
                high = low + 3 if high == MAXREPEAT else min(high, low + 3)
                times = rng.randint(low, high)
                if len(sub) == 1 and sub[0][0] in ("LITERAL", "IN", "ANY"):
                    self.run_of(sub[0], times)  # one character at a time, without the recursion
                    continue
                for _ in range(times):
                    if self.cut or not budget.spend(1):  # an empty repetition costs too
                        self.cut = True
                        return
                    self.emit(sub)
            elif name == "GROUPREF":
                self.put(self.groups.get(arg, ""))
            elif name == "ATOMIC_GROUP":
                self.emit(arg)
            # AT (anchors), ASSERT, ASSERT_NOT: nothing to emit

    def run_of(self, item: Any, times: int) -> None:
        """`times` repetitions of one character item: as many draws as emitting them one
        by one, up to the cap."""
        name, arg = item
        count = max(0, min(times, self.cap - self.size))
        if not self.budget.spend(count // 4 + 1):
            self.cut = True
            return
        if name == "LITERAL":
            self.put(chr(arg) * count)
        else:
            chars = _PRINTABLE if name == "ANY" else self._chars(id(arg), lambda: _charset(arg))
            choice = self.rng.choice
            self.put("".join([choice(chars) for _ in range(count)]))
        if count < times:
            self.cut = True

    def _chars(self, key: Any, make) -> Any:
        found = self.pattern.sets.get(key)
        if found is None:
            found = self.pattern.sets[key] = make()
        return found


def _charset(items: Any) -> list[str]:
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
    return chars

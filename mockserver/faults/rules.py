"""When a fault fires: rules (criteria, a fault or steps, a schedule) and named scenarios.

A rule's shape is the same in the YAML config and in the admin API's JSON:

    {"match": {...}, "fault": {...}, "times"|"every"|"after"|"probability": ...}

with `steps: [429, 429, ok]` or `scenario: <name>` in place of `fault` for a sequence.
A rule's counters advance when a request matches it, before any delay is served, so a
client that retries while a slow fault is still sleeping already sees the next step.

Every count here is a count of requests the fake received, never of what a client says
about itself: `times`, `every` and `after` count the requests that match the rule, and a
fault's `attempts=N` counts the attempts at one call (`Attempts`), so a call retried by
the SDK, by tenacity around an SDK with `max_retries=0`, or by a hand-written loop meets
the same sequence.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable

from ..lru import LRU
from ..matching import Criteria, Probe, parse_criteria
from ..yamlio import Reader, YamlMap, plain
from .spec import Fault, parse_fault

RULE_KEYS = {"name", "match", "fault", "steps", "scenario", "times", "every", "after", "probability", "then"}


class Attempts:
    """`attempts=N`: the first N attempts at one call fail, the next is let through, and
    letting one through starts the count again (the same call made later fails N times
    again). An attempt is a request the fake receives: the SDKs' `x-stainless-retry-count`
    is not read, as it restarts at 0 whenever a wrapper (tenacity, a loop) calls the SDK
    again, and such a call would then never succeed.

    A call is named by the engine (`engine.call_key`: client, operation, body and what asked
    for the fault). Bounded: the least recently seen calls are forgotten past `size`, and
    `POST /__mock/reset` forgets them all. A call abandoned before its N failures keeps its
    count until then, so the same call made again goes on from there."""

    def __init__(self, size: int = 4096) -> None:
        self._counts = LRU(size)

    def fail(self, call: tuple, attempts: int) -> bool:
        """Whether this attempt at `call` gets the fault (and counts it)."""
        failed = self._counts.get(call, lambda: [0])  # a one-item list: counted in place
        if failed[0] < attempts:
            failed[0] += 1
            return True
        failed[0] = 0
        return False

    def clear(self) -> None:
        self._counts.clear()


@dataclass
class Scenario:
    """A named list of steps (a fault, or None to let the request through), taken in turn."""

    name: str
    steps: list[Fault | None]
    cycle: bool = False
    position: int = 0

    def next(self) -> Fault | None:
        index = self.position
        self.position += 1
        if index >= len(self.steps):
            index = index % len(self.steps) if self.cycle else len(self.steps) - 1
        return self.steps[index]

    def describe(self) -> dict:
        return {"name": self.name, "steps": [s.describe() if s else "ok" for s in self.steps],
                "position": self.position, "then": "cycle" if self.cycle else "repeat_last"}


@dataclass
class Rule:
    id: str
    criteria: Criteria
    fault: Fault | None = None
    scenario: Scenario | None = None  # `steps` or a named scenario
    times: int | None = None
    every: int | None = None
    after: int = 0
    probability: float | None = None
    name: str | None = None
    source: str = "admin"
    rng: random.Random = field(default_factory=random.Random, repr=False)
    matched: int = 0
    fired: int = 0
    spec: Any = None  # what was given, for GET /__mock/faults

    def consider(self, probe: Probe, attempt: Callable[[Fault], bool] | None = None) -> tuple[bool, Fault | None]:
        """(fires, fault): counts the match first, then applies the schedule. `attempt(fault)`
        applies a fault's `attempts` (False: this call has failed enough, let it through)."""
        if self.criteria.mismatches(probe, first_only=True, owner="rule"):
            return False, None
        self.matched += 1
        position = self.matched - self.after
        if position <= 0:
            return False, None
        if self.every and position % self.every:
            return False, None
        if self.probability is not None and self.rng.random() >= self.probability:
            return False, None
        if self.times is not None and self.fired >= self.times:
            return False, None
        fault = self.scenario.next() if self.scenario is not None else self.fault
        if fault is not None and fault.attempts is not None and attempt is not None and not attempt(fault):
            return True, None
        self.fired += 1
        return True, fault

    def reset(self) -> None:
        self.matched = self.fired = 0
        if self.scenario is not None:
            self.scenario.position = 0

    def describe(self) -> dict:
        return {"id": self.id, "name": self.name, "source": self.source, "rule": self.spec,
                "matched": self.matched, "fired": self.fired}


def parse_scenarios(r: Reader, value: Any) -> dict[str, Scenario]:
    """`scenarios: {flaky: [503, 503, ok], ...}` (a step list, or {steps, then})."""
    r.mapping(value, "'scenarios'")
    scenarios = {}
    for name, steps in value.items():
        then = "repeat_last"
        if isinstance(steps, dict):
            r.keys(steps, {"steps", "then"}, f"scenario {name!r}")
            then = steps.get("then", then)
            if then not in ("repeat_last", "cycle"):
                r.fail(steps, "then", "'then' must be 'repeat_last' or 'cycle'")
            steps = steps.get("steps")
        scenarios[str(name)] = Scenario(str(name), _steps(r, value, name, steps), cycle=then == "cycle")
    return scenarios


def _steps(r: Reader, parent: Any, key: Any, steps: Any) -> list[Fault | None]:
    if not isinstance(steps, list) or not steps:
        r.fail(parent, key, f"{key!r} must be a non-empty list of steps (faults, or 'ok')")
    return [parse_fault(r, step, steps, index) for index, step in enumerate(steps)]


def parse_rule(
    r: Reader,
    value: Any,
    resolve_endpoint: Callable[[str], str | None],
    scenarios: dict[str, Scenario],
    seed: int,
    rule_id: str,
    source: str,
) -> Rule:
    r.mapping(value, "a fault rule")
    r.keys(value, RULE_KEYS, "a fault rule")
    match = r.mapping(value.get("match", YamlMap()), "'match'", value, "match")
    criteria = parse_criteria(r, match, resolve_endpoint, default_endpoint=None)
    given = [k for k in ("fault", "steps", "scenario") if k in value]
    if len(given) != 1:
        r.fail(value, None, "a fault rule needs exactly one of 'fault', 'steps' or 'scenario'")
    rule = Rule(id=rule_id, criteria=criteria, source=source, spec=plain(value))
    if "fault" in value:
        rule.fault = parse_fault(r, value["fault"], value, "fault")
        if rule.fault is None:
            r.fail(value, "fault", "'ok' is only a step; a rule's fault must be a fault")
    elif "steps" in value:
        then = value.get("then", "repeat_last")
        if then not in ("repeat_last", "cycle"):
            r.fail(value, "then", "'then' must be 'repeat_last' or 'cycle'")
        rule.scenario = Scenario(rule_id, _steps(r, value, "steps", value["steps"]), cycle=then == "cycle")
    else:
        name = value["scenario"]
        if name not in scenarios:
            r.fail(value, "scenario", f"unknown scenario {name!r}; known: {', '.join(sorted(scenarios)) or 'none'}")
        rule.scenario = scenarios[name]
    if "then" in value and "steps" not in value:
        r.fail(value, "then", "'then' applies to 'steps' only")
    for key in ("times", "every"):
        if key in value:
            rule.__setattr__(key, r.number(value, key, minimum=1, integer=True))
    if "after" in value:
        rule.after = r.number(value, "after", minimum=0, integer=True)
    if "probability" in value:
        probability = r.number(value, "probability", minimum=0)
        if probability > 1:
            r.fail(value, "probability", "'probability' must be between 0 and 1")
        rule.probability = float(probability)
    if "name" in value:
        if not isinstance(value["name"], str):
            r.fail(value, "name", "'name' must be a string")
        rule.name = value["name"]
    # Each rule draws from its own seeded source: same seed, same rules → same fault sequence.
    rule.rng = random.Random(f"{seed}:{rule_id}")
    return rule

"""The fault engine: consulted once per request, in one place, for every endpoint family.

Precedence: an `X-Mock-Fault` header, then an `X-Mock-Scenario` header, then the rules
added through the admin API (in the order added), then the config's rules. With no
rules and no header the engine costs one header scan per request.

A fault's `attempts=N` (in the header, a rule or a step) is counted here, by call
(`Attempts` in rules.py): the requests from one client (API key and user agent) for the
same operation, path and body, asking for the same fault. The SDKs' own retry counter,
`x-stainless-retry-count`, is not used: an outer retrier (tenacity around an SDK with
`max_retries=0`) makes every attempt a new SDK call whose count is 0 again.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable

from .. import errors
from ..matching import Probe
from ..wire import Exchange
from ..yamlio import Reader, SourceError
from .rules import Attempts, Rule, Scenario, parse_rule, parse_scenarios
from .spec import Fault, parse_header


@dataclass(slots=True)
class Decision:
    fault: Fault
    source: str  # "header", "scenario:<name>" or a rule id


class FaultEngine:
    def __init__(
        self,
        resolve_endpoint: Callable[[str], str | None],
        seed: int = 0,
        rules: Any = (),
        scenarios: Any = None,
        source: str = "config",
    ) -> None:
        self.resolve_endpoint = resolve_endpoint
        self.seed = seed
        self._ids = itertools.count(1)
        reader = Reader(source)
        self.scenarios: dict[str, Scenario] = parse_scenarios(reader, scenarios) if scenarios else {}
        if not isinstance(rules, (list, tuple)):
            reader.fail(rules, None, "'faults' must be a list of rules")
        self.config_rules: list[Rule] = [self._parse(reader, rule, source) for rule in rules]
        self.admin_rules: list[Rule] = []
        self.attempts = Attempts()

    def _parse(self, reader: Reader, value: Any, source: str) -> Rule:
        return parse_rule(reader, value, self.resolve_endpoint, self.scenarios, self.seed, f"rule_{next(self._ids)}", source)

    # --- at run time ----------------------------------------------------------------

    def decide(self, ex: Exchange, probe: Callable[[Exchange], Probe]) -> Decision | None:
        """The fault for this request, if any; `probe(ex)` is called only when rules exist."""
        header = ex.header(b"x-mock-fault")
        if header is not None:
            try:
                fault = parse_header(header.decode("latin-1"))
            except SourceError as exc:
                raise errors.invalid_request(f"Invalid X-Mock-Fault header: {exc.problem}", code="invalid_mock_fault") from None
            if fault is None or not self._attempt(ex, fault, header):
                return None
            return Decision(fault, "header")
        name = ex.header(b"x-mock-scenario")
        if name is not None:
            scenario = self.scenarios.get(name.decode("latin-1"))
            if scenario is None:
                raise errors.invalid_request(
                    f"Unknown X-Mock-Scenario {name.decode('latin-1')!r}; known: {', '.join(sorted(self.scenarios)) or 'none'}",
                    code="invalid_mock_scenario",
                )
            step = scenario.next()
            if step is None or not self._attempt(ex, step, f"scenario:{scenario.name}"):
                return None
            return Decision(step, f"scenario:{scenario.name}")
        if not self.admin_rules and not self.config_rules:
            return None
        request = probe(ex)
        for rule in itertools.chain(self.admin_rules, self.config_rules):
            fires, fault = rule.consider(request, lambda fault: self._attempt(ex, fault, rule.id))
            if fires:
                return Decision(fault, rule.id) if fault is not None else None
        return None

    def _attempt(self, ex: Exchange, fault: Fault, asked_by: Any) -> bool:
        """Whether `fault` fires on this attempt of its call: always, unless it has `attempts`."""
        return fault.attempts is None or self.attempts.fail(call_key(ex, asked_by), fault.attempts)

    # --- the admin API ----------------------------------------------------------------

    def add_rule(self, value: Any, where: str) -> Rule:
        """Parse first, then add: a malformed rule never changes the rules in force."""
        rule = self._parse(Reader(where), value, "admin")
        self.admin_rules.append(rule)
        return rule

    def add_scenario(self, value: Any, where: str) -> Scenario:
        reader = Reader(where)
        reader.mapping(value, "a scenario")
        reader.keys(value, {"name", "steps", "then"}, "a scenario")
        if not isinstance(value.get("name"), str) or not value["name"]:
            reader.fail(value, "name", "a scenario needs a 'name'")
        parsed = parse_scenarios(reader, {value["name"]: {k: v for k, v in value.items() if k != "name"}})
        self.scenarios.update(parsed)
        return parsed[value["name"]]

    def remove_rule(self, rule_id: str) -> bool:
        before = len(self.admin_rules)
        self.admin_rules = [r for r in self.admin_rules if r.id != rule_id]
        return len(self.admin_rules) != before

    def clear(self) -> None:
        self.admin_rules.clear()

    def reset(self) -> None:
        """Back to start-up: admin rules gone, every counter and scenario at its start."""
        self.admin_rules.clear()
        self.attempts.clear()
        for rule in self.config_rules:
            rule.reset()
        for scenario in self.scenarios.values():
            scenario.position = 0

    def describe(self) -> dict:
        return {
            "rules": [rule.describe() for rule in itertools.chain(self.admin_rules, self.config_rules)],
            "scenarios": [scenario.describe() for scenario in self.scenarios.values()],
        }


def call_key(ex: Exchange, asked_by: Any) -> tuple:
    """What makes requests attempts at one call: the client (API key and user agent), the
    operation's method, path and query, the body, and what asked for the fault (the header's
    value, a rule id or a scenario). A hash of the body, so a key stays small."""
    header = ex.header
    return (header(b"authorization") or header(b"api-key"), header(b"user-agent"), ex.method, ex.path,
            ex.scope.get("query_string", b""), hash(ex.raw_body), asked_by)

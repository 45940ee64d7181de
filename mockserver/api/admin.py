"""/__mock/...: the fake's own API, to steer faults and read what happened.

    POST   /__mock/faults          add a rule  {"match", "fault"|"steps"|"scenario", "times"|...}
    GET    /__mock/faults          the rules in force (and scenarios), with their counters
    DELETE /__mock/faults          remove the rules added at run time
    DELETE /__mock/faults/{id}     remove one of them
    POST   /__mock/scenarios       add a named scenario  {"name", "steps", "then"?}
    GET    /__mock/requests        the journal  (?limit=N)
    GET    /__mock/verdict         the verdict on the client's retries
    POST   /__mock/clock           advance the background clock  {"advance": seconds}; answered once
                                   every batch in flight has done what the clock says is due
    GET    /__mock/clock           read it
    POST   /__mock/reset           back to the state at start-up

Answers only on loopback unless an admin token is configured; errors in the OpenAI
envelope, and a malformed rule never changes the rules in force.
"""

from __future__ import annotations

from .. import errors
from ..envelope import read_json
from ..routing import Operation
from ..verdict import judge
from ..wire import Exchange, Reply
from ..yamlio import SourceError


async def _body(ex: Exchange) -> object:
    await read_json(ex)
    return ex.body


async def _added(ex: Exchange, add, what: str) -> Reply:
    """201 with what was added, or a 400 that leaves the rules in force as they were."""
    try:
        added = add(await _body(ex), f"{ex.method} {ex.path}")
    except SourceError as err:
        raise errors.invalid_request(f"Invalid {what}: {err.problem}", code="invalid_mock_rule") from None
    return Reply.json(added.describe(), status=201)


async def add_fault(ex: Exchange) -> Reply:
    return await _added(ex, ex.runtime.faults.add_rule, "fault rule")


async def list_faults(ex: Exchange) -> Reply:
    return Reply.json(ex.runtime.faults.describe())


async def clear_faults(ex: Exchange) -> Reply:
    count = len(ex.runtime.faults.admin_rules)
    ex.runtime.faults.clear()
    return Reply.json({"deleted": count})


async def remove_fault(ex: Exchange) -> Reply:
    rule_id = ex.path_params["rule"]
    if not ex.runtime.faults.remove_rule(rule_id):
        raise errors.OpenAIError(404, f"No fault rule {rule_id!r} was added through the admin API.", param="id",
                                 code="not_found")
    return Reply.json({"id": rule_id, "deleted": True})


async def add_scenario(ex: Exchange) -> Reply:
    return await _added(ex, ex.runtime.faults.add_scenario, "scenario")


async def list_requests(ex: Exchange) -> Reply:
    limit = ex.query.get("limit")
    if limit is not None and (not isinstance(limit, str) or not (limit.isascii() and limit.isdigit()) or len(limit) > 9):
        raise errors.invalid_request("'limit' must be a whole number", param="limit")
    entries = ex.runtime.journal.entries(int(limit) if limit else None)
    return Reply.json({"object": "list", "data": [entry.to_json() for entry in entries]})


async def clear_requests(ex: Exchange) -> Reply:
    ex.runtime.journal.clear()
    return Reply.json({"deleted": True})


async def verdict(ex: Exchange) -> Reply:
    return Reply.json(judge(ex.runtime.journal.entries(), ex.runtime.config.retry_budget))


async def advance_clock(ex: Exchange) -> Reply:
    """Move the background clock forward: `{"advance": seconds}`, then let the batches in
    flight catch up with it."""
    body = await _body(ex)
    seconds = body.get("advance") if isinstance(body, dict) else None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        raise errors.invalid_request("'advance' must be a number of seconds, 0 or more.", param="advance")
    try:  # the clock stays finite and within clock.LIMIT: a stored background response keeps its time
        now = ex.runtime.clock.advance(float(seconds))
    except OverflowError:  # an integer too big for a float
        raise errors.invalid_request("'advance' must be a finite number of seconds, 0 or more.",
                                     param="advance") from None
    except ValueError as err:
        raise errors.invalid_request(str(err), param="advance") from None
    # Batches catch up first (lines due run, an expired window expires), so the next read sees
    # what the clock says: bounded by the hold budget, like any wait of a request.
    await ex.runtime.batches.settle(ex.runtime.config.max_hold_seconds)
    return Reply.json({"now": now})


async def read_clock(ex: Exchange) -> Reply:
    return Reply.json({"now": ex.runtime.clock.now()})


async def reset(ex: Exchange) -> Reply:
    ex.runtime.reset()
    return Reply.json({"reset": True})


def _admin(op_id: str, method: str, path: str, handler) -> Operation:
    return Operation(op_id, method, path, handler, prefixes=("",), admin=True, header_profile="catalog")


OPERATIONS = [
    _admin("mock.faults.create", "POST", "/__mock/faults", add_fault),
    _admin("mock.faults.list", "GET", "/__mock/faults", list_faults),
    _admin("mock.faults.clear", "DELETE", "/__mock/faults", clear_faults),
    _admin("mock.faults.delete", "DELETE", "/__mock/faults/{rule}", remove_fault),
    _admin("mock.scenarios.create", "POST", "/__mock/scenarios", add_scenario),
    _admin("mock.requests.list", "GET", "/__mock/requests", list_requests),
    _admin("mock.requests.clear", "DELETE", "/__mock/requests", clear_requests),
    _admin("mock.verdict", "GET", "/__mock/verdict", verdict),
    _admin("mock.clock.advance", "POST", "/__mock/clock", advance_clock),
    _admin("mock.clock.read", "GET", "/__mock/clock", read_clock),
    _admin("mock.reset", "POST", "/__mock/reset", reset),
]

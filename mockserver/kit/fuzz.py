"""Response fuzzing: answers generated from the response contracts, and the first one that
breaks a client, shrunk, with the seed that reproduces it.

**Strategies.** `strategy(contract)` compiles a contract (a JSON Schema from `contracts/`) into
a Hypothesis strategy aimed at what breaks clients rather than at uniform coverage: optional
fields absent or present, nullable fields null, an unknown extra field wherever the schema
allows one (`x_mockserver_unknown`), empty lists, long unicode strings (300-1,200 characters
from all planes), large numbers (2**31, 2**53 + 1, 2**63 - 1, 1e308), every enum value, every
branch of a union. Every value drawn is checked against the contract with the compiled
validator, so an answer is always schema-valid; Hypothesis shrinks a failing answer towards
the simplest one (optional fields absent, first branches, empty lists, short strings).
Errors: every documented error status (400, 401, 403, 404, 409, 422, 429, 500, 503) with a
body in the error envelope (and `x-should-retry: false`, so SDKs do not spend the run in
backoff). Streams: 1-4 chunks drawn the same way (chat: `data:` frames and `[DONE]`); for
Responses, a `response.created` event, 0-3 events of any type and a `response.completed` event
(`event:` equal to the `type`, `sequence_number` from 0), as every finished stream runs.

Measured against Schemathesis' own generator (`schemathesis.generation.jsonschema`) on the
chat completion, chunk, Responses response and event contracts: see README ("Response fuzzing").

**The wrapper.** `FuzzApp` is an ASGI wrapper around the fake: a request for a fuzzed
operation is answered by `source(op, stream)`, other requests by the fake.

**The run.** `fuzz(app, run_client)` runs the client once per example; each call it makes
is answered by a value drawn in the Hypothesis test's own thread (the server's thread waits
for it), so drawing is sequential and shrinking replays it exactly. A run that raises (or a
command that exits non-zero) is a finding: Hypothesis shrinks it, and the kit reports the
shrunk answers, in call order, with the seed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .operations import Op, contracts, find, read_body, replaying

DEFAULT_OPERATIONS = ("chat.completions.create", "responses.create")
ERROR_STATUSES = (400, 401, 403, 404, 409, 422, 429, 500, 503)
BIG_INTEGERS = (2**31, 2**53 + 1, 2**63 - 1)
BIG_FLOATS = (1e308, -1e308, 1.5e-300)
UNKNOWN_FIELD = "x_mockserver_unknown"
DEPTH = 7  # past this depth of $refs, objects keep their required fields only


class _Compiler:
    def __init__(self, root: dict) -> None:
        from hypothesis import strategies as st

        self.st = st
        self.root = root
        self.defs = root.get("$defs") or {}
        self.cache: dict[tuple[int, bool], Any] = {}
        self.small_json = st.recursive(st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=5),
                                       lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner, max_size=2),
                                       max_leaves=3)
        self.long_text = st.text(min_size=300, max_size=1200)

    def build(self, node: Any, depth: int = 0) -> Any:
        deep = depth > DEPTH
        key = (id(node), deep)
        if key not in self.cache:
            self.cache[key] = self.st.deferred(lambda: self._build(node, depth))
        return self.cache[key]

    def _build(self, node: Any, depth: int) -> Any:
        st = self.st
        if node is True or node == {}:
            return self.small_json
        if node is False:
            return st.nothing()
        if "$ref" in node:
            target = self.defs.get(node["$ref"].rsplit("/", 1)[-1])
            if target is None:
                return self.small_json
            return self.build(target, depth + 1)
        if "const" in node:
            return st.just(node["const"])
        if "enum" in node:
            return st.sampled_from(node["enum"])
        for keyword in ("anyOf", "oneOf"):
            if keyword in node:
                rest = {k: v for k, v in node.items() if k not in (keyword, "default", "description", "title")}
                branches = [self.build({**rest, **branch} if rest and isinstance(branch, dict) and "$ref" not in branch else branch, depth)
                            for branch in node[keyword]]
                return st.one_of(branches)
        if "allOf" in node:
            merged: dict = {k: v for k, v in node.items() if k != "allOf"}
            for part in node["allOf"]:
                part = self.defs.get(part["$ref"].rsplit("/", 1)[-1], {}) if "$ref" in part else part
                merged = {**merged, **part, "properties": {**merged.get("properties", {}), **part.get("properties", {})},
                          "required": [*merged.get("required", []), *part.get("required", [])]}
            return self.build(merged, depth)
        kind = node.get("type")
        if isinstance(kind, list):
            return st.one_of([self.build({**node, "type": t}, depth) for t in kind])
        if kind == "object" or (kind is None and "properties" in node):
            return self._object(node, depth)
        if kind == "array":
            return self._array(node, depth)
        if kind == "string":
            return self._string(node)
        if kind == "integer":
            return self._integer(node)
        if kind == "number":
            return self._number(node)
        if kind == "boolean":
            return st.booleans()
        if kind == "null":
            return st.none()
        return self.small_json

    def _object(self, node: dict, depth: int) -> Any:
        st = self.st
        props = node.get("properties") or {}
        required = [k for k in node.get("required") or []]
        deep = depth > DEPTH
        fixed = {k: self.build(props.get(k, True), depth) for k in required}
        optional = {} if deep else {k: self.build(v, depth) for k, v in props.items() if k not in required}
        extra = node.get("additionalProperties", True)
        if (extra is True or extra == {}) and not deep and "propertyNames" not in node:
            optional[UNKNOWN_FIELD] = self.small_json
        base = st.fixed_dictionaries(fixed, optional=optional)
        if isinstance(extra, dict) and extra and not deep:
            limit = min(node.get("maxProperties", 3), 3)
            names = st.text(min_size=1, max_size=min(12, (node.get("propertyNames") or {}).get("maxLength", 12))).filter(
                lambda name: name not in props)
            more = st.dictionaries(names, self.build(extra, depth), max_size=max(0, limit - len(fixed)))
            base = st.tuples(base, more).map(lambda pair: {**pair[1], **pair[0]})
        return base

    def _array(self, node: dict, depth: int) -> Any:
        st = self.st
        low = node.get("minItems", 0)
        high = node.get("maxItems")
        cap = low if depth > DEPTH else max(low, 3)
        items = node.get("items", True)
        if "prefixItems" in node:
            return st.tuples(*[self.build(p, depth) for p in node["prefixItems"]]).map(list)
        return st.lists(self.build(items, depth), min_size=low, max_size=min(high, cap) if high is not None else cap,
                        unique_by=(lambda v: json.dumps(v, sort_keys=True)) if node.get("uniqueItems") else None)

    def _string(self, node: dict) -> Any:
        st = self.st
        low, high = node.get("minLength", 0), node.get("maxLength")
        if "pattern" in node:
            return st.from_regex(node["pattern"], fullmatch=True)
        choices = [st.text(min_size=low, max_size=high if high is not None else max(low, 12))]
        if high is None or high >= 300:
            choices.append(self.long_text if high is None else st.text(min_size=max(low, 300), max_size=high))
        return st.one_of(choices)

    def _integer(self, node: dict) -> Any:
        st = self.st
        low, high = node.get("minimum"), node.get("maximum")
        if "exclusiveMinimum" in node:
            low = node["exclusiveMinimum"] + 1
        if "exclusiveMaximum" in node:
            high = node["exclusiveMaximum"] - 1
        low = int(low) if low is not None else None
        high = int(high) if high is not None else None
        small = st.integers(min_value=low if low is not None else -1000 if high is not None and high < 0 else 0,
                            max_value=high if high is not None else max(low or 0, 0) + 1000)
        big = [n for n in BIG_INTEGERS if (low is None or n >= low) and (high is None or n <= high)]
        return st.one_of(small, st.sampled_from(big)) if big else small

    def _number(self, node: dict) -> Any:
        st = self.st
        low, high = node.get("minimum"), node.get("maximum")
        floats = st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False,
                           exclude_min="exclusiveMinimum" in node, exclude_max="exclusiveMaximum" in node)
        big = [n for n in BIG_FLOATS if (low is None or n >= low) and (high is None or n <= high)]
        return st.one_of(floats, st.sampled_from(big)) if big else floats


_STRATEGIES: dict[str, Any] = {}


def strategy(contract: str) -> Any:
    """Schema-valid values of `contract`, edges first."""
    if contract not in _STRATEGIES:
        schema = contracts().schemas[contract]
        validator = contracts().validator(contract)
        _STRATEGIES[contract] = _Compiler(schema).build(schema).filter(validator.is_valid)
    return _STRATEGIES[contract]


# --- answers ------------------------------------------------------------------------------

@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    def show(self, limit: int = 3000) -> str:
        text = self.body.decode("utf-8", "replace")
        return f"{self.status} {self.content_type}\n{text[:limit]}{'…' if len(text) > limit else ''}"


def json_answer(value: Any, status: int = 200) -> Answer:
    headers = [(b"x-should-retry", b"false")] if status >= 400 else []
    return Answer(status, "application/json", json.dumps(value, indent=2).encode(), headers)


def chat_stream(chunks: list) -> Answer:
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    return Answer(200, "text/event-stream; charset=utf-8", body.encode())


def responses_stream(events: list) -> Answer:
    frames = []
    for number, event in enumerate(events):
        event = {**event, "sequence_number": number} if "sequence_number" in event else event
        frames.append(f"event: {event.get('type')}\ndata: {json.dumps(event)}\n\n")
    return Answer(200, "text/event-stream; charset=utf-8", "".join(frames).encode())


def event_strategy(contract: str, event_type: str) -> Any:
    """Schema-valid events of one `type` (the branch of the event union that has it)."""
    key = f"{contract}#{event_type}"
    if key not in _STRATEGIES:
        schema = contracts().schemas[contract]
        branch = next(d for d in (schema.get("$defs") or {}).values()
                      if ((d.get("properties") or {}).get("type") or {}).get("const") == event_type)
        validator = contracts().validator(contract)
        _STRATEGIES[key] = _Compiler(schema).build(branch).filter(validator.is_valid)
    return _STRATEGIES[key]


def answer_strategy(op: Op, stream: bool, errors: bool = False) -> Any:
    from hypothesis import strategies as st

    if stream and op.stream and op.stream.endswith(".chunk"):
        ok = st.lists(strategy(op.stream), min_size=1, max_size=4).map(chat_stream)
    elif stream and op.stream:
        # a Responses stream opens with response.created and ends with response.completed,
        # as every stream the real API finishes does; between them, any events
        ok = st.tuples(event_strategy(op.stream, "response.created"), st.lists(strategy(op.stream), max_size=3),
                       event_strategy(op.stream, "response.completed")).map(
            lambda parts: responses_stream([parts[0], *parts[1], parts[2]]))
    elif op.response:
        ok = strategy(op.response).map(json_answer)
    else:
        return st.none()  # no contract: the fake answers
    if not errors:
        return ok
    failed = st.tuples(st.sampled_from(ERROR_STATUSES), strategy("error.response")).map(lambda pair: json_answer(pair[1], pair[0]))
    return st.one_of(ok, failed)


class FuzzApp:
    """ASGI wrapper: requests for `operations` are answered by `source(op, stream)` (when set
    and when it gives an `Answer`), all others by the fake."""

    def __init__(self, app: Any, operations: tuple[str, ...] | list[str] = DEFAULT_OPERATIONS) -> None:
        self.app = app
        self.operations = tuple(operations)
        self.source: Callable[[Op, bool], Answer | None] | None = None
        self.answered = 0

    async def __call__(self, scope, receive, send):
        source = self.source
        if scope["type"] != "http" or source is None:
            return await self.app(scope, receive, send)
        found = find(scope["method"], scope["path"])
        if found is None or found[0].id not in self.operations:
            return await self.app(scope, receive, send)
        raw = await read_body(receive)
        if raw is None:
            return
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        stream = isinstance(body, dict) and body.get("stream") is True
        answer = await asyncio.get_running_loop().run_in_executor(None, source, found[0], stream)
        if answer is None:
            return await self.app(scope, replaying(raw, receive), send)
        self.answered += 1
        headers = [(b"content-type", answer.content_type.encode()), (b"content-length", str(len(answer.body)).encode()),
                   (b"x-request-id", f"req_fuzz{self.answered:024d}".encode()), *answer.headers]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})


# --- the run ------------------------------------------------------------------------------

@dataclass
class Finding:
    seed: int
    error: str  # what broke: the exception, or the exit code and the end of stderr
    answers: list[tuple[str, Answer]]  # the shrunk answers, in call order (operation id, answer)
    examples: int = 0

    def describe(self) -> str:
        lines = [f"the client broke on a schema-valid answer (seed {self.seed}; shrunk): {self.error}"]
        for number, (op_id, answer) in enumerate(self.answers, 1):
            lines.append(f"--- answer {number} to {op_id}: {answer.show(1500)}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"seed": self.seed, "error": self.error, "answers": [
            {"operation": op_id, "status": a.status, "content_type": a.content_type, "body": a.body.decode("utf-8", "replace")}
            for op_id, a in self.answers]}


class ClientBroke(Exception):
    def __init__(self, error: str, drawn: list) -> None:
        super().__init__(error)
        self.error = error
        self.drawn = drawn


def broken(what: str, drawn: list) -> None:
    """Raise the finding from this one line: Hypothesis tells failures apart by where they are
    raised, and a replay judged by what was seen must count as the failure it replays."""
    raise ClientBroke(what, drawn)


def fuzz(app: FuzzApp, run_client: Callable[[], None], *, examples: int = 20, seed: int = 0, errors: bool = False,
         broke: Callable[[BaseException, list], str | None] | None = None, shrink_seconds: float = 60.0,
         call_timeout: float = 120.0) -> Finding | None:
    """Run `run_client` once per example, its calls answered from the contracts; the first
    run that breaks (raises, unless `broke` says the exception is fine: it returns what broke,
    or None), shrunk. Past `shrink_seconds` of shrinking, candidates are judged without running
    the client (an answer sequence already seen failing fails, any other passes), so a slow
    client (a command) ends in bounded time with the smallest failure confirmed so far."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    confirmed: dict[str, str] = {}
    sequence: list[tuple[Op, bool]] = []
    first_failure: list[float] = []
    count = [0]

    def key(drawn: list) -> str:
        return json.dumps([(op_id, a.status, a.body.decode("utf-8", "replace")) for op_id, a in drawn])

    @settings(max_examples=examples, database=None, deadline=None, derandomize=False,
              phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    @hypothesis_seed(seed)
    @given(st.data())
    def example(data):
        count[0] += 1
        drawn: list[tuple[str, Answer]] = []
        if first_failure and time.monotonic() - first_failure[0] > shrink_seconds:
            for op, stream in sequence:  # out of shrinking time: judge by what was seen
                drawn.append((op.id, data.draw(answer_strategy(op, stream, errors))))
            if key(drawn) in confirmed:
                broken(confirmed[key(drawn)], drawn)
            return
        pending: queue.Queue = queue.Queue()
        calls: list[tuple[Op, bool]] = []

        def source(op: Op, stream: bool) -> Answer | None:
            future: concurrent.futures.Future = concurrent.futures.Future()
            pending.put((op, stream, future))
            return future.result(timeout=call_timeout)

        outcome: dict[str, BaseException] = {}

        def client() -> None:
            try:
                run_client()
            except BaseException as exc:  # noqa: BLE001 - judged below
                outcome["error"] = exc

        app.source = source
        thread = threading.Thread(target=client, name="mockserver-fuzz-client", daemon=True)
        thread.start()
        try:
            while thread.is_alive() or not pending.empty():
                try:
                    op, stream, future = pending.get(timeout=0.01)
                except queue.Empty:
                    continue
                try:
                    answer = data.draw(answer_strategy(op, stream, errors), label=f"answer {len(drawn) + 1} to {op.id}")
                except BaseException:  # Hypothesis ends this example (StopTest): the client gets a plain 503
                    future.set_result(json_answer({"error": {"message": "example abandoned", "type": "server_error",
                                                             "param": None, "code": None}}, 503))
                    raise
                drawn.append((op.id, answer))
                calls.append((op, stream))
                future.set_result(answer)
        finally:
            app.source = None
            thread.join(timeout=call_timeout)
        error = outcome.get("error")
        if error is None:
            return
        what = broke(error, drawn) if broke else f"{type(error).__name__}: {error}"
        if what is None:
            return
        if not first_failure:
            first_failure.append(time.monotonic())
            sequence[:] = calls
        if [(o.id, s) for o, s in calls] == [(o.id, s) for o, s in sequence]:
            confirmed[key(drawn)] = what
        broken(what, drawn)

    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Hypothesis' note on the long repr of a contract's strategy
            example()
    except ClientBroke as found:
        return Finding(seed, found.error[:2000], found.drawn, count[0])
    except Exception as group:  # Hypothesis' FlakyFailure (an exception group): the failures it saw
        found = (getattr(group, "exceptions", None) or [None])[-1]
        if not isinstance(found, ClientBroke):
            raise
        return Finding(seed, found.error[:2000], found.drawn, count[0])
    return None


def replay(app: FuzzApp, run_client: Callable[[], None], answers: list[Answer]) -> BaseException | None:
    """Run the client once, its fuzzed calls answered with `answers` in order (a finding's
    shrunk answers); what it raised, or None."""
    queue_ = list(answers)
    lock = threading.Lock()

    def source(op: Op, stream: bool) -> Answer | None:
        with lock:
            return queue_.pop(0) if queue_ else None

    app.source = source
    try:
        run_client()
    except BaseException as exc:  # noqa: BLE001 - handed to the caller
        return exc
    finally:
        app.source = None
    return None


def answer_from_json(value: dict) -> Answer:
    return Answer(value["status"], value["content_type"], value["body"].encode(),
                  [(b"x-should-retry", b"false")] if value["status"] >= 400 else [])

"""`mockserver contract server --base-url URL`: the contract suite against any OpenAI-compatible server.

Two parts, both reported per operation and check:

- **Generated cases** (Schemathesis 4, as a library): an OpenAPI document assembled from
  `contracts/` (`operations.openapi`) drives the server with valid and invalid requests.
  Checks: `not_a_server_error` (no 5xx for any input), `error_envelope` (every error answer is
  the OpenAI envelope), `rejects_invalid` (an invalid request gets a 4xx), `response_schema`
  (every 2xx JSON body validates against the response contract), `stream_framing` and
  `stream_events` (a stream is well-framed SSE and each event validates).
- **Scenarios** (`scenarios.py`): lifecycles (create → retrieve → list → delete) and what
  generation misses (the usage chunk, tool-call deltas, a `previous_response_id` chain, a
  background response polled to completion, a batch, ...).

Nothing here uses the fake's admin API: a real server is judged the same way.
"""

from __future__ import annotations

import copy
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

from . import sse
from .operations import Op, contracts, openapi, select
from .report import Failure, OperationResult, Report

CHECKS = ("not_a_server_error", "error_envelope", "rejects_invalid", "response_schema", "stream_framing", "stream_events")


@dataclass
class ServerOptions:
    base_url: str  # the OpenAI base URL, with its /v1: http://127.0.0.1:8000/v1
    families: list[str] | None = None
    operations: list[str] | None = None
    examples: int = 20  # generated cases per operation and mode (valid, invalid)
    seed: int | None = 0
    time_limit: float | None = None  # seconds for the whole run
    api_key: str = "sk-mockserver-contract"
    headers: dict[str, str] = field(default_factory=dict)
    model: str = "gpt-4o-mini"
    embedding_model: str = "text-embedding-3-small"
    generated: bool = True
    scenarios: bool = True
    scenario_names: list[str] | None = None
    timeout: float = 30.0
    poll_seconds: float = 60.0  # how long a background response or a batch may take

    def request_headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        headers.update(self.headers)
        return headers


class _OutOfTime(Exception):
    pass


def run(options: ServerOptions) -> Report:
    started = time.monotonic()
    seed = options.seed if options.seed is not None else random.randrange(2**31)
    report = Report(target=options.base_url, seed=seed)
    deadline = started + options.time_limit if options.time_limit else None
    ops = select(options.families, options.operations)
    if options.generated:
        generate(ops, options, report, seed, deadline)
    if options.scenarios:
        from .scenarios import run_scenarios

        run_scenarios(options, report, ops, deadline)
    report.seconds = time.monotonic() - started
    return report


# --- generated cases ---------------------------------------------------------------------

def _pin_model(node: Any, model: str) -> Any:
    """Positive cases name a model the server serves (`--model`), so they reach the answer
    instead of the 404 of an unknown model: each request body's top-level `model` is pinned."""
    if isinstance(node, dict) and isinstance(node.get("properties"), dict) and "model" in node["properties"]:
        node = dict(node)
        node["properties"] = {**node["properties"], "model": {"type": "string", "enum": [model]}}
    return node


def document(ops: list[Op], model: str, embedding_model: str = "text-embedding-3-small") -> dict:
    doc = openapi(ops, answers=False)
    schemas = doc["components"]["schemas"]
    for key in list(schemas):
        if key.endswith("_request__Schema"):
            schemas[key] = _pin_model(copy.deepcopy(schemas[key]), embedding_model if key.startswith("embeddings") else model)
    return doc


def generate(ops: list[Op], options: ServerOptions, report: Report, seed: int, deadline: float | None) -> None:
    import httpx
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_dict(document(ops, options.model, options.embedding_model))
    # Schemathesis' coverage phase is not used: its enumeration of boundary values costs
    # 80 MB and 20 s per operation on the Responses family's schemas.
    by_label = {f"{op.method} {op.path}": op for op in ops}
    headers = options.request_headers()
    with httpx.Client(timeout=options.timeout) as http:
        for result in schema.get_all_operations():
            operation = result.ok()
            op = by_label.get(operation.label)
            if op is None:
                continue
            outcome = report.op(op.id)
            began = time.monotonic()
            modes = [GenerationMode.POSITIVE]
            if op.request:  # an invalid body; a path of strings has no invalid value
                modes.append(GenerationMode.NEGATIVE)
            for mode in modes:
                if deadline and time.monotonic() > deadline:
                    outcome.note = "time limit reached"
                    break

                @settings(max_examples=options.examples, deadline=None, database=None, derandomize=False,
                          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
                @hypothesis_seed(seed)
                @given(case=operation.as_strategy(generation_mode=mode))
                def drive(case: Any) -> None:
                    if deadline and time.monotonic() > deadline:
                        raise _OutOfTime
                    check_case(http, case, op, options, headers, outcome)

                try:
                    drive()
                except _OutOfTime:
                    outcome.note = "time limit reached"
                except Exception as exc:  # noqa: BLE001 - a case that cannot be built is reported, not fatal
                    name = type(exc).__name__
                    if name in ("Unsatisfiable", "FailedHealthCheck"):
                        outcome.note = f"no {mode.value} case could be generated"
                    else:
                        outcome.record("not_a_server_error", False, Failure(f"the run stopped: {name}: {exc}"[:500]))
            outcome.seconds += time.monotonic() - began


def check_case(http: Any, case: Any, op: Op, options: ServerOptions, headers: dict, outcome: OperationResult) -> None:
    import httpx

    kwargs = as_httpx(case.as_transport_kwargs(base_url=options.base_url.rstrip("/"), headers=headers))
    negative = case.meta is not None and case.meta.generation.mode.is_negative
    outcome.cases += 1

    def failure(message: str, detail: str | None = None) -> Failure:
        return Failure(message, case.as_curl_command(headers=headers, base_url=options.base_url.rstrip("/")), detail)

    try:
        response = http.request(**kwargs)
    except httpx.HTTPError as exc:
        outcome.record("not_a_server_error", False, failure(f"no answer: {type(exc).__name__}: {exc}"))
        return
    judge_answer(op, response.status_code, response.headers.get("content-type", ""), response.content, outcome,
                 failure, negative=negative)


def as_httpx(kwargs: dict) -> dict:
    """Schemathesis' request arguments (in `requests`' terms) as httpx takes them: multipart
    fields without a filename become form data."""
    kwargs.pop("cookies", None)
    files = kwargs.pop("files", None)
    if files:
        data: dict[str, list[str]] = {}
        parts = []
        for name, value in files:
            filename, content = (value[0], value[1]) if isinstance(value, tuple) else (None, value)
            if filename is None:
                data.setdefault(str(name), []).append(content if isinstance(content, str) else str(content))
            else:
                parts.append((str(name), (filename, content if isinstance(content, bytes) else str(content).encode())))
        kwargs["files"] = parts or None
        kwargs["data"] = data or None
    elif kwargs.get("data") is None:
        kwargs.pop("data", None)
    return kwargs


def judge_answer(op: Op, status: int, content_type: str, body: bytes, outcome: OperationResult, failure,
                 negative: bool | None = None) -> None:
    """Every check that applies to one answer to `op`."""
    outcome.record("not_a_server_error", status < 500, None if status < 500 else failure(f"{status} answered", body[:500].decode("utf-8", "replace")))
    if status >= 400:
        problems = envelope_problems(body)
        outcome.record("error_envelope", not problems, failure(f"{status} not in the OpenAI error envelope: {problems[0] if problems else ''}",
                                                               body[:500].decode("utf-8", "replace")) if problems else None)
    if negative:
        ok = 400 <= status < 500
        outcome.record("rejects_invalid", ok, None if ok else failure(f"an invalid request was answered {status}"))
    if not 200 <= status < 300:
        return
    if content_type.startswith("text/event-stream"):
        kind = sse.kind_of(op.stream)
        values, problems = sse.judge(body.decode("utf-8", "replace"), kind)
        outcome.record("stream_framing", not problems, failure(problems[0]) if problems else None)
        if op.stream:
            found = event_problems(op.stream, values)
            outcome.record("stream_events", not found, failure(found[0]) if found else None)
    elif op.response and content_type.startswith("application/json"):
        try:
            value = json.loads(body)
        except ValueError:
            outcome.record("response_schema", False, failure("a 2xx JSON answer that is not JSON", body[:300].decode("utf-8", "replace")))
            return
        found = contracts().problems(op.response, value)
        outcome.record("response_schema", not found, failure(f"{op.response}: {found[0]}", body[:500].decode("utf-8", "replace")) if found else None)


def envelope_problems(body: bytes) -> list[str]:
    try:
        value = json.loads(body)
    except ValueError:
        return ["the body is not JSON"]
    return contracts().problems("error.response", value)


def event_problems(contract: str, values: list[Any]) -> list[str]:
    found = []
    for i, value in enumerate(values):
        if isinstance(value, dict) and "error" in value and contract.endswith(".chunk"):
            continue  # an error object mid-stream has no chunk shape
        if isinstance(value, dict) and value.get("object") == "chat.completion.chunk" and "choices" not in value:
            continue  # an audio answer's choice-less chunks, as recorded (the SDK reads them leniently)
        for problem in contracts().problems(contract, value):
            found.append(f"event {i} ({value.get('type') or value.get('object') if isinstance(value, dict) else '?'}): {problem}")
    return found

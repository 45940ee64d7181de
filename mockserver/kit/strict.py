"""Strict request checking for clients: an ASGI wrapper around the fake.

Every JSON request a client sends is validated against its operation's request contract
(found by method and path, as the router finds it) before the fake sees it. A violation is
kept (`StrictChecker.violations`) with the offending field's path, the real API's wording and
the call that sent it (its number, method, path, user agent and the answer's `x-request-id`),
and named in the answer's `x-mock-violations` header (a JSON list, as Prism's validation
proxy names them in `sl-violations`), so any runner sees them.

Two modes:

- `record` (the default): answer normally where the fake can. The offending fields are
  dropped from the body the fake reads (an unknown field, a value out of range, a wrong
  type on an optional field), so one run collects every violation of a client instead of
  stopping at the first 400; a body that cannot be mended (a required field missing) gets
  the fake's 400 as usual.
- `reject`: the fake's own answer, which is the real API's 400 for such a body.
"""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import asdict, dataclass
from typing import Any

from ..contracts import format_path
from .operations import contracts, find, read_body, replaying

HEADER = b"x-mock-violations"


@dataclass
class Violation:
    call: int  # the n-th request the checker saw (from 1)
    method: str
    path: str
    operation: str
    field: str  # `messages[0].foo`, or `(body)`
    message: str
    client: str  # the user agent
    request_id: str | None = None  # the answer's x-request-id (the journal's request_id)

    def __str__(self) -> str:
        return (f"call {self.call} {self.method} {self.path} ({self.operation}; {self.client or 'no user agent'}"
                f"{'; ' + self.request_id if self.request_id else ''}): {self.field}: {self.message}")

    def to_json(self) -> dict:
        return asdict(self)


def problems_of(contract: str, body: Any) -> list[tuple[str, str, list]]:
    """(field, message, raw path) for each violation of `contract` by `body`; the first one
    worded as the real API words it (`schema_errors.explain`)."""
    validator = contracts().validator(contract)
    if validator.is_valid(body):
        return []
    found: list[tuple[str, str, list]] = []
    for error in validator.iter_errors(body):
        path = list(error.instance_path)
        kind = error.kind
        if type(kind).__name__ == "AdditionalProperties":
            for name in kind.unexpected:
                found.append((format_path([*path, name]), f"unknown field {name!r}", [*path, name]))
            continue
        found.append((format_path(path) or "(body)", error.message[:300], path))
    try:
        from ..schema_errors import explain

        worded = explain(contracts().schemas[contract], body)
    except Exception:  # noqa: BLE001 - wording is a nicety; the raw errors stand
        worded = None
    if worded is not None and worded.param:
        parts = parse_path(worded.param)
        # the raw errors the worded one explains (an `anyOf` around the field) go
        found = [(worded.param, worded.message, parts)] + [
            f for f in found if f[0] != worded.param and not (f[2] is not None and parts[: len(f[2])] == f[2])]
    return found


def parse_path(param: str) -> list:
    """`messages[0].foo` → ["messages", 0, "foo"]."""
    import re

    parts: list = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", param):
        parts.append(int(index) if index else name)
    return parts


def mend(contract: str, body: Any, limit: int = 20) -> Any:
    """`body` with the offending fields dropped, one at a time, as far as that makes it valid:
    the field the real API would name first, else the deepest one the validator names."""
    body = copy.deepcopy(body)
    validator = contracts().validator(contract)
    for _ in range(limit):
        if validator.is_valid(body):
            break
        problems = problems_of(contract, body)
        paths = sorted((p[2] for p in problems if p[2]), key=len, reverse=True)
        worded = problems[0][2] if problems and problems[0][2] else None
        if not any(_drop(body, path) for path in ([worded] if worded else []) + paths):
            break
    return body


def _drop(body: Any, path: list) -> bool:
    parent = _at(body, path[:-1])
    key = path[-1]
    if isinstance(parent, dict) and key in parent:
        del parent[key]
        return True
    if isinstance(parent, list) and isinstance(key, int) and key < len(parent):
        del parent[key]
        return True
    return False


def _at(value: Any, path: list) -> Any:
    for part in path:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return None
    return value


class StrictChecker:
    """ASGI wrapper: validate, keep, name in a header, then let the app answer."""

    def __init__(self, app: Any, mode: str = "record") -> None:
        if mode not in ("record", "reject"):
            raise ValueError("mode is 'record' or 'reject'")
        self.app = app
        self.mode = mode
        self.violations: list[Violation] = []
        self.calls = 0
        self._lock = threading.Lock()

    def drain(self) -> list[Violation]:
        with self._lock:
            found, self.violations = self.violations, []
        return found

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        found = find(scope["method"], scope["path"])
        if found is None or found[0].request is None:
            return await self.app(scope, receive, send)
        op = found[0]
        with self._lock:
            self.calls += 1
            number = self.calls
        raw = await read_body(receive)
        if raw is None:
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        agent = headers.get("user-agent", "")
        problems: list[tuple[str, str, list | None]] = []
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
            problems = [("(body)", "the body is not JSON", None)]
        if body is not None:
            problems = problems_of(op.request, body)
        found_here = [Violation(number, scope["method"], scope["path"], op.id, field, message, agent)
                      for field, message, _ in problems]
        if found_here and self.mode == "record" and isinstance(body, dict):
            raw = json.dumps(mend(op.request, body)).encode()
            scope = dict(scope)
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"] + [
                (b"content-length", str(len(raw)).encode())]
        async def tag(message):
            if message["type"] == "http.response.start" and found_here:
                response_headers = list(message.get("headers") or [])
                request_id = next((v.decode() for k, v in response_headers if k.lower() == b"x-request-id"), None)
                for violation in found_here:
                    violation.request_id = request_id
                named = json.dumps([{"location": "body", "field": v.field, "message": v.message} for v in found_here[:20]],
                                   ensure_ascii=True)
                response_headers.append((HEADER, named[:8000].encode("latin-1")))
                message = {**message, "headers": response_headers}
            await send(message)

        if found_here:
            with self._lock:
                self.violations.extend(found_here)
        await self.app(scope, replaying(raw, receive), tag)

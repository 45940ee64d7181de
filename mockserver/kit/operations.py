"""The operations the kit checks, with their contracts, and the OpenAPI document built from them.

The operation table (`mockserver.routing.all_operations()`, which every family adds to) says
what is served and where; `contracts/` says what each request and answer must be. Response
contracts are found by name, so a family that lands with `<family>.create.response` and
`<family>.list.response` is covered without a change here:

- `<operation>.response` when it exists;
- otherwise, for `retrieve`, `update`, `cancel`, `complete` (and the like): the created object,
  `<family>.create.response`;
- the exceptions the SDK's types spell differently are listed in `RESPONSE_OVERRIDES`.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..contracts import Contracts

# Operations whose answer is another operation's object (the SDK's return types).
RESPONSE_OVERRIDES = {
    "conversations.items.create": "conversations.items.list.response",  # ConversationItemList
    "conversations.items.delete": "conversations.create.response",  # the Conversation
    "files.content": None,  # the file's bytes
    "responses.delete": None,  # an empty body (the SDK returns None)
}
SAME_AS_CREATED = ("retrieve", "update", "cancel", "complete", "pause", "resume")


@dataclass(frozen=True)
class Op:
    id: str
    method: str
    path: str  # under the base URL (/v1), OpenAPI style: /models/{model}
    request: str | None  # contract name of the JSON body
    response: str | None  # contract name of a 2xx JSON answer
    stream: str | None  # contract name of each streamed event
    multipart: bool = False
    route: re.Pattern | None = None  # matches the path under any prefix

    @property
    def family(self) -> str:
        return self.id.rsplit(".", 1)[0]

    @property
    def top_family(self) -> str:
        """`chat`, `responses`, `conversations`, `files`, `uploads`, `models`, `embeddings`, `batches`..."""
        return self.id.split(".", 1)[0]

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)


@lru_cache(maxsize=4)
def contracts(lenient: bool = False) -> Contracts:
    return Contracts(lenient=lenient)


def response_contract(op_id: str, names: set[str]) -> str | None:
    if op_id in RESPONSE_OVERRIDES:
        return RESPONSE_OVERRIDES[op_id]
    if f"{op_id}.response" in names:
        return f"{op_id}.response"
    family, verb = op_id.rsplit(".", 1)
    if verb in SAME_AS_CREATED and f"{family}.create.response" in names:
        return f"{family}.create.response"
    return None


def stream_contract(op_id: str, names: set[str]) -> str | None:
    family, verb = op_id.rsplit(".", 1)
    if verb not in ("create", "retrieve"):
        return None
    for suffix in ("chunk", "event"):
        if f"{family}.create.{suffix}" in names:
            return f"{family}.create.{suffix}"
    return None


def _route(path: str) -> re.Pattern:
    pattern = re.sub(r"{(\w+):path}", r"(?P<\1>.+)", path)
    pattern = re.sub(r"{(\w+)}", r"(?P<\1>[^/]+)", pattern)
    return re.compile(r"(?:/v1|/openai/v1|/openai/deployments/[^/]+)" + pattern + "$")


@lru_cache(maxsize=1)
def operations() -> tuple[Op, ...]:
    """Every operation the fake serves (not its admin API), in the table's order."""
    from ..routing import all_operations

    names = set(contracts().names)
    ops = []
    for op in all_operations():
        if op.admin:
            continue
        path = re.sub(r"{(\w+):\w+}", r"{\1}", op.path)
        ops.append(Op(op.id, op.method, path, op.request_schema, response_contract(op.id, names),
                      stream_contract(op.id, names), op.streams_body, _route(op.path)))
    return tuple(ops)


def find(method: str, path: str) -> tuple[Op, dict[str, str]] | None:
    """The operation a request is for, by method and path, as the router finds it
    (literal paths before parameterised ones)."""
    candidates = sorted(operations(), key=lambda op: "{" in op.path)
    for op in candidates:
        if op.method != method:
            continue
        match = op.route.match(path)
        if match:
            return op, match.groupdict()
    return None


def select(families: list[str] | None = None, ids: list[str] | None = None) -> list[Op]:
    """Operations picked by family (`chat`, `responses`, `chat.completions`, ...) or id
    (`responses.create`, `files.*`); none given: all."""
    chosen = []
    for op in operations():
        if families and not any(op.id == f or op.id.startswith(f + ".") for f in families):
            continue
        if ids and not any(op.id == i or (i.endswith("*") and op.id.startswith(i[:-1])) for i in ids):
            continue
        chosen.append(op)
    return chosen


# --- the OpenAPI document -------------------------------------------------------------

def _rewrite_refs(node: Any, prefix: str) -> Any:
    """`#/$defs/X` inside one schema → `#/components/schemas/<prefix>X` in the document."""
    if isinstance(node, dict):
        return {
            k: f"#/components/schemas/{prefix}{v.rsplit('/', 1)[-1]}"
            if k == "$ref" and isinstance(v, str) and v.startswith("#/$defs/") else _rewrite_refs(v, prefix)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(v, prefix) for v in node]
    return node


def _component(components: dict, name: str) -> dict:
    """The contract `name` as a component (its $defs beside it); a reference to it."""
    prefix = name.replace(".", "_") + "__"
    key = prefix + "Schema"
    if key not in components:
        schema = copy.deepcopy(contracts().schemas[name])
        for sub_name, sub in schema.pop("$defs", {}).items():
            components[prefix + sub_name] = _rewrite_refs(sub, prefix)
        schema.pop("$schema", None)
        components[key] = _rewrite_refs(schema, prefix)
    return {"$ref": f"#/components/schemas/{key}"}


# Multipart bodies have no contract in contracts/ (the SDK types them as files); their
# parts as the files service takes them.
MULTIPART = {
    "files.create": {"type": "object", "required": ["file", "purpose"], "properties": {
        "file": {"type": "string", "format": "binary"},
        "purpose": {"type": "string", "enum": ["assistants", "batch", "fine-tune", "vision", "user_data", "evals"]}}},
    "uploads.parts.create": {"type": "object", "required": ["data"], "properties": {
        "data": {"type": "string", "format": "binary"}}},
}


def openapi(ops: list[Op] | None = None, *, answers: bool = True) -> dict:
    """An OpenAPI 3.1 document of `ops` (default: all), from contracts/: request bodies,
    2xx answers (JSON, or SSE events where the operation streams) and the error envelope
    (`answers=False`: requests only, which is all generation needs)."""
    components: dict = {}
    paths: dict = {}
    error = _component(components, "error.response") if answers else None
    for op in ops if ops is not None else operations():
        spec: dict = {"operationId": op.id, "responses": {"default": {"description": "an error, in the OpenAI envelope"}}}
        if answers:
            spec["responses"]["default"]["content"] = {"application/json": {"schema": error}}
        if op.path_params:
            spec["parameters"] = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                                  for p in op.path_params]
        if op.request:
            spec["requestBody"] = {"required": True, "content": {"application/json": {"schema": _component(components, op.request)}}}
        elif op.multipart and op.id in MULTIPART:
            spec["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": MULTIPART[op.id]}}}
        ok: dict = {"description": "the operation's answer"}
        content = {}
        if not answers:
            pass
        elif op.response:
            content["application/json"] = {"schema": _component(components, op.response)}
        if answers and op.stream:
            content["text/event-stream"] = {"schema": _component(components, op.stream)}
        if content:
            ok["content"] = content
        spec["responses"]["200"] = ok
        paths.setdefault(op.path, {})[op.method.lower()] = spec
    return {"openapi": "3.1.0", "info": {"title": "OpenAI API, as contracts/ states it", "version": "1"},
            "servers": [{"url": "/v1"}], "paths": paths, "components": {"schemas": components}}


async def read_body(receive) -> bytes | None:
    """An ASGI request's whole body, or None if the client left first."""
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def replaying(raw: bytes, receive):
    """A `receive` that hands the app `raw` (a body already read) once, then the client's own."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()

    return replay

"""Every body a server sends, checked against contracts/ and the SDK's types.

`Audit` is an ASGI wrapper that keeps a copy of each response; `problems` validates the
copies, so a shape regression fails the test (or the kit's run) that provoked it even if
that test only looked at one field. The project's own tests run every server behind it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..contracts import Contracts
from .operations import contracts as _contracts


def contracts() -> Contracts:
    return _contracts()


@dataclass
class Sent:
    method: str
    path: str
    status: int
    content_type: str
    body: bytes


class Audit:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.sent: list[Sent] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        record = Sent(scope["method"], scope["path"], 0, "", b"")

        async def capture(message):
            if message["type"] == "http.response.start":
                record.status = message["status"]
                headers = dict(message.get("headers") or [])
                record.content_type = headers.get(b"content-type", b"").decode()
            elif message["type"] == "http.response.body":
                record.body += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            self.sent.append(record)

    def drain(self) -> list[Sent]:
        sent, self.sent = self.sent, []
        return sent


def schema_for(record: Sent) -> tuple[str | None, Any]:
    """The contract and SDK type a response must satisfy (None when it has no contract)."""
    from openai.types import CreateEmbeddingResponse, Model, ModelDeleted
    from openai.types.chat import ChatCompletion, ChatCompletionChunk
    from openai.types.responses import InputTokenCountResponse, Response, ResponseStreamEvent

    path = record.path.split("/v1", 1)[-1] if "/v1/" in record.path else record.path
    if record.status >= 400:
        return "error.response", None
    if "/chat/completions" in path and (record.method != "POST" or not path.endswith("/chat/completions")):
        return stored_chat_schema(record, path)
    if path.endswith("/chat/completions"):
        if record.content_type.startswith("text/event-stream"):
            return "chat.completions.create.chunk", ChatCompletionChunk
        return "chat.completions.create.response", ChatCompletion
    if path.endswith("/embeddings"):
        return "embeddings.create.response", None if b'"embedding": "' in record.body else CreateEmbeddingResponse
    if path == "/responses":
        if record.content_type.startswith("text/event-stream"):
            return "responses.create.event", ResponseStreamEvent
        return "responses.create.response", Response
    if path.startswith("/responses/"):
        if path.endswith("/input_items"):
            return "responses.input_items.list.response", None
        if path == "/responses/compact":
            return "responses.compact.response", None
        if path == "/responses/input_tokens":
            return "responses.input_tokens.count.response", InputTokenCountResponse
        if record.method == "DELETE":
            return None, None
        if record.content_type.startswith("text/event-stream"):
            return "responses.create.event", ResponseStreamEvent
        return "responses.create.response", Response
    if path.startswith("/conversations"):
        parts = path.strip("/").split("/")  # conversations, id, items, item id
        if len(parts) == 3:
            return "conversations.items.list.response", None
        if len(parts) == 4 and record.method == "GET":
            return "conversations.items.retrieve.response", None
        if len(parts) == 2 and record.method == "DELETE":
            return "conversations.delete.response", None
        return "conversations.create.response", None
    if path == "/models":
        return "models.list.response", None
    if path.startswith("/models/"):
        return ("models.delete.response", ModelDeleted) if record.method == "DELETE" else ("models.retrieve.response", Model)
    return None, None


def stored_chat_schema(record: Sent, path: str) -> tuple[str | None, Any]:
    """The stored-completion endpoints: GET /chat/completions (the list) and
    /chat/completions/{id}[/messages]; a stored completion is checked as create's answer."""
    from openai.pagination import SyncCursorPage
    from openai.types.chat import ChatCompletion, ChatCompletionDeleted

    if record.method == "DELETE":
        return "chat.completions.delete.response", ChatCompletionDeleted
    if path.endswith("/messages"):
        # The SDK types a stored message's role as "assistant"; the real list holds the
        # request's messages (`role: user`), so only the contract (which says so) checks it.
        return "chat.completions.messages.list.response", None
    if path.endswith("/chat/completions"):
        return "chat.completions.list.response", SyncCursorPage[ChatCompletion]
    return "chat.completions.create.response", ChatCompletion


def sdk_reads_leniently(value: dict) -> bool:
    """Real shapes the SDK's strict types reject but its stream parser takes as they come:
    a web search announced before it has an `action` (test_openai_responses_model_web_search_tool_stream),
    and an audio answer's chunks without `choices` (ChatTests/ChatWithBasicAudioOutput)."""
    if not isinstance(value, dict):
        return False
    if value.get("object") == "chat.completion.chunk" and "choices" not in value:
        return True
    item = value.get("item")
    return isinstance(item, dict) and item.get("type") == "web_search_call" and "action" not in item


def problems(records: list[Sent]) -> list[str]:
    found = []
    for record in records:
        name, sdk_type = schema_for(record)
        if name is None or not record.body or not record.content_type.startswith(("application/json", "text/event-stream")):
            continue
        if record.content_type.startswith("text/event-stream"):
            values = [json.loads(frame.split("data: ", 1)[1]) for frame in record.body.decode().split("\n\n")
                      if "data: " in frame and not frame.endswith("data: [DONE]")]
        else:
            values = [json.loads(record.body)]
        for value in values:
            if name == "chat.completions.create.chunk" and "error" in value:
                continue  # an error event mid-stream has no chunk shape
            for problem in contracts().problems(name, value):
                found.append(f"{record.method} {record.path} -> {record.status}: {name}: {problem}")
            if sdk_type is not None and not sdk_reads_leniently(value):
                try:
                    validate = getattr(sdk_type, "model_validate", None)
                    if validate is None:  # a union: the SDK's TypeAdapter
                        from pydantic import TypeAdapter

                        validate = TypeAdapter(sdk_type).validate_python
                    validate(value)
                except Exception as exc:  # noqa: BLE001 - reported as a test failure
                    found.append(f"{record.method} {record.path}: the SDK's {getattr(sdk_type, '__name__', 'type')} rejects it: {exc}")
    return found

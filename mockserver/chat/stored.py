"""Stored chat completions: `store: true` on create keeps the completion; these endpoints
list, retrieve, update (metadata), delete it and list the request's messages.

A stored completion is one record (`kind` "chat.completion"): the object as these
endpoints answer it (its own key order, not create's: ChatStoreTests/*.json), the model
the request named, and the request's messages as the messages list gives them. Answers
are compact JSON, as recorded; a missing id is a 404 naming `completion_id` (pretty, no
trailing period, no final newline). As recorded, a list is newest first unless asked
otherwise (the spec says `asc`). The real API answered 404 for a second or so after
create (eventual consistency); the fake serves a completion at once.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import orjson

from .. import errors
from . import wire as chat_wire
from ..fixtures import Frame
from ..ids import rng_for
from ..routing import Operation
from ..state import page, record_shape
from ..synth.text import paragraph, sentence
from ..wire import Exchange, Reply, StreamReply
from ..api.common import LENIENT_MODEL, delete_stored, list_query, requested_model, text_of

# A stored completion, as far as these endpoints read it (state/store.py, `record_shape`):
# the completion (its id listed, its metadata filtered on), the model, the messages (listed by id).
KIND = record_shape("chat.completion", {
    "type": "object",
    "required": ["completion", "model", "messages"],
    "properties": {
        "completion": {"type": "object", "required": ["id"],
                       "properties": {"metadata": {"type": ["object", "null"]},
                                      "choices": {"type": "array", "items": {"type": "object"}}}},
        "messages": {"type": "array", "items": {"type": "object", "required": ["id"]}},
    },
})


def not_found(completion_id: str) -> errors.OpenAIError:
    return errors.OpenAIError(404, f"Completion {completion_id} not found", param="completion_id", code="not_found")


# --- keeping what create answered ------------------------------------------------------


def remember(ex: Exchange, reply: Reply | StreamReply) -> None:
    """Keep a successful create's answer (`store: true`): a body as sent, a stream folded
    back into the completion its chunks carried."""
    if reply.status >= 400:
        return
    if isinstance(reply, StreamReply):
        if not isinstance(reply.frames, list):
            return
        answer = chat_wire.body(chat_wire.from_frames(_chunk_frames(reply.frames)))
    else:
        try:
            answer = orjson.loads(reply.body)
        except orjson.JSONDecodeError:
            return
    if not isinstance(answer, dict) or not answer.get("id") or not isinstance(answer.get("choices"), list):
        return
    usage = answer.get("usage")
    if not isinstance(usage, dict):  # a stream sent without `include_usage`; the stored completion has it
        usage = _estimated_usage(ex, answer)
    completion = stored(answer, usage, ex.body, ex.request_id)
    ex.runtime.store.put(KIND, completion["id"], {
        "completion": completion,
        "model": ex.body.get("model"),
        "messages": messages_of(completion["id"], ex.body.get("messages") or []),
    })


def _chunk_frames(frames: list[bytes]) -> list[Frame]:
    """The completion chunks of an SSE answer (not Azure's prelude, not `[DONE]`)."""
    out = []
    for frame in frames:
        for line in frame.split(b"\n"):
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data.startswith(b"{") and b'"chat.completion.chunk"' in data:
                out.append(Frame(data))
    return out


def stored(answer: dict, usage: dict, body: dict, request_id: bytes) -> dict:
    """The stored form of a create answer (and the request's settings), in the recorded key order."""
    choices = []
    for index, choice in enumerate(answer["choices"]):
        choice = choice if isinstance(choice, dict) else {}  # a fixture's body may be anything
        message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
        choices.append({
            "index": choice.get("index", index),
            "message": {
                "content": message.get("content"),
                "role": message.get("role") or "assistant",
                "tool_calls": message.get("tool_calls") or None,
                "function_call": message.get("function_call"),
            },
            "finish_reason": choice.get("finish_reason") or "stop",
            "logprobs": choice.get("logprobs"),
        })
    seed = body.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool):
        seed = rng_for(request_id, "stored seed").getrandbits(64) - 2**63  # recorded: a signed 64-bit draw
    return {
        "object": "chat.completion",
        "id": answer["id"],
        "model": answer.get("model") or body.get("model"),
        "created": answer.get("created") or int(time.time()),
        "request_id": request_id.decode(),
        "tool_choice": body.get("tool_choice"),
        "usage": {
            "total_tokens": usage.get("total_tokens", 0),
            "completion_tokens": usage.get("completion_tokens", 0),
            "prompt_tokens": usage.get("prompt_tokens", 0),
        },
        "seed": seed,
        "top_p": _number(body.get("top_p"), 1.0),
        "temperature": _number(body.get("temperature"), 1.0),
        "presence_penalty": _number(body.get("presence_penalty"), 0.0),
        "frequency_penalty": _number(body.get("frequency_penalty"), 0.0),
        "system_fingerprint": answer.get("system_fingerprint"),
        "input_user": body.get("user"),
        "service_tier": answer.get("service_tier") or "default",
        "tools": body.get("tools") or None,
        "metadata": body.get("metadata") or {},
        "choices": choices,
        "response_format": body.get("response_format"),
    }


def _number(value: Any, default: float) -> float:
    """Sampling parameters are stored as decimals (`1.0`, `0.0`), sent or not."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return default


def _estimated_usage(ex: Exchange, answer: dict) -> dict:
    """What the plain answer would have counted: the prompt, and the text and tool calls sent."""
    tokenizer = ex.runtime.tokenizer
    encoding = requested_model(ex, ex.body["model"], "chat").encoding
    prompt = len(tokenizer.chat_prompt_for(ex.raw_body, ex.body, encoding))
    completion = 0
    for choice in answer["choices"]:
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict):
            continue
        completion += tokenizer.count(text_of(message.get("content")), encoding)
        for call in message.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, dict) else None
            if not isinstance(function, dict):
                continue
            completion += tokenizer.count(str(function.get("name") or "") + str(function.get("arguments") or ""), encoding)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def messages_of(completion_id: str, messages: list) -> list[dict]:
    """The request's messages as the messages list gives them: `<completion id>-<index>`,
    text content as a string; a content array as its text joined and the parts themselves."""
    out = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        parts = None
        if isinstance(content, list):
            parts = content
            content = text_of(content)
        item: dict[str, Any] = {
            "id": f"{completion_id}-{index}",
            "role": message.get("role"),
            "content": content,
            "content_parts": parts,
            "name": message.get("name"),
        }
        if message.get("tool_calls"):  # not recorded: kept so an assistant turn reads back whole
            item["tool_calls"] = message["tool_calls"]
        out.append(item)
    return out


# --- the endpoints -------------------------------------------------------------------------


def load(ex: Exchange, completion_id: str) -> dict:
    record = ex.runtime.store.get(KIND, completion_id)
    if record is None:
        if not ex.runtime.config.lenient:
            raise not_found(completion_id)
        # `--lenient`: an id the fake never issued reads as a stored completion, kept from now on.
        record = synthesized(ex, completion_id)
        ex.runtime.store.put(KIND, completion_id, record)
    return record


def synthesized(ex: Exchange, completion_id: str) -> dict:
    runtime = ex.runtime
    rng = rng_for(completion_id, runtime.config.seed, "stored completion")
    question, answer_text = sentence(rng), paragraph(rng)
    prompt = runtime.tokenizer.count(question) + 7  # the chat template around one user message
    completion = runtime.tokenizer.count(answer_text)
    answer = {
        "id": completion_id,
        "model": runtime.catalog.snapshot(LENIENT_MODEL),
        "created": int(time.time()),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer_text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        "service_tier": "default",
        "system_fingerprint": runtime.system_fingerprint,
    }
    request = {"model": LENIENT_MODEL, "messages": [{"role": "user", "content": question}]}
    return {
        "completion": stored(answer, answer["usage"], request, ex.request_id),
        "model": request["model"],
        "messages": messages_of(completion_id, request["messages"]),
    }


async def list_completions(ex: Exchange) -> Reply:
    query = ex.query
    cursor = list_query(ex, default_order="desc")  # as recorded; the spec says asc
    model = query.get("model")
    if model is not None and not isinstance(model, str):
        raise errors.invalid_type("model", "a string", model)
    wanted = query.get("metadata")
    if wanted is not None and not isinstance(wanted, dict):
        raise errors.invalid_type("metadata", "an object", wanted)
    items = []
    for record in ex.runtime.store.values(KIND):
        completion = record["completion"]
        if model is not None and model not in (record.get("model"), completion.get("model")):
            continue
        if wanted and any((completion.get("metadata") or {}).get(k) != v for k, v in wanted.items()):
            continue
        items.append(completion)
    return Reply.json(page(items, after=cursor["after"], before=None, limit=cursor["limit"], order=cursor["order"]))


async def retrieve(ex: Exchange) -> Reply:
    return Reply.json(load(ex, ex.path_params["completion_id"])["completion"])


async def update(ex: Exchange) -> Reply:
    """The metadata is replaced, not merged (as recorded)."""
    completion_id = ex.path_params["completion_id"]
    metadata = ex.body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):  # the contract says so first; never a 500
        raise errors.invalid_type("metadata", "an object", metadata)
    record = load(ex, completion_id)
    record["completion"]["metadata"] = metadata or {}
    ex.runtime.store.put(KIND, completion_id, record)
    return Reply.json(record["completion"])


async def delete(ex: Exchange) -> Reply:
    completion_id = ex.path_params["completion_id"]
    delete_stored(ex, KIND, completion_id, not_found)
    return Reply.json({"object": "chat.completion.deleted", "id": completion_id, "deleted": True})


async def list_messages(ex: Exchange) -> Reply:
    cursor = list_query(ex, default_order="asc")
    record = load(ex, ex.path_params["completion_id"])
    return Reply.json(page(record["messages"], after=cursor["after"], before=None, limit=cursor["limit"],
                           order=cursor["order"]))


OPERATIONS = [
    Operation("chat.completions.list", "GET", "/chat/completions", list_completions),
    Operation("chat.completions.retrieve", "GET", "/chat/completions/{completion_id}", retrieve),
    Operation("chat.completions.update", "POST", "/chat/completions/{completion_id}", update,
              request_schema="chat.completions.update.request"),
    Operation("chat.completions.delete", "DELETE", "/chat/completions/{completion_id}", delete),
    Operation("chat.completions.messages.list", "GET", "/chat/completions/{completion_id}/messages", list_messages),
]
# Their error bodies end without a newline (a recorded 404 is 189 bytes: `json.dumps(indent=2)`).
OPERATIONS = [dataclasses.replace(op, error_newline=False) for op in OPERATIONS]

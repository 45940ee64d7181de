"""The Responses API wire format: the response object, its output items, and its typed
stream, in the key order and with the ids the real API sends (recordings, 2025-09 to
2026-06):

    {"id","object","created_at","status","background","billing","completed_at",
     ["conversation"],"error","frequency_penalty","incomplete_details","instructions",
     "max_output_tokens","max_tool_calls","model","moderation","output",
     "parallel_tool_calls","presence_penalty","previous_response_id","prompt_cache_key",
     "prompt_cache_retention","reasoning","safety_identifier","service_tier","store",
     "temperature","text","tool_choice","tools","top_logprobs","top_p","truncation",
     "usage","user","metadata"}

A stream is derived from the finished response, so a streamed and a plain answer to
the same request always agree: response.created, response.in_progress, then per output
item its added/delta/done events, then response.completed (or .incomplete). Every
event has an `event:` line, `type` first and its other keys sorted (as sent since
2026), and a strictly increasing `sequence_number`; there is no `[DONE]`.
"""

from __future__ import annotations

import random
from typing import Any, Callable, Iterable

import orjson

from ..streaming import frame, padding


def response_id(rng: random.Random, created_at: int, *, shard: str | None = None, stored: bool = True,
                prefix: str = "resp") -> str:
    """`resp_` + 50 hex: a 16-hex shard (shared by every item of the response and every
    response chained to it), a flag (`01` when not stored), the creation time, 24 random."""
    shard = shard or f"{rng.getrandbits(64):016x}"
    return f"{prefix}_{shard}{'00' if stored else '01'}{created_at & 0xFFFFFFFF:08x}{rng.getrandbits(96):024x}"


def shard_of(object_id: str) -> str:
    return object_id.split("_", 1)[1][:16]


def item_id(kind: str, response_id: str, rng: random.Random) -> str:
    """An item's id: the response's shard, flag and time, then 24 hex of its own."""
    return f"{kind}_{response_id.split('_', 1)[1][:26]}{rng.getrandbits(96):024x}"


def message_item(id: str, text: str, status: str = "completed", annotations: list | None = None,
                 logprobs: list | None = None, phase: str | None = None) -> dict:
    """An assistant message; `phase` ("final_answer", or "commentary" before a tool call) as
    gpt-5.5 and later write it, between `content` and `role` (recorded 2026-06 to 2026-08)."""
    part = {"type": "output_text", "annotations": annotations or [], "logprobs": logprobs or [], "text": text}
    item = {"id": id, "type": "message", "status": status, "content": [part]}
    if phase is not None:
        item["phase"] = phase
    item["role"] = "assistant"
    return item


def refusal_item(id: str, refusal: str, phase: str | None = None) -> dict:
    item = {"id": id, "type": "message", "status": "completed", "content": [{"type": "refusal", "refusal": refusal}]}
    if phase is not None:
        item["phase"] = phase
    item["role"] = "assistant"
    return item


def function_call_item(id: str, call_id: str, name: str, arguments: str, status: str = "completed") -> dict:
    return {"id": id, "type": "function_call", "status": status, "arguments": arguments, "call_id": call_id, "name": name}


def reasoning_item(id: str, summary: list[str], encrypted_content: str | None = None, content: bool = False) -> dict:
    """`content: []` as gpt-5.5 and later send it (recorded 2026-07, 2026-08), then the sealed
    reasoning when there is one, then the summary."""
    item: dict[str, Any] = {"id": id, "type": "reasoning"}
    if content:
        item["content"] = []
    if encrypted_content is not None:  # asked for with include: ["reasoning.encrypted_content"]
        item["encrypted_content"] = encrypted_content
    item["summary"] = [{"type": "summary_text", "text": text} for text in summary]
    return item


def usage(input_tokens: int, output_tokens: int, *, cached: int = 0, reasoning: int = 0) -> dict:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cache_write_tokens": 0, "cached_tokens": cached},  # both since 2026-07
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input_tokens + output_tokens,
    }


# --- the stream -----------------------------------------------------------------------


class _Events:
    """Frames in order, each numbered: `type` first, other keys sorted."""

    def __init__(self, obfuscation: random.Random | None) -> None:
        self.frames: list[bytes] = []
        self.obfuscation = obfuscation

    def add(self, type: str, **fields: Any) -> None:
        fields["sequence_number"] = len(self.frames)
        payload = {"type": type, **dict(sorted(fields.items()))}
        self.frames.append(frame(orjson.dumps(payload), type))

    def deltas(self, type: str, pieces: Iterable[str], per_piece: list | None = None, **fields: Any) -> None:
        """One delta event per piece. The bulk of a stream, so each is spliced from a
        template of the item's constant fields rather than built and serialised whole
        (the same bytes `add` would write). `per_piece`: each delta's `logprobs`, its
        token's entry (a text delta when `include` asks for logprobs, as recorded)."""
        variable = {"delta", "sequence_number"} | ({"obfuscation"} if self.obfuscation is not None else set())
        if per_piece is not None:
            variable.add("logprobs")
            fields.pop("logprobs", None)
        template: list[bytes] = [b"event: " + type.encode() + b'\ndata: {"type":' + orjson.dumps(type)]
        slots: dict[str, int] = {}
        for key in sorted([*fields, *variable]):
            name = b',"' + key.encode() + b'":'
            if key in variable:
                template.append(name)
                slots[key] = len(template)
                template.append(b"")
            else:
                template.append(name + orjson.dumps(fields[key]))
        template.append(b"}\n\n")
        delta_at, number_at, padding_at = slots["delta"], slots["sequence_number"], slots.get("obfuscation")
        logprobs_at = slots.get("logprobs")
        frames = self.frames
        for index, piece in enumerate(pieces):
            parts = template.copy()
            parts[delta_at] = orjson.dumps(piece)
            if logprobs_at is not None:  # each delta carries its own token's entry
                parts[logprobs_at] = orjson.dumps(per_piece[index:index + 1])
            parts[number_at] = str(len(frames)).encode()
            if padding_at is not None:  # delta and padding together: a multiple of 16 characters
                parts[padding_at] = b'"' + padding(self.obfuscation, -len(piece) % 16) + b'"'
            frames.append(b"".join(parts))


def stream_frames(
    response: dict,
    split: Callable[[str], Iterable[str]],
    *,
    obfuscation: random.Random | None = None,
    start: dict | None = None,
) -> list[bytes]:
    """The typed events of `response` (finished). `start` is the response as first
    announced (status in_progress or queued, no output, no usage)."""
    events = _Events(obfuscation)
    opening = start if start is not None else opening_state(response)
    events.add("response.created", response=opening)
    if opening["status"] == "queued":
        events.add("response.queued", response=opening)
    events.add("response.in_progress", response={**opening, "status": "in_progress"})
    for index, item in enumerate(response["output"]):
        _item_events(events, index, item, split)
    final = {"completed": "response.completed", "incomplete": "response.incomplete", "failed": "response.failed",
             "cancelled": "response.cancelled"}.get(response["status"], "response.completed")
    events.add(final, response=without_billing(response))
    return events.frames


def refused_stream(opening: dict, error: dict) -> list[bytes]:
    """A stream the real API refuses after it started: `response.created`, `.in_progress`,
    then the `error` event (as public reports of context_length_exceeded show it, at
    sequence number 2), and nothing more."""
    events = _Events(None)
    events.add("response.created", response=opening)
    events.add("response.in_progress", response={**opening, "status": "in_progress"})
    events.add("error", code=error.get("code"), message=error["message"], param=error.get("param"))
    return events.frames


def without_billing(response: dict) -> dict:
    """Streams never carry `billing`, nor do responses not yet finished."""
    return {k: v for k, v in response.items() if k != "billing"}


def opening_state(response: dict, status: str = "in_progress") -> dict:
    """The response as announced before any output: no output, usage or completion time."""
    out = without_billing(response)
    out.update(status=status, output=[], usage=None, incomplete_details=None, error=None)
    if "content_filters" in out:  # Azure's: nothing checked yet
        out["content_filters"] = []
    if "completed_at" in out:
        out["completed_at"] = None
    return out


def _item_events(events: _Events, index: int, item: dict, split: Callable[[str], Iterable[str]]) -> None:
    kind = item["type"]
    item_id_ = item["id"]
    if kind == "message":
        events.add("response.output_item.added", item={**item, "status": "in_progress", "content": []}, output_index=index)
        for part_index, part in enumerate(item["content"]):
            where = {"item_id": item_id_, "output_index": index, "content_index": part_index}
            if part["type"] == "output_text":
                events.add("response.content_part.added", part={**part, "text": "", "annotations": [], "logprobs": []}, **where)
                logprobs = part.get("logprobs") or []
                tokens = [entry.get("token") for entry in logprobs]
                if logprobs and all(isinstance(t, str) for t in tokens) and "".join(tokens) == part["text"]:
                    # With `include: ["message.output_text.logprobs"]` each delta is one token
                    # and carries its entry (test_openai_instructions_with_responses_logprobs_streaming).
                    events.deltas("response.output_text.delta", tokens, per_piece=logprobs, **where)
                else:
                    events.deltas("response.output_text.delta", split(part["text"]), logprobs=[], **where)
                for annotation_index, annotation in enumerate(part.get("annotations") or []):
                    events.add("response.output_text.annotation.added", annotation=annotation,
                               annotation_index=annotation_index, **where)
                events.add("response.output_text.done", text=part["text"], logprobs=logprobs, **where)
                # The part as done carries no logprobs (they were in the deltas and `.done`), as recorded.
                events.add("response.content_part.done", part={**part, "logprobs": []}, **where)
                continue
            elif part["type"] == "refusal":
                events.add("response.content_part.added", part={**part, "refusal": ""}, **where)
                for piece in split(part["refusal"]):
                    events.add("response.refusal.delta", delta=piece, **where)
                events.add("response.refusal.done", refusal=part["refusal"], **where)
            events.add("response.content_part.done", part=part, **where)
    elif kind == "function_call":
        events.add("response.output_item.added", item={**item, "status": "in_progress", "arguments": ""}, output_index=index)
        where = {"item_id": item_id_, "output_index": index}
        events.deltas("response.function_call_arguments.delta", split(item["arguments"]), **where)
        events.add("response.function_call_arguments.done", arguments=item["arguments"], **where)
    elif kind == "mcp_list_tools":  # announced with no tools, listed, then done with them (recorded)
        events.add("response.output_item.added", item={**item, "tools": []}, output_index=index)
        where = {"item_id": item_id_, "output_index": index}
        events.add("response.mcp_list_tools.in_progress", **where)
        events.add("response.mcp_list_tools.completed", **where)
    elif kind == "mcp_call":  # the arguments in one delta, as both recorded streams send them
        announced = {**item, "arguments": "", "output": None}
        if "status" in item:
            announced["status"] = "in_progress"
        events.add("response.output_item.added", item=announced, output_index=index)
        where = {"item_id": item_id_, "output_index": index}
        events.add("response.mcp_call.in_progress", **where)
        events.deltas("response.mcp_call_arguments.delta", [item["arguments"]], **where)
        events.add("response.mcp_call_arguments.done", arguments=item["arguments"], **where)
        events.add("response.mcp_call.failed" if item.get("error") else "response.mcp_call.completed", **where)
    elif kind == "reasoning":
        events.add("response.output_item.added", item={**item, "summary": []}, output_index=index)
        for summary_index, part in enumerate(item.get("summary") or []):
            where = {"item_id": item_id_, "output_index": index, "summary_index": summary_index}
            events.add("response.reasoning_summary_part.added", part={**part, "text": ""}, **where)
            events.deltas("response.reasoning_summary_text.delta", split(part["text"]), **where)
            events.add("response.reasoning_summary_text.done", text=part["text"], **where)
            events.add("response.reasoning_summary_part.done", part=part, **where)
    else:  # built-in tool calls: announced in progress, its stages, then done
        events.add("response.output_item.added", item=_in_progress(item), output_index=index)
        where = {"item_id": item_id_, "output_index": index}
        for stage in _TOOL_STAGES.get(kind, ()):
            if stage == "code":  # the code is streamed before it runs
                events.deltas("response.code_interpreter_call_code.delta", split(item.get("code") or ""), **where)
                events.add("response.code_interpreter_call_code.done", code=item.get("code") or "", **where)
            else:
                events.add(f"response.{kind}.{stage}", **where)
    events.add("response.output_item.done", item=item, output_index=index)


_TOOL_STAGES = {
    "web_search_call": ("in_progress", "searching", "completed"),
    "file_search_call": ("in_progress", "searching", "completed"),
    "code_interpreter_call": ("in_progress", "code", "interpreting", "completed"),
    "image_generation_call": ("in_progress", "generating", "completed"),
}


def _in_progress(item: dict) -> dict:
    """A built-in call as announced: running, with nothing found or made yet. A web search
    is announced with the kind of its action (`{"type": "search"}`, recorded since 2026-03:
    WebSearchCallStreaming); an approval request, which does not run, as it is."""
    if item["type"] == "mcp_approval_request":
        return item
    out = {k: v for k, v in item.items() if k not in ("action", "result")}
    out["status"] = "in_progress"
    if item["type"] == "web_search_call" and isinstance(item.get("action"), dict):
        out["action"] = {"type": item["action"].get("type", "search")}
    if item["type"] == "code_interpreter_call":
        out.update(code="", outputs=None)
    if item["type"] == "file_search_call":
        out["results"] = None
    return out

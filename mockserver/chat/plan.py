"""What a chat completion says: a fixture's text or tool calls, or a seeded synthesized
turn, cut to the token budget and the stop sequences, with usage from the tokenizer."""

from __future__ import annotations

import base64
import dataclasses
from math import floor
from typing import Any

import orjson

from . import audio, moderation
from . import wire as chat_wire
from ..catalog import ModelSpec
from .wire import Choice, Completion
from ..fixtures import FixtureResponse
from ..ids import rng_for, token
from ..synth.answer import Answer, Ask, Tool, ToolCall, answer, reasoning_tokens
from ..synth.budget import MAX_TOKENS, tokens_per_choice
from ..prompt_cache import BLOCK, MINIMUM
from ..synth.text import _WORDS as WORDS
from ..tokens import media_tokens
from ..wire import Exchange
from ..matching import last_user_text
from ..api.common import now, request_rng_seed, text_of


# The real API's maxima (contracts/overlays), which bound the work even under `--lenient`.
MAX_CHOICES = 128
MAX_TOP_LOGPROBS = 20


def synthesize(ex: Exchange, spec: ModelSpec, prompt: list[int], fixture: FixtureResponse | None) -> Completion:
    """A complete completion: the fixture's text or tool calls, or a seeded synthesized turn,
    cut to the token budget and stop sequences, with usage from the tokenizer."""
    runtime = ex.runtime
    body = ex.body
    key = ("choices", ex.raw_body, ex.path_params.get("deployment"), id(fixture))
    choices, completion_tokens, reasoning_total = runtime.memo.get(key, lambda: plan_choices(ex, spec, fixture), plan_weight)
    created = now()
    completion_id = runtime.ids.make("chatcmpl-", 29)
    trailers: list[bytes] = []
    audio_out = 0
    fmt = spoken_format(body, spec)
    if fmt is not None:  # the answer is spoken: its text becomes the audio's transcript
        choices, audio_out = speak(choices, fmt, bool(body.get("stream")), created, rng_for(completion_id, "audio"))
        trailers += [chat_wire.spoken_trailer(i, created + audio.EXPIRES_AFTER) for i in range(len(choices))]
    if fixture is not None and fixture.usage is not None:
        usage = fixture.usage
    else:
        tokenizer = runtime.tokenizer
        cached = runtime.prompt_cache.use(f"{spec.id}|{body.get('prompt_cache_key') or ''}", prompt)
        prediction = (body.get("prediction") or {}).get("content")
        rejected = tokenizer.count(text_of(prediction), spec.encoding) if prediction else 0
        usage = chat_wire.usage(
            len(prompt), completion_tokens + rejected + audio_out, cached=cached, reasoning=reasoning_total,
            rejected=rejected, audio_out=audio_out, cache_write=cache_written(body, prompt, cached),
            media=media_tokens(body["messages"]) if spec.audio else None,
        )
    extra = {}
    if body.get("moderation") is not None:
        results = moderation.results(body, choices)
        extra["moderation"] = results
        trailers.append(b'],"moderation":' + orjson.dumps(results))
    tier = body.get("service_tier")
    return Completion(
        id=completion_id,
        created=created,
        model=runtime.catalog.snapshot(spec.id),
        choices=choices,
        usage=usage,
        service_tier=None if not spec.service_tier_field else "default" if tier in (None, "auto") else tier,
        system_fingerprint={"fp": runtime.system_fingerprint, None: None, "": ""}[spec.fingerprint],
        extra=extra,
        memoizable=fmt is None,  # a spoken answer's chunks carry its own audio id
        logprobs_field=spec.logprobs_field or bool(body.get("logprobs")),
        trailers=trailers,
    )


def spoken_format(body: dict, spec: ModelSpec) -> str | None:
    """The audio format when the answer is to be spoken (an audio model asked for audio)."""
    if not spec.audio or "audio" not in (body.get("modalities") or []):
        return None
    return str((body.get("audio") or {}).get("format") or "pcm16")


def speak(choices: list[Choice], fmt: str, stream: bool, created: int, rng) -> tuple[list[Choice], int]:
    """Each choice's text as its transcript, spoken; `content` becomes null. A stream carries
    pcm16 whatever the format asked (the real API streams nothing else). Returns the choices
    (copies: the planned ones are remembered) and the audio tokens they cost."""
    spoken, tokens = [], 0
    for choice in choices:
        transcript = choice.content or ""
        raw = audio.encoded(transcript, "pcm16" if stream else fmt)
        pieces = [base64.b64encode(raw[i:i + audio.STREAM_PIECE]).decode() for i in range(0, len(raw), audio.STREAM_PIECE)]
        spoken.append(dataclasses.replace(choice, content=None, audio={
            "id": audio.audio_id(rng), "data": base64.b64encode(raw).decode() if not stream else "",
            "expires_at": created + audio.EXPIRES_AFTER, "transcript": transcript, "pieces": pieces,
        }))
        tokens += audio.output_tokens(transcript)
    return spoken, tokens


def cache_written(body: dict, prompt: list[int], cached: int) -> int | None:
    """With `prompt_cache_options`, the tokens this prompt wrote to the cache (as recorded
    for gpt-5.6 with an explicit cache): its cacheable prefix, less what was already there."""
    if body.get("prompt_cache_options") is None:
        return None
    cacheable = 0 if len(prompt) < MINIMUM else MINIMUM + (len(prompt) - MINIMUM) // BLOCK * BLOCK
    return max(0, cacheable - cached)


def plan_choices(ex: Exchange, spec: ModelSpec, fixture: FixtureResponse | None) -> tuple[list[Choice], int, int]:
    """The choices a request gets, and the completion and reasoning tokens they cost.
    Depends only on the request (and the fixture step), so it is computed once per body."""
    body = ex.body
    tokenizer = ex.runtime.tokenizer
    seed = request_rng_seed(ex)
    ask = ask_from(body)
    effort = body.get("reasoning_effort") or spec.default_effort if spec.reasoning else None
    budget = body.get("max_completion_tokens") or body.get("max_tokens")
    budget = int(budget) if isinstance(budget, (int, float)) and not isinstance(budget, bool) else None
    # A synthesized answer holds no more than the budget, or the model's output limit, and
    # at most MAX_TOKENS: a schema demanding more ends as the real model ends, cut, with
    # "length", and JSON for it is synthesized no further. A fixture's answer is cut to the
    # budget only, as it always was. MAX_TOKENS bounds the whole request: `n` choices share
    # it, each document cut at its share (with "length"); reasoning tokens are not written,
    # and count against the budget only.
    synthesized = min(budget or spec.max_output or MAX_TOKENS, MAX_TOKENS)
    count_of_choices = min(body.get("n") or 1, MAX_CHOICES)
    share = tokens_per_choice(count_of_choices)
    ask.max_tokens = min(synthesized, share)
    stops = body.get("stop")
    stops = [stops] if isinstance(stops, str) else list(stops or [])
    top_logprobs = body.get("top_logprobs") or 0
    choices: list[Choice] = []
    completion_tokens = reasoning_total = 0
    # The draw for reasoning ignores the effort itself, so more effort means more tokens.
    effort_draw = rng_for(request_rng_seed(ex, ignore=("reasoning_effort",)), "reasoning")
    # `--lenient` lets any `n` through the contract; the work stays bounded by the real maximum.
    for index in range(count_of_choices):
        rng = rng_for(seed, index)
        turn = answer_from_fixture(fixture) if fixture is not None else answer(ask, rng)
        reasoning = reasoning_tokens(effort, effort_draw.random()) if spec.reasoning else 0
        choice = Choice(refusal=turn.refusal, finish_reason="stop")
        text = turn.text
        citations: list[dict] = []
        if spec.web_search and fixture is None and text:  # a search model cites the pages it read
            text, citations = cited(text, ask.user_text)
        truncated = turn.truncated or any(call.truncated for call in turn.tool_calls)
        limit = budget if fixture is not None else synthesized
        used = 0
        if turn.tool_calls:
            calls = [
                {"id": call.id or token(rng, "call_", 24), "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
                for call in turn.tool_calls
            ]
            if limit is not None and reasoning < limit:
                room = limit - reasoning if fixture is not None else min(limit - reasoning, share)
                calls, used, cut = cut_calls(tokenizer, spec.encoding, calls, room)
                truncated = truncated or cut
            else:
                used = sum(tokenizer.count(c["function"]["name"] + c["function"]["arguments"], spec.encoding) for c in calls)
            if body.get("functions") and not body.get("tools"):
                choice.function_call = calls[0]["function"]
                choice.finish_reason = "function_call"
            else:
                choice.tool_calls = calls
                # A forced function (`tool_choice` naming one) finishes with "stop", as recorded.
                forced = isinstance(body.get("tool_choice"), dict) and body["tool_choice"].get("type") != "allowed_tools"
                choice.finish_reason = "stop" if forced else "tool_calls"
            if truncated:
                choice.finish_reason = "length"
        if limit is not None and reasoning >= limit:
            # Reasoning used the whole budget: the real API answers "" with finish_reason "length".
            reasoning, text, used = limit, "", 0
            choice.tool_calls, choice.function_call, choice.finish_reason = [], None, "length"
        if text is not None:
            for stop in stops:
                at = text.find(stop) if stop else -1
                if at >= 0:
                    text = text[:at]
            if turn.truncated and choice.finish_reason != "length" and (not stops or text == turn.text):
                choice.finish_reason = "length"  # the document is unfinished, however few its tokens
            room = None if limit is None else limit - reasoning
            if fixture is None:  # a synthesized document holds its share at most
                room = min(room, share)
            count = tokenizer.count(text, spec.encoding)
            if (room is not None and count > room) or body.get("logprobs"):
                pieces = tokenizer.pieces(text, spec.encoding)
                if room is not None and count > room:
                    pieces = pieces[:room]
                    text = "".join(pieces)
                    choice.finish_reason = "length"
                count = len(pieces)
                if body.get("logprobs"):
                    choice.logprobs = token_logprobs(pieces, top_logprobs, rng_for(seed, index, "logprobs"))
            used += count
        if turn.refusal:
            used += tokenizer.count(turn.refusal, spec.encoding)
        if fixture is not None and fixture.finish_reason:
            choice.finish_reason = fixture.finish_reason
        choice.content = text
        if citations:  # those the (possibly cut) text still holds
            choice.annotations = [c for c in citations if text and c["url_citation"]["end_index"] <= len(text)]
        choices.append(choice)
        completion_tokens += used + reasoning
        reasoning_total += reasoning
    return choices, completion_tokens, reasoning_total


def cited(text: str, query: str) -> tuple[str, list[dict]]:
    """A search model's answer as recorded (ChatTests/WebSearchWorks): a sentence, then the
    page it came from as a markdown link, `([domain](url))`, which a `url_citation` spans
    exactly (indexes in characters); here after each of the first two sentences, the pages
    the Responses web search finds for the same query."""
    from ..responses.tools import pages  # the same pages for the same query, whichever API asks

    sentences = text.split(". ")
    out, annotations = "", []
    for index, part in enumerate(sentences):
        out += part + (". " if index < len(sentences) - 1 else "")
        if index < 2 and index < len(pages(query or text)):
            url, title = pages(query or text)[index]
            link = f"([{url.split('/')[2].removeprefix('www.')}]({url}))"
            out = out.rstrip(" ") + " "
            annotations.append({"type": "url_citation", "url_citation": {
                "end_index": len(out) + len(link), "start_index": len(out), "title": title, "url": url}})
            out += link + (" " if index < len(sentences) - 1 else "")
    return out, annotations


def plan_weight(planned: tuple[list[Choice], int, int]) -> int:
    """About the bytes a planned answer holds, for the memo: its texts, its calls, and for
    logprobs a dict and a float per token and per alternative (within 10% of tracemalloc's
    count for 128 choices with 20 alternatives)."""
    total = 200
    for choice in planned[0]:
        total += 600 + len(choice.content or "") + len(choice.refusal or "")
        for call in choice.tool_calls:
            fn = call.get("function") or {}
            total += 500 + len(fn.get("name") or "") + len(fn.get("arguments") or "")
        if choice.function_call is not None:
            total += 300 + len(choice.function_call.get("arguments") or "")
        if choice.logprobs:
            alternatives = len(choice.logprobs[0].get("top_logprobs") or ())
            total += len(choice.logprobs) * (LOGPROB_BYTES * (1 + alternatives) + 100)
    return total


LOGPROB_BYTES = 240  # one {"token", "logprob", "bytes"} dict and its float (measured: 220)


def cut_calls(tokenizer, encoding: str, calls: list[dict], room: int) -> tuple[list[dict], int, bool]:
    """Tool calls as a model writes them in `room` tokens: whole while they fit, then the
    arguments of the one that does not fit cut to what is left, and none after it.
    Returns the calls, the tokens they cost and whether they were cut."""
    used = 0
    for index, call in enumerate(calls):
        fn = call["function"]
        count = tokenizer.count(fn["name"] + fn["arguments"], encoding)
        if used + count > room:
            left = max(0, room - used - tokenizer.count(fn["name"], encoding))
            fn["arguments"] = first_tokens(tokenizer, fn["arguments"], left, encoding)
            used += min(max(0, room - used), tokenizer.count(fn["name"] + fn["arguments"], encoding))
            return calls[: index + 1], used, True
        used += count
    return calls, used, False


def first_tokens(tokenizer, text: str, count: int, encoding: str) -> str:
    """The first `count` tokens of `text` (a character cut short by the end is left out).
    Not remembered by the tokenizer: the text may be long and is seen once."""
    if count <= 0 or not text:
        return ""
    enc = tokenizer.encoder(encoding)
    tokens = enc.encode_ordinary(text)
    if len(tokens) <= count:
        return text
    return enc.decode_bytes(tokens[:count]).decode("utf-8", "ignore")


def answer_from_fixture(fixture: FixtureResponse) -> Answer:
    calls = [ToolCall(c["name"], c["arguments"], c.get("id")) for c in fixture.tool_calls or []]
    return Answer(text=fixture.content, refusal=fixture.refusal, tool_calls=calls)


def ask_from(body: dict) -> Ask:
    """The chat request, as the family-neutral question the synthesizer answers."""
    messages = body["messages"]
    tools: list[Tool] = []
    for tool in body.get("tools") or []:
        if tool.get("type") == "custom":
            custom = tool.get("custom") or {}
            tools.append(Tool(custom.get("name", ""), custom.get("description", ""), None, custom=True))
        else:
            fn = tool.get("function") or {}
            tools.append(Tool(fn.get("name", ""), fn.get("description", "") or "", fn.get("parameters")))
    for fn in body.get("functions") or []:
        tools.append(Tool(fn.get("name", ""), fn.get("description", "") or "", fn.get("parameters")))
    choice: Any = body.get("tool_choice", body.get("function_call"))
    if isinstance(choice, dict):
        if choice.get("type") == "allowed_tools":
            allowed = {(t.get("function") or {}).get("name") for t in (choice.get("allowed_tools") or {}).get("tools", [])}
            tools = [t for t in tools if t.name in allowed]
            choice = (choice.get("allowed_tools") or {}).get("mode", "auto")
        else:
            name = (choice.get("function") or choice.get("custom") or {}).get("name") or choice.get("name")
            choice = f"function:{name}"
    fmt = body.get("response_format") or {}
    output = fmt.get("type", "text")
    last = messages[-1] if messages else {}
    return Ask(
        tools=tools,
        tool_choice=choice or ("auto" if tools else "none"),
        parallel=body.get("parallel_tool_calls", True) is not False,
        output=output if output in ("json_object", "json_schema") else "text",
        schema=(fmt.get("json_schema") or {}).get("schema"),
        user_text=last_user_text(body) or "",
        after_tool_result=isinstance(last, dict) and last.get("role") in ("tool", "function"),
    )


def token_logprobs(pieces: list[str], top: int, rng) -> list[dict]:
    """Per-token log probabilities: the chosen token first, alternatives less likely
    (at most the real API's 20, whatever `--lenient` let through).

    The alternatives are `" " + words(rng, 1, 1)` with a logprob `uniform(0.5, 4)` below
    the one before, drawn here with the very calls `random` makes for those (randint(1, 1)
    draws bits until a 0, choices() a float), unrolled: 128 choices of 20 alternatives a
    token are some 150,000 draws. `bytes` are tuples (the same JSON)."""
    top = min(top, MAX_TOP_LOGPROBS)
    draw, bit, expovariate = rng.random, rng.getrandbits, rng.expovariate
    vocabulary = _ALTERNATIVES
    size = float(len(vocabulary))
    out = []
    for piece in pieces:
        logprob = -round(expovariate(3.0), 6)
        code = tuple(piece.encode())
        entry: dict[str, Any] = {"token": piece, "logprob": logprob, "bytes": code}
        alternatives = [{"token": piece, "logprob": logprob, "bytes": code}]
        for _ in range(max(0, top - 1)):
            while bit(1):  # words(): randint(1, 1)
                pass
            alt, alt_bytes = vocabulary[floor(draw() * size)]  # choices(_WORDS, k=1)
            logprob = round(logprob - (0.5 + 3.5 * draw()), 6)  # uniform(0.5, 4)
            alternatives.append({"token": alt, "logprob": logprob, "bytes": alt_bytes})
        entry["top_logprobs"] = alternatives[:top]
        out.append(entry)
    return out


# Each word an alternative may be: its token (after a space) and its bytes, one tuple
# shared by every entry that names the word (orjson writes a tuple as the list the wire
# has; a tuple of ints leaves the garbage collector's lists, so the entries' dicts of
# str, float and tuple are never tracked: 150,000 lists less to walk at each collection).
_ALTERNATIVES = [(" " + word, tuple((" " + word).encode())) for word in WORDS]

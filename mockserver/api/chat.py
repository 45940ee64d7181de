"""POST /v1/chat/completions: the model's rules, then a fixture or a synthesized answer.

The body has already passed the contract (types, ranges, unknown fields). Here come
the rules that depend on the model (`max_tokens` on a reasoning model, context
length, ...), then the answer: a fixture's recorded body or stream replayed as is,
a fixture's text or tool calls rendered, or a deterministic synthesized turn.
"""

from __future__ import annotations

from typing import Any

from .. import chat_wire, errors
from ..catalog import ModelSpec
from ..chat_wire import Choice, Completion
from ..errors import quoted_list
from ..fixtures import FixtureResponse
from ..ids import rng_for, token
from ..routing import Operation
from ..strict_schema import strict_problem
from ..synth.answer import Answer, Ask, Tool, answer, reasoning_tokens
from ..wire import Exchange, Reply, StreamReply
from ..streaming import frame
from .common import api_key, fixture_not_found, now, probe, request_rng_seed, requested_model, text_of

_SAMPLING_DEFAULTS = {"temperature": 1, "top_p": 1, "presence_penalty": 0, "frequency_penalty": 0}


async def create(ex: Exchange) -> Reply | StreamReply:
    runtime = ex.runtime
    body = ex.body
    spec = requested_model(ex, body["model"], "chat")
    if not runtime.config.lenient:
        check_model_rules(spec, body)
        check_request_rules(body)
    prompt = runtime.tokenizer.chat_prompt_for(ex.raw_body, body, spec.encoding)
    budget = body.get("max_completion_tokens") or body.get("max_tokens")
    if not runtime.config.lenient:
        check_lengths(spec, len(prompt), budget, body)
    headers = runtime.rate_limits.consume(api_key(ex), spec.id, len(prompt) + (budget or 0))
    if "deployment" in ex.path_params:
        headers.append((b"x-ms-deployment-name", ex.path_params["deployment"].encode()))

    query = probe(ex, body["model"], last_user_text(body["messages"]))
    hit = runtime.fixtures.find(query)
    if hit is None and runtime.config.strict_fixtures:
        raise fixture_not_found(ex, query)
    stream = bool(body.get("stream"))
    fixture = hit.response if hit else None
    if fixture is not None and not fixture.rendered:
        return replay(ex, fixture, stream, headers)

    completion = synthesize(ex, spec, prompt, fixture)
    if fixture is not None:
        headers = headers + fixture.headers
    if not stream:
        render = chat_wire.azure_body_bytes if ex.path_params.get("deployment") else chat_wire.body_bytes
        reply = Reply(render(completion), headers=headers)
        reply.delay = fixture.delay if fixture else 0.0
        reply.status = fixture.status if fixture else 200
        return reply
    return stream_reply(ex, spec, completion, fixture, headers)


# --- rules -----------------------------------------------------------------------------


def check_model_rules(spec: ModelSpec, body: dict) -> None:
    """What the real API refuses for this model, with its words and `param`."""
    if spec.family == "responses":
        raise errors.OpenAIError(
            404, "This model is only supported in v1/responses and not in v1/chat/completions.", param="model"
        )
    if spec.family != "chat":
        raise errors.not_a_chat_model(spec.id)
    effort = body.get("reasoning_effort")
    if not spec.reasoning:
        if effort is not None:
            raise errors.unrecognized_argument("reasoning_effort")
        if not spec.sampling:
            for name in ("temperature", "top_p", "presence_penalty", "frequency_penalty", "logprobs"):
                if body.get(name) is not None:
                    raise errors.unsupported_parameter(name)
    else:
        if body.get("max_tokens") is not None:
            raise errors.unsupported_parameter("max_tokens", "Use 'max_completion_tokens' instead.")
        if effort is not None and not spec.efforts:
            raise errors.unsupported_parameter("reasoning_effort")
        if effort is not None and effort not in spec.efforts:
            raise errors.unsupported_value(
                "reasoning_effort",
                f"'reasoning_effort' does not support '{effort}' with this model. Supported values are: "
                f"{quoted_list(spec.efforts)}.",
            )
        if not spec.accepts_sampling(effort or spec.default_effort):
            for name, default in _SAMPLING_DEFAULTS.items():
                value = body.get(name)
                if value is not None and value != default:
                    raise errors.unsupported_value(
                        name,
                        f"'{name}' does not support {errors.describe(value)} with this model. "
                        f"Only the default ({default}) value is supported.",
                    )
            for name in ("logprobs", "top_logprobs"):
                if body.get(name):
                    raise errors.unsupported_parameter(name)
        if not spec.system_role:
            for index, message in enumerate(body["messages"]):
                role = message.get("role")
                if role in ("system", "developer"):
                    param = f"messages[{index}].role"
                    raise errors.unsupported_value(param, f"'{param}' does not support '{role}' with this model.")
    if body.get("web_search_options") is not None and "search" not in spec.id:
        raise errors.invalid_request("Web search options not supported with this model.", param="web_search_options")
    verbosity = body.get("verbosity")
    if verbosity not in (None, "medium") and not spec.verbosity:
        raise errors.unsupported_value(
            "verbosity", f"'verbosity' does not support '{verbosity}' with this model. Supported values are: 'medium'."
        )
    if body.get("prompt_cache_retention") == "24h" and not spec.extended_cache:
        raise errors.unsupported_value(
            "prompt_cache_retention",
            "'prompt_cache_retention' does not support '24h' with this model. Supported values are: 'in_memory'.",
        )


def check_request_rules(body: dict) -> None:
    """Rules across fields that no schema carries."""
    if body.get("stream_options") is not None and not body.get("stream"):
        raise errors.invalid_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.", param="stream_options", code="invalid_value"
        )
    if body.get("top_logprobs") is not None and not body.get("logprobs"):
        raise errors.invalid_request(
            "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.",
            param="top_logprobs",
        )
    tools = body.get("tools")
    if not tools:
        for name in ("tool_choice", "parallel_tool_calls"):
            if body.get(name) is not None:
                raise errors.invalid_request(
                    f"Invalid value for '{name}': '{name}' is only allowed when 'tools' are specified.", param=name
                )
    else:
        names = [((t.get("function") or t.get("custom") or {}).get("name")) for t in tools]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise errors.invalid_request(
                    f"Invalid 'tools': duplicate function name '{name}'.", param="tools", code="invalid_value"
                )
        choice = body.get("tool_choice")
        if isinstance(choice, dict) and choice.get("type") in ("function", "custom"):
            wanted = (choice.get(choice["type"]) or {}).get("name")
            if wanted not in names:
                raise errors.invalid_request(
                    f"Invalid value for 'tool_choice': no function named '{wanted}' was specified in the 'tools' parameter.",
                    param="tool_choice",
                )
        for index, tool in enumerate(tools):
            fn = tool.get("function") or {}
            if tool.get("type") == "function" and fn.get("strict"):
                problem = strict_problem(fn.get("parameters", {}))
                if problem:
                    raise errors.invalid_request(
                        f"Invalid schema for function '{fn.get('name')}': {problem}",
                        param=f"tools[{index}].function.parameters",
                        code="invalid_function_parameters",
                    )
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema") or {}
        if spec.get("strict"):
            problem = strict_problem(spec.get("schema", {}))
            if problem:
                raise errors.invalid_request(
                    f"Invalid schema for response_format '{spec.get('name')}': {problem}",
                    param="response_format",
                    code="invalid_json_schema",
                )
    if fmt.get("type") == "json_object":
        if not any("json" in text_of(m.get("content")).lower() for m in body["messages"]):
            raise errors.invalid_request(
                "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
                param="messages",
            )


def check_lengths(spec: ModelSpec, prompt_tokens: int, budget: int | None, body: dict) -> None:
    if budget is not None and spec.max_output and budget > spec.max_output:
        name = "max_completion_tokens" if body.get("max_completion_tokens") else "max_tokens"
        raise errors.invalid_request(
            f"max_tokens is too large: {budget}. This model supports at most {spec.max_output} completion tokens, "
            f"whereas you provided {budget}.",
            param=name,
            code="invalid_value",
        )
    if prompt_tokens + (budget or 0) > spec.context_window:
        raise errors.context_length_exceeded(spec.context_window, prompt_tokens, budget or 0)


def last_user_text(messages: list) -> str | None:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return text_of(message.get("content"))
    return None


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
    if stream and fixture.frames is not None:
        frames = [frame(f.data, f.event) for f in fixture.frames]
        if fixture.done and not any(f.data.strip() == b"[DONE]" for f in fixture.frames):
            frames.append(frame(b"[DONE]"))
        delays = [f.delay for f in fixture.frames]
        delays[0] = delays[0] or fixture.first_chunk_delay
        paced = any(delays) or fixture.chunk_delay
        if fixture.chunk_delay:
            delays = [d or (fixture.chunk_delay if i else d) for i, d in enumerate(delays)]
        return StreamReply(frames, delays + [0.0] if paced else None, fixture.status, headers, delay=fixture.delay)
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
        return StreamReply([b"".join(frames)], headers=headers, delay=fixture.delay if fixture else 0.0)
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
    tails = ex.runtime.memo.get(key, events) if completion.memoizable else events()
    usage_padding = rng_for(seed, "usage obfuscation") if obfuscate else None
    frames = chat_wire.frames(completion, head, tails, include_usage=include_usage, obfuscation=usage_padding)
    delays = None
    if fixture is not None and (fixture.chunk_delay or fixture.first_chunk_delay):
        delays = [fixture.first_chunk_delay] + [fixture.chunk_delay] * (len(frames) - 2) + [0.0]
    elif len(frames) > 1:
        frames = [b"".join(frames)]  # unpaced: one write
    return StreamReply(frames, delays, headers=headers, delay=fixture.delay if fixture else 0.0)


def synthesize(ex: Exchange, spec: ModelSpec, prompt: list[int], fixture: FixtureResponse | None) -> Completion:
    """A complete completion: the fixture's text or tool calls, or a seeded synthesized turn,
    cut to the token budget and stop sequences, with usage from the tokenizer."""
    runtime = ex.runtime
    body = ex.body
    key = ("choices", ex.raw_body, ex.path_params.get("deployment"), id(fixture))
    choices, completion_tokens, reasoning_total = runtime.memo.get(key, lambda: plan_choices(ex, spec, fixture))
    if fixture is not None and fixture.usage is not None:
        usage = fixture.usage
    else:
        tokenizer = runtime.tokenizer
        cached = runtime.prompt_cache.use(f"{spec.id}|{body.get('prompt_cache_key') or ''}", prompt)
        prediction = (body.get("prediction") or {}).get("content")
        rejected = tokenizer.count(text_of(prediction), spec.encoding) if prediction else 0
        usage = chat_wire.usage(len(prompt), completion_tokens + rejected, cached=cached, reasoning=reasoning_total, rejected=rejected)
    tier = body.get("service_tier")
    return Completion(
        id=runtime.ids.make("chatcmpl-", 29),
        created=now(),
        model=runtime.catalog.snapshot(spec.id),
        choices=choices,
        usage=usage,
        service_tier=None if not spec.service_tier_field else "default" if tier in (None, "auto") else tier,
        system_fingerprint={"fp": runtime.system_fingerprint, None: None, "": ""}[spec.fingerprint],
        memoizable=True,
        logprobs_field=spec.logprobs_field or bool(body.get("logprobs")),
    )


def plan_choices(ex: Exchange, spec: ModelSpec, fixture: FixtureResponse | None) -> tuple[list[Choice], int, int]:
    """The choices a request gets, and the completion and reasoning tokens they cost.
    Depends only on the request (and the fixture step), so it is computed once per body."""
    body = ex.body
    tokenizer = ex.runtime.tokenizer
    seed = request_rng_seed(ex)
    ask = ask_from(body)
    effort = body.get("reasoning_effort") or spec.default_effort if spec.reasoning else None
    budget = body.get("max_completion_tokens") or body.get("max_tokens")
    stops = body.get("stop")
    stops = [stops] if isinstance(stops, str) else list(stops or [])
    top_logprobs = body.get("top_logprobs") or 0
    choices: list[Choice] = []
    completion_tokens = reasoning_total = 0
    # The draw for reasoning ignores the effort itself, so more effort means more tokens.
    effort_draw = rng_for(request_rng_seed(ex, ignore=("reasoning_effort",)), "reasoning")
    for index in range(body.get("n") or 1):
        rng = rng_for(seed, index)
        turn = answer_from_fixture(fixture) if fixture is not None else answer(ask, rng)
        reasoning = reasoning_tokens(effort, effort_draw.random()) if spec.reasoning else 0
        choice = Choice(refusal=turn.refusal, finish_reason="stop")
        text = turn.text
        if turn.tool_calls:
            calls = [
                {"id": call.id or token(rng, "call_", 24), "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
                for call in turn.tool_calls
            ]
            if body.get("functions") and not body.get("tools"):
                choice.function_call = calls[0]["function"]
                choice.finish_reason = "function_call"
            else:
                choice.tool_calls = calls
                # A forced function (`tool_choice` naming one) finishes with "stop", as recorded.
                forced = isinstance(body.get("tool_choice"), dict) and body["tool_choice"].get("type") != "allowed_tools"
                choice.finish_reason = "stop" if forced else "tool_calls"
            used = sum(tokenizer.count(c["function"]["name"] + c["function"]["arguments"], spec.encoding) for c in calls)
        else:
            used = 0
        if budget is not None and reasoning >= budget:
            # Reasoning used the whole budget: the real API answers "" with finish_reason "length".
            reasoning, text, used = budget, "", 0
            choice.tool_calls, choice.function_call, choice.finish_reason = [], None, "length"
        if text is not None:
            for stop in stops:
                at = text.find(stop) if stop else -1
                if at >= 0:
                    text = text[:at]
            room = None if budget is None else budget - reasoning
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
        choices.append(choice)
        completion_tokens += used + reasoning
        reasoning_total += reasoning
    return choices, completion_tokens, reasoning_total


def answer_from_fixture(fixture: FixtureResponse) -> Answer:
    from ..synth.answer import ToolCall

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
        user_text=last_user_text(messages) or "",
        after_tool_result=isinstance(last, dict) and last.get("role") in ("tool", "function"),
    )


def token_logprobs(pieces: list[str], top: int, rng) -> list[dict]:
    """Per-token log probabilities: the chosen token first, alternatives less likely."""
    from ..synth.text import words

    out = []
    for piece in pieces:
        logprob = -round(rng.expovariate(3.0), 6)
        entry: dict[str, Any] = {"token": piece, "logprob": logprob, "bytes": list(piece.encode())}
        alternatives = [{"token": piece, "logprob": logprob, "bytes": list(piece.encode())}]
        for _ in range(max(0, top - 1)):
            alt = " " + words(rng, 1, 1)
            alternatives.append({"token": alt, "logprob": round(alternatives[-1]["logprob"] - rng.uniform(0.5, 4), 6), "bytes": list(alt.encode())})
        entry["top_logprobs"] = alternatives[:top]
        out.append(entry)
    return out


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

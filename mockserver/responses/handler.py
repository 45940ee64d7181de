"""/v1/responses: create (plain or streamed), retrieve, delete, cancel, input items,
input token counts, all on the state store.

A stored response is one record (`kind` "response"): the response object as last
answered and the input items of its request (the chain before it included); those and
its output are the conversation a request naming it as `previous_response_id` continues.
"""

from __future__ import annotations

import dataclasses
import base64
import hashlib
import time
import zlib
from typing import Any

import orjson

from .. import errors
from . import wire as responses_wire
from ..catalog import ModelSpec
from ..ids import rng_for
from ..routing import Operation
from ..state import page, record_shape
from ..synth.budget import MAX_TOKENS
from ..tokens import off_loop, prompt_weight, text_size
from ..wire import Exchange, Reply, StreamReply, pretty_ascii
from . import conversations
from ..chat.plan import cut_calls, token_logprobs
from . import mcp
from . import plan
from . import rules
from . import tools as responses_tools
from ..api.common import (LENIENT_MODEL, api_key, delete_stored, fixture_not_found, list_query, probe, query_integer,
                     request_rng_seed, requested_model, text_of)

# A stored response, as far as these handlers read it (state/store.py, `record_shape`): its
# output and input items are objects; a background one also has its clock, its opening
# state and its events, and its response a status (cancel reads it).
KIND = record_shape("response", {
    "type": "object",
    "required": ["response", "input_items"],
    "properties": {
        "response": {"type": "object",
                     "properties": {"output": {"type": ["array", "null"], "items": conversations.ITEM_SHAPE}}},
        "input_items": {"type": "array", "items": conversations.ITEM_SHAPE},
        "clock": {"type": "object", "required": ["started", "cancelled", "finished"],
                  "properties": {"started": {"type": "number"}, "cancelled": {"type": "boolean"},
                                 "finished": {"type": "boolean"}}},
        "opening": {"type": "object", "required": ["status"]},
        "events": {"type": "array", "items": {"type": "string"}},
    },
    "dependentRequired": {"clock": ["opening", "events"], "events": ["clock"]},
    "dependentSchemas": {"clock": {"properties": {"response": {"required": ["status"]}}}},
})


def not_found(response_id: str) -> errors.OpenAIError:
    return errors.OpenAIError(404, f"Response with id '{response_id}' not found.")


def previous_not_found(response_id: str) -> errors.OpenAIError:
    return errors.OpenAIError(
        404, f"Previous response with id '{response_id}' not found.", param="previous_response_id",
        code="previous_response_not_found",
    )


async def create(ex: Exchange) -> Reply | StreamReply:
    runtime = ex.runtime
    body = ex.body
    lenient = runtime.config.lenient
    if body.get("model") is None:  # optional in the SDK's types (a stored prompt may name it); not here
        if not lenient:
            raise errors.missing_parameter("model")
        body["model"] = LENIENT_MODEL  # `--lenient`: a create without one gets the default
    spec = requested_model(ex, body["model"], "responses")
    if not lenient:
        rules.check_model_rules(spec, body)
        rules.check_request_rules(body)
    created_at = int(time.time())
    seed = request_rng_seed(ex)
    id_rng = rng_for(runtime.ids.make("", 16), "ids")  # ids differ per call; the answer depends on the request
    history: list[dict] = []
    previous = body.get("previous_response_id")
    conversation_id = conversations.conversation_id_of(body.get("conversation"))
    stored = body.get("store", True) is not False
    shard = None
    if previous is not None:
        # `--lenient` takes both: the chain is continued, and the conversation appended to.
        if body.get("conversation") is not None and not lenient:
            raise errors.invalid_request(
                "Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or 'conversation'.",
                param=None, code="mutually_exclusive_parameters",
            )
        history = chain(_previous(ex, previous))
        shard = _lenient_shard(previous) if lenient else responses_wire.shard_of(previous)
    elif conversation_id is not None:
        history = conversations.history(ex, conversation_id)
        shard = conversations.shard_of(conversation_id)
    response_id = responses_wire.response_id(id_rng, created_at, shard=shard, stored=stored)
    inputs = plan.input_items(body.get("input"), lambda prefix: responses_wire.item_id(prefix, response_id, id_rng))
    history = history + [_referenced(ex, item, history) if item.get("type") == "item_reference" else item
                         for item in inputs]
    if not lenient:  # cross-item rules; `--lenient` checks the schema only
        plan.check_reasoning_items(body.get("input"))
        plan.check_tool_outputs(history)

    messages = plan.chat_messages(body.get("instructions"), history)
    fmt = ((body.get("text") or {}).get("format")) or {}
    # What depends only on the request bytes is remembered (a suite resends the same
    # requests); not in a conversation, whose items change under the same bytes.
    memo_key = (ex.raw_body, spec.id) if conversation_id is None else None
    # A large input (this body, or the conversation it continues) is tokenized off the loop.
    size = len(ex.raw_body) if len(history) == len(inputs) else max(len(ex.raw_body), text_size(messages))
    prompt = await off_loop(size, _remembered, runtime, memo_key, "prompt", lambda: runtime.tokenizer.chat_prompt(
        messages, plan.chat_tools(body.get("tools") or []) or None, spec.encoding,
        {"type": "json_schema", "json_schema": fmt} if fmt.get("type") == "json_schema" else None,
    ), prompt_weight)
    budget = body.get("max_output_tokens")
    if len(prompt) > spec.context_window and not runtime.config.lenient:
        return _over_context(ex, spec, body, response_id, created_at)
    headers = runtime.rate_limits.consume(api_key(ex), spec.id, len(prompt) + (budget or 0))

    user_text = next((text_of(m["content"]) for m in reversed(messages) if m["role"] == "user"), None)
    query = probe(ex, body["model"], user_text)
    query.body = {**body, "input": history}  # fixtures see the whole conversation
    hit = runtime.fixtures.find(query)
    if hit is None and runtime.config.strict_fixtures:
        raise fixture_not_found(ex, query)
    fixture = hit.response if hit else None
    ex.fixture = hit.fixture.name if hit else None
    if fixture is not None and not fixture.rendered:
        return replay(ex, fixture, headers)

    response = answer(ex, spec, body, prompt, messages, fixture, seed, response_id, created_at, id_rng,
                      memo_key and (*memo_key, id(fixture)), history=history, inputs=inputs)
    extra = fixture.headers if fixture is not None else []
    delay = fixture.delay if fixture else 0.0
    split = lambda text: runtime.tokenizer.pieces(text, spec.encoding)  # noqa: E731
    record = {"response": response, "input_items": history}
    if conversation_id is not None:  # the conversation keeps this turn: its input, then its output
        conversations.append(ex, conversation_id, history[len(history) - len(inputs):] + response["output"])
    if body.get("background"):
        return background(ex, record, body, split, extra)
    if stored:
        # input_items lists the whole chain: earlier inputs and outputs, then this input.
        runtime.store.put(KIND, response_id, record)
    if not body.get("stream"):
        reply = Reply.pretty(response, fixture.status if fixture else 200, headers + extra)
        reply.delay = delay
        return reply
    # Streams carry no x-ratelimit-* headers (every recorded stream); the limiter still counts them.
    obfuscate = (body.get("stream_options") or {}).get("include_obfuscation", True)
    frames = responses_wire.stream_frames(
        response, split, obfuscation=rng_for(seed, "obfuscation") if obfuscate else None,
        start=_opening(response, body),
    )
    delays = None
    if fixture is not None and (fixture.chunk_delay or fixture.first_chunk_delay):
        delays = [0.0, 0.0, fixture.first_chunk_delay] + [fixture.chunk_delay] * (len(frames) - 3)
    return StreamReply(frames, delays, headers=list(extra), delay=delay)


def context_exceeded() -> errors.OpenAIError:
    """The whole input (instructions, a conversation's or a chain's earlier turns, this
    input) over the model's window, in the Responses API's words (public reports)."""
    return errors.invalid_request(
        "Your input exceeds the context window of this model. Please adjust your input and try again.",
        param="input", code="context_length_exceeded",
    )


def _over_context(ex: Exchange, spec: ModelSpec, body: dict, response_id: str, created_at: int) -> StreamReply:
    """A plain request gets the 400; a streamed one has already started when the real API
    finds out: `response.created`, `.in_progress`, then the `error` event."""
    error = context_exceeded()
    if not body.get("stream"):
        raise error
    response = response_object(ex.runtime, spec, body, response_id, created_at, "in_progress", [], None, None,
                               azure=is_azure(ex))
    envelope = orjson.loads(error.body())["error"]
    return StreamReply(responses_wire.refused_stream(_opening(response, body), envelope))


# --- background ----------------------------------------------------------------------


def background(ex: Exchange, record: dict, body: dict, split, headers: list) -> Reply | StreamReply:
    """Answered `queued` at once; the work then runs on the runtime's clock (queued, then
    in progress, then completed), can be polled and cancelled, and its stream (kept,
    without obfuscation, as the real API replays it) resumed with `starting_after`.
    A background response is always stored. No x-ratelimit-* headers, as recorded."""
    runtime = ex.runtime
    response = record["response"]
    opening = _opening(response, body, "queued")
    record["opening"] = opening
    record["clock"] = {"started": runtime.clock.now(), "cancelled": False, "finished": False}
    record["events"] = [f.decode() for f in responses_wire.stream_frames(response, split, start=opening)]
    if body.get("stream"):  # the client watches the work happen: it is done when the stream ends
        record["clock"]["finished"] = True
        runtime.store.put(KIND, response["id"], record)
        return StreamReply([f.encode() for f in record["events"]], headers=list(headers))
    runtime.store.put(KIND, response["id"], record)
    return Reply.pretty(opening, headers=list(headers))


def current(ex: Exchange, record: dict) -> dict:
    """The response as it stands now: a background one by the clock."""
    clock = record.get("clock")
    if clock is None or clock["finished"]:
        return record["response"]
    if clock["cancelled"]:
        return {**record["opening"], "status": "cancelled"}
    config = ex.runtime.config
    elapsed = ex.runtime.clock.now() - clock["started"]
    if elapsed < config.background_queued_seconds:
        return record["opening"]
    if elapsed < config.background_queued_seconds + config.background_seconds:
        return {**record["opening"], "status": "in_progress"}
    return record["response"]


def _referenced(ex: Exchange, reference: dict, history: list[dict]) -> dict:
    """The stored item an `item_reference` names: in this conversation, or in any stored
    response's input or output; an id the store does not hold is a 404."""
    wanted = reference.get("id")
    for item in history:
        if item.get("id") == wanted:
            return item
    for record in ex.runtime.store.values(KIND):
        for item in chain(record):
            if item.get("id") == wanted:
                return item
    if ex.runtime.config.lenient:  # an id the fake never issued: a one-line user message
        return _stand_in_message(wanted)
    raise errors.OpenAIError(404, f"Item with id '{wanted}' not found.", param="input")


def chain(record: dict) -> list[dict]:
    """The conversation a stored response ends: its input items (the whole chain before
    it, then its own input), then its output. Kept as two parts, not three, to halve the
    store."""
    return record["input_items"] + list(record["response"].get("output") or [])


def _previous(ex: Exchange, response_id: str) -> dict:
    """The stored response a request continues; under `--lenient` an unknown id is a
    stand-in (`_stand_in`), kept from now on."""
    record = ex.runtime.store.get(KIND, response_id)
    if record is None:
        if not ex.runtime.config.lenient:
            raise previous_not_found(response_id)
        record = _stand_in(ex, response_id)
    return record


def _lenient_shard(response_id: str) -> str:
    """The shard a response chained to `response_id` shares: its own when it has one (16
    hex after the prefix), else one derived from the id (`--lenient` takes any id)."""
    shard = response_id.split("_", 1)[1][:16] if "_" in response_id else ""
    if len(shard) == 16 and all(c in "0123456789abcdef" for c in shard):
        return shard
    return hashlib.blake2b(response_id.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def _opening(response: dict, body: dict, status: str = "in_progress") -> dict:
    """As first announced: the service tier as requested (`auto`), no output yet."""
    opening = responses_wire.opening_state(response, status)
    opening["service_tier"] = body.get("service_tier") or "auto"
    return opening


def _remembered(runtime, key: tuple | None, what: str, build, weigh=None):
    """`build()`, remembered under `key` (weighed by `weigh`, or by the memo's estimate)."""
    return build() if key is None else runtime.memo.get((what, *key), build, weigh)


def is_azure(ex: Exchange) -> bool:
    """Served as Azure OpenAI's `/openai/v1/...`: Azure's shape of the response object."""
    return ex.path.startswith("/openai/")


def answer(ex: Exchange, spec: ModelSpec, body: dict, prompt: list[int], messages: list[dict], fixture, seed: bytes,
           response_id: str, created_at: int, id_rng, memo_key: tuple | None = None, *,
           history: list[dict] | None = None, inputs: list[dict] | None = None) -> dict:
    """The finished response: the MCP servers' listings and approved calls, reasoning, then
    tool calls or a message, cut to `max_output_tokens`, with usage from the tokenizer.
    `history` is the whole conversation (this input last), `inputs` this request's items."""
    runtime = ex.runtime
    tokenizer = runtime.tokenizer
    rng = rng_for(seed, "answer")

    budget = body.get("max_output_tokens")
    budget = int(budget) if isinstance(budget, (int, float)) and not isinstance(budget, bool) else None

    # A synthesized answer holds no more than the budget, or the model's output limit, and at
    # most MAX_TOKENS (a schema demanding more ends incomplete); a fixture's, the budget.
    synthesized = min(budget or spec.max_output or MAX_TOKENS, MAX_TOKENS)

    def plan_turn():
        ask = plan.ask_from(body, messages)
        ask.max_tokens = synthesized  # JSON for a schema is synthesized no further
        turn = plan.turn_for(ask, fixture, rng_for(seed, "answer"))
        draw = rng_for(request_rng_seed(ex, ignore=("reasoning",)), "reasoning").random()
        return (turn, *plan.reasoning_for(spec, body, draw, rng_for(seed, "summary")))

    def turn_weight(planned) -> int:  # the texts it holds, and an object or so for each
        turn, _, parts = planned
        return (600 + len(turn.text or "") + len(turn.refusal or "") + sum(map(len, parts)) + 80 * len(parts)
                + sum(400 + len(call.name) + len(call.arguments) for call in turn.tool_calls))

    turn, reasoning, summary = _remembered(runtime, memo_key, "turn", plan_turn, turn_weight)
    truncated = turn.truncated or any(call.truncated for call in turn.tool_calls)
    limit = budget if fixture is not None else synthesized
    output: list[dict] = []
    status, incomplete = "completed", None
    make_id = lambda prefix: responses_wire.item_id(prefix, response_id, id_rng)  # noqa: E731
    history = history if history is not None else []
    # An MCP server is listed at the start of the response, once per conversation; the calls
    # this request approves run next (recorded: MCPToolAlwaysRequiresApproval(True)).
    listed = mcp.listed_labels(history)
    output.extend(mcp.listing(tool, make_id) for tool in mcp.servers(body) if mcp.label_of(tool) not in listed)
    approved, answers_approval = mcp.approved_calls(inputs or [], history, make_id, rng_for(seed, "mcp"))
    output.extend(approved)
    summary_tokens = sum(tokenizer.count(part, spec.encoding) for part in summary)
    if limit is not None and reasoning + summary_tokens >= limit:  # reasoning used the whole budget
        reasoning, summary, summary_tokens = limit, [], 0
        status, incomplete = "incomplete", {"reason": "max_output_tokens"}
    used = reasoning + summary_tokens + sum(tokenizer.count(item["arguments"], spec.encoding) for item in approved)
    phase = "final_answer" if spec.phased else None
    if spec.reasoning and reasoning_effort(spec, body) != "none":  # at effort "none" no reasoning item
        sealed = None
        # Opaque, as the real one is to us: asked for with `include`, or always (gpt-5.6, recorded).
        if spec.always_encrypted or "reasoning.encrypted_content" in (body.get("include") or []):
            sealed = "gAAAAAB" + base64.urlsafe_b64encode(hashlib.blake2b(seed, digest_size=48).digest() * 4).decode()
        output.append(responses_wire.reasoning_item(make_id("rs"), summary, sealed, content=spec.phased))
    if status == "incomplete":
        pass
    elif turn.tool_calls:
        calls = [{"function": {"name": call.name, "arguments": call.arguments}} for call in turn.tool_calls]
        cut = False
        if limit is not None:  # as many calls as the budget holds, the last one's arguments cut
            calls, spent, cut = cut_calls(tokenizer, spec.encoding, calls, limit - used)
            used += spent
        else:
            used += sum(tokenizer.count(call.name + call.arguments, spec.encoding) for call in turn.tool_calls)
        if cut or truncated:
            status, incomplete = "incomplete", {"reason": "max_output_tokens"}
        patches = plan.offers_apply_patch(body)
        for index, (call, written) in enumerate(zip(turn.tool_calls, calls)):
            last = index == len(calls) - 1
            item_status = "incomplete" if last and status == "incomplete" else "completed"
            if patches and call.name == plan.APPLY_PATCH_TOOL.name:  # the client's apply_patch tool
                operation = responses_tools.patch_operation(plan.ask_from(body, messages).user_text,
                                                            rng_for(seed, "patch", index))
                output.append(responses_tools.apply_patch_call(
                    make_id("apc"), call.id or plan.call_id(rng), operation,
                    "in_progress" if item_status == "incomplete" else "completed"))
                continue
            output.append(responses_wire.function_call_item(
                make_id("fc"), call.id or plan.call_id(rng), call.name, written["function"]["arguments"], item_status))
    elif turn.refusal is not None:
        output.append(responses_wire.refusal_item(make_id("msg"), turn.refusal, phase))
        used += tokenizer.count(turn.refusal, spec.encoding)
    else:
        ask = plan.ask_from(body, messages)
        offered = responses_tools.offered(body)
        choice = body.get("tool_choice")
        if isinstance(choice, dict) and choice.get("type") == "mcp":  # one server named: the others wait
            offered = [t for t in offered if t["type"] != "mcp" or mcp.label_of(t) == choice.get("server_label")]
        # An MCP server is called with the user's turn last, not again after results or an approval.
        found = responses_tools.calls(offered, body, make_id, rng_for(seed, "tools"), ask.user_text or "",
                                      servers=not answers_approval and not ask.after_tool_result)
        output.extend(found)
        used += sum(tokenizer.count(item["arguments"], spec.encoding) for item in found if item["type"].startswith("mcp_"))
        if any(item["type"] == "mcp_approval_request" for item in found):
            # The turn waits for the user's approval: no message (recorded).
            return _finished(runtime, spec, body, response_id, created_at, status, incomplete, output, prompt, used,
                             reasoning, fixture, ex)
        text = turn.text or ""
        pieces = tokenizer.pieces(text, spec.encoding)
        message_status = "completed"
        if (limit is not None and used + len(pieces) > limit) or turn.truncated:
            pieces = pieces[: max(0, limit - used)] if limit is not None else pieces
            text = "".join(pieces)
            status, incomplete, message_status = "incomplete", {"reason": "max_output_tokens"}, "incomplete"
        cited = responses_tools.annotations(found, text, rng_for(seed, "citations"), body)
        logprobs = None
        if "message.output_text.logprobs" in (body.get("include") or []):
            # Each entry's keys alphabetically, as the Responses API writes them (recorded:
            # test_openai_instructions_with_responses_logprobs_streaming).
            logprobs = [{"bytes": entry["bytes"], "logprob": entry["logprob"], "token": entry["token"],
                         "top_logprobs": [dict(sorted(alternative.items())) for alternative in entry["top_logprobs"]]}
                        for entry in token_logprobs(pieces, body.get("top_logprobs") or 0, rng_for(seed, "logprobs"))]
        output.append(responses_wire.message_item(make_id("msg"), text, message_status, annotations=cited,
                                                  logprobs=logprobs, phase=phase))
        used += len(pieces)
    return _finished(runtime, spec, body, response_id, created_at, status, incomplete, output, prompt, used, reasoning,
                     fixture, ex)


def _finished(runtime, spec: ModelSpec, body: dict, response_id: str, created_at: int, status: str,
              incomplete: dict | None, output: list[dict], prompt: list[int], used: int, reasoning: int, fixture,
              ex: Exchange) -> dict:
    """The response object of a finished turn, with its usage."""
    if fixture is not None and fixture.usage is not None:
        usage = fixture.usage
    else:
        cached = runtime.prompt_cache.use(f"{spec.id}|{body.get('prompt_cache_key') or ''}", prompt)
        usage = responses_wire.usage(len(prompt), used, cached=cached, reasoning=reasoning)
    return response_object(runtime, spec, body, response_id, created_at, status, output, usage, incomplete,
                           azure=is_azure(ex))


def response_object(runtime, spec: ModelSpec, body: dict, response_id: str, created_at: int, status: str,
                    output: list[dict], usage: dict | None, incomplete: dict | None, *, azure: bool = False) -> dict:
    """The response object, every field in the real API's order, echoing the request.
    Azure's (`/openai/v1/responses`, recorded: test_azure_responses_reasoning_context_default_wire_contract)
    has no `billing` nor `tool_usage`, carries `content_filters`, and names the model as sent."""
    text = dict(body.get("text") or {})
    fmt = text.get("format") or {"type": "text"}
    if fmt.get("type") == "json_schema":  # echoed with every field, `strict` true unless said
        fmt = {"type": "json_schema", "description": fmt.get("description"), "name": fmt.get("name"),
               "schema": fmt.get("schema"), "strict": fmt.get("strict") if fmt.get("strict") is not None else True}
    text = {"format": fmt, "verbosity": text.get("verbosity") or "medium"}
    tier = body.get("service_tier")
    out: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "background": bool(body.get("background")),
    }
    if not azure:
        out["billing"] = {"payer": "developer"}
    out["completed_at"] = created_at if status in ("completed", "incomplete") else None
    if azure:
        out["content_filters"] = content_filters(body, output) if output else []
    if body.get("conversation") is not None:
        conversation = body["conversation"]
        out["conversation"] = {"id": conversation if isinstance(conversation, str) else conversation.get("id")}
    out.update({
        "error": None,
        "frequency_penalty": body.get("frequency_penalty", 0.0),
        "incomplete_details": incomplete,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "model": body["model"] if azure else runtime.catalog.snapshot(spec.id),
        "moderation": None,
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "presence_penalty": body.get("presence_penalty", 0.0),
        "previous_response_id": body.get("previous_response_id"),
        "prompt_cache_key": body.get("prompt_cache_key"),
        **({"prompt_cache_options": body["prompt_cache_options"]} if body.get("prompt_cache_options") is not None else {}),
        "prompt_cache_retention": body.get("prompt_cache_retention") or spec.default_cache_retention,
        "reasoning": reasoning_echo(spec, body),
        "safety_identifier": body.get("safety_identifier"),
        "service_tier": "default" if tier in (None, "auto") else tier,
        "store": body.get("store", True) is not False,
        "temperature": body.get("temperature", 1.0),
        "text": text,
        "tool_choice": body.get("tool_choice", "auto"),
        **({} if azure else {"tool_usage": _tool_usage(output)}),
        "tools": [_echo_tool(tool) for tool in body.get("tools") or []],
        "top_logprobs": body.get("top_logprobs", 0),
        "top_p": body.get("top_p", spec.default_top_p),
        "truncation": body.get("truncation", "disabled"),
        "usage": usage,
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    })
    return out


def reasoning_effort(spec: ModelSpec, body: dict) -> str | None:
    return (body.get("reasoning") or {}).get("effort") or (spec.default_effort if spec.reasoning else None)


def reasoning_echo(spec: ModelSpec, body: dict) -> dict:
    """`reasoning` as echoed: `context` as sent, or the model's (`auto` resolved: "the effective
    reasoning context mode used", the SDK's types say; gpt-5.5 `current_turn`, gpt-5.6
    `all_turns`, recorded; `null` for a model that does not reason, recorded); `effort` as
    sent or the model's default; `mode` (gpt-5.5 and later: `standard` unless sent, recorded);
    `summary: "auto"` as `detailed`."""
    sent = body.get("reasoning") or {}
    context = sent.get("context")
    if context in (None, "auto"):
        context = spec.reasoning_context if spec.reasoning else None
    out: dict[str, Any] = {"context": context, "effort": reasoning_effort(spec, body)}
    if spec.phased:
        out["mode"] = sent.get("mode") or "standard"
    summary = sent.get("summary")
    out["summary"] = "detailed" if summary == "auto" else summary
    return out


def content_filters(body: dict, output: list[dict]) -> list[dict]:
    """Azure's verdicts on the prompt and on the completion: nothing filtered, everything
    `safe`, in the recorded shape (one entry each, keys sorted as Azure sends them). The
    offsets span the characters checked: the instructions and input texts, the output's."""
    prompt = len(body.get("instructions") or "") + _characters(body.get("input"))
    completion = _characters(output)
    harms = {name: {"filtered": False, "severity": "safe"} for name in ("hate", "self_harm", "sexual", "violence")}
    checked = {"prompt": {**harms, "jailbreak": {"detected": False, "filtered": False}},
               "completion": {**harms, "protected_material_code": {"detected": False, "filtered": False},
                              "protected_material_text": {"detected": False, "filtered": False}}}
    return [{"blocked": False, "content_filter_offsets": {"check_offset": 0, "end_offset": end, "start_offset": 0},
             "content_filter_raw": [], "content_filter_results": dict(sorted(checked[source].items())),
             "source_type": source} for source, end in (("prompt", prompt), ("completion", completion))]


def _characters(value: Any) -> int:
    """The characters of text a request's input or a response's output holds."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        return sum(_characters(v) for v in value)
    if isinstance(value, dict):
        return sum(_characters(value.get(key)) for key in ("text", "content", "arguments", "output", "refusal"))
    return 0


def _tool_usage(output: list[dict]) -> dict:
    """What built-in tools used (recorded since 2026-06): searches run, image tokens (none: the fake's images are tiny)."""
    image = {"input_tokens": 0, "input_tokens_details": {"image_tokens": 0, "text_tokens": 0}, "output_tokens": 0,
             "output_tokens_details": {"image_tokens": 0, "text_tokens": 0}, "total_tokens": 0}
    searches = sum(1 for item in output if item.get("type") == "web_search_call")
    return {"image_gen": image, "web_search": {"num_requests": searches}}


def _echo_tool(tool: dict) -> dict:
    """A tool as the real API echoes it: a function tool with every field, `strict` true
    unless said, and a strict tool's parameters closed (`additionalProperties: false`)."""
    if tool.get("type") != "function":
        return responses_tools.echo(tool)
    strict = tool.get("strict") if tool.get("strict") is not None else True
    parameters = tool.get("parameters")
    if strict and isinstance(parameters, dict) and "additionalProperties" not in parameters:
        parameters = {**parameters, "additionalProperties": False}
    # `output_schema` (null unless sent) recorded since 2026-07 (test_openai_responses_phase_streamed_on_part_start).
    return {"type": "function", "description": tool.get("description") or None, "name": tool.get("name"),
            "output_schema": tool.get("output_schema"), "parameters": parameters, "strict": strict}


def replay(ex: Exchange, fixture, headers: list) -> Reply | StreamReply:
    """A recorded body or stream, sent as recorded; converted only when the request asks
    for the other mode (a body streamed as events, a stream's final response as the
    body). The recorded response is stored, so it can be retrieved and chained by its id."""
    headers = headers + fixture.headers
    stream = bool(ex.body.get("stream"))
    final = fixture.body if isinstance(fixture.body, dict) else _final_of(fixture)
    if fixture.status < 400 and isinstance(final, dict) and final.get("id"):
        rng = rng_for(final["id"])
        inputs = plan.input_items(ex.body.get("input"), lambda prefix: responses_wire.item_id(prefix, final["id"], rng))
        ex.runtime.store.put(KIND, final["id"], {"response": final, "input_items": inputs})
    if stream and fixture.sse is not None:
        return StreamReply(fixture.sse, fixture.sse_delays, fixture.status, headers, delay=fixture.delay)
    if stream and fixture.status < 400 and isinstance(final, dict) and "output" in final:
        frames = responses_wire.stream_frames(final, lambda text: ex.runtime.tokenizer.pieces(text))
        return StreamReply(frames, status=fixture.status, headers=headers, delay=fixture.delay)
    if fixture.body_bytes is None and isinstance(final, dict):
        return Reply(pretty_ascii(final), fixture.status, headers, delay=fixture.delay)
    return Reply(fixture.body_bytes or b"", fixture.status, headers, delay=fixture.delay)


def _final_of(fixture) -> dict | None:
    """The finished response a recorded stream ends with (`response.completed` or the like)."""
    for frame in reversed(fixture.frames or []):
        try:
            event = orjson.loads(frame.data)
        except orjson.JSONDecodeError:
            continue
        if isinstance(event, dict) and isinstance(event.get("response"), dict):
            return event["response"]
    return None


# --- stored responses -------------------------------------------------------------------


def _stored(ex: Exchange) -> dict:
    response_id = ex.path_params["response_id"]
    record = ex.runtime.store.get(KIND, response_id)
    if record is None:
        if ex.runtime.config.lenient:
            return _stand_in(ex, response_id)
        raise not_found(response_id)
    return record


def _stand_in(ex: Exchange, response_id: str) -> dict:
    """`--lenient`: an id the fake never issued reads as a finished response of the right
    shape (a one-line exchange), kept from now on, so code that replays recorded ids (or a
    suite's placeholders) keeps going. It is a background response that has finished, so
    every operation works on it: retrieve, its stream replayed (`?stream=true`), cancel
    (returned as it is, finished), input items, delete, and continuing it."""
    runtime = ex.runtime
    rng = rng_for(response_id, runtime.config.seed)
    make_id = lambda prefix: f"{prefix}_{rng.getrandbits(200):050x}"  # noqa: E731
    spec = runtime.catalog.lenient(LENIENT_MODEL, "responses")
    body = {"model": spec.id, "background": True}
    question = _stand_in_message(make_id("msg"))
    answer_ = responses_wire.message_item(make_id("msg"), "Hello! How can I help you today?")
    response = response_object(runtime, spec, body, response_id, int(time.time()), "completed",
                               [answer_], responses_wire.usage(9, 10), None)
    opening = _opening(response, body, "queued")
    split = lambda text: runtime.tokenizer.pieces(text, spec.encoding)  # noqa: E731
    record = {"response": response, "input_items": [question], "opening": opening,
              "clock": {"started": runtime.clock.now(), "cancelled": False, "finished": True},
              "events": [f.decode() for f in responses_wire.stream_frames(response, split, start=opening)]}
    runtime.store.put(KIND, response_id, record)
    return record


def _stand_in_message(item_id: str) -> dict:
    """The user's turn of a stand-in exchange."""
    return {"id": item_id, "type": "message", "status": "completed",
            "content": [{"type": "input_text", "text": "Hello."}], "role": "user"}


async def retrieve(ex: Exchange) -> Reply | StreamReply:
    record = _stored(ex)
    stream = ex.query.get("stream")
    if stream not in (None, "true", "false"):
        raise errors.invalid_value("stream", stream, ["true", "false"])
    if stream != "true":
        return Reply.pretty(current(ex, record))
    if "events" not in record:
        raise errors.invalid_request("Only responses created with background=true can be streamed.", param="stream")
    raw = ex.query.get("starting_after", "-1")
    after = query_integer(raw)
    if after is None:
        raise errors.invalid_type("starting_after", "an integer", raw)
    # Resuming replays the stored events after `starting_after`, through to the end.
    record["clock"]["finished"] = True
    ex.runtime.store.put(KIND, ex.path_params["response_id"], record)
    return StreamReply([f.encode() for f in record["events"][max(after, -1) + 1:]])


async def delete(ex: Exchange) -> Reply:
    response_id = ex.path_params["response_id"]
    delete_stored(ex, KIND, response_id, not_found)
    return Reply.pretty({"id": response_id, "object": "response.deleted", "deleted": True})


async def cancel(ex: Exchange) -> Reply:
    """Stops a queued or running background response; a finished one is returned as it is."""
    record = _stored(ex)
    if "clock" not in record:
        raise errors.invalid_request("Cannot cancel a synchronous response.")
    now = current(ex, record)
    if now["status"] in ("queued", "in_progress"):
        record["clock"]["cancelled"] = True
        ex.runtime.store.put(KIND, ex.path_params["response_id"], record)
        now = current(ex, record)
    return Reply.pretty(now)


async def list_input_items(ex: Exchange) -> Reply:
    return Reply.pretty(page(_stored(ex)["input_items"], **list_query(ex), alphabetical=True))


async def input_tokens(ex: Exchange) -> Reply:
    runtime = ex.runtime
    body = ex.body
    record = _previous(ex, body["previous_response_id"]) if body.get("previous_response_id") else None
    history: list[dict] = chain(record) if record is not None else []
    model = body.get("model")
    spec = requested_model(ex, model, "responses") if model else None
    if spec is not None and not runtime.config.lenient:
        rules.check_model_rules(spec, body)  # the same model rules as responses.create
    inputs = plan.input_items(body.get("input"), lambda prefix: prefix)  # counted, never stored
    messages = plan.chat_messages(body.get("instructions"), history + inputs)
    size = max(len(ex.raw_body), text_size(history)) if history else len(ex.raw_body)
    prompt = await off_loop(size, runtime.tokenizer.chat_prompt, messages,  # a large input: off the loop
                            plan.chat_tools(body.get("tools") or []) or None, spec.encoding if spec else "o200k_base")
    return Reply.pretty({"object": "response.input_tokens", "input_tokens": len(prompt)})


async def compact(ex: Exchange) -> Reply:
    """The conversation compacted: its user messages kept (new ids), everything else
    folded into one opaque `compaction` item, which a later request may send back as
    input. Not stored; compact JSON, as recorded."""
    runtime = ex.runtime
    body = ex.body
    spec = requested_model(ex, body["model"], "responses")
    if not runtime.config.lenient:
        rules.check_model_rules(spec, body)  # the same model rules as responses.create
    record = _previous(ex, body["previous_response_id"]) if body.get("previous_response_id") else None
    history: list[dict] = chain(record) if record is not None else []
    created_at = int(time.time())
    id_rng = rng_for(runtime.ids.make("", 16), "compact")
    compaction_id = responses_wire.response_id(id_rng, created_at, stored=False)
    make_id = lambda prefix: responses_wire.item_id(prefix, compaction_id, id_rng)  # noqa: E731
    size = max(len(ex.raw_body), text_size(history)) if history else len(ex.raw_body)
    history = history + plan.input_items(body.get("input"), make_id)
    messages = plan.chat_messages(body.get("instructions"), history)

    def fold() -> tuple[int, str, int]:  # the work that grows with the input
        folded = orjson.dumps([m for m in messages if m.get("role") != "user"])
        sealed = base64.urlsafe_b64encode(b"\x80" + hashlib.blake2b(folded, digest_size=32).digest() + zlib.compress(folded)).decode()
        summary = max(1, runtime.tokenizer.count(folded.decode(), spec.encoding) // 4)
        return len(runtime.tokenizer.chat_prompt(messages, None, spec.encoding)), sealed, summary

    prompt_tokens, sealed, summary_tokens = await off_loop(size, fold)  # a large input: off the loop
    kept = [{**item, "id": make_id("msg")} for item in history if item.get("type") == "message" and item.get("role") == "user"]
    output = [*kept, {"id": make_id("cmp"), "type": "compaction", "encrypted_content": "gAAAAA" + sealed}]
    return Reply.json({"id": compaction_id, "object": "response.compaction", "created_at": created_at, "output": output,
                       "usage": responses_wire.usage(prompt_tokens, summary_tokens)})


_COMMON = dict(unknown_argument="unknown", error_dialect="modern")

OPERATIONS = [
    Operation("responses.create", "POST", "/responses", create, request_schema="responses.create.request",
              azure_deployment=False, **_COMMON),
    Operation("responses.input_tokens.count", "POST", "/responses/input_tokens", input_tokens,
              request_schema="responses.input_tokens.count.request", **_COMMON),
    Operation("responses.compact", "POST", "/responses/compact", compact,
              request_schema="responses.compact.request", **_COMMON),
    Operation("responses.retrieve", "GET", "/responses/{response_id}", retrieve),
    Operation("responses.delete", "DELETE", "/responses/{response_id}", delete),
    Operation("responses.cancel", "POST", "/responses/{response_id}/cancel", cancel),
    Operation("responses.input_items.list", "GET", "/responses/{response_id}/input_items", list_input_items),
]
# Their error bodies end without a newline (a recorded 404 is 197 bytes: `json.dumps(indent=2)`).
OPERATIONS = [dataclasses.replace(op, error_newline=False) for op in OPERATIONS]

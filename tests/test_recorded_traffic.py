"""Real traffic as the oracle (../shared/recordings).

1. Every recorded chat completion, stream chunk, embedding, model and error body
   validates against contracts/ and parses with the SDK's types: where one does not,
   the contract is wrong.
2. Every recorded request the real API accepted passes our request contracts.
3. Every recorded chat and embeddings request, replayed against the fake, gets the
   recorded status and the recorded shape: key order, the error's type, code, param
   and message, the stream's framing and chunk shapes.

The Responses API is held to the same three checks, in its own sections below.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any

import httpx
import pytest
from openai.types import Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import InputTokenCountResponse, Response, ResponseItemList, ResponseStreamEvent
from pydantic import TypeAdapter

from mockserver import Config

from .support.audit import sdk_reads_leniently
from .support.recorded import Recorded, recorded
from .support.server import RunningServer

# Recorded exchanges the fake cannot reproduce, each for a reason outside the request.
NOT_REPLAYABLE = {
    "test_azure/test_chat_reasoning#1": "the Azure deployment was deleted between recordings (the same request got 200 before)",
    "test_azure/test_chat_reasoning#2": "the Azure deployment was deleted between recordings",
    "test_azure/test_chat_reasoning#3": "the Azure deployment was deleted between recordings",
    "test_vision/test_vision#1": "the real API failed to download the image URL; the fake never fetches URLs",
    "test_vision/test_vision#2": "the real API failed to download the image URL; the fake never fetches URLs",
    "test_azure/test_prompt_content_filtering#0": "hand-edited by its test author (body and Content-Length disagree)",
    "test_azure/test_chat_content_filtering#0": "hand-edited by its test author (body and Content-Length disagree)",
}
# Where the real model chose differently from the synthesizer: the shape is checked, the choice not.
MODEL_CHOICE = {
    "ChatTests/StructuredRefusalWorks#0": "the real model refused (the fake refuses only from fixtures)",
    "test_chat_parse/test_parsed_refused_completion#0": "the real model refused (the fake refuses only from fixtures)",
    "test_chat_parse/test_parsed_refused_completion#1": "the real model refused",
    "test_chat_parse/test_parsed_refused_completion#2": "the real model refused",
    "ChatToolTests/ConsecutiveToolCalls#1": "after a tool result the real model called another tool; the fake answers",
    "test_functions/test_open_ai_function_calls_tools_streaming_parallel#1": "the real model called one tool twice (two cities)",
    "test_openai/test_max_completion_tokens[o3-mini]#0": "how long the real model reasoned (it fit in 100 tokens; ours may not)",
}
# Features the fake does not synthesize yet; the status is checked, the shape not.
NOT_SYNTHESIZED: dict[str, str] = {}


def ident(item: Recorded | None) -> str:
    return item.id if item is not None else "recordings"


def lazy(family: str, keep) -> list[Recorded]:
    """Parametrize from the recordings (less NOT_REPLAYABLE, documented above); an absent
    ../shared becomes one case that skips, or fails in CI."""
    try:
        return [item for item in recorded(family) if keep(item) and item.id not in NOT_REPLAYABLE]
    except BaseException:  # pytest's skip/fail outcome: let one placeholder carry it
        return [None]


def chunks_of(item: Recorded) -> list[dict]:
    return [json.loads(data) for _, data in item.sse if data.strip() != "[DONE]"]


# --- 1. recorded responses satisfy the contracts -------------------------------------

CHAT_200 = lazy("chat", lambda r: r.method == "POST" and r.status == 200)


@pytest.mark.parametrize("item", CHAT_200, ids=ident)
def test_recorded_chat_responses_satisfy_contracts(item, contracts):
    if item is None:
        recorded("chat")
    if item.streamed:
        for chunk in chunks_of(item):
            assert contracts.problems("chat.completions.create.chunk", chunk) == [], chunk
            # The SDK reads stream chunks leniently; its strict types reject two real shapes
            # the contract accepts: Azure's prelude (`object: ""`) and audio chunks without `choices`.
            if chunk.get("object") and "choices" in chunk:
                ChatCompletionChunk.model_validate(chunk)
    else:
        assert contracts.problems("chat.completions.create.response", item.response_json) == []
        ChatCompletion.model_validate(item.response_json)


def test_recorded_embeddings_models_and_errors_satisfy_contracts(contracts):
    for item in recorded("embeddings"):
        if item.status == 200:
            assert contracts.problems("embeddings.create.response", item.response_json) == [], item.id
    for item in recorded("models"):
        if item.status == 200:
            name = "models.list.response" if item.path.endswith("/models") else "models.retrieve.response"
            assert contracts.problems(name, item.response_json) == [], item.id
            if name == "models.retrieve.response":
                Model.model_validate(item.response_json)
    errors = [item for item in recorded() if item.status >= 400 and isinstance(item.response_json, dict)]
    assert len(errors) >= 25
    for item in errors:
        assert contracts.problems("error.response", item.response_json) == [], item.id


# --- 2. accepted requests pass our request contracts ----------------------------------

def test_accepted_requests_pass_our_contracts(contracts):
    checked = 0
    for family, name in (("chat", "chat.completions.create.request"), ("embeddings", "embeddings.create.request")):
        for item in recorded(family):
            if item.method == "POST" and item.status == 200 and isinstance(item.request_body, dict):
                body = dict(item.request_body)
                if item.azure_deployment:
                    body.setdefault("model", item.path.split("/")[3])
                assert contracts.problems(name, body) == [], (item.id, contracts.problems(name, body))
                checked += 1
    assert checked >= 100


# --- 3. replayed, the fake answers with the recorded status and shape ----------------

REPLAYED = lazy("chat", lambda r: r.method == "POST") + lazy("embeddings", lambda r: True)


@pytest.fixture(scope="module")
def replay_server():
    deployments = {"openllmetry-testing": "gpt-4.1-mini"}
    with RunningServer(Config(azure_deployments=deployments, fixtures=[])) as running:
        yield running


def send(server: RunningServer, item: Recorded) -> httpx.Response:
    url = server.origin + item.path + (f"?{httpx.QueryParams(item.query)}" if item.query else "")
    headers = {"content-type": "application/json", "authorization": "Bearer sk-replay"}
    return httpx.post(url, content=json.dumps(item.request_body), headers=headers, timeout=30)


def modern(item: Recorded) -> bool:
    """Recorded in the current format (2025+: usage details, refusal, annotations)."""
    body = item.response_json if isinstance(item.response_json, dict) else (chunks_of(item) or [{}])[-1]
    usage = body.get("usage") or {}
    return "audio_tokens" in (usage.get("prompt_tokens_details") or {}) or "obfuscation" in body


@pytest.mark.parametrize("item", REPLAYED, ids=ident)
def test_replayed_request_gets_the_recorded_answer(item, replay_server):
    if item is None:
        recorded("chat")
    if item.id == "ChatTests/AuthFailure#0":
        return check_auth_failure(item)
    response = send(replay_server, item)
    assert response.status_code == item.status, response.text
    if item.status >= 400:
        ours, theirs = response.json()["error"], item.response_json["error"]
        assert same_keys(list(ours), list(theirs), item.ordered)
        for key in ("type", "code", "param", "message"):
            assert ours.get(key) == theirs.get(key), key
        return
    if item.id in NOT_SYNTHESIZED:
        return
    if item.streamed:
        compare_streams(item, response)
    elif item.path.endswith("/embeddings"):
        body = response.json()
        assert list(body) == list(item.response_json)
        assert [list(d) for d in body["data"]] == [list(d) for d in item.response_json["data"]]
        assert type(body["data"][0]["embedding"]) is type(item.response_json["data"][0]["embedding"])
        assert body["usage"] == item.response_json["usage"]
    else:
        compare_bodies(item, response.json())


def same_keys(ours: list, theirs: list, ordered: bool) -> bool:
    """Key order where the recording kept it; the key set where the recorder sorted them."""
    return ours == theirs if ordered else sorted(ours) == sorted(theirs)


def check_auth_failure(item: Recorded) -> None:
    """Replayed with its (sanitised) key against a server that demands a valid one."""
    with RunningServer(Config(require_auth=True, api_keys=["sk-valid"], fixtures=[])) as running:
        response = httpx.post(running.url + "/chat/completions", json=item.request_body,
                              headers={"authorization": "Bearer " + item.request_headers.get("authorization", "x")})
    assert response.status_code == item.status == 401
    ours, theirs = response.json()["error"], item.response_json["error"]
    assert list(ours) == list(theirs)
    assert {k: ours[k] for k in ("type", "param", "code")} == {k: theirs[k] for k in ("type", "param", "code")}
    assert ours["message"].startswith("Incorrect API key provided: ") and theirs["message"].startswith("Incorrect API key provided: ")
    assert response.headers["content-type"] == item.response_headers["content-type"]


def compare_bodies(item: Recorded, ours: dict) -> None:
    theirs = item.response_json
    if item.azure_deployment or modern(item):
        assert same_keys(list(ours), list(theirs), item.ordered)
    for mine, recorded_choice in zip(ours["choices"], theirs["choices"]):
        assert same_keys(list(mine), list(recorded_choice), item.ordered) or not modern(item)
        if item.id in MODEL_CHOICE:
            continue
        if modern(item):
            assert set(mine["message"]) == set(recorded_choice["message"]) - {"audio"}
        assert (mine["message"]["content"] is None) == (recorded_choice["message"]["content"] is None)
        assert mine["finish_reason"] == recorded_choice["finish_reason"] or recorded_choice["finish_reason"] == "length"
    if modern(item):
        assert set(ours["usage"]) == set(theirs["usage"])
        for details in ("prompt_tokens_details", "completion_tokens_details"):  # text/image/cache-write ones too
            assert set(ours["usage"][details]) == set(theirs["usage"][details]), details
    assert ours["model"] == theirs["model"] or item.request_body["model"] != theirs["model"].rsplit("-", 3)[0]


def compare_streams(item: Recorded, response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = response.text.split("\n\n")
    assert frames[-1] == "" and frames[-2] == "data: [DONE]"
    assert all(frame.startswith("data: {") for frame in frames[:-2])
    ours = [json.loads(frame[6:]) for frame in frames[:-2]]
    theirs = chunks_of(item)
    if item.azure_deployment:
        assert list(ours[0]) == list(theirs[0])  # Azure's prelude chunk
        ours, theirs = ours[1:], theirs[1:]
    if modern(item):
        assert same_keys(list(ours[0]), list(theirs[0]), item.ordered)
        if item.id not in MODEL_CHOICE:
            assert same_keys(list(ours[0]["choices"][0]["delta"]), list(theirs[0]["choices"][0]["delta"]), item.ordered)
        assert same_keys(list(ours[-1]), list(theirs[-1]), item.ordered)
    assert ("usage" in ours[-1]) == ("usage" in theirs[-1])
    assert (ours[-1].get("choices") == []) == (theirs[-1].get("choices") == [])
    body = item.request_body
    if "audio" in (body.get("modalities") or []) or body.get("moderation"):
        # Audio and moderation streams have shapes of their own: the same kinds of chunk, first
        # seen in the same order (how many of each is the real model's: longer speech, more).
        assert first_seen(ours) == first_seen(theirs)


def chunk_kind(chunk: dict) -> tuple:
    choices = chunk.get("choices")
    delta = choices[0].get("delta", {}) if choices else {}
    audio = delta.get("audio") or {}
    return (tuple(k for k in chunk if k != "obfuscation"), tuple(sorted(delta)), tuple(sorted(audio)),
            choices[0].get("finish_reason", "absent") if choices else None)


def first_seen(chunks: list[dict]) -> list[tuple]:
    kinds: list[tuple] = []
    for chunk in chunks:
        kind = chunk_kind(chunk)
        if kind not in kinds:
            kinds.append(kind)
    return kinds


# === The Responses API ===============================================================
#
# The same three checks for /v1/responses: answers (bodies, every stream event, stored
# responses, input items, token counts) against contracts/ and the SDK's types;
# accepted requests against the request contracts; and create requests replayed.

# Streams recorded before the Responses API numbered its events (2025-03): no event has
# `sequence_number` and no text delta has `logprobs`, both of which today's API always
# sends and the SDK's types require. The contract follows today's API, so these events
# are not held to it; the response objects they carry still are (and their replay is
# checked, less the event keys that era lacked).
PRE_SEQUENCE_NUMBER = {
    "test_openai_responses/test_openai_responses_stream#0": "recorded 2025-03-27, before `sequence_number` on events",
    "test_openai_responses/test_openai_responses_stream#1":
        "recorded 2025-03-27, before `sequence_number` on events and `logprobs` on text deltas",
}

# When each top-level field of the response object first appeared, read from the
# recordings themselves (the first one carrying it; none before it does, and every later
# one does, `billing` aside). A replayed answer is compared with a recording after
# dropping the fields younger than the recording: the fake answers as the API does today.
FIELD_SINCE = {
    "background": date(2025, 6, 10),
    "service_tier": date(2025, 6, 10),
    "max_tool_calls": date(2025, 6, 28),
    "top_logprobs": date(2025, 6, 28),
    "prompt_cache_key": date(2025, 8, 19),
    "safety_identifier": date(2025, 8, 19),
    "billing": date(2025, 9, 19),  # never in stream events nor in queued/in-progress objects
    "prompt_cache_retention": date(2025, 11, 6),
    "completed_at": date(2026, 1, 18),
    "frequency_penalty": date(2026, 1, 18),
    "presence_penalty": date(2026, 1, 18),
    "moderation": date(2026, 4, 29),
    "tool_usage": date(2026, 6, 25),
}
# Stream events carry `type` first, then the other keys alphabetically, since 2026-01;
# before, another order (`type, sequence_number, item_id, ...`), so their keys are
# compared as sets.
EVENT_KEY_ORDER_SINCE = date(2026, 1, 1)

# Requests that continue state only the real API holds: replayed alone, each could only
# get the fake's 404 for an id it never issued, so they are not replayed (their answers
# are checked in 1, their bodies in 2). The background requests are replayed: each starts
# afresh, and only the later polls (GET, cancel, resume) name the id it was given.
FOREIGN_STATE = {
    "previous_response_id": "continues a response the real API stored; the fake never issued that id",
    "conversation": "adds to a conversation the real API created; the fake never issued that id",
}

# Built-in tools whose calls the real model plans (how many searches, which files, what
# code, which MCP server tools, how many citations) and which the fake synthesizes by a
# fixed policy or not at all: the status and the top-level keys are checked, the output
# and the event sequence not.
RESPONSES_NOT_SYNTHESIZED = {
    "web_search": "how many searches and citations is the real model's plan; the fake searches once per tool",
    "web_search_preview": "as web_search",
    "file_search": "how many searches and citations is the real model's plan; the fake searches once per tool",
    "code_interpreter": "how many runs of code is the real model's plan; the fake runs one snippet per tool",
    "image_generation": "the real model's plan; the fake draws one image per tool",
}

# Where the real model chose differently from the synthesizer: the shape is checked, the
# output item types (and the stream's event sequence) not.
RESPONSES_MODEL_CHOICE = {
    "test_responses/test_responses_tool_calls#0": "the real model called get_weather twice with the same arguments",
    "test_responses/test_responses_tool_calls#1": "the real model called get_weather twice with the same arguments",
    "test_openai_responses/test_openai_previous_response_id_seed_auto_chains_through_retries#0":
        "with a tool on offer (tool_choice auto) the real model answered \"Hello\"; the fake calls the tool",
    "test_openai_responses/test_openai_responses_phase_streamed_on_part_start#0":
        "gpt-5.5 narrated in a `commentary` message before its function call (as its instructions asked)",
    "test_openai_responses/test_openai_responses_phase_streamed_on_part_start#1":
        "gpt-5.5 did not reason (reasoning_tokens 0), so it sent no reasoning item",
    "ResponsesTests/ResponsesWithPromptCache#0": "gpt-5.5 did not reason (reasoning_tokens 0), so it sent no reasoning item",
    "test_openai_prompt_cache/test_openai_responses_prompt_cache_e2e#0":
        "gpt-5.6-sol did not reason (reasoning_tokens 0), so it sent no reasoning item",
    "test_openai_prompt_cache/test_openai_responses_prompt_cache_e2e#1":
        "gpt-5.6-sol did not reason (reasoning_tokens 0), so it sent no reasoning item",
    "test_openai_responses/test_openai_responses_thinking_part_iter#0":
        "the real model wrote its reasoning summary in four parts; the fake writes one",
    "ResponsesToolTests/MCPToolAlwaysRequiresApproval(True)#1":
        "gpt-5 did not reason after the approval (reasoning_tokens 0), so it sent no reasoning item (replayed as a "
        "chain by tests/test_responses_tools.py)",
    "test_openai_responses/test_openai_responses_model_mcp_server_tool#0":
        "o4-mini reasoned again after the MCP call (a second reasoning item); the fake reasons once",
    "test_openai_responses/test_openai_responses_model_mcp_server_tool_stream#0":
        "o4-mini reasoned again after the MCP call (a second reasoning item); the fake reasons once",
    "test_openai_responses/test_openai_responses_model_mcp_server_tool#1":
        "asked a follow-up, the real model answered from the earlier MCP call's output; the fake calls the server "
        "again (the user's turn is last)",
    "test_openai_responses/test_openai_responses_compact_stateful_mode#2":
        "the real model's 1179-token answer took the context past compact_threshold 1000, so a compaction "
        "item followed; the fake's shorter answer keeps the context under it",
}

# Where the fake answers differently from the real API: each is a server bug to fix, kept
# here (strict xfail) so the suite stays green and an xpass says the fix landed.
RESPONSES_SERVER_MISMATCH: dict[str, str] = {}


def responses_answer_types(item: Recorded) -> tuple[str, Any]:
    """The contract and SDK type a recorded Responses answer must satisfy."""
    if item.streamed:
        return "responses.create.event", ResponseStreamEvent
    if item.path.endswith("/input_items"):
        return "responses.input_items.list.response", ResponseItemList
    if item.path.endswith("/input_tokens"):
        return "responses.input_tokens.count.response", InputTokenCountResponse
    if item.path.endswith("/compact"):
        # The SDK's CompactedResponse rejects the user messages a compaction keeps (the
        # contract's CompactedUserMessage correction): contract only.
        return "responses.compact.response", None
    return "responses.create.response", Response  # create, retrieve, cancel


@lru_cache(maxsize=1)
def stream_event_type() -> TypeAdapter:
    return TypeAdapter(ResponseStreamEvent)


def sdk_view(value: Any) -> Any:
    """A copy the SDK's strict types can check. They reject two real shapes the contract
    accepts (both `corrections` in contracts/overlays/responses.*.yaml) and the SDK's own,
    lenient, parser reads: `input_tokens_details` without `cache_write_tokens` (every answer
    before 2026-07), and a web search source `{"type": "api", "name": "oai-weather"}`
    (test_openai_responses_model_web_search_tool_stream). A third, a web search announced
    before it has an `action`, is left to `sdk_reads_leniently`."""
    value = copy.deepcopy(value)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("input_tokens_details"), dict):
                node["input_tokens_details"].setdefault("cache_write_tokens", 0)
            if node.get("type") == "search" and isinstance(node.get("sources"), list):
                node["sources"] = [s for s in node["sources"] if s.get("type") != "api"]
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(value)
    return value


# --- 1. recorded Responses answers satisfy the contracts -----------------------------

RESPONSES_200 = lazy("responses", lambda r: r.status == 200 and r.method != "DELETE")


@pytest.mark.parametrize("item", RESPONSES_200, ids=ident)
def test_recorded_responses_answers_satisfy_contracts(item, contracts):
    if item is None:
        recorded("responses")
    name, sdk_type = responses_answer_types(item)
    if not item.streamed:
        assert contracts.problems(name, item.response_json) == []
        if sdk_type is not None:
            sdk_type.model_validate(sdk_view(item.response_json))
        return
    events = chunks_of(item)
    if item.id in PRE_SEQUENCE_NUMBER:
        assert all("sequence_number" not in event for event in events), "no longer a pre-sequence_number stream"
        objects = [event["response"] for event in events if isinstance(event.get("response"), dict)]
        assert objects
        for value in objects:
            assert contracts.problems("responses.create.response", value) == []
            Response.model_validate(sdk_view(value))
        return
    for event in events:
        assert contracts.problems(name, event) == [], event["type"]
        if not sdk_reads_leniently(event):
            stream_event_type().validate_python(sdk_view(event))


# --- 2. accepted Responses requests pass our request contracts -----------------------

RESPONSES_REQUESTS = {
    "/responses": "responses.create.request",
    "/responses/input_tokens": "responses.input_tokens.count.request",
    "/responses/compact": "responses.compact.request",
}


def test_accepted_responses_requests_pass_our_contracts(contracts):
    checked: Counter = Counter()
    for item in recorded("responses"):
        name = RESPONSES_REQUESTS.get(item.path.split("/v1", 1)[1])
        if name is None or item.method != "POST" or item.status != 200:
            continue
        assert contracts.problems(name, item.request_body) == [], (item.id, contracts.problems(name, item.request_body))
        checked[name] += 1
    assert checked["responses.create.request"] >= 100
    assert checked["responses.input_tokens.count.request"] >= 2 and checked["responses.compact.request"] >= 2


# --- 3. replayed, the fake answers Responses requests with the recorded shape --------


def foreign_state(item: Recorded) -> str | None:
    body = item.request_body if isinstance(item.request_body, dict) else {}
    return next((reason for key, reason in FOREIGN_STATE.items() if body.get(key)), None)


def built_in_tools(item: Recorded) -> list[str]:
    tools = (item.request_body or {}).get("tools") or []
    return [tool.get("type") for tool in tools if tool.get("type") in RESPONSES_NOT_SYNTHESIZED]


def responses_replay_cases() -> list:
    items = lazy("responses", lambda r: r.method == "POST" and r.path.endswith("/responses")
                 and r.status in (200, 400) and foreign_state(r) is None)
    return [pytest.param(item, marks=pytest.mark.xfail(strict=True, reason=RESPONSES_SERVER_MISMATCH[item.id]))
            if item is not None and item.id in RESPONSES_SERVER_MISMATCH else item for item in items]


RESPONSES_REPLAYED = responses_replay_cases()


@pytest.mark.parametrize("item", RESPONSES_REPLAYED, ids=ident)
def test_replayed_responses_request_gets_the_recorded_answer(item, replay_server):
    if item is None:
        recorded("responses")
    response = send(replay_server, item)
    assert response.status_code == item.status, response.text[:600]
    if item.status >= 400:
        ours, theirs = response.json()["error"], item.response_json["error"]
        assert same_keys(list(ours), list(theirs), item.ordered)
        assert {k: ours.get(k) for k in ("type", "param", "code")} == {k: theirs.get(k) for k in ("type", "param", "code")}
        return
    planned = item.id not in RESPONSES_MODEL_CHOICE and not built_in_tools(item)  # output comparable
    if item.streamed:
        compare_response_streams(item, response, planned)
    else:
        compare_response_bodies(item, response.json(), planned)


def recorded_on(created_at: int) -> date:
    return datetime.fromtimestamp(created_at, timezone.utc).date()


def as_of(keys: list[str], day: date) -> list[str]:
    """Our response keys less those the API added after `day` (FIELD_SINCE)."""
    return [key for key in keys if key not in FIELD_SINCE or FIELD_SINCE[key] <= day]


def key_report(ours: list[str], theirs: list[str]) -> str:
    return (f"only ours: {[k for k in ours if k not in theirs]}, only recorded: {[k for k in theirs if k not in ours]}"
            f"\nours:     {ours}\nrecorded: {theirs}")


def ran_out(response: dict) -> bool:
    """The real model wrote past max_output_tokens: how long it writes is its choice, and
    the fake's answer may fit (ResponsesTests/MaxTokens: three haikus in 20 tokens)."""
    return response["status"] == "incomplete" and (response.get("incomplete_details") or {}).get("reason") == "max_output_tokens"


def item_types(response: dict) -> list[str]:
    return [item["type"] for item in response["output"]]


def compare_response_bodies(item: Recorded, ours: dict, planned: bool) -> None:
    theirs = item.response_json
    day = recorded_on(theirs["created_at"])
    assert same_keys(as_of(list(ours), day), list(theirs), item.ordered), key_report(as_of(list(ours), day), list(theirs))
    assert ours["object"] == theirs["object"]
    assert ours["status"] == theirs["status"] or ran_out(theirs)
    assert ours["model"] == theirs["model"]
    compare_echo(ours, theirs, day)
    compare_items(ours["output"], theirs["output"], day)
    if planned:
        assert item_types(ours) == item_types(theirs)


# Nested fields, as FIELD_SINCE for the top level: when each first appeared in the
# recordings (none before carries it, every later one does), and, for the one the API
# dropped, the first recording without it. A model-specific field (gpt-5.5's `mode`,
# `phase`, reasoning `content`) is compared as it is: the fake writes it for those models only.
REASONING_FIELD_SINCE = {"context": date(2026, 5, 28), "mode": date(2026, 7, 15)}
TOOL_FIELD_SINCE = {("function", "output_schema"): date(2026, 7, 28)}
TOOL_FIELD_UNTIL = {("web_search", "filters"): date(2026, 3, 28)}
ITEM_FIELD_SINCE = {("mcp_call", "status"): date(2025, 10, 23), ("search", "queries"): date(2026, 1, 18)}
# In `response.output_item.added`: a web search announced with its action's kind.
ADDED_FIELD_SINCE = {**ITEM_FIELD_SINCE, ("web_search_call", "action"): date(2026, 3, 28)}


def nested_keys(kind: str, keys: list[str], day: date, since: dict, until: dict | None = None) -> list[str]:
    """Our keys of an object of `kind` as the API wrote them on `day`."""
    kept = [k for k in keys if (kind, k) not in since or since[(kind, k)] <= day]
    return kept + [k for (owner, k), last in (until or {}).items() if owner == kind and day < last and k not in kept]


def compare_echo(ours: dict, theirs: dict, day: date) -> None:
    """The request as echoed: `reasoning` (keys, effort, context, mode, summary) and each tool's keys."""
    mine, recorded_reasoning = ours["reasoning"], theirs.get("reasoning") or {}
    recorded_keys = ["summary" if k == "generate_summary" else k for k in recorded_reasoning]  # its 2025-03 name
    mine_keys = [k for k in mine if k not in REASONING_FIELD_SINCE or REASONING_FIELD_SINCE[k] <= day]
    assert sorted(mine_keys) == sorted(recorded_keys), ("reasoning", mine, recorded_reasoning)
    for key in ("effort", "context", "mode"):
        if key in recorded_reasoning:
            assert mine[key] == recorded_reasoning[key], ("reasoning", key, mine, recorded_reasoning)
    assert len(ours["tools"]) == len(theirs.get("tools") or [])
    for tool, recorded_tool in zip(ours["tools"], theirs.get("tools") or []):
        kind = tool["type"]
        assert sorted(nested_keys(kind, list(tool), day, TOOL_FIELD_SINCE, TOOL_FIELD_UNTIL)) == sorted(recorded_tool), \
            ("tool", tool, recorded_tool)
        if kind == "image_generation":
            assert tool["n"] == recorded_tool["n"]
        if kind == "mcp":  # what could carry a secret comes back redacted
            assert tool["server_url"] == recorded_tool["server_url"] and tool["headers"] == recorded_tool["headers"]


def compare_items(ours: list[dict], theirs: list[dict], day: date, since: dict = ITEM_FIELD_SINCE) -> None:
    """The shape of each kind of output item both answers hold: the first of each, its keys
    (a web search's action's too; a message's `phase` there or not)."""
    mine_by_type = {item["type"]: item for item in reversed(ours)}
    for kind, recorded_item in {item["type"]: item for item in reversed(theirs)}.items():
        if kind not in mine_by_type:
            continue
        mine = mine_by_type[kind]
        assert sorted(nested_keys(kind, list(mine), day, since)) == sorted(recorded_item), (kind, list(mine), list(recorded_item))
        action, recorded_action = mine.get("action"), recorded_item.get("action")
        if isinstance(action, dict) and isinstance(recorded_action, dict) and recorded_action.get("type") == action.get("type"):
            keys = nested_keys(action["type"], list(action), day, since)
            if "sources" not in recorded_action:  # what `include` adds is the request's; the real API may send none
                keys = [k for k in keys if k != "sources"]
            assert sorted(keys) == sorted(k for k in recorded_action if k != "sources" or "sources" in action), \
                (kind, action, recorded_action)


def collapsed(types: list[str]) -> list[str]:
    """Event types with each run of one delta type taken once: how many deltas is chunking."""
    return [kind for i, kind in enumerate(types) if not (kind.endswith(".delta") and i and types[i - 1] == kind)]


def compare_response_streams(item: Recorded, response: httpx.Response, planned: bool) -> None:
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = response.text.split("\n\n")
    assert frames[-1] == "", "a stream ends with a blank line (and no [DONE])"
    ours = []
    for frame in frames[:-1]:
        event, data = frame.split("\n")
        assert event.startswith("event: ") and data.startswith("data: "), frame[:200]
        ours.append(json.loads(data[6:]))
        assert event[7:] == ours[-1]["type"]
    assert [e["sequence_number"] for e in ours] == list(range(len(ours)))
    assert all(event == json.loads(data)["type"] for event, data in item.sse)  # the oracle's own framing
    theirs = chunks_of(item)
    if planned:
        assert collapsed([e["type"] for e in ours]) == collapsed([e["type"] for e in theirs])
    background = bool(item.request_body.get("background"))
    day = recorded_on(theirs[0]["response"]["created_at"])
    # The response objects the stream opens and closes with. A background stream's later
    # events are replayed from storage with their keys shuffled (recorded): sets there.
    for index, ordered in ((0, item.ordered), (-1, item.ordered and not background)):
        mine, recorded_object = as_of(list(ours[index]["response"]), day), list(theirs[index]["response"])
        assert same_keys(mine, recorded_object, ordered), f"{ours[index]['type']}: " + key_report(mine, recorded_object)
    assert ours[-1]["type"] == theirs[-1]["type"] or ran_out(theirs[-1]["response"])
    assert ours[-1]["response"]["status"] == theirs[-1]["response"]["status"] or ran_out(theirs[-1]["response"])
    assert ours[-1]["response"]["model"] == theirs[-1]["response"]["model"]
    compare_echo(ours[-1]["response"], theirs[-1]["response"], day)
    compare_items(ours[-1]["response"]["output"], theirs[-1]["response"]["output"], day)
    added = lambda events: [e["item"] for e in events if e["type"] == "response.output_item.added"]  # noqa: E731
    compare_items(added(ours), added(theirs), day, ADDED_FIELD_SINCE)
    if planned:
        assert item_types(ours[-1]["response"]) == item_types(theirs[-1]["response"])
    # Text deltas carry their token's logprobs when `include` asks for them, and only then.
    first_delta = lambda events: next((e for e in events if e["type"] == "response.output_text.delta"), None)  # noqa: E731
    if item.id not in PRE_SEQUENCE_NUMBER and first_delta(ours) and first_delta(theirs):
        assert bool(first_delta(ours)["logprobs"]) == bool(first_delta(theirs)["logprobs"])
    # Each event type both streams carry has the same keys.
    if item.id not in PRE_SEQUENCE_NUMBER:
        mine_by_type = {e["type"]: list(e) for e in reversed(ours)}
        theirs_by_type = {e["type"]: list(e) for e in reversed(theirs)}
        ordered = item.ordered and not background and day >= EVENT_KEY_ORDER_SINCE
        for kind in mine_by_type.keys() & theirs_by_type.keys():
            assert same_keys(mine_by_type[kind], theirs_by_type[kind], ordered), f"{kind}: " + key_report(mine_by_type[kind], theirs_by_type[kind])


# === Files and Uploads ===============================================================
#
# The same three checks for /v1/files and /v1/uploads: every recorded answer satisfies the
# contracts and the SDK's types; every recorded JSON request the real API accepted passes
# the request contracts; and every recording is replayed as a session, in order, its ids
# translated as the fake issues its own (the file an upload completes into, the parts it
# is completed from), checking status, key order, values and error wording.
#
# Multipart bodies are replayed as recorded where the recorder kept them (the .NET records'
# parts, pydantic-ai's raw body). Where it did not (most FilesTests and UploadsTests), the
# body is rebuilt from what the answer says was uploaded: the filename, purpose and size
# (the bytes themselves are not recorded), in the recorded boundary; an upload's parts
# share its declared size evenly; `complete` names the parts the session added; an upload
# whose request body is absent is created with the answer's fields and `mime_type:
# text/jsonl` (what the one recorded body sends).

import re  # noqa: E402
from collections import defaultdict  # noqa: E402

from openai.types import FileDeleted, FileObject, Upload  # noqa: E402
from openai.types.uploads import UploadPart  # noqa: E402

from .support.recorded import all_recorded  # noqa: E402

FILE_ID = re.compile(r"^file-[1-9A-HJ-NP-Za-km-z]{22}$")
RECORDED_ID = re.compile(r"(file-[A-Za-z0-9]{22}|upload_[0-9a-f]{32}|part_[0-9a-f]{32})")


def files_family(item: Recorded) -> bool:
    return bool(re.search(r"/v1/(files|uploads)(/[^/]+){0,2}$", item.path))


def files_answer_types(item: Recorded) -> tuple[str, Any]:
    if "/uploads" in item.path:
        if item.path.endswith("/parts"):
            return "uploads.parts.create.response", UploadPart
        return "uploads.create.response", Upload
    if item.method == "DELETE":
        return "files.delete.response", FileDeleted
    return "files.create.response", FileObject


def sessions_of(belongs) -> list:
    """One case per recording with exchanges that `belongs` takes: those exchanges, in order."""
    try:
        items = [item for item in all_recorded() if belongs(item)]
    except BaseException:  # pytest's skip/fail outcome: let one placeholder carry it
        return [None]
    sessions: dict[str, list[Recorded]] = defaultdict(list)
    for item in items:
        sessions[item.source].append(item)
    return [pytest.param(entries, id=entries[0].id.split("#")[0]) for entries in sessions.values()]


# One case per recording that touches the family: its files and uploads exchanges.
FILES_SESSIONS = sessions_of(files_family)


def test_recorded_files_answers_satisfy_contracts(contracts):
    checked = Counter()
    for item in recorded("files") + recorded("uploads"):
        if item.status != 200:
            assert contracts.problems("error.response", item.response_json) == [], item.id
            assert list(item.response_json) == ["error", "detail"], item.id  # the files service's second object
            continue
        name, sdk_type = files_answer_types(item)
        assert contracts.problems(name, item.response_json) == [], (item.id, contracts.problems(name, item.response_json))
        sdk_type.model_validate(item.response_json)
        checked[name] += 1
    assert checked["files.create.response"] >= 20 and checked["uploads.create.response"] >= 5
    assert checked["files.delete.response"] >= 5 and checked["uploads.parts.create.response"] >= 3


def test_accepted_uploads_requests_pass_our_contracts(contracts):
    checked = 0
    for item in recorded("uploads"):
        if item.method == "POST" and item.status == 200 and isinstance(item.request_body, dict):
            name = "uploads.create.request" if item.path.endswith("/uploads") else "uploads.complete.request"
            assert contracts.problems(name, item.request_body) == [], item.id
            checked += 1
    assert checked >= 2


def multipart(boundary: str, fields: list[tuple[str, str | None, bytes]]) -> bytes:
    out = b""
    for name, filename, value in fields:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def boundary_of(item: Recorded) -> str:
    match = re.search(r'boundary="?([^";]+)"?', item.request_headers.get("content-type", ""))
    return match.group(1) if match else "mockserver-replay"


class FilesReplay:
    """One recording replayed: ids translated both ways, parts remembered per upload."""

    def __init__(self, server: RunningServer, entries: list[Recorded]) -> None:
        self.server = server
        self.entries = entries
        self.ids: dict[str, str] = {}  # recorded id -> ours
        self.parts: dict[str, list[str]] = defaultdict(list)  # our upload id -> our part ids, in order

    def translate(self, text: str) -> str:
        return RECORDED_ID.sub(lambda m: self.ids.get(m.group(1), m.group(1)), text)

    def part_size(self, item: Recorded) -> int:
        upload = item.path.split("/")[3]
        siblings = [e for e in self.entries if e.path.endswith("/parts") and e.path.split("/")[3] == upload]
        declared = next(e.response_json["bytes"] for e in self.entries if e.path.endswith("/uploads")
                        and e.response_json["id"] == upload)
        index = siblings.index(item)
        share = declared // len(siblings)
        return share if index < len(siblings) - 1 else declared - share * (len(siblings) - 1)

    def request(self, item: Recorded) -> tuple[dict, bytes | None]:
        """Headers and body to send for a recorded request."""
        answer = item.response_json
        if item.method != "POST":
            return {}, None
        if item.path.endswith("/files"):
            if item.request_raw is not None:
                return {"content-type": item.request_headers["content-type"]}, item.request_raw
            if item.status == 200:
                fields = [("file", answer["filename"], b"x" * answer["bytes"]), ("purpose", None, answer["purpose"].encode())]
            else:  # the refused purpose, named by the error; the file is not what it is about
                purpose = re.match(r"'([^']*)'", answer["error"]["message"]).group(1)
                fields = [("file", "images_dog_and_cat.png", b"\x89PNG"), ("purpose", None, purpose.encode())]
            boundary = boundary_of(item)
            return {"content-type": f'multipart/form-data; boundary="{boundary}"'}, multipart(boundary, fields)
        if item.path.endswith("/parts"):
            boundary = boundary_of(item)
            body = multipart(boundary, [("data", "part", b"p" * self.part_size(item))])
            return {"content-type": f'multipart/form-data; boundary="{boundary}"'}, body
        if item.path.endswith("/complete"):
            body = item.request_body if isinstance(item.request_body, dict) else {
                "part_ids": self.parts[self.translate(item.path.split("/")[3])]}
            return {"content-type": "application/json"}, self.translate(json.dumps(body)).encode()
        if item.path.endswith("/uploads"):
            body = item.request_body if isinstance(item.request_body, dict) else {
                "purpose": answer["purpose"], "filename": answer["filename"], "bytes": answer["bytes"],
                "mime_type": "text/jsonl"}
            return {"content-type": "application/json"}, json.dumps(body).encode()
        return {}, None  # cancel

    def send(self, item: Recorded) -> httpx.Response:
        headers, body = self.request(item)
        url = self.server.origin + self.translate(item.path)
        return httpx.request(item.method, url, content=body, headers={**headers, "authorization": "Bearer sk-replay"},
                             timeout=30)

    def learn(self, theirs: Any, ours: Any) -> None:
        if isinstance(theirs, dict) and isinstance(ours, dict):
            if isinstance(theirs.get("id"), str) and isinstance(ours.get("id"), str):
                self.ids.setdefault(theirs["id"], ours["id"])
            self.learn(theirs.get("file"), ours.get("file"))


def compare_file(ours: dict, theirs: dict, ordered: bool) -> None:
    assert same_keys(list(ours), list(theirs), ordered), (list(ours), list(theirs))
    assert FILE_ID.match(ours["id"]), ours["id"]
    for key in ("object", "purpose", "filename", "bytes", "status", "status_details"):
        assert ours[key] == theirs[key], key
    if theirs["expires_at"] is None:
        assert ours["expires_at"] is None
    else:
        assert ours["expires_at"] - ours["created_at"] == theirs["expires_at"] - theirs["created_at"]


@pytest.mark.parametrize("entries", FILES_SESSIONS)
def test_replayed_files_session_gets_the_recorded_answers(entries, replay_server):
    if entries is None:
        recorded("files")
    replay = FilesReplay(replay_server, entries)
    for item in entries:
        response = replay.send(item)
        assert response.status_code == item.status, (item.id, response.text[:600])
        assert response.headers["content-type"] == "application/json", item.id
        ours, theirs = response.json(), item.response_json
        if item.status >= 400:
            assert list(ours) == list(theirs) == ["error", "detail"], item.id
            expected = {**theirs["error"], "message": replay.translate(theirs["error"]["message"])}
            assert ours["error"] == expected and ours["detail"]["message"] == expected["message"], item.id
            continue
        replay.learn(theirs, ours)
        if "/uploads" in item.path:
            if item.path.endswith("/parts"):
                assert list(ours) == list(theirs) and ours["upload_id"] == replay.translate(theirs["upload_id"])
                replay.parts[ours["upload_id"]].append(ours["id"])
                continue
            assert list(ours) == list(theirs), item.id
            for key in ("object", "bytes", "filename", "purpose", "status"):
                assert ours[key] == theirs[key], (item.id, key)
            assert ours["expires_at"] - ours["created_at"] == theirs["expires_at"] - theirs["created_at"] == 3600
            if "file" in theirs:
                compare_file(ours["file"], theirs["file"], item.ordered)
                assert ours["file"]["created_at"] == ours["created_at"]  # as recorded: the upload's time
        elif item.method == "DELETE":
            assert same_keys(list(ours), list(theirs), item.ordered) and ours["deleted"] is True
            assert ours["id"] == replay.translate(theirs["id"]), item.id
        else:
            compare_file(ours, theirs, item.ordered)


# === Batches =========================================================================
#
# The same checks for /v1/batches: every recorded batch object and list satisfies the
# contracts and the SDK's types; every recorded create request passes the request contract;
# and every recording (the .NET BatchTests) is replayed as a session, its file uploaded as
# recorded and its ids translated, against a fake whose clock moves only when the replay says
# (`time_scale: 0`): a batch retrieved or cancelled right after its creation is still
# `validating`, as recorded, and a cancel is `cancelling` from the second it was made. The
# list recordings page through batches an earlier run left on the account (the newest
# cancelled while validating, then two in progress with one line each and none done yet,
# then a cancelled one, and more): the replay makes the same first, then checks each page's
# shape, key order, statuses and cursor.

from openai.types import Batch  # noqa: E402
from openai.pagination import SyncCursorPage  # noqa: E402

BATCH_ID = re.compile(r"^batch_[0-9a-f]{8}[0-9a-f]{4}8190[0-9a-f]{16}$")
RECORDED_BATCH = re.compile(r"batch_[0-9a-f]{32}")


def batch_list(item: Recorded) -> bool:
    return item.method == "GET" and item.path.endswith("/batches")


# One case per recording that touches /v1/batches: its batches and files exchanges.
BATCH_SESSIONS = sessions_of(lambda item: "/BatchTests/" in f"/{item.source}"
                             and re.search(r"/v1/(batches|files)(/[^/]+){0,2}$", item.path))


def test_recorded_batches_answers_satisfy_contracts(contracts):
    checked = Counter()
    for item in recorded("batches"):
        assert item.status == 200, item.id  # no recorded batch error
        name, sdk_type = (("batches.list.response", SyncCursorPage[Batch]) if batch_list(item)
                          else ("batches.create.response", Batch))
        assert contracts.problems(name, item.response_json) == [], (item.id, contracts.problems(name, item.response_json))
        sdk_type.model_validate(item.response_json)
        checked[name] += 1
    assert checked["batches.create.response"] >= 4 and checked["batches.list.response"] >= 6


def test_accepted_batch_requests_pass_our_contracts(contracts):
    bodies = [item.request_body for item in recorded("batches") if item.method == "POST" and item.path.endswith("/batches")]
    assert len(bodies) >= 2
    for body in bodies:
        assert contracts.problems("batches.create.request", body) == [], body


@pytest.fixture(scope="module")
def batch_replay_server():
    # A frozen clock, and lines that would take 1,000 s each: nothing moves unless the replay says.
    with RunningServer(Config(fixtures=[], time_scale=0, batch_lines_per_second=0.001)) as running:
        yield running


class BatchReplay(FilesReplay):
    """A files replay that also translates batch ids, and sends JSON bodies and queries."""

    def translate(self, text: str) -> str:
        return RECORDED_BATCH.sub(lambda m: self.ids.get(m.group(0), m.group(0)), super().translate(text))

    def send(self, item: Recorded) -> httpx.Response:
        if "/batches" not in item.path:
            return super().send(item)
        url = self.server.origin + self.translate(item.path)
        query = {key: self.translate(value) for key, value in item.query.items()}
        body = self.translate(json.dumps(item.request_body)).encode() if isinstance(item.request_body, dict) else None
        headers = {"authorization": "Bearer sk-replay", **({"content-type": "application/json"} if body else {})}
        return httpx.request(item.method, url, params=query, content=body, headers=headers, timeout=30)

    def make_listed_batches(self) -> None:
        """What the list recordings page through, oldest first: one more in progress (so the
        second page has more after it), a cancelled one, two in progress, a cancelled one."""
        origin = self.server.origin
        content = json.dumps({"custom_id": "request-1", "method": "POST", "url": "/v1/chat/completions",
                              "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "2+2?"}]}})
        file_id = httpx.post(f"{origin}/v1/files", files={"file": ("test-batch-file", content.encode())},
                             data={"purpose": "batch"}).json()["id"]
        for cancelled in (False, True, False, False, True):
            batch = httpx.post(f"{origin}/v1/batches", json={
                "input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h",
                "metadata": {"testMetadataKey": "test metadata value"}}).json()
            if cancelled:
                assert httpx.post(f"{origin}/v1/batches/{batch['id']}/cancel").json()["status"] == "cancelling"
        httpx.post(f"{origin}/__mock/clock", json={"advance": 1}).raise_for_status()


def compare_batch(replay: BatchReplay, ours: dict, theirs: dict, ordered: bool, values: bool = True) -> None:
    assert same_keys(list(ours), list(theirs), ordered), (list(ours), list(theirs))
    assert BATCH_ID.match(ours["id"]) and int(ours["id"][6:14], 16) == ours["created_at"], ours["id"]
    for key in ("object", "endpoint", "completion_window", "status", "errors", "output_file_id", "error_file_id",
                "metadata", "request_counts", "usage", "model"):
        assert ours[key] == theirs[key], (key, ours[key], theirs[key])
    for key in ours:
        if key.endswith("_at"):
            assert (ours[key] is None) == (theirs[key] is None), key
    assert ours["expires_at"] - ours["created_at"] == theirs["expires_at"] - theirs["created_at"] == 24 * 3600
    if values:  # a batch this session made (a listed one was made by the replay, its input file too)
        assert ours["input_file_id"] == replay.translate(theirs["input_file_id"])
        if theirs["cancelling_at"] is not None:
            assert ours["cancelling_at"] - ours["created_at"] == theirs["cancelling_at"] - theirs["created_at"]


@pytest.mark.parametrize("entries", BATCH_SESSIONS)
def test_replayed_batch_session_gets_the_recorded_answers(entries, batch_replay_server):
    if entries is None:
        recorded("batches")
    batch_replay_server.reset()
    replay = BatchReplay(batch_replay_server, entries)
    if any(batch_list(item) for item in entries):
        replay.make_listed_batches()
    for item in entries:
        response = replay.send(item)
        assert response.status_code == item.status, (item.id, response.text[:600])
        assert response.headers["content-type"] == "application/json", item.id
        ours, theirs = response.json(), item.response_json
        if "/files" in item.path:  # checked by the files replay
            replay.learn(theirs, ours)
            continue
        if batch_list(item):
            assert list(ours) == list(theirs) == ["object", "data", "first_id", "last_id", "has_more"], item.id
            assert len(ours["data"]) == len(theirs["data"]) and ours["has_more"] == theirs["has_more"], item.id
            for mine, recorded_batch in zip(ours["data"], theirs["data"]):
                replay.ids.setdefault(recorded_batch["id"], mine["id"])
                compare_batch(replay, mine, recorded_batch, item.ordered, values=False)
            assert (ours["first_id"], ours["last_id"]) == (ours["data"][0]["id"], ours["data"][-1]["id"])
            continue
        replay.learn(theirs, ours)
        compare_batch(replay, ours, theirs, item.ordered)
        assert len(response.content) == int(item.response_headers["content-length"]) + len(ours["id"]) - len(
            theirs["id"]) + len(ours["input_file_id"]) - len(theirs["input_file_id"]), item.id  # byte for byte

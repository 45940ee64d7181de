"""/v1/chat/completions through the official SDK: every body and chunk is checked
against contracts/ and parsed by the SDK's own types."""

from __future__ import annotations

import asyncio
import json

import httpx
import jsonschema_rs
import pytest
from openai import AzureOpenAI, OpenAI
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from pydantic import BaseModel

HELLO = [{"role": "user", "content": "Hello, world!"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Get the current local time in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def raw_chat(http: httpx.Client, **body) -> httpx.Response:
    return http.post("/v1/chat/completions", json=body)


def sse_chunks(response: httpx.Response) -> list[dict]:
    """The stream's JSON chunks; asserts the framing on the way."""
    text = response.text
    assert text.endswith("data: [DONE]\n\n")
    frames = text.split("\n\n")[:-1]
    assert all(f.startswith("data: ") for f in frames), frames[:3]
    return [json.loads(f[6:]) for f in frames[:-1]]


def test_plain_completion_shape(http, contracts):
    response = raw_chat(http, model="gpt-4o-mini", messages=HELLO)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert contracts.problems("chat.completions.create.response", body) == []
    ChatCompletion.model_validate(body)
    assert list(body) == ["id", "object", "created", "model", "choices", "usage", "service_tier", "system_fingerprint"]
    assert body["id"].startswith("chatcmpl-") and len(body["id"]) == len("chatcmpl-") + 29
    assert body["model"] == "gpt-4o-mini-2024-07-18"
    assert body["system_fingerprint"].startswith("fp_")
    choice = body["choices"][0]
    assert list(choice) == ["index", "message", "logprobs", "finish_reason"]
    assert list(choice["message"]) == ["role", "content", "refusal", "annotations"]
    assert choice["finish_reason"] == "stop" and choice["message"]["content"]
    # "Hello, world!" is 11 prompt tokens in the real API's usage (recorded).
    assert body["usage"]["prompt_tokens"] == 11
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]


def test_real_headers(http):
    response = raw_chat(http, model="gpt-4o-mini", messages=HELLO)
    headers = response.headers
    assert headers["x-request-id"].startswith("req_") and len(headers["x-request-id"]) == 36
    assert headers["openai-version"] == "2020-10-01"
    assert int(headers["openai-processing-ms"]) >= 1
    assert int(headers["x-ratelimit-limit-requests"]) > int(headers["x-ratelimit-remaining-requests"]) >= 0
    assert int(headers["x-ratelimit-limit-tokens"]) > int(headers["x-ratelimit-remaining-tokens"]) >= 0
    for name in ("x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"):
        assert headers[name].endswith("s"), headers[name]


def test_sdk_sync_and_async_agree(client, async_client):
    plain = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)

    async def run():
        return await async_client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)

    other = asyncio.run(run())
    assert plain.choices[0].message.content == other.choices[0].message.content


def test_stream_matches_plain_answer(client, http, contracts):
    plain = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    response = raw_chat(http, model="gpt-4o-mini", messages=HELLO, stream=True)
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    chunks = sse_chunks(response)
    for chunk in chunks:
        assert contracts.problems("chat.completions.create.chunk", chunk) == []
        ChatCompletionChunk.model_validate(chunk)
    assert len({c["id"] for c in chunks}) == 1 and len({c["created"] for c in chunks}) == 1
    first = chunks[0]["choices"][0]["delta"]
    assert first == {"role": "assistant", "content": "", "refusal": None}
    assert all("obfuscation" in c for c in chunks)
    assert all("usage" not in c for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["choices"][0]["delta"] == {}
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text == plain.choices[0].message.content


def test_obfuscation_pads_chunks_to_sixteen_bytes(http):
    """The rule every recorded real chunk follows: the chunk without its `obfuscation`
    member, plus the padding's length, is a multiple of 16 bytes."""
    for body in ({"stream_options": {"include_usage": True}}, {"n": 2}, {"tools": [WEATHER_TOOL], "messages": [{"role": "user", "content": "weather?"}]}):
        response = raw_chat(http, **{"model": "gpt-4o-mini", "messages": HELLO, "stream": True, **body})
        for frame in response.text.split("\n\n")[:-2]:
            raw = frame[len("data: "):]
            padding = json.loads(raw)["obfuscation"]
            member = ',"obfuscation":"' + padding + '"'
            assert member in raw and len(padding) < 16
            assert (len(raw.replace(member, "").encode()) + len(padding)) % 16 == 0


def test_reasoning_models_shape(http):
    """gpt-5 sends no `logprobs` key and a null fingerprint; o-series keep an fp_ fingerprint."""
    body = raw_chat(http, model="gpt-5", messages=HELLO).json()
    assert "logprobs" not in body["choices"][0] and body["system_fingerprint"] is None
    chunks = sse_chunks(raw_chat(http, model="gpt-5", messages=HELLO, stream=True))
    assert all("logprobs" not in c["choices"][0] for c in chunks)
    o3 = raw_chat(http, model="o3-mini", messages=HELLO).json()
    assert "logprobs" not in o3["choices"][0] and o3["system_fingerprint"].startswith("fp_")
    assert o3["model"] == "o3-mini-2025-01-31"
    legacy = raw_chat(http, model="gpt-3.5-turbo", messages=HELLO).json()
    assert legacy["system_fingerprint"] is None and legacy["model"] == "gpt-3.5-turbo-0125"


def test_body_is_pretty_printed_like_the_real_api(http):
    response = raw_chat(http, model="gpt-4o-mini", messages=HELLO)
    assert response.text.startswith('{\n  "id": "chatcmpl-') and response.text.endswith("}\n")


def test_stream_include_usage_and_no_obfuscation(http):
    response = raw_chat(
        http, model="gpt-4o-mini", messages=HELLO, stream=True,
        stream_options={"include_usage": True, "include_obfuscation": False},
    )
    chunks = sse_chunks(response)
    assert all("obfuscation" not in c for c in chunks)
    assert all(c["usage"] is None for c in chunks[:-1])
    last = chunks[-1]
    assert last["choices"] == [] and last["usage"]["prompt_tokens"] == 11


def test_sdk_stream_helpers(client):
    with client.chat.completions.stream(model="gpt-4o-mini", messages=HELLO) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    assert final.choices[0].message.content


def test_single_tool_call(client):
    completion = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "What's the weather in Paris?"}], tools=[WEATHER_TOOL, TIME_TOOL]
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    (call,) = choice.message.tool_calls
    assert call.function.name == "get_weather" and call.id.startswith("call_") and len(call.id) == 29
    arguments = json.loads(call.function.arguments)
    assert jsonschema_rs.validator_for(WEATHER_TOOL["function"]["parameters"]).is_valid(arguments)


def test_parallel_tool_calls_and_streamed_arguments(client, http):
    messages = [{"role": "user", "content": "What is the weather and the local time in Tokyo?"}]
    completion = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER_TOOL, TIME_TOOL])
    names = [c.function.name for c in completion.choices[0].message.tool_calls]
    assert sorted(names) == ["get_time", "get_weather"]
    single = client.chat.completions.create(
        model="gpt-4o", messages=messages, tools=[WEATHER_TOOL, TIME_TOOL], parallel_tool_calls=False
    )
    assert len(single.choices[0].message.tool_calls) == 1

    chunks = sse_chunks(raw_chat(http, model="gpt-4o", messages=messages, tools=[WEATHER_TOOL, TIME_TOOL], stream=True))
    # As recorded: parallel calls open with a bare role chunk, then each call's header.
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": None}
    deltas = [d for c in chunks for d in c["choices"][0]["delta"].get("tool_calls", [])]
    openings = [d for d in deltas if "id" in d]
    assert [d["index"] for d in openings] == [0, 1]
    assert all(d["function"]["arguments"] == "" and d["type"] == "function" for d in openings)
    for index, call in enumerate(completion.choices[0].message.tool_calls):
        streamed = "".join(d["function"]["arguments"] for d in deltas if d["index"] == index and "id" not in d)
        assert streamed == call.function.arguments
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_single_streamed_call_opens_with_role_and_header(http):
    """As recorded: one call's header arrives in the first chunk, with the role."""
    chunks = sse_chunks(raw_chat(http, model="gpt-4o", messages=[{"role": "user", "content": "Weather in Paris?"}],
                                 tools=[WEATHER_TOOL], stream=True))
    first = chunks[0]["choices"][0]["delta"]
    assert list(first) == ["role", "content", "tool_calls", "refusal"] and first["content"] is None
    assert first["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": ""}


@pytest.mark.parametrize(
    "tool_choice, expect",
    [
        ("none", None),
        ("required", "get_weather"),
        ({"type": "function", "function": {"name": "get_time"}}, "get_time"),
    ],
)
def test_tool_choice_is_honoured(client, tool_choice, expect):
    completion = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[WEATHER_TOOL, TIME_TOOL], tool_choice=tool_choice,
    )
    calls = completion.choices[0].message.tool_calls
    if expect is None:
        assert calls is None and completion.choices[0].message.content
    else:
        assert [c.function.name for c in calls] == [expect]
        # A forced function finishes with "stop" in the real API (recorded), "required" with "tool_calls".
        assert completion.choices[0].finish_reason == ("stop" if isinstance(tool_choice, dict) else "tool_calls")


def test_tool_result_gets_a_text_answer(client):
    """An agent loop terminates: after the tool's result, the model answers in text."""
    messages = [
        {"role": "user", "content": "What's the weather in Paris?"},
        {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18C and sunny"},
    ]
    completion = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER_TOOL])
    assert completion.choices[0].finish_reason == "stop" and completion.choices[0].message.content


def test_n_choices_differ_and_interleave_in_streams(client, http):
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, n=3)
    assert [c.index for c in completion.choices] == [0, 1, 2]
    assert len({c.message.content for c in completion.choices}) == 3
    chunks = sse_chunks(raw_chat(http, model="gpt-4o-mini", messages=HELLO, n=3, stream=True))
    assert [c["choices"][0]["index"] for c in chunks[:3]] == [0, 1, 2]
    for choice in completion.choices:
        text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"][0]["index"] == choice.index)
        assert text == choice.message.content


def test_logprobs(client):
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, logprobs=True, top_logprobs=3)
    choice = completion.choices[0]
    tokens = choice.logprobs.content
    assert "".join(t.token for t in tokens) == choice.message.content
    for t in tokens:
        assert t.logprob <= 0 and bytes(t.bytes).decode() == t.token
        assert len(t.top_logprobs) == 3 and t.top_logprobs[0].token == t.token
        assert [a.logprob for a in t.top_logprobs] == sorted((a.logprob for a in t.top_logprobs), reverse=True)


def test_max_tokens_truncates_with_length(client):
    full = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, seed=7)
    cut = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, seed=7, max_completion_tokens=3)
    legacy = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, seed=7, max_tokens=3)
    assert cut.choices[0].finish_reason == "length" and cut.usage.completion_tokens == 3
    assert legacy.choices[0].message.content == cut.choices[0].message.content
    assert full.choices[0].message.content.startswith(cut.choices[0].message.content)


def test_stop_sequence(client):
    full = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO).choices[0].message.content
    word = full.split()[3]
    stopped = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, stop=[word]).choices[0]
    assert word not in stopped.message.content and stopped.finish_reason == "stop"
    assert full.startswith(stopped.message.content)


def test_seed_determinism(client):
    a = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, seed=1)
    b = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, seed=1)
    c = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, seed=2)
    assert a.choices[0].message.content == b.choices[0].message.content != c.choices[0].message.content
    assert a.id != b.id  # ids stay unique, as the real API's are


def test_server_seed_changes_answers(make_server):
    answers = []
    for seed in (1, 1, 2):
        running = make_server(seed=seed)
        sdk = OpenAI(base_url=running.url, api_key="k", max_retries=0)
        answers.append(sdk.chat.completions.create(model="gpt-4o-mini", messages=HELLO).choices[0].message.content)
    assert answers[0] == answers[1] != answers[2]


def test_json_object_mode(client):
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Reply in JSON"}], response_format={"type": "json_object"}
    )
    assert isinstance(json.loads(completion.choices[0].message.content), dict)


COMPLEX_SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "status": {"type": "string", "enum": ["draft", "final"]},
        "owner": {"anyOf": [{"$ref": "#/$defs/person"}, {"type": "null"}]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "steps": {"type": "array", "items": {"$ref": "#/$defs/step"}},
    },
    "required": ["title", "status", "owner", "tags", "steps"],
    "additionalProperties": False,
    "$defs": {
        "person": {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}, "required": ["name", "age"], "additionalProperties": False},
        "step": {"type": "object", "properties": {"n": {"type": "number"}, "sub": {"type": "array", "items": {"$ref": "#/$defs/step"}}}, "required": ["n", "sub"], "additionalProperties": False},
    },
}


@pytest.mark.parametrize("seed", range(8))
def test_json_schema_strict_output_validates(client, seed):
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=HELLO, seed=seed,
        response_format={"type": "json_schema", "json_schema": {"name": "doc", "schema": COMPLEX_SCHEMA, "strict": True}},
    )
    value = json.loads(completion.choices[0].message.content)
    assert jsonschema_rs.validator_for(COMPLEX_SCHEMA).is_valid(value)


def test_parse_with_pydantic(client):
    class Step(BaseModel):
        explanation: str
        output: str

    class Solution(BaseModel):
        steps: list[Step]
        final_answer: str

    parsed = client.chat.completions.parse(
        model="gpt-4o-2024-08-06", messages=[{"role": "user", "content": "solve 8x + 7 = -23"}], response_format=Solution
    )
    assert isinstance(parsed.choices[0].message.parsed, Solution)


def test_reasoning_tokens_grow_with_effort(client):
    counts = []
    for effort in ("minimal", "low", "medium", "high"):
        completion = client.chat.completions.create(model="gpt-5", messages=HELLO, reasoning_effort=effort)
        details = completion.usage.completion_tokens_details
        counts.append(details.reasoning_tokens)
        assert details.reasoning_tokens % 64 == 0
        assert completion.usage.completion_tokens >= details.reasoning_tokens
    assert counts == sorted(counts) and counts[0] < counts[-1]
    none = client.chat.completions.create(model="gpt-5.2", messages=HELLO, reasoning_effort="none")
    assert none.usage.completion_tokens_details.reasoning_tokens == 0


def test_reasoning_can_use_the_whole_budget(client):
    completion = client.chat.completions.create(
        model="o3", messages=HELLO, reasoning_effort="high", max_completion_tokens=64
    )
    assert completion.choices[0].finish_reason == "length"
    assert completion.choices[0].message.content == ""
    assert completion.usage.completion_tokens_details.reasoning_tokens == 64


def test_prompt_caching_reports_cached_prefix(client):
    system = "You are a meticulous assistant. " * 300  # well over 1,024 tokens
    first = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "system", "content": system}, {"role": "user", "content": "one"}]
    )
    again = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "system", "content": system}, {"role": "user", "content": "two"}]
    )
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    cached = again.usage.prompt_tokens_details.cached_tokens
    assert cached >= 1024 and (cached - 1024) % 128 == 0 and cached < again.usage.prompt_tokens
    short = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    short = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert short.usage.prompt_tokens_details.cached_tokens == 0


def test_refusal_from_fixture_and_parse(make_server, tmp_path):
    (tmp_path / "refuse.yaml").write_text(
        "- match: {message: rob a bank}\n  response: {refusal: \"I'm sorry, I can't help with that.\"}\n"
    )
    running = make_server(fixtures=[tmp_path])
    sdk = OpenAI(base_url=running.url, api_key="k", max_retries=0)

    class Recipe(BaseModel):
        name: str

    parsed = sdk.chat.completions.parse(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "How do I rob a bank?"}], response_format=Recipe
    )
    message = parsed.choices[0].message
    assert message.refusal == "I'm sorry, I can't help with that." and message.parsed is None and message.content is None


def test_azure_client(server):
    azure = AzureOpenAI(azure_endpoint=server.origin, api_key="azure-key", api_version="2024-10-21", max_retries=0)
    completion = azure.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert completion.choices[0].message.content
    embedding = azure.embeddings.create(model="text-embedding-3-small", input="hi")
    assert len(embedding.data[0].embedding) == 1536


def test_azure_unknown_deployment(http):
    response = http.post(
        "/openai/deployments/no-such-deployment/chat/completions?api-version=2024-10-21",
        json={"messages": HELLO}, headers={"api-key": "k"},
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "DeploymentNotFound"
    assert "param" not in response.json()["error"]


def test_azure_v1_and_openai_v1_routes(server):
    sdk = OpenAI(base_url=f"{server.origin}/openai/v1", api_key="k", max_retries=0)
    assert sdk.chat.completions.create(model="gpt-4o-mini", messages=HELLO).choices[0].message.content


@pytest.mark.parametrize("model, extra", [
    ("gpt-5", {"verbosity": "low"}),
    ("gpt-5.1", {"prompt_cache_retention": "24h", "reasoning_effort": "none", "temperature": 0.2}),
    ("gpt-4.1", {"prompt_cache_retention": "24h"}),
    ("gpt-4o-mini", {"verbosity": "medium", "prompt_cache_retention": "in_memory"}),
])
def test_parameters_accepted_where_the_real_api_accepts_them(http, model, extra):
    response = raw_chat(http, model=model, messages=HELLO, **extra)
    assert response.status_code == 200, response.text

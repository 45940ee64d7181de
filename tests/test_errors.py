"""The bad-input table (README, "Errors"): every case gets the real status, type, code
and param in the OpenAI envelope, and never a 5xx."""

from __future__ import annotations

import openai
import pytest
from openai import OpenAI

MSG = [{"role": "user", "content": "hi"}]


def chat(**body):
    return {"model": "gpt-4o-mini", "messages": MSG, **body}


# (case id, path, json body, expected status, code, param, message start)
CASES = [
    ("wrong type", "/v1/chat/completions", chat(temperature="hot"), 400, "invalid_type", "temperature",
     "Invalid type for 'temperature': expected a decimal, but got a string instead."),
    ("missing messages", "/v1/chat/completions", {"model": "gpt-4o-mini"}, 400, "missing_required_parameter", "messages",
     "Missing required parameter: 'messages'."),
    ("missing model", "/v1/chat/completions", {"messages": MSG}, 400, "missing_required_parameter", "model",
     "Missing required parameter: 'model'."),
    ("unknown top-level", "/v1/chat/completions", chat(foo=1), 400, None, None,
     "Unrecognized request argument supplied: foo"),
    ("unknown nested", "/v1/chat/completions", chat(messages=[{"role": "user", "content": "x", "foo": 1}]), 400,
     "unknown_parameter", "messages[0].foo", "Unknown parameter: 'messages[0].foo'."),
    ("temperature too high", "/v1/chat/completions", chat(temperature=3), 400, "decimal_above_max_value", "temperature",
     "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 instead."),
    ("n too small", "/v1/chat/completions", chat(n=0), 400, "integer_below_min_value", "n",
     "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead."),
    ("top_p negative", "/v1/chat/completions", chat(top_p=-0.5), 400, "decimal_below_min_value", "top_p", None),
    ("empty messages", "/v1/chat/completions", chat(messages=[]), 400, "empty_array", "messages", None),
    ("bad role", "/v1/chat/completions", chat(messages=[{"role": "bot", "content": "x"}]), 400, "invalid_value",
     "messages[0].role", "Invalid value: 'bot'."),
    ("content wrong type", "/v1/chat/completions", chat(messages=[{"role": "user", "content": 5}]), 400, "invalid_type",
     "messages[0].content", "Invalid type for 'messages[0].content': expected one of a string or array of objects"),
    ("missing content", "/v1/chat/completions", chat(messages=[{"role": "user"}]), 400, "missing_required_parameter",
     "messages[0].content", None),
    ("bad response_format type", "/v1/chat/completions", chat(response_format={"type": "xml"}), 400, "invalid_value",
     "response_format.type", None),
    ("unknown model", "/v1/chat/completions", chat(model="gpt-nope"), 404, "model_not_found", None,
     "The model `gpt-nope` does not exist or you do not have access to it."),
    ("embedding model on chat", "/v1/chat/completions", chat(model="text-embedding-3-small"), 404, None, "model",
     "This is not a chat model"),
    ("max_tokens on reasoning model", "/v1/chat/completions", chat(model="o3", max_tokens=10), 400, "unsupported_parameter",
     "max_tokens", "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."),
    ("temperature on reasoning model", "/v1/chat/completions", chat(model="o4-mini", temperature=0.2), 400, "unsupported_value",
     "temperature", "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported."),
    ("stop on reasoning model", "/v1/chat/completions", chat(model="gpt-5-mini", stop=["\n"]), 400, "unsupported_parameter",
     "stop", "Unsupported parameter: 'stop' is not supported with this model."),
    ("logprobs on reasoning model", "/v1/chat/completions", chat(model="gpt-5", logprobs=True), 400, "unsupported_parameter",
     "logprobs", None),
    ("reasoning_effort on gpt-4o", "/v1/chat/completions", chat(reasoning_effort="low"), 400, None, None,
     "Unrecognized request argument supplied: reasoning_effort"),
    ("effort the model lacks", "/v1/chat/completions", chat(model="gpt-5", reasoning_effort="none"), 400, "unsupported_value",
     "reasoning_effort", None),
    ("system role on o1-mini", "/v1/chat/completions", chat(model="o1-mini", messages=[{"role": "developer", "content": "x"}, *MSG]),
     400, "unsupported_value", "messages[0].role", "Unsupported value: 'messages[0].role' does not support 'developer' with this model."),
    ("temperature on a search model", "/v1/chat/completions", chat(model="gpt-4o-search-preview", temperature=0.2), 400,
     None, None, "Model incompatible request argument supplied: temperature"),
    ("verbosity on gpt-4o", "/v1/chat/completions", chat(verbosity="low"), 400, "unsupported_value", "verbosity", None),
    ("max_tokens over the model's output", "/v1/chat/completions", chat(max_tokens=100_000), 400, "invalid_value", "max_tokens", None),
    ("context length", "/v1/chat/completions", chat(model="gpt-4", messages=[{"role": "user", "content": "word " * 9000}]),
     400, "context_length_exceeded", "messages", "This model's maximum context length is 8192 tokens."),
    ("stream_options without stream", "/v1/chat/completions", chat(stream_options={"include_usage": True}), 400, "invalid_value",
     "stream_options", "The 'stream_options' parameter is only allowed when 'stream' is enabled."),
    ("strict tool without schema", "/v1/chat/completions",
     chat(tools=[{"type": "function", "function": {"name": "f", "strict": True}}]), 400, "invalid_function_parameters",
     "tools[0].function.parameters", "Invalid schema for function 'f': In context=(), 'additionalProperties' is required to be supplied and to be false."),
    ("strict json_schema missing required", "/v1/chat/completions",
     chat(response_format={"type": "json_schema", "json_schema": {"name": "s", "strict": True, "schema": {
         "type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}}}),
     400, "invalid_json_schema", "response_format", None),
    ("json_object without the word json", "/v1/chat/completions", chat(response_format={"type": "json_object"}), 400, None,
     "messages", "'messages' must contain the word 'json' in some form"),
    ("tool_choice without tools", "/v1/chat/completions", chat(tool_choice="auto"), 400, None, "tool_choice", None),
    ("web search options on gpt-4o", "/v1/chat/completions", chat(model="gpt-4o", web_search_options={"search_context_size": "low"}),
     400, None, "web_search_options", "Web search options not supported with this model."),
    ("embeddings bad dimensions", "/v1/embeddings", {"input": "foo", "model": "text-embedding-3-small", "dimensions": -42},
     400, None, None, "-42 is less than the minimum of 1 - 'dimensions'"),
    ("embeddings missing input", "/v1/embeddings", {"model": "text-embedding-3-small"}, 400, None, None,
     "'input' is a required property"),
    ("embeddings empty input", "/v1/embeddings", {"model": "text-embedding-3-small", "input": ""}, 400, None, None,
     "'$.input' is invalid."),
    ("embeddings dimensions on ada", "/v1/embeddings", {"model": "text-embedding-ada-002", "input": "x", "dimensions": 8},
     400, None, None, "This model does not support specifying dimensions."),
    ("embeddings unknown model", "/v1/embeddings", {"model": "nope", "input": "x"}, 404, "model_not_found", None, None),
]


@pytest.mark.parametrize("case, path, body, status, code, param, message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_table(http, contracts, case, path, body, status, code, param, message):
    response = http.post(path, json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()
    assert contracts.problems("error.response", error) == []
    assert error["error"]["type"] == "invalid_request_error"
    assert error["error"]["code"] == code
    assert error["error"]["param"] == param
    if message:
        assert error["error"]["message"].startswith(message), error["error"]["message"]


def test_malformed_json(http):
    response = http.post("/v1/chat/completions", content=b'{"model": "gpt-4o-mini", "messages": [', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("We could not parse the JSON body of your request.")


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"42", b"null"])
def test_body_that_is_not_an_object(http, raw):
    response = http.post("/v1/chat/completions", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400 and "expected an object" in response.json()["error"]["message"]


def nested(depth: int) -> dict:
    node: dict = {"type": "string"}
    for _ in range(depth):
        node = {"type": "array", "items": node}
    return node


@pytest.mark.parametrize("depth", [150, 300, 900])
def test_deeply_nested_bodies_are_refused_cleanly(http, depth):
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"x": nested(depth)}}}}]
    response = http.post("/v1/chat/completions", json=chat(tools=tools))
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Invalid body: JSON nested more than 100 levels deep."
    fine = http.post("/v1/chat/completions", json=chat(tools=[{**tools[0], "function": {**tools[0]["function"], "parameters": {
        "type": "object", "properties": {"x": nested(60)}}}}]))
    assert fine.status_code == 200


def test_wrong_content_type(http):
    response = http.post("/v1/chat/completions", content=b"model=gpt-4o", headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsupported_content_type"
    ok = http.post("/v1/chat/completions", json=chat(), headers={"content-type": "application/json; charset=utf-8"})
    assert ok.status_code == 200


def test_unknown_route(http):
    response = http.post("/v1/nothing/here", json={})
    assert response.status_code == 404
    assert response.json()["error"] == {"message": "Invalid URL (POST /v1/nothing/here)", "type": "invalid_request_error", "param": None, "code": None}
    assert http.get("/").status_code == 404


def test_wrong_method(http):
    response = http.put("/v1/chat/completions", json=chat())
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"  # GET lists stored completions
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert http.delete("/v1/embeddings").status_code == 405


def test_body_over_the_limit(make_server):
    import httpx

    running = make_server(max_body_bytes=1000)
    big = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x" * 5000}]}
    response = httpx.post(f"{running.url}/chat/completions", json=big)
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "invalid_request_error"
    # Without a content-length (chunked upload), the limit still holds.
    chunked = httpx.post(f"{running.url}/chat/completions", content=iter([b'{"model": "', b"x" * 2000, b'"}']),
                         headers={"content-type": "application/json"})
    assert chunked.status_code == 413


def test_auth_required(make_server):
    running = make_server(require_auth=True, api_keys=["sk-good-key-1234567890"])
    import httpx

    missing = httpx.post(f"{running.url}/chat/completions", json=chat())
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "invalid_api_key"
    assert missing.json()["error"]["message"].startswith("You didn't provide an API key.")
    # The gateway answers a refused key, as recorded: no openai-* or rate-limit headers.
    assert missing.headers["content-type"] == "application/json; charset=utf-8"
    assert missing.headers["vary"] == "Origin" and missing.headers["x-request-id"].startswith("req_")
    assert not [h for h in missing.headers if h.startswith(("openai-", "x-ratelimit"))]
    bad = OpenAI(base_url=running.url, api_key="sk-bad-key-000000000000", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as wrong:
        bad.chat.completions.create(**chat())
    assert wrong.value.body["message"].startswith("Incorrect API key provided: sk-bad-k")
    good = OpenAI(base_url=running.url, api_key="sk-good-key-1234567890", max_retries=0)
    assert good.chat.completions.create(**chat()).choices


def test_auth_any_key_when_none_configured(make_server):
    import httpx

    running = make_server(require_auth=True)
    assert httpx.post(f"{running.url}/chat/completions", json=chat()).status_code == 401
    ok = httpx.post(f"{running.url}/chat/completions", json=chat(), headers={"authorization": "Bearer anything"})
    assert ok.status_code == 200
    azure = httpx.post(f"{running.url}/chat/completions", json=chat(), headers={"api-key": "anything"})
    assert azure.status_code == 200


def test_sdk_error_classes(client):
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="gpt-4o-mini", messages=MSG, temperature=9)
    assert bad.value.param == "temperature" and bad.value.code == "decimal_above_max_value"
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="gpt-nope", messages=MSG)
    assert missing.value.code == "model_not_found"
    assert bad.value.request_id.startswith("req_")

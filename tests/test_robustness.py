"""Hostile input, from outside: integers as floats, unbounded holds, the admin API and web
pages, URLs the real API does not redirect, limits it enforces everywhere."""

from __future__ import annotations

import base64

import httpx
import pytest
from openai import OpenAI

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Write a long story about the sea."}]}


# --- 1. integers sent as integral floats -----------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_chat_integers_as_floats_are_integers(http: httpx.Client, stream: bool):
    body = {**CHAT, "n": 2.0, "max_tokens": 5.0, "logprobs": True, "top_logprobs": 2.0, "seed": 7.0,
            "logit_bias": {"1234": 5.0}, "stream": stream}
    response = http.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    if not stream:
        choices = response.json()["choices"]
        assert [c["index"] for c in choices] == [0, 1]
        assert all(c["finish_reason"] == "length" for c in choices)
        assert all(len(c["logprobs"]["content"][0]["top_logprobs"]) == 2 for c in choices)
        assert response.json()["usage"]["completion_tokens"] == 10
    else:
        assert response.text.rstrip().endswith("data: [DONE]")
        assert '"index":1' in response.text


def test_chat_max_completion_tokens_as_float_through_the_sdk(client: OpenAI):
    completion = client.chat.completions.create(**CHAT, extra_body={"max_completion_tokens": 5.0})
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage.completion_tokens == 5


def test_responses_max_output_tokens_as_float(http: httpx.Client):
    body = {"model": "gpt-4o-mini", "input": "Write a long story about the sea.", "max_output_tokens": 20.0}
    response = http.post("/v1/responses", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["max_output_tokens"] == 20 and isinstance(answer["max_output_tokens"], int)
    assert answer["usage"]["output_tokens"] <= 20


def test_embeddings_dimensions_and_token_arrays_as_floats(client: OpenAI, http: httpx.Client):
    response = http.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": [[1.0, 2.0], [3.0]],
                                                 "dimensions": 1216.0, "encoding_format": "base64"})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert len(data) == 2 and len(base64.b64decode(data[0]["embedding"])) == 1216 * 4
    assert response.json()["usage"]["prompt_tokens"] == 3
    single = http.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": [1.0, 2.0]})
    assert single.status_code == 200, single.text


def test_a_non_integral_float_where_an_integer_belongs_is_the_real_400(http: httpx.Client):
    response = http.post("/v1/chat/completions", json={**CHAT, "n": 2.5})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "n"


def test_fault_parameters_and_rules_take_integral_floats(server, http: httpx.Client):
    response = http.post("/v1/chat/completions", json={**CHAT, "stream": True},
                         headers={"X-Mock-Fault": "stream_cut; after_chunks=3.0"})
    assert response.status_code == 200
    assert response.text.count("data: ") == 3
    rule = http.post("/__mock/faults", json={"match": {"endpoint": "embeddings"}, "fault": 503.0, "times": 1.0})
    assert rule.status_code == 201, rule.text
    try:
        first = http.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "x"})
        second = http.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "x"})
        assert (first.status_code, second.status_code) == (503, 200)
    finally:
        http.delete("/__mock/faults")


# --- 6. limits the real API enforces, everywhere it enforces them ------------------------

METADATA_ROUTES = [
    ("/v1/chat/completions", CHAT),
    ("/v1/responses", {"model": "gpt-4o-mini", "input": "Hello"}),
    ("/v1/conversations", {}),
]


@pytest.mark.parametrize("path,body", METADATA_ROUTES, ids=["chat", "responses", "conversations"])
def test_metadata_limits_are_one_rule_everywhere(http: httpx.Client, path: str, body: dict):
    at_limit = {f"key{i:02d}": "v" * 512 for i in range(15)} | {"k" * 64: "v"}
    assert http.post(path, json={**body, "metadata": at_limit}).status_code == 200

    too_many = http.post(path, json={**body, "metadata": {f"k{i}": "v" for i in range(17)}})
    assert too_many.status_code == 400
    assert too_many.json()["error"]["param"] == "metadata"
    assert too_many.json()["error"]["code"] == "object_above_max_properties"

    long_value = http.post(path, json={**body, "metadata": {"actual": "x" * 513}})
    assert long_value.status_code == 400
    error = long_value.json()["error"]
    assert (error["param"], error["code"]) == ("metadata.actual", "string_above_max_length")
    assert "Expected a string with maximum length 512, but got a string with length 513 instead." in error["message"]

    long_key = http.post(path, json={**body, "metadata": {"k" * 65: "v"}})
    assert long_key.status_code == 400
    assert long_key.json()["error"]["code"] == "string_above_max_length"
    assert "maximum length 64" in long_key.json()["error"]["message"]


def test_metadata_limits_on_updates(http: httpx.Client):
    conversation = http.post("/v1/conversations", json={}).json()
    response = http.post(f"/v1/conversations/{conversation['id']}", json={"metadata": {"k": "v" * 600}})
    assert response.status_code == 400 and response.json()["error"]["param"] == "metadata.k"
    stored = http.post("/v1/chat/completions", json={**CHAT, "store": True}).json()
    response = http.post(f"/v1/chat/completions/{stored['id']}", json={"metadata": {f"k{i}": "v" for i in range(17)}})
    assert response.status_code == 400 and response.json()["error"]["param"] == "metadata"


BIG = "hello " * 140_000  # some 140,000 tokens: over gpt-4o-mini's 128,000 in one go
HALF = "hello " * 70_000  # under it alone, over it twice


def _context_error(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text[:300]
    error = response.json()["error"]
    assert (error["code"], error["param"], error["type"]) == ("context_length_exceeded", "input", "invalid_request_error")
    assert error["message"].startswith("Your input exceeds the context window of this model.")


def test_responses_input_over_the_context_window(http: httpx.Client):
    _context_error(http.post("/v1/responses", json={"model": "gpt-4o-mini", "input": BIG}))
    chat = http.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": BIG}]})
    assert chat.status_code == 400 and chat.json()["error"]["code"] == "context_length_exceeded"


def test_responses_stream_over_the_context_window_ends_with_the_error_event(client: OpenAI):
    events = list(client.responses.create(model="gpt-4o-mini", input=BIG, stream=True))
    assert [e.type for e in events] == ["response.created", "response.in_progress", "error"]
    assert events[-1].code == "context_length_exceeded" and events[-1].sequence_number == 2


def test_chains_and_conversations_count_their_earlier_turns(http: httpx.Client):
    first = http.post("/v1/responses", json={"model": "gpt-4o-mini", "input": HALF})
    assert first.status_code == 200
    _context_error(http.post("/v1/responses", json={"model": "gpt-4o-mini", "input": HALF,
                                                    "previous_response_id": first.json()["id"]}))
    conversation = http.post("/v1/conversations", json={"items": [{"role": "user", "content": HALF}]}).json()
    _context_error(http.post("/v1/responses", json={"model": "gpt-4o-mini", "input": HALF,
                                                    "conversation": conversation["id"]}))
    # The refused turn is not appended to the conversation.
    items = http.get(f"/v1/conversations/{conversation['id']}/items").json()["data"]
    assert len(items) == 1


@pytest.mark.parametrize("path", ["/v1/responses/compact", "/v1/responses/input_tokens"])
def test_the_whole_responses_family_refuses_what_create_refuses(http: httpx.Client, path: str):
    refused = http.post("/v1/responses", json={"model": "text-embedding-3-small", "input": "Hello"})
    assert refused.status_code == 400
    response = http.post(path, json={"model": "text-embedding-3-small", "input": "Hello"})
    assert response.status_code == 400
    assert response.json()["error"] == refused.json()["error"]


@pytest.mark.parametrize("method,path", [("GET", "/v1/chat/completions/"), ("POST", "/v1/chat/completions/"),
                                         ("POST", "/v1/responses/"), ("GET", "/v1/responses/resp_1/")])
def test_a_trailing_slash_is_an_unknown_url_not_a_redirect(http: httpx.Client, method: str, path: str):
    response = http.request(method, path, json=CHAT if method == "POST" else None)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == f"Invalid URL ({method} {path})"
    assert "location" not in response.headers

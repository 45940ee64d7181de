"""Hostile input, from outside: integers as floats, unbounded holds, the admin API and web
pages, URLs the real API does not redirect, limits it enforces everywhere."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time

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


def test_an_integer_past_64_bits_is_a_range_error_not_a_server_error(http: httpx.Client):
    response = http.post("/v1/chat/completions", json={**CHAT, "seed": 1e30})
    assert response.status_code == 400
    assert (response.json()["error"]["param"], response.json()["error"]["code"]) == ("seed", "integer_above_max_value")
    # JSON integers too long for 64 bits are parsed as floats: the same error.
    response = http.post("/v1/chat/completions", content=b'{"model": "gpt-4o-mini", "messages": [{"role": "user", '
                                                         b'"content": "hi"}], "seed": 123456789012345678901234567890}',
                         headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]["param"] == "seed"
    item = {"type": "computer_call", "call_id": "c", "id": "cu_1", "status": "completed", "pending_safety_checks": [],
            "action": {"type": "click", "button": "left", "x": 1e300, "y": 2}}
    response = http.post("/v1/conversations", json={"items": [item]})
    assert response.status_code == 400 and response.json()["error"]["param"] == "items[0].action.x"


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


# --- 3. every hold is bounded, and ends when the client goes -----------------------------


def _journal(running) -> list[dict]:
    return httpx.get(f"{running.origin}/__mock/requests").json()["data"]


def _wait_for(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


@pytest.mark.parametrize("how", ["header", "rule", "scenario", "fixture"])
def test_max_hold_seconds_caps_every_delay(make_server, tmp_path, how: str):
    fixture = tmp_path / "slow.yaml"
    fixture.write_text("- match: {message: slow fixture}\n  response: {content: late, delay_ms: 1.0e+300}\n")
    running = make_server(
        max_hold_seconds=0.4, fixtures=[tmp_path],
        faults=[{"match": {"message": "slow rule"}, "fault": {"type": "latency", "delay_ms": 1e300}}],
        scenarios={"slow": [{"type": "latency", "delay_ms": 1e300}]},
    )
    message, headers = {
        "header": ("hi", {"X-Mock-Fault": "latency; delay_ms=1e300"}),
        "rule": ("slow rule", {}),
        "scenario": ("hi", {"X-Mock-Scenario": "slow"}),
        "fixture": ("slow fixture", {}),
    }[how]
    began = time.monotonic()
    response = httpx.post(f"{running.url}/chat/completions", headers=headers, timeout=10,
                          json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": message}]})
    took = time.monotonic() - began
    assert response.status_code == 200
    assert 0.35 < took < 2.0


def test_holds_stalls_and_pacing_share_one_bound(make_server):
    running = make_server(max_hold_seconds=0.5)
    began = time.monotonic()
    # 30 paced chunks at 100 ms each would take 3 s: the pacing stops at the bound, the rest goes at once.
    response = httpx.post(f"{running.url}/chat/completions", timeout=10,
                          headers={"X-Mock-Fault": "latency; delay_ms=200; chunk_delay_ms=100"},
                          json={**CHAT, "stream": True})
    assert response.text.rstrip().endswith("data: [DONE]")
    assert time.monotonic() - began < 1.5
    began = time.monotonic()
    with pytest.raises(httpx.HTTPError):  # the stall is closed at the bound
        httpx.post(f"{running.url}/chat/completions", timeout=10, headers={"X-Mock-Fault": "stall; after_chunks=2; hold_ms=1e12"},
                   json={**CHAT, "stream": True}).read()
    assert time.monotonic() - began < 2.5


def test_a_paced_stream_stops_when_its_client_goes(make_server):
    running = make_server()
    began = time.monotonic()
    with httpx.Client(timeout=10) as http:
        with http.stream("POST", f"{running.url}/chat/completions", json={**CHAT, "stream": True},
                         headers={"X-Mock-Fault": "latency; chunk_delay_ms=300"}) as response:
            frames = []
            for line in response.iter_lines():
                if line.startswith("data: "):
                    frames.append(line)
                if len(frames) == 3:
                    break
    entry = _wait_for(lambda: next((e for e in _journal(running) if e["outcome"] != "in_flight"), None))
    assert entry["outcome"] == "disconnected" and entry["status"] == 200
    assert entry["duration_ms"] < 3000  # a stream of dozens of chunks at 300 ms each was not paced to its end
    assert time.monotonic() - began < 4


def test_a_held_request_ends_when_its_client_goes(make_server):
    running = make_server(max_hold_seconds=30)
    with pytest.raises(httpx.TimeoutException):
        httpx.post(f"{running.url}/chat/completions", json=CHAT, timeout=0.3,
                   headers={"X-Mock-Fault": "latency; delay_ms=20000"})
    entry = _wait_for(lambda: next((e for e in _journal(running) if e["outcome"] != "in_flight"), None))
    assert entry["outcome"] == "disconnected" and entry["status"] == 0
    assert entry["duration_ms"] < 2000


def test_the_journal_shows_requests_in_flight_and_a_clear_drops_them(make_server):
    running = make_server()
    result: dict = {}

    def slow_call() -> None:
        result["response"] = httpx.post(f"{running.url}/chat/completions", json=CHAT, timeout=10,
                                        headers={"X-Mock-Fault": "latency; delay_ms=800"})

    worker = threading.Thread(target=slow_call)
    worker.start()
    entry = _wait_for(lambda: next(iter(_journal(running)), None))
    assert entry["outcome"] == "in_flight" and entry["status"] == 0 and entry["operation"] == "chat.completions.create"
    assert httpx.get(f"{running.origin}/__mock/verdict").json()["requests"] == 0  # the verdict waits for the end
    assert httpx.delete(f"{running.origin}/__mock/requests").status_code == 200
    worker.join()
    assert result["response"].status_code == 200
    httpx.post(f"{running.url}/embeddings", json={"model": "text-embedding-3-small", "input": "next scenario"})
    assert [e["operation"] for e in _journal(running)] == ["embeddings.create"]  # the slow one never came back


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
        return True
    except (socket.timeout, TimeoutError):
        return False
    except ConnectionResetError:
        return True


@pytest.mark.parametrize("sent", [b"", b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                                  b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"mo"])
def test_slow_clients_are_dropped_after_client_timeout_seconds(make_server, sent: bytes):
    running = make_server(client_timeout_seconds=0.5)
    with socket.create_connection(("127.0.0.1", running.port)) as sock:
        sock.sendall(sent)
        assert _closed_within(sock, 3.0)
    # A client that keeps a connection and sends its requests in good time is served.
    with httpx.Client(timeout=5) as http:
        for _ in range(3):
            assert http.post(f"{running.url}/embeddings", json={"model": "text-embedding-3-small", "input": "x"}).status_code == 200
            time.sleep(0.3)


def test_max_connections_answers_503_past_the_limit(make_server):
    running = make_server(max_connections=2)
    idle = [socket.create_connection(("127.0.0.1", running.port)) for _ in range(2)]
    try:
        time.sleep(0.1)
        response = httpx.post(f"{running.url}/embeddings", json={"model": "text-embedding-3-small", "input": "x"})
        assert response.status_code == 503
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.1)
    assert httpx.post(f"{running.url}/embeddings", json={"model": "text-embedding-3-small", "input": "x"}).status_code == 200


def test_a_client_that_times_out_and_retries_is_one_call_in_the_verdict(make_server):
    running = make_server()
    client = OpenAI(base_url=running.url, api_key="sk-test", max_retries=2, timeout=0.3)
    with pytest.raises(Exception):
        client.chat.completions.create(**CHAT, extra_headers={"X-Mock-Fault": "latency; delay_ms=3000"})
    entries = _wait_for(lambda: (lambda data: data if len(data) == 3 and all(e["outcome"] != "in_flight" for e in data)
                                 else None)(_journal(running)))
    assert [e["outcome"] for e in entries] == ["disconnected"] * 3
    assert [e["retry_count"] for e in entries] == [0, 1, 2]
    verdict = httpx.get(f"{running.origin}/__mock/verdict").json()
    assert verdict["calls"] == 1 and verdict["ok"], verdict


# --- 4. the admin API and web pages ------------------------------------------------------


def test_a_cross_origin_page_cannot_add_rules_or_reset(make_server):
    running = make_server()
    admin = running.origin
    stored = httpx.post(f"{running.url}/responses", json={"model": "gpt-4o-mini", "input": "keep me"}).json()
    rule = {"match": {"endpoint": "chat.completions"}, "fault": 429}
    refused = httpx.post(f"{admin}/__mock/faults", json=rule, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "admin_forbidden"
    assert httpx.get(f"{admin}/__mock/faults").json()["rules"] == []
    # A "simple" request a page may send without a preflight: text/plain, foreign origin.
    refused = httpx.post(f"{admin}/__mock/reset", content=b"{}",
                         headers={"Origin": "http://evil.example", "Content-Type": "text/plain"})
    assert refused.status_code == 403
    assert httpx.get(f"{running.url}/responses/{stored['id']}").status_code == 200  # nothing was emptied
    # Browsers that send Sec-Fetch-Site instead of (or beside) Origin are refused as well.
    assert httpx.post(f"{admin}/__mock/reset", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    # The server's own origin, and curl (neither header), are served.
    assert httpx.get(f"{admin}/__mock/faults", headers={"Origin": admin}).status_code == 200
    assert httpx.post(f"{admin}/__mock/faults", json=rule).status_code == 201


def test_dns_rebinding_cannot_read_the_journal(make_server):
    running = make_server()
    rebound = httpx.get(f"{running.origin}/__mock/requests", headers={"Host": f"attacker.example:{running.port}"})
    assert rebound.status_code == 403
    for host in (f"127.0.0.1:{running.port}", f"localhost:{running.port}", "[::1]", "mock"):
        assert httpx.get(f"{running.origin}/__mock/requests", headers={"Host": host}).status_code == 200, host


def test_all_of_127_slash_8_is_loopback(make_server):
    running = make_server()
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2")) as other:
        response = other.get(f"{running.origin}/__mock/requests")
    assert response.status_code == 200


def test_with_a_token_any_host_may_call_but_no_foreign_page(make_server):
    running = make_server(admin_token="s3cret")
    token = {"X-Mock-Admin-Token": "s3cret"}
    assert httpx.get(f"{running.origin}/__mock/requests").status_code == 401
    assert httpx.get(f"{running.origin}/__mock/requests", headers={**token, "Host": "ci-runner.internal:9"}).status_code == 200
    assert httpx.post(f"{running.origin}/__mock/reset", headers={**token, "Origin": "https://evil.example"}).status_code == 403


# --- sizes a client states, under --lenient (no value ranges) --------------------------


def test_lenient_sizes_are_bounded_by_the_real_maxima(make_server):
    running = make_server(lenient=True)
    with httpx.Client(base_url=running.origin, timeout=10) as http:
        began = time.monotonic()
        many = http.post("/v1/chat/completions", json={**CHAT, "n": 10**6})
        assert many.status_code == 200 and len(many.json()["choices"]) == 128
        deep = http.post("/v1/chat/completions", json={**CHAT, "logprobs": True, "top_logprobs": 10**6, "max_tokens": 5})
        assert deep.status_code == 200
        assert len(deep.json()["choices"][0]["logprobs"]["content"][0]["top_logprobs"]) == 20
        response = http.post("/v1/responses", json={"model": "gpt-4o-mini", "input": "hi", "top_logprobs": 10**6,
                                                    "include": ["message.output_text.logprobs"]})
        assert response.status_code == 200
        long = http.post("/v1/responses", json={"model": "gpt-4o-mini", "input": "hi", "max_output_tokens": 10**9})
        assert long.status_code == 200
        assert time.monotonic() - began < 5


# --- what a hostile tester sent next (fault headers, the admin API, header values) ---------


@pytest.mark.parametrize("value,problem", [
    ("429; retry_after_ms=" + "9" * 400, "retry_after_ms"),
    ("garbage; bytes=1e30", "bytes"),
    ('{"status": 429, "headers": {"x-a": "\\u20ac"}}', "x-a"),
    ('{"status": 429, "headers": {"x-a": "a\\r\\nb"}}', "x-a"),
    ('{"status": 429, "headers": {"content-length": "5"}}', "content-length"),
    ('{"status": 429, "headers": {"x a": "5"}}', "x a"),
    ("²", "unknown fault"),
])
def test_fault_headers_that_cannot_be_served_are_the_400(http: httpx.Client, value: str, problem: str):
    response = http.post("/v1/chat/completions", json=CHAT, headers={"X-Mock-Fault": value.encode("utf-8")})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_mock_fault" and problem in response.json()["error"]["message"]


@pytest.mark.parametrize("message", ["{wait} {foo}", "{wait} {", "}{"])
def test_any_braces_in_a_fault_message_stand(http: httpx.Client, message: str):
    fault = json.dumps({"status": 429, "message": message})
    response = http.post("/v1/chat/completions", json=CHAT, headers={"X-Mock-Fault": fault})
    assert response.status_code == 429
    assert response.json()["error"]["message"].endswith(message.replace("{wait}", "").lstrip()[-1:])


def test_garbage_is_bounded(make_server):
    running = make_server()
    with pytest.raises(httpx.HTTPError):
        httpx.post(f"{running.url}/chat/completions", json=CHAT, headers={"X-Mock-Fault": "garbage; bytes=1000000000"})
    assert httpx.get(f"{running.origin}/__mock/requests").status_code == 200


def test_nothing_a_client_sends_can_break_the_journal(make_server):
    running = make_server()
    for headers in ({"X-Mock-Fault": '{"status": 429, "headers": {"retry-after-ms": "abc"}}'},
                    {"x-stainless-retry-count": "9" * 30}, {"x-stainless-retry-count": "9" * 5000},
                    {"X-Mock-Fault": '{"status": 429, "retry_after": 1e300}'}):
        httpx.post(f"{running.url}/chat/completions", json=CHAT, headers=headers)
    assert httpx.get(f"{running.origin}/__mock/requests").status_code == 200
    assert httpx.get(f"{running.origin}/__mock/verdict").status_code == 200
    assert httpx.get(f"{running.origin}/__mock/requests?limit=%C2%B2").status_code == 400


def test_a_rule_regex_too_large_for_python_is_the_400(http: httpx.Client):
    response = http.post("/__mock/faults", json={"match": {"message": "a{99999999999}"}, "fault": 429})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_mock_rule"


def test_names_a_client_chose_are_escaped_in_headers(make_server):
    running = make_server(lenient=True)
    response = httpx.post(f"{running.url}/embeddings", json={"model": "a\u001fb", "input": "x"})
    assert response.status_code == 200 and response.headers["openai-model"] == "a%1Fb"
    response = httpx.post(f"{running.origin}/openai/deployments/a%1Fb/chat/completions?api-version=2024-10-21",
                          json=CHAT, headers={"api-key": "k"})
    assert response.status_code == 200 and response.headers["x-ms-deployment-name"] == "a%1Fb"


def test_query_integers_may_be_integral_floats(http: httpx.Client):
    http.post("/v1/chat/completions", json={**CHAT, "store": True})
    response = http.get("/v1/chat/completions?limit=2.0")
    assert response.status_code == 200 and len(response.json()["data"]) <= 2
    assert http.get("/v1/chat/completions?limit=2.5").status_code == 400

"""Any size a client states may be 10^9: the work is bounded by the answer's budget, the
memory by the memos' byte bounds, and the event loop is never blocked by one request.

- The answer memo and the tokenizer's caches are bounded by bytes as well as by count
  (a key weighs its bytes; an entry over an eighth of the budget is answered, not kept),
  and `POST /__mock/reset` empties them.
- `n` choices share the synthesized-token cap (16,384 tokens for the whole request).
- Large bodies are tokenized, and large embedding batches built, in a worker thread: a
  small request sent meanwhile is answered at once.
"""

from __future__ import annotations

import base64
import gc
import math
import threading
import time
from array import array
from typing import Any, Callable

import httpx
import orjson
import pytest

from mockserver.lru import LRU, approx_size, key_weight
from mockserver.synth.budget import MAX_TOKENS, MIN_TOKENS_PER_CHOICE, tokens_per_choice
from mockserver.tokens import OFF_LOOP_BYTES, Tokenizer, encoder

from .support.audit import problems
from .support.process import vm_rss_mb

BILLION = 10**9
HOSTILE = {"type": "json_schema", "json_schema": {"name": "doc", "schema": {
    "type": "object", "properties": {"items": {"type": "array", "minItems": BILLION, "items": {"type": "string"}}},
    "required": ["items"]}}}


def during(origin: str, work: Callable[[], Any]) -> tuple[Any, float, float]:
    """`work()` in a thread while small chat requests go, one after another, until it ends:
    its result, its seconds, and the slowest small request's seconds."""
    done: dict[str, Any] = {}

    def run() -> None:
        started = time.perf_counter()
        try:
            done["value"] = work()
        finally:
            done["seconds"] = time.perf_counter() - started

    thread = threading.Thread(target=run)
    thread.start()
    slowest, count = 0.0, 0
    with httpx.Client(base_url=origin, timeout=30) as http:
        time.sleep(0.05)  # the big request is on its way
        while True:
            count += 1
            started = time.perf_counter()
            small = http.post("/v1/chat/completions", json={
                "model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Small question {count}?"}]})
            slowest = max(slowest, time.perf_counter() - started)
            assert small.status_code == 200, small.text
            if not thread.is_alive():
                break
            time.sleep(0.01)
    thread.join()
    assert "value" in done, "the big request failed"
    return done["value"], done["seconds"], slowest


# --- the memos: bounded by bytes --------------------------------------------------------


def test_lru_is_bounded_by_bytes_as_well_as_count():
    memo = LRU(100, max_bytes=100_000)
    for index in range(100):
        memo.get(index, lambda: b"x" * 5_000)
    assert memo.weight <= memo.max_bytes and 10 <= len(memo) < 100
    assert 99 in memo and 0 not in memo  # the least recently used went first
    by_count = LRU(3, max_bytes=10**9)
    for index in range(10):
        by_count.get(index, lambda index=index: index)
    assert len(by_count) == 3


def test_an_entry_over_an_eighth_of_the_budget_is_answered_not_kept():
    memo = LRU(100, max_bytes=80_000)
    assert memo.get("heavy", lambda: b"x" * 20_000) == b"x" * 20_000
    assert "heavy" not in memo and memo.weight == 0
    # A key weighs what its bytes and str parts weigh: a big request body is not kept.
    body = b"{" * 20_000
    assert key_weight(("choices", body, None, 1)) == 20_007
    assert memo.get(("choices", body), lambda: 1) == 1 and len(memo) == 0
    # The caller's estimate is used when given.
    assert memo.get("light", lambda: b"x" * 20_000, weigh=lambda value: 10) and "light" in memo


def test_the_generic_size_estimate_stops_at_its_limit():
    huge = [{"token": str(i), "bytes": [1, 2, 3]} for i in range(50_000)]
    started = time.perf_counter()
    assert approx_size(huge, limit=10_000) > 10_000
    assert time.perf_counter() - started < 0.01
    assert 50_000 < approx_size(huge[:100]) < 200_000


def test_rss_stays_bounded_over_distinct_128_choice_logprob_requests(make_server):
    """40 distinct requests of 128 choices with 20 alternatives a token: each answer is tens
    of megabytes of objects; kept in the memo (1,024 entries) they took 33 MB a request."""
    running = make_server()
    runtime = running.runtime
    with httpx.Client(base_url=running.origin, timeout=60) as http:
        def ask(index: int) -> httpx.Response:
            response = http.post("/v1/chat/completions", json={
                "model": "gpt-4o-mini", "n": 128, "logprobs": True, "top_logprobs": 20, "max_completion_tokens": 16384,
                "messages": [{"role": "user", "content": f"Question number {index}?"}]})
            assert response.status_code == 200, response.text
            return response

        first = ask(0).json()
        assert len(first["choices"]) == 128
        assert all(len(c["logprobs"]["content"][0]["top_logprobs"]) == 20 for c in first["choices"])
        del first
        running.audit.drain()  # the audit keeps every body it sees (22 MB each): one of a small `n` is checked below
        gc.collect()
        before = vm_rss_mb()
        for index in range(1, 40):
            ask(index)
            running.audit.drain()
        gc.collect()
        grown = vm_rss_mb() - before
        small = http.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "n": 2, "logprobs": True, "top_logprobs": 20,
                                                        "messages": [{"role": "user", "content": "Question?"}]})
        assert problems(running.audit.drain()) == [] and small.status_code == 200
    assert grown < 400, f"the server grew by {grown:.0f} MB over 40 requests"
    assert runtime.memo.weight <= runtime.memo.max_bytes
    assert runtime.tokenizer._prompts.weight <= runtime.tokenizer._prompts.max_bytes


def test_reset_empties_the_memo_and_the_prompt_cache(make_server):
    running = make_server()
    runtime = running.runtime
    with httpx.Client(base_url=running.origin, timeout=10) as http:
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Remember me?"}]}
        first = http.post("/v1/chat/completions", json=body).json()
        http.post("/v1/chat/completions", json={**body, "stream": True})
        http.post("/v1/responses", json={"model": "gpt-4o-mini", "input": "Remember me?", "store": False})
        assert len(runtime.memo) >= 3 and runtime.memo.weight > 0 and len(runtime.tokenizer._prompts) >= 1
        assert http.post("/__mock/reset").status_code == 200
        assert len(runtime.memo) == 0 and runtime.memo.weight == 0
        assert len(runtime.tokenizer._prompts) == 0
        again = http.post("/v1/chat/completions", json=body).json()
    assert again["choices"] == first["choices"]  # rebuilt the same


# --- n choices share the synthesized budget ----------------------------------------------


def test_the_synthesized_cap_is_shared_by_the_choices():
    assert tokens_per_choice(1) == MAX_TOKENS
    assert tokens_per_choice(2) == MAX_TOKENS // 2
    assert tokens_per_choice(128) == MIN_TOKENS_PER_CHOICE
    assert tokens_per_choice(10**6) == MIN_TOKENS_PER_CHOICE


@pytest.mark.parametrize("stream", [False, True])
def test_128_choices_of_a_hostile_schema_answer_in_time(make_server, stream: bool):
    running = make_server()
    body = {"model": "gpt-4o-mini", "n": 128, "stream": stream, "response_format": HOSTILE,
            "messages": [{"role": "user", "content": "A very long list, please."}]}
    with httpx.Client(base_url=running.origin, timeout=60) as http:
        response, seconds, slowest = during(running.origin, lambda: http.post("/v1/chat/completions", json=body))
    assert response.status_code == 200, response.text
    assert seconds < 3 and slowest < 1, (seconds, slowest)
    if not stream:
        answer = response.json()
        assert len(answer["choices"]) == 128
        assert all(c["finish_reason"] == "length" for c in answer["choices"])
        assert all(c["message"]["content"].startswith('{"items":["') for c in answer["choices"])
        assert answer["usage"]["completion_tokens"] <= MAX_TOKENS
    else:
        assert response.text.count('"finish_reason":"length"') == 128
        assert len(response.content) < 50_000_000  # 658 MB when each choice had the whole cap


def test_128_choices_of_hostile_tool_calls_answer_in_time(make_server):
    running = make_server()
    tools = [{"type": "function", "function": {"name": f"list_{i}", "parameters": HOSTILE["json_schema"]["schema"]}}
             for i in range(3)]
    body = {"model": "gpt-4o-mini", "n": 128, "tools": tools, "tool_choice": "required",
            "messages": [{"role": "user", "content": "list"}]}
    with httpx.Client(base_url=running.origin, timeout=60) as http:
        response, seconds, slowest = during(running.origin, lambda: http.post("/v1/chat/completions", json=body))
    assert response.status_code == 200 and seconds < 3 and slowest < 1, (seconds, slowest)
    answer = response.json()
    assert all(c["finish_reason"] == "length" for c in answer["choices"])
    assert answer["usage"]["completion_tokens"] <= MAX_TOKENS


def test_ordinary_prose_is_never_cut_by_a_share(make_server):
    running = make_server()
    with httpx.Client(base_url=running.origin, timeout=30) as http:
        answer = http.post("/v1/chat/completions", json={
            "model": "gpt-4o-mini", "n": 128, "messages": [{"role": "user", "content": "Tell me something."}]}).json()
    assert len(answer["choices"]) == 128 and all(c["finish_reason"] == "stop" for c in answer["choices"])


# --- big bodies are tokenized off the loop -----------------------------------------------


def test_large_texts_count_as_small_ones_do():
    enc = encoder()
    text = "Lorem ipsum dolor sit amet, héllo wörld 12345. " * (OFF_LOOP_BYTES // 40)
    assert len(text) > OFF_LOOP_BYTES
    assert Tokenizer().count(text) == len(enc.encode_ordinary(text))
    prompt = Tokenizer().chat_prompt([{"role": "user", "content": text}, {"role": "user", "content": "hi"}])
    small = Tokenizer().chat_prompt([{"role": "user", "content": "x"}, {"role": "user", "content": "hi"}])
    assert len(prompt) - len(small) == len(enc.encode_ordinary(text)) - 1


@pytest.mark.parametrize("path,body,mib", [
    ("/v1/chat/completions", lambda text: {"model": "gpt-4.1", "messages": [{"role": "user", "content": text}]}, 20),
    ("/v1/responses/input_tokens", lambda text: {"model": "gpt-4.1", "input": text}, 8),
    ("/v1/embeddings", lambda text: {"model": "text-embedding-3-small", "input": text}, 8),
])
def test_a_large_body_does_not_block_other_requests(make_server, path: str, body, mib: int):
    running = make_server()
    text = ("The quick brown fox jumps over the lazy dog. " * (mib * 2**20 // 45 + 1))[: mib * 2**20]
    payload = orjson.dumps(body(text))
    del text
    with httpx.Client(base_url=running.origin, timeout=60) as http:
        response, seconds, slowest = during(
            running.origin, lambda: http.post(path, content=payload, headers={"content-type": "application/json"}))
    # Blocked, a small request would wait about as long as the big one takes; a loaded runner
    # slows both, so the bound is half a second or two thirds of the big request, whichever is more.
    assert slowest < max(0.5, seconds * 2 / 3), f"a small request waited {slowest:.2f}s while {path} took {seconds:.2f}s"
    if path.endswith("input_tokens"):
        assert response.status_code == 200 and response.json()["input_tokens"] > 1_000_000
    else:  # over the context window: the real 400, after counting
        assert response.status_code == 400 and "context length" in response.json()["error"]["message"]


# --- embeddings: built in bulk, off the loop ----------------------------------------------


def test_2048_large_embeddings_in_time_without_blocking(make_server):
    running = make_server()
    inputs = [f"Document number {i}: some text to embed." for i in range(2048)]
    body = {"model": "text-embedding-3-large", "input": inputs, "encoding_format": "base64"}
    with httpx.Client(base_url=running.origin, timeout=60) as http:
        response, seconds, slowest = during(running.origin, lambda: http.post("/v1/embeddings", json=body))
        alone = http.post("/v1/embeddings", json={**body, "input": inputs[7]}).json()
    assert response.status_code == 200
    assert seconds < 3 and slowest < 1, (seconds, slowest)  # 4.4 s and 4 s blocked before; 0.6 s alone
    data = response.json()["data"]
    assert [d["index"] for d in data] == list(range(2048))
    vector = array("f", base64.b64decode(data[7]["embedding"]))
    assert len(vector) == 3072 and abs(math.fsum(v * v for v in vector) - 1) < 1e-5
    assert alone["data"][0]["embedding"] == data[7]["embedding"]  # the same text, the same vector


def test_embedding_floats_are_short_unit_and_pretty_printed_as_orjson_writes_them(make_server):
    running = make_server()
    with httpx.Client(base_url=running.origin, timeout=30) as http:
        response = http.post("/v1/embeddings", json={"model": "text-embedding-3-large", "input": [f"t{i}" for i in range(40)]})
        short = http.post("/v1/embeddings", json={"model": "text-embedding-3-large", "input": "t3", "dimensions": 5})
    assert response.content == orjson.dumps(orjson.loads(response.content), option=orjson.OPT_INDENT_2)
    vectors = [d["embedding"] for d in response.json()["data"]]
    assert all(len(v) == 3072 and abs(math.fsum(x * x for x in v) - 1) < 1e-6 for v in vectors)
    assert all(len(repr(x)) <= 14 for x in vectors[0])  # ten decimals at most, as short as the real ones
    assert len({tuple(v) for v in vectors}) == 40
    cut = short.json()["data"][0]["embedding"]
    scale = math.sqrt(math.fsum(x * x for x in vectors[3][:5]))
    assert len(cut) == 5 and all(abs(a / scale - b) < 1e-6 for a, b in zip(vectors[3][:5], cut))

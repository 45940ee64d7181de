"""Choosing when a fault fires: rule forms, scenarios, the header, the admin API and its
bad input, the journal's fields, the verdict's findings, and the rate limiter."""

from __future__ import annotations

import asyncio
import textwrap
import time
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from mockserver import create_app, load_config
from mockserver.yamlio import SourceError

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "rules"}]}


def post(running, body=None, headers=None, path="/chat/completions"):
    return httpx.post(f"{running.url}{path}", json=body or CHAT, headers=headers or {}, timeout=10)


def statuses(running, count, **kwargs) -> list[int]:
    return [post(running, **kwargs).status_code for _ in range(count)]


def add(running, spec) -> httpx.Response:
    return httpx.post(f"{running.origin}/__mock/faults", json=spec)


@pytest.mark.parametrize("schedule, expected", [
    ({"times": 2}, [429, 429, 200, 200, 200, 200]),
    ({"every": 3}, [200, 200, 429, 200, 200, 429]),
    ({"after": 4}, [200, 200, 200, 200, 429, 429]),
    ({"after": 1, "every": 2, "times": 1}, [200, 200, 429, 200, 200, 200]),
    ({}, [429] * 6),
])
def test_rule_schedules(make_server, schedule, expected):
    running = make_server(faults=[{"match": {"endpoint": "chat.completions"}, "fault": {"status": 429, "retry_after_ms": 1}, **schedule}])
    assert statuses(running, 6) == expected


def test_probability_is_seeded(make_server):
    sequences = []
    for seed in (7, 7, 8):
        running = make_server(seed=seed, faults=[{"fault": 503, "probability": 0.5}])
        sequences.append(statuses(running, 30))
    assert sequences[0] == sequences[1] != sequences[2]
    assert 5 < sequences[0].count(503) < 25


@pytest.mark.parametrize("match, hit, miss", [
    ({"model": "gpt-4o"}, {**CHAT, "model": "gpt-4o"}, CHAT),
    ({"message": "^boom$"}, {**CHAT, "messages": [{"role": "user", "content": "boom"}]}, CHAT),
    ({"body": {"temperature": 0}}, {**CHAT, "temperature": 0}, CHAT),
    ({"endpoint": "/v1/embeddings"}, None, CHAT),
])
def test_rule_matching(make_server, match, hit, miss):
    running = make_server(faults=[{"match": match, "fault": 500}])
    if hit is not None:
        assert post(running, hit).status_code == 500
    else:
        assert post(running, {"model": "text-embedding-3-small", "input": "x"}, path="/embeddings").status_code == 500
    assert post(running, miss).status_code == 200


def test_rule_matching_on_headers_and_method(make_server):
    running = make_server(faults=[{"match": {"headers": {"x-tenant": "noisy"}}, "fault": 503},
                                  {"match": {"method": "GET"}, "fault": 500}])
    assert post(running, headers={"X-Tenant": "noisy"}).status_code == 503
    assert post(running).status_code == 200
    assert httpx.get(f"{running.url}/models").status_code == 500


def test_scenario_fail_twice_then_succeed(make_server):
    running = make_server(scenarios={"flaky": [429, 429, "ok"]},
                          faults=[{"match": {"endpoint": "chat.completions"}, "scenario": "flaky"}])
    assert statuses(running, 5) == [429, 429, 200, 200, 200]
    sdk = OpenAI(base_url=running.url, api_key="k", max_retries=2)
    httpx.post(f"{running.origin}/__mock/reset")
    assert sdk.chat.completions.create(**CHAT).choices  # one line: fail twice, then succeed


def test_inline_steps_that_cycle(make_server):
    running = make_server(faults=[{"steps": [500, "ok"], "then": "cycle"}])
    assert statuses(running, 4) == [500, 200, 500, 200]


def test_scenario_by_header(make_server):
    running = make_server(scenarios={"flaky": [503, "ok"]})
    assert statuses(running, 3, headers={"X-Mock-Scenario": "flaky"}) == [503, 200, 200]
    unknown = post(running, headers={"X-Mock-Scenario": "nope"})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "invalid_mock_scenario"


@pytest.mark.parametrize("header, status", [
    ("429", 429), ("500", 500), ("503", 503), ("insufficient_quota", 429), ("slow_down", 503),
    ('{"status": 504}', 504), ("ok", 200), ("429; retry-after-ms=5; attempts=1", 429),
])
def test_header_values(server, header, status):
    response = httpx.post(f"{server.url}/chat/completions", json=CHAT, headers={"X-Mock-Fault": header})
    assert response.status_code == status
    if status >= 400:
        assert response.json()["error"]["message"]


def test_header_attempts_counts_sdk_retries(server):
    sdk = OpenAI(base_url=server.url, api_key="k", max_retries=3)
    started = time.monotonic()
    completion = sdk.chat.completions.create(**CHAT, extra_headers={"X-Mock-Fault": "503; attempts=2"})
    assert completion.choices and time.monotonic() - started >= 0.5  # two SDK backoffs


def test_custom_headers_env_targets_a_whole_program(server, tmp_path):
    """OPENAI_CUSTOM_HEADERS puts the header on every request of an unmodified program."""
    import subprocess
    import sys

    program = "from openai import OpenAI\ntry:\n    OpenAI(max_retries=0).chat.completions.create(model='gpt-4o-mini', messages=[{'role': 'user', 'content': 'x'}])\nexcept Exception as e:\n    print(type(e).__name__)\n"
    env = {"PATH": "/usr/bin:/bin", "OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": "k", "OPENAI_CUSTOM_HEADERS": "X-Mock-Fault: 429"}
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=60)
    assert result.stdout.strip() == "RateLimitError", result.stderr


@pytest.mark.parametrize("header, problem", [
    ("430x", "unknown fault"), ("timeout; foo=1", "unknown fault parameter"), ("latency; status=500", "does not apply"),
    ("{nope", "not valid JSON"), ("429; retry-after=-2", "must be a number"),
])
def test_bad_header_is_a_400(server, header, problem):
    response = httpx.post(f"{server.url}/chat/completions", json=CHAT, headers={"X-Mock-Fault": header})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_mock_fault" and problem in response.json()["error"]["message"]


def test_counters_advance_before_the_delay(make_server):
    """A retry sent while the first attempt is still held sees the next step."""
    running = make_server(faults=[{"steps": [{"type": "timeout", "hold_ms": 1500, "then": "answer"}, 429]}])

    async def both():
        async with httpx.AsyncClient(base_url=running.url, timeout=10) as http:
            slow = asyncio.create_task(http.post("/chat/completions", json=CHAT))
            await asyncio.sleep(0.2)
            quick = await http.post("/chat/completions", json=CHAT)
            return quick.status_code, (await slow).status_code

    assert asyncio.run(both()) == (429, 200)


# --- the admin API --------------------------------------------------------------------


def test_admin_add_list_delete(server):
    created = add(server, {"name": "mine", "match": {"model": "gpt-nope-zero"}, "fault": 500, "times": 1})
    assert created.status_code == 201 and created.json()["id"].startswith("rule_")
    listed = httpx.get(f"{server.origin}/__mock/faults").json()
    assert any(r["name"] == "mine" for r in listed["rules"])
    assert httpx.delete(f"{server.origin}/__mock/faults/{created.json()['id']}").json()["deleted"] is True
    assert httpx.delete(f"{server.origin}/__mock/faults/{created.json()['id']}").status_code == 404
    add(server, {"match": {"model": "gpt-nope-zero"}, "fault": 500})
    assert httpx.delete(f"{server.origin}/__mock/faults").json() == {"deleted": 1}


@pytest.mark.parametrize("spec, problem", [
    ({"fault": 200}, "error status"),
    ({"fault": {"type": "teleport"}}, "unknown fault type"),
    ({"fault": 500, "times": 0}, "'times' must be an integer >= 1"),
    ({"fault": 500, "probability": 2}, "between 0 and 1"),
    ({"fault": 500, "steps": [500]}, "exactly one of"),
    ({"match": {"endpoint": "nowhere"}, "fault": 500}, "unknown endpoint"),
    ({"match": {"modle": "x"}, "fault": 500}, "unknown key 'modle'"),
    ({"scenario": "missing"}, "unknown scenario"),
])
def test_admin_bad_rules_are_400_and_change_nothing(server, spec, problem):
    before = httpx.get(f"{server.origin}/__mock/faults").json()["rules"]
    response = add(server, spec)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["code"] == "invalid_mock_rule" and problem in error["message"]
    assert httpx.get(f"{server.origin}/__mock/faults").json()["rules"] == before


def test_admin_malformed_json_and_non_objects(server):
    response = httpx.post(f"{server.origin}/__mock/faults", content=b"{", headers={"content-type": "application/json"})
    assert response.status_code == 400
    listed = httpx.post(f"{server.origin}/__mock/faults", json=[1, 2])
    assert listed.status_code == 400 and "expected an object" in listed.json()["error"]["message"]


def test_admin_scenarios_and_reset(make_server):
    running = make_server()
    created = httpx.post(f"{running.origin}/__mock/scenarios", json={"name": "twice", "steps": [500, 500, "ok"]})
    assert created.status_code == 201
    assert statuses(running, 3, headers={"X-Mock-Scenario": "twice"}) == [500, 500, 200]
    assert httpx.post(f"{running.origin}/__mock/scenarios", json={"name": "bad", "steps": []}).status_code == 400
    add(running, {"fault": 500})
    assert httpx.post(f"{running.origin}/__mock/reset").json() == {"reset": True}
    assert post(running).status_code == 200
    assert len(httpx.get(f"{running.origin}/__mock/requests").json()["data"]) == 1


def test_admin_needs_the_token_when_one_is_set(make_server):
    running = make_server(admin_token="s3cret")
    assert httpx.get(f"{running.origin}/__mock/faults").status_code == 401
    assert httpx.get(f"{running.origin}/__mock/faults", headers={"X-Mock-Admin-Token": "s3cret"}).status_code == 200
    assert httpx.get(f"{running.origin}/__mock/faults", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_admin_answers_only_on_loopback():
    from starlette.testclient import TestClient

    app = create_app()
    remote = TestClient(app, client=("203.0.113.9", 4000))
    assert remote.get("/__mock/faults").status_code == 403
    assert TestClient(app, client=("127.0.0.1", 4000)).get("/__mock/faults").status_code == 200


# --- config ----------------------------------------------------------------------------


def test_config_rules_and_scenarios(tmp_path):
    path = tmp_path / "mockserver.yaml"
    path.write_text(textwrap.dedent("""
        scenarios:
          flaky: [503, ok]
        faults:
          - match: {endpoint: chat.completions, model: gpt-4o}
            fault: {status: 429, retry_after_ms: 50}
            times: 2
          - match: {endpoint: embeddings}
            scenario: flaky
    """))
    config = load_config(path)
    app = create_app(config)
    assert len(app.state.runtime.faults.config_rules) == 2


def test_readme_chaos_config_example(make_server, tmp_path):
    """The config example in README's "Chaos testing" loads and does what it says."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = readme.split("```yaml\n# mockserver.yaml\nseed: 7\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "mockserver.yaml"
    path.write_text("seed: 7\n" + block)
    running = make_server(load_config(path))
    # rule 1 fires twice; then rule 4's steps (rule 3 wants streams): 429, 429, then ok for good
    assert statuses(running, 6) == [429, 429, 429, 429, 200, 200]
    tenants = [post(running, {"model": "text-embedding-3-small", "input": "x"}, {"x-tenant": "flaky"}, "/embeddings")
               for _ in range(40)]
    failed = sum(r.status_code == 503 for r in tenants)
    assert 0 < failed < 20  # probability 0.2, seeded
    again = make_server(load_config(path))
    assert [r.status_code for r in (post(again, {"model": "text-embedding-3-small", "input": "x"}, {"x-tenant": "flaky"},
                                         "/embeddings") for _ in range(40))] == [r.status_code for r in tenants]


@pytest.mark.parametrize("text, line, problem", [
    ("faults:\n  - match: {endpoint: chat.completions}\n    fault: {status: 700}\n", 3, "error status"),
    ("faults:\n  - fault: 500\n    evry: 2\n", 3, "unknown key 'evry'"),
    ("faults:\n  - scenario: nope\n", 2, "unknown scenario"),
    ("scenarios:\n  flaky: []\n", 2, "non-empty list"),
    ("faults:\n  - fault: {type: latency, delay_ms: -5}\n", 2, "must be a number"),
    ("faults: 5\n", 1, "must be a list"),
])
def test_broken_fault_config_names_the_line(tmp_path, text, line, problem):
    path = tmp_path / "mockserver.yaml"
    path.write_text(text)
    with pytest.raises(SourceError) as failure:
        create_app(load_config(path))
    assert failure.value.line == line, str(failure.value)
    assert problem in str(failure.value) and str(path) in str(failure.value)


# --- the journal -----------------------------------------------------------------------


def test_journal_records_what_happened(make_server, tmp_path):
    (tmp_path / "f.yaml").write_text("- name: greet\n  match: {message: '^hello$'}\n  response: {content: hi}\n")
    running = make_server(fixtures=[tmp_path], faults=[{"match": {"message": "^fail$"}, "fault": 503, "times": 1}])
    post(running, {**CHAT, "messages": [{"role": "user", "content": "hello"}]}, headers={"x-stainless-retry-count": "0"})
    post(running, {**CHAT, "messages": [{"role": "user", "content": "fail"}], "stream": True})
    data = httpx.get(f"{running.origin}/__mock/requests").json()["data"]
    assert [e["fixture"] for e in data] == ["greet", None]
    assert data[0]["retry_count"] == 0 and data[0]["status"] == 200 and data[0]["model"] == "gpt-4o-mini"
    assert data[1]["fault"].startswith("503") and data[1]["status"] == 503 and data[1]["stream"] is True
    assert data[1]["request_id"].startswith("req_") and data[1]["duration_ms"] > 0
    assert httpx.get(f"{running.origin}/__mock/requests?limit=1").json()["data"] == data[-1:]
    assert [e.id for e in running.runtime.journal.entries()] == [e["id"] for e in data]  # the same, from Python


def test_journal_is_bounded(make_server):
    running = make_server(journal_size=3)
    statuses(running, 5)
    assert len(running.runtime.journal.entries()) == 3


# --- the verdict on misbehaving clients ------------------------------------------------


def raw_client_retries(running, gaps: list[float], headers=None):
    for gap in [0.0, *gaps]:
        time.sleep(gap)
        post(running, headers=headers)


def test_verdict_retry_after_ignored(make_server):
    running = make_server(faults=[{"fault": {"status": 429, "retry_after_ms": 500}, "times": 2}])
    raw_client_retries(running, [0.05, 0.6])
    kinds = [f["kind"] for f in httpx.get(f"{running.origin}/__mock/verdict").json()["findings"]]
    assert kinds == ["retry_after_ignored"]


def test_verdict_no_backoff_and_storm(make_server):
    running = make_server(retry_budget=3, faults=[{"fault": 500}])
    raw_client_retries(running, [0.0] * 5)
    verdict = httpx.get(f"{running.origin}/__mock/verdict").json()
    kinds = {f["kind"] for f in verdict["findings"]}
    assert {"no_backoff", "retry_storm"} <= kinds and verdict["ok"] is False
    storm = next(f for f in verdict["findings"] if f["kind"] == "retry_storm")
    assert len(storm["requests"]) == 6


def test_verdict_retried_after_should_retry_false(make_server):
    running = make_server(faults=[{"fault": {"status": 503, "should_retry": False}, "times": 1}])
    raw_client_retries(running, [0.3])
    kinds = [f["kind"] for f in httpx.get(f"{running.origin}/__mock/verdict").json()["findings"]]
    assert kinds == ["retried_non_retryable"]


def test_verdict_from_python(make_server):
    from mockserver.verdict import judge

    running = make_server()
    post(running)
    deadline = time.monotonic() + 2  # the server thread completes the entry just after the answer's last byte
    while time.monotonic() < deadline and [e.outcome for e in running.runtime.journal.entries()] in ([], ["in_flight"]):
        time.sleep(0.005)
    result = judge(running.runtime.journal.entries())
    assert result == {"requests": 1, "calls": 1, "ok": True, "findings": []}


# --- the rate limiter ------------------------------------------------------------------


def test_rate_limiter_requests_per_minute(make_server):
    running = make_server(enforce_rate_limits=True, rate_limits={"gpt-4o-mini": _limit(3, 1_000_000)})
    responses = [post(running) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["x-ratelimit-remaining-requests"] for r in responses[:3]] == ["2", "1", "0"]
    refused = responses[3]
    error = refused.json()["error"]
    assert error["code"] == "rate_limit_exceeded" and error["type"] == "requests"
    assert error["message"].startswith("Rate limit reached for gpt-4o-mini in organization org-mockserver on requests per min (RPM): Limit 3, Used 3, Requested 1.")
    wait = int(refused.headers["retry-after-ms"]) / 1000
    assert 15 <= wait <= 20.5 and refused.headers["retry-after"] == "20"  # 60 s / 3 per minute
    other_key = post(running, headers={"authorization": "Bearer another"})
    assert other_key.status_code == 200  # per API key


def test_rate_limiter_tokens_per_minute(make_server):
    running = make_server(enforce_rate_limits=True, rate_limits={"default": _limit(1000, 40)})
    body = {**CHAT, "max_completion_tokens": 25}
    first, second = post(running, body), post(running, body)
    assert first.status_code == 200 and second.status_code == 429
    assert second.json()["error"]["type"] == "tokens"
    huge = post(running, {**CHAT, "max_completion_tokens": 100})
    assert huge.status_code == 429 and huge.json()["error"]["message"].startswith("Request too large for gpt-4o-mini")


def test_sdk_waits_out_the_limiter(make_server):
    running = make_server(enforce_rate_limits=True, rate_limits={"default": _limit(120, 1_000_000)})
    sdk = OpenAI(base_url=running.url, api_key="k", max_retries=3)
    started = time.monotonic()
    for _ in range(121):
        sdk.chat.completions.create(**CHAT)
    assert time.monotonic() - started >= 0.4  # the 121st waited for a refill (0.5 s per request)


def _limit(requests: int, tokens: int):
    from mockserver.config import RateLimit

    return RateLimit(requests, tokens)

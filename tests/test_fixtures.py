"""Fixture files: matching rules, specificity, sequences, replay and rendering, strict
mode, and start-up errors for broken files."""

from __future__ import annotations

import json
import textwrap
import time

import httpx
import pytest
from openai import OpenAI

from mockserver import Config, create_app
from mockserver.fixtures import FixtureStore, Probe, load_fixtures
from mockserver.routing import resolve_endpoint
from mockserver.yamlio import SourceError

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


def write(tmp_path, text: str, name: str = "fixtures.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def serve(make_server, tmp_path, text: str, **config):
    write(tmp_path, text)
    running = make_server(fixtures=[tmp_path], **config)
    return running, OpenAI(base_url=running.url, api_key="k", max_retries=0)


def ask(sdk: OpenAI, content: str = "What is the capital of France?", **kwargs):
    kwargs.setdefault("model", "gpt-4o-mini")
    return sdk.chat.completions.create(messages=[{"role": "user", "content": content}], **kwargs)


def test_most_specific_match_wins(make_server, tmp_path):
    _, sdk = serve(make_server, tmp_path, """
        fixtures:
          - name: any-capital
            match: {message: capital}
            response: {content: generic}
          - name: france-on-mini
            match: {model: gpt-4o-mini, message: 'capital of France'}
            response: {content: specific}
          - name: france-on-mini-cold
            match: {model: gpt-4o-mini, message: 'capital of France', body: {temperature: 0}}
            response: {content: most specific}
    """)
    assert ask(sdk).choices[0].message.content == "specific"
    assert ask(sdk, temperature=0).choices[0].message.content == "most specific"
    assert ask(sdk, model="gpt-4o").choices[0].message.content == "generic"
    assert ask(sdk, "capital of Peru?").choices[0].message.content == "generic"


def test_ties_go_to_the_first_loaded(make_server, tmp_path):
    write(tmp_path, "- match: {message: tie}\n  response: {content: second file}\n", "b.yaml")
    _, sdk = serve(make_server, tmp_path, "- match: {message: tie}\n  response: {content: first in a.yaml}\n")
    (tmp_path / "fixtures.yaml").rename(tmp_path / "a.yaml")
    running = make_server(fixtures=[tmp_path])
    sdk = OpenAI(base_url=running.url, api_key="k", max_retries=0)
    assert ask(sdk, "a tie").choices[0].message.content == "first in a.yaml"


def test_header_and_body_subtree_matching(make_server, tmp_path):
    _, sdk = serve(make_server, tmp_path, """
        - match:
            headers: {x-tenant: acme}
            body: {messages: [{role: user}], metadata: {env: test}}
          response: {content: matched}
    """)
    assert ask(sdk, metadata={"env": "test"}, extra_headers={"X-Tenant": "acme"}).choices[0].message.content == "matched"
    assert ask(sdk, metadata={"env": "prod"}, extra_headers={"X-Tenant": "acme"}).choices[0].message.content != "matched"
    assert ask(sdk, metadata={"env": "test"}).choices[0].message.content != "matched"


def test_sequence_repeat_last_and_cycle(make_server, tmp_path):
    _, sdk = serve(make_server, tmp_path, """
        - match: {message: '^first$'}
          sequence: [{content: A}, {content: B}]
        - match: {message: '^second$'}
          sequence: [{content: A}, {content: B}]
          then: cycle
    """)
    assert [ask(sdk, "first").choices[0].message.content for _ in range(4)] == ["A", "B", "B", "B"]
    assert [ask(sdk, "second").choices[0].message.content for _ in range(4)] == ["A", "B", "A", "B"]


def test_error_step_in_a_sequence(make_server, tmp_path):
    import openai

    _, sdk = serve(make_server, tmp_path, """
        - match: {message: flaky}
          sequence:
            - status: 503
              headers: {retry-after-ms: "10"}
              body: {error: {message: "Slow down", type: server_error, param: null, code: null}}
            - content: ok now
    """)
    with pytest.raises(openai.InternalServerError):
        ask(sdk, "flaky")
    assert ask(sdk, "flaky").choices[0].message.content == "ok now"


def test_body_is_replayed_byte_for_byte(make_server, tmp_path):
    recorded = {"id": "chatcmpl-recorded", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini-2024-07-18",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris.", "refusal": None, "annotations": []},
                             "logprobs": None, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 14, "completion_tokens": 2, "total_tokens": 16}, "service_tier": "default",
                "system_fingerprint": "fp_recorded"}
    running, sdk = serve(make_server, tmp_path, f"""
        - match: {{message: France}}
          response:
            body: {json.dumps(recorded)}
    """)
    raw = httpx.post(f"{running.url}/chat/completions", json={"model": "gpt-4o-mini", "messages": MESSAGES})
    assert raw.json() == recorded
    # The same fixture answers a streaming request, as chunks of the same answer.
    with sdk.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        final = stream.get_final_completion()
    assert final.id == "chatcmpl-recorded" and final.choices[0].message.content == "Paris."


def test_stream_fixture_replayed_with_delays(make_server, tmp_path):
    chunk = {"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
             "choices": [{"index": 0, "delta": {"content": "Hi"}, "logprobs": None, "finish_reason": None}]}
    end = {**chunk, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]}
    running, sdk = serve(make_server, tmp_path, f"""
        - match: {{message: stream me}}
          response:
            first_chunk_delay_ms: 150
            stream:
              - {json.dumps(chunk)}
              - data: {json.dumps(chunk)}
                delay_ms: 150
              - {json.dumps(end)}
    """)
    started = time.monotonic()
    raw = httpx.post(f"{running.url}/chat/completions",
                     json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "stream me"}], "stream": True})
    assert time.monotonic() - started >= 0.3
    frames = raw.text.split("\n\n")[:-1]
    assert frames[-1] == "data: [DONE]" and len(frames) == 4
    assert json.loads(frames[0][6:]) == chunk
    # Asked without `stream`, the recorded stream is folded into one completion.
    folded = ask(sdk, "stream me")
    assert folded.choices[0].message.content == "HiHi" and folded.choices[0].finish_reason == "stop"


def test_text_fixture_is_rendered_for_both_modes(make_server, tmp_path, contracts):
    running, sdk = serve(make_server, tmp_path, """
        - match: {message: France}
          response: {content: The capital of France is Paris.}
    """)
    plain = ask(sdk)
    assert plain.choices[0].message.content == "The capital of France is Paris."
    assert plain.usage.completion_tokens == 7 and plain.usage.prompt_tokens == 14  # o200k_base counts
    raw = httpx.post(f"{running.url}/chat/completions",
                     json={"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}})
    chunks = [json.loads(f[6:]) for f in raw.text.split("\n\n")[:-2]]
    for chunk in chunks:
        assert contracts.problems("chat.completions.create.chunk", chunk) == []
    assert "".join((c["choices"] or [{}])[0].get("delta", {}).get("content") or "" for c in chunks) == plain.choices[0].message.content
    assert chunks[-1]["usage"]["completion_tokens"] == 7


def test_tool_call_fixture(make_server, tmp_path):
    _, sdk = serve(make_server, tmp_path, """
        - match: {message: weather}
          response:
            tool_calls:
              - {name: get_weather, arguments: {city: Paris}}
              - {name: get_weather, arguments: '{"city": "Lyon"}'}
    """)
    calls = ask(sdk, "weather in France?").choices[0].message.tool_calls
    assert [json.loads(c.function.arguments)["city"] for c in calls] == ["Paris", "Lyon"]


def test_strict_fixtures_name_the_closest(make_server, tmp_path):
    import openai

    _, sdk = serve(make_server, tmp_path, """
        - name: capital
          match: {model: gpt-4o, message: capital}
          response: {content: x}
    """, strict_fixtures=True)
    with pytest.raises(openai.NotFoundError) as missed:
        ask(sdk)
    error = missed.value.body
    assert error["code"] == "fixture_not_found"
    assert "'capital'" in error["message"] and "fixtures.yaml:2" in error["message"]
    assert "model is 'gpt-4o-mini'" in error["message"]


@pytest.mark.parametrize(
    "text, line, problem",
    [
        ("- match: {message: x}\n  respones: {content: y}\n", 2, "unknown key 'respones'"),
        ("- match: {message: '('}\n  response: {content: y}\n", 1, "not a valid regular expression"),
        ("- match: {endpoint: nowhere}\n  response: {content: y}\n", 1, "unknown endpoint 'nowhere'"),
        ("- match: {message: x}\n", 1, "exactly one of 'response' or 'sequence'"),
        ("- match: {message: x}\n  response: {status: 999, content: y}\n", 2, "'status' must be"),
        ("- match: {message: x}\n  response:\n    content: [1]\n", 3, "'content' must be a string"),
        ("- match: {message: x}\n  response: {content: y\n", 3, "while parsing a flow mapping at line 2"),
        ("- match: {message: x, message: y}\n  response: {content: y}\n", 1, "duplicate key"),
        ("fixtures: 3\n", 1, "a list of fixtures"),
    ],
)
def test_broken_fixture_stops_startup(tmp_path, text, line, problem):
    path = write(tmp_path, text, "broken.yaml")
    with pytest.raises(SourceError) as failure:
        create_app(Config(fixtures=[tmp_path]))
    assert failure.value.path == str(path)
    assert failure.value.line == line, str(failure.value)
    assert problem in str(failure.value)


def test_broken_fixture_from_the_command_line(tmp_path):
    import subprocess
    import sys

    write(tmp_path, "- match: {message: x}\n  respones: {content: y}\n", "broken.yaml")
    result = subprocess.run([sys.executable, "-m", "mockserver", "serve", "--fixtures", str(tmp_path), "--port", "1"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "broken.yaml:2: unknown key 'respones'" in result.stderr and "Traceback" not in result.stderr


def test_models_named_by_fixtures_are_known(make_server, tmp_path):
    _, sdk = serve(make_server, tmp_path, "- match: {model: my-private-model}\n  response: {content: hello}\n")
    assert ask(sdk, model="my-private-model").choices[0].message.content == "hello"
    assert sdk.models.retrieve("my-private-model").id == "my-private-model"


def test_lookup_is_indexed(tmp_path):
    """10,000 fixtures: a lookup reads a few buckets, not the list (figures in `make bench`)."""
    lines = ["fixtures:"]
    for i in range(10_000):
        lines.append(f"  - match: {{message: '^question {i}$'}}\n    response: {{content: answer {i}}}")
    write(tmp_path, "\n".join(lines) + "\n")
    store = FixtureStore(load_fixtures([tmp_path], resolve_endpoint))

    def probe(text):
        return Probe("chat.completions.create", "gpt-4o-mini", {}, text, lambda name: None)

    assert store.find(probe("question 9999")).response.content == "answer 9999"
    assert store.find(probe("no such question")) is None
    started = time.perf_counter()
    for _ in range(2000):
        store.find(probe("question 9999"))
        store.find(probe("no such question"))
    per_lookup = (time.perf_counter() - started) / 4000
    assert per_lookup < 50e-6, per_lookup

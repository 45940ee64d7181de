"""The command line, the config file, and packaging: what a user meets before any request."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from mockserver import Config, create_app, load_config
from mockserver.wire import parse_query
from mockserver.yamlio import SourceError

from .support.process import free_port

ROOT = Path(__file__).resolve().parents[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read())
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("server did not start")


@pytest.mark.parametrize("entry", [["-m", "mockserver"], ["-c", "from mockserver.cli import main; raise SystemExit(main())"]])
def test_serve_and_ctrl_c(tmp_path, entry):
    port = free_port()
    config = tmp_path / "mockserver.yaml"
    config.write_text(f"port: {port}\nseed: 3\nmodels:\n  - {{id: my-model, like: gpt-4o-mini}}\n")
    process = subprocess.Popen([sys.executable, *entry, "serve", "--config", str(config)],
                               stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/v1/models", process)
        sdk = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="k", max_retries=0)
        reply = sdk.chat.completions.create(model="my-model", messages=[{"role": "user", "content": "hi"}])
        assert reply.choices[0].message.content
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    assert "Traceback" not in process.stderr.read()


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "mockserver"
    result = subprocess.run([str(script), "serve", "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "--strict-fixtures" in result.stdout


def test_binds_to_loopback_by_default():
    assert Config().host == "127.0.0.1"


def test_startup_time(tmp_path):
    started = time.perf_counter()
    app = create_app(Config())
    assert time.perf_counter() - started < 1.0
    assert app.state.runtime.fixtures


@pytest.mark.parametrize(
    "text, line, problem",
    [
        ("prot: 8000\n", 1, "unknown key 'prot'"),
        ("port: eighty\n", 1, "'port' must be int"),
        ("port: 0\n", 1, "port must be between 1 and 65535"),
        ("seed: 1\nstrict_fixtures: yes please\n", 2, "'strict_fixtures' must be bool"),
        ("models:\n  - {id: a, like: gpt-4o, colour: red}\n", 2, "unknown key 'colour'"),
        ("rate_limits:\n  gpt-4o: {requests_per_minute: -1}\n", 2, "must be positive"),
        ("azure:\n  deployment: {}\n", 2, "unknown key 'deployment' under 'azure'"),
        ("port: [1\n", 2, "invalid YAML"),
    ],
)
def test_broken_config_names_file_and_line(tmp_path, text, line, problem):
    path = tmp_path / "mockserver.yaml"
    path.write_text(text)
    with pytest.raises(SourceError) as failure:
        load_config(path)
    assert failure.value.line == line, str(failure.value)
    assert problem in str(failure.value) and str(path) in str(failure.value)


def test_config_file_settings_apply(tmp_path):
    (tmp_path / "fx").mkdir()
    (tmp_path / "fx" / "a.yaml").write_text("- match: {message: ping}\n  response: {content: pong}\n")
    path = tmp_path / "mockserver.yaml"
    path.write_text(textwrap.dedent("""
        fixtures: [fx]
        strict_fixtures: true
        azure:
          deployments: {prod-chat: gpt-4o-mini}
        rate_limits:
          gpt-4o-mini: {requests_per_minute: 500, tokens_per_minute: 90000}
    """))
    config = load_config(path)
    assert config.fixtures == [(tmp_path / "fx").resolve()]
    assert config.azure_deployments == {"prod-chat": "gpt-4o-mini"}
    assert config.rate_limits["gpt-4o-mini"].requests_per_minute == 500


def test_config_drives_the_server(make_server, tmp_path):
    (tmp_path / "a.yaml").write_text("- match: {message: ping}\n  response: {content: pong}\n")
    path = tmp_path / "mockserver.yaml"
    path.write_text("fixtures: [.]\nazure:\n  deployments: {prod-chat: gpt-4o-mini}\n"
                    "rate_limits:\n  gpt-4o-mini: {requests_per_minute: 500, tokens_per_minute: 90000}\n")
    running = make_server(load_config(path))
    response = httpx.post(f"{running.origin}/openai/deployments/prod-chat/chat/completions?api-version=2024-10-21",
                          json={"messages": [{"role": "user", "content": "ping"}]}, headers={"api-key": "k"})
    assert response.json()["choices"][0]["message"]["content"] == "pong"
    assert response.headers["x-ratelimit-limit-requests"] == "500"
    assert response.headers["x-ratelimit-remaining-requests"] == "499"
    assert response.headers["x-ratelimit-limit-tokens"] == "90000"


def test_lenient_mode_accepts_placeholders(make_server):
    running = make_server(lenient=True)
    sdk = OpenAI(base_url=running.url, api_key="k", max_retries=0)
    reply = sdk.chat.completions.create(model="my-placeholder-model", messages=[{"role": "user", "content": "hi"}], temperature=5)
    assert reply.choices[0].message.content
    reply = sdk.chat.completions.create(model="o3", messages=[{"role": "user", "content": "hi"}], max_tokens=20, temperature=0.3)
    assert reply.choices[0].message.content is not None
    import openai

    with pytest.raises(openai.BadRequestError):  # the schema still applies: a wrong type is still a 400
        sdk.chat.completions.create(model="x", messages=[{"role": "user", "content": 5}])


def test_query_strings_as_the_sdks_encode_them():
    assert parse_query(b"include[]=a&include[]=b&metadata[key]=value&limit=10&order=asc") == {
        "include": ["a", "b"], "metadata": {"key": "value"}, "limit": "10", "order": "asc"}
    assert parse_query(b"after=resp%20x&x=1&x=2") == {"after": "resp x", "x": ["1", "2"]}


def test_wheel_ships_fixtures_and_contracts(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0 and "hatchling" in result.stderr:
        result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(ROOT)],
                                capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("mockserver-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "mockserver/_bundled/fixtures/examples.yaml" in names
    assert "mockserver/_bundled/contracts/schemas/chat.completions.create.request.yaml" in names
    assert "mockserver/_bundled/contracts/models.yaml" in names


def test_unknown_like_model_names_the_line(tmp_path):
    path = tmp_path / "mockserver.yaml"
    path.write_text("seed: 1\nmodels:\n  - {id: mine, like: gpt-nope}\n")
    with pytest.raises(SourceError) as failure:
        create_app(load_config(path))
    assert failure.value.line == 3 and "unknown model 'gpt-nope'" in str(failure.value)

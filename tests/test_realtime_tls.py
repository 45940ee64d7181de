"""`mockserver serve --tls`: HTTPS and WSS on one port, a self-signed certificate made at
start-up and its CA printed; the official Node SDK (which always builds a `wss:` URL) and the
Python SDK connect once told to trust it (NODE_EXTRA_CA_CERTS, SSL_CERT_FILE)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .support.process import free_port
from .test_node_sdk import NODE_DIR, node_ready

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    port = free_port()
    log = folder / "serve.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "mockserver", "serve", "--tls", "--port", str(port),
                                    "--tls-dir", str(folder / "certs")], stderr=out, stdout=out, cwd=ROOT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(log.read_text())
                time.sleep(0.05)
        printed = log.read_text()
        ca = re.search(r"certificate authority (\S+)", printed).group(1)
        yield {"url": f"https://127.0.0.1:{port}/v1", "ca": ca, "printed": printed}
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_ca_is_written_and_printed(tls_server):
    assert f"serving {tls_server['url']}" in tls_server["printed"]
    assert Path(tls_server["ca"]).read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_the_python_sdk_over_https_and_wss_with_ssl_cert_file(tls_server):
    script = (
        "import asyncio, json, sys\n"
        "from openai import AsyncOpenAI\n"
        "async def main():\n"
        "    client = AsyncOpenAI(base_url=sys.argv[1], api_key='sk-test', max_retries=0)\n"
        "    model = (await client.models.retrieve('gpt-realtime')).id\n"
        "    async with client.realtime.connect(model='gpt-realtime') as conn:\n"
        "        created = await conn.recv()\n"
        "    print(json.dumps([model, created.type]))\n"
        "asyncio.run(main())\n"
    )
    result = subprocess.run([sys.executable, "-c", script, tls_server["url"]], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "SSL_CERT_FILE": tls_server["ca"]})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == ["gpt-realtime", "session.created"]


def test_without_trusting_the_ca_the_connection_is_refused(tls_server):
    script = ("import sys, httpx\n"
              "try:\n    httpx.get(sys.argv[1] + '/models')\nexcept httpx.ConnectError as e:\n    print('refused')\n")
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    result = subprocess.run([sys.executable, "-c", script, tls_server["url"]], capture_output=True, text=True,
                            timeout=60, env=env)
    assert result.stdout.strip() == "refused"


@pytest.mark.skipif(node_ready() is not None, reason=node_ready() or "")
def test_the_node_sdk_over_wss_with_node_extra_ca_certs(tls_server):
    major = int(subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip().lstrip("v").split(".")[0])
    flags = ["--experimental-websocket"] if major < 22 else []  # Node 20's WebSocket is behind a flag
    result = subprocess.run(["node", *flags, str(NODE_DIR / "realtime.mjs"), tls_server["url"]], capture_output=True,
                            text=True, timeout=60, cwd=NODE_DIR,
                            env={**os.environ, "NODE_EXTRA_CA_CERTS": tls_server["ca"]})
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["url"].startswith("wss://127.0.0.1:")
    assert outcome["chat"] and outcome["text"] and outcome["status"] == "completed"
    assert outcome["types"][:2] == ["session.created", "session.updated"]
    assert outcome["call"]["name"] == "get_weather" and "city" in json.loads(outcome["call"]["arguments"])
    assert outcome["answer"] == "message"
    assert outcome["voice"]["transcript"] and outcome["voice"]["audio_tokens"] > 0
    assert "response.output_audio.delta" in outcome["types"]

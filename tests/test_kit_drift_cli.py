"""`mockserver contract client` and `mockserver contract drift`, as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from .support.shared import require_shared

BAD_CLIENT = textwrap.dedent('''
    from openai import OpenAI
    client = OpenAI(max_retries=0)
    answer = client.chat.completions.create(model="gpt-4o-mini", temperature=5,
                                            messages=[{"role": "user", "content": "hi", "nickname": "x"}])
    print(answer.choices[0].message.content.upper())
''')


def mockserver(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mockserver", *args], capture_output=True, text=True, timeout=timeout)


def test_contract_client_names_violations_and_fuzz_findings(tmp_path):
    script = tmp_path / "client.py"
    script.write_text(BAD_CLIENT)
    done = mockserver("contract", "client", "--fuzz", "--examples", "3", "--seed", "0", "--shrink-seconds", "3", "--json", str(tmp_path / "out.json"),
                      "--", sys.executable, str(script))
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    # answered normally (record mode): the offending fields were dropped, the violations named
    assert "messages[0].nickname" in out and "temperature" in out
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["exit_code"] == 0 and len(result["violations"]) == 2
    finding = result["fuzz"]["finding"]  # `.content.upper()` on a schema-valid answer breaks it
    assert finding is not None and finding["seed"] == 0 and finding["answers"]


def test_contract_drift_table_and_json(tmp_path):
    recordings = require_shared("recordings")
    done = mockserver("contract", "drift", "--recordings", str(recordings), "--json", str(tmp_path / "drift.json"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("| operation | field |")
    rows = json.loads((tmp_path / "drift.json").read_text())["rows"]
    by_field = {(r["operation"], r["field"]): r for r in rows}
    assert by_field[("chat.completions.create", "choices")]["verdict"] == "ok"
    assert {r["verdict"] for r in rows} >= {"ok", "fake behind", "API ahead of the SDK"}


@pytest.mark.parametrize("args,said", [
    (["contract", "server", "--base-url", "notaurl"], "is not an http:// or https:// URL"),
    (["contract", "server", "--base-url", "http://127.0.0.1:1/v1", "--examples", "0"], "--examples: 0 is not 1 or more"),
    (["contract", "server", "--base-url", "http://127.0.0.1:1/v1", "--family", "nope"], "match no operation; families:"),
    (["contract", "drift", "--recordings", "/nonexistent"], "no such folder of recordings: /nonexistent"),
])
def test_a_contract_command_that_would_check_nothing_says_so(args, said):
    """A selection that matches nothing must not pass a CI job silently (exit 2, named)."""
    done = mockserver(*args, timeout=60)
    assert done.returncode == 2 and said in done.stderr, done.stderr

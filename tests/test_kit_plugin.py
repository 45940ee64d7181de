"""The pytest plugin (`openai_mock`), as a user's suite runs it: in a pytest of its own, under
pytest-xdist, with markers, faults, the journal, the verdict and --openai-mock-strict."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from mockserver import Config
from mockserver.kit.running import RunningServer

USER_TESTS = textwrap.dedent('''
    import os
    import openai
    import pytest
    from openai import OpenAI

    def ask(text, **extra):
        return OpenAI(max_retries=0).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": text}], **extra)

    def test_environment_points_at_the_fake(openai_mock):
        assert os.environ["OPENAI_BASE_URL"] == openai_mock.url
        ask("hi")
        ask("hi again")
        openai_mock.assert_called("chat.completions.create", model="gpt-4o-mini", times=2)
        openai_mock.assert_not_called("embeddings")
        assert openai_mock.verdict()["ok"] and openai_mock.violations == []

    @pytest.mark.openai_fixtures({"match": {"message": "capital"}, "response": {"content": "Paris."}})
    def test_marker_fixtures(openai_mock):
        assert ask("capital of France?").choices[0].message.content == "Paris."

    def test_fixtures_from_python_and_gone_after(openai_mock):
        assert ask("capital of France?").choices[0].message.content != "Paris."
        openai_mock.fixtures.add({"match": {"message": "^ping$"}, "response": {"content": "pong"}})
        assert ask("ping").choices[0].message.content == "pong"

    @pytest.mark.openai_faults("429; attempts=1")
    def test_marker_faults(openai_mock):
        with pytest.raises(openai.RateLimitError):
            ask("hi")
        assert ask("hi").choices
        assert [c.status for c in openai_mock.calls] == [429, 200]

    def test_a_fresh_journal_per_test(openai_mock):
        assert openai_mock.calls == []

    def test_strict_fails_a_bad_request(openai_mock):
        ask("hi", extra_body={"bogus_field": 1})  # answered normally (record mode), named afterwards
''')

REMOTE_TESTS = textwrap.dedent('''
    from openai import OpenAI

    def test_against_a_running_fake(openai_mock):
        OpenAI(max_retries=0).embeddings.create(model="text-embedding-3-small", input="hi")
        openai_mock.assert_called("embeddings.create", times=1)
        openai_mock.faults.add({"match": {"endpoint": "embeddings"}, "fault": 503, "times": 1})
''')


def pytest_run(tmp_path, source: str, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_user.py").write_text(source)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(tmp_path / "test_user.py"), *args],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_the_plugin_under_xdist_with_strict(tmp_path):
    done = pytest_run(tmp_path, USER_TESTS, "-n", "2", "--openai-mock-strict")
    out = done.stdout + done.stderr
    assert "1 failed, 5 passed" in out, out[-3000:]
    assert "test_strict_fails_a_bad_request" in out and "bogus_field" in out and "--openai-mock-strict" in out


def test_without_strict_a_bad_request_passes(tmp_path):
    done = pytest_run(tmp_path, USER_TESTS, "-k", "strict or environment")
    assert "2 passed" in done.stdout, done.stdout[-3000:] + done.stderr[-2000:]


def test_against_mock_url(tmp_path):
    with RunningServer(Config()) as running:
        done = pytest_run(tmp_path, REMOTE_TESTS, "--mock-url", running.url)
        running.audit.drain()
        rules = running.runtime.faults.admin_rules
    assert "1 passed" in done.stdout, done.stdout[-3000:] + done.stderr[-2000:]
    assert rules == []  # the test's rule was removed after it

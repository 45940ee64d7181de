"""Token counts come from the real vocabularies, loaded without any network access."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mockserver.tokens import ENCODINGS, Tokenizer, build_encoding


def test_builds_with_the_network_refused():
    """Run in a fresh interpreter where every socket connect fails, with no tiktoken cache."""
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network disabled by the test')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from mockserver.tokens import Tokenizer\n"
        "t = Tokenizer()\n"
        "print(t.count('hello world'), t.count('hello world', 'cl100k_base'))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={"TIKTOKEN_CACHE_DIR": "/nonexistent", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2", "2"]


@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_same_encoder_as_tiktoken_itself(name, monkeypatch):
    """Our pattern and special tokens equal tiktoken_ext.openai_public's (fed the same ranks)."""
    import tiktoken_ext.openai_public as public

    ours = build_encoding(name)
    monkeypatch.setattr(public, "load_tiktoken_bpe", lambda *a, **k: ours._mergeable_ranks)
    theirs = getattr(public, name)()
    assert theirs["pat_str"] == ours._pat_str
    assert theirs["special_tokens"] == ours._special_tokens


def test_known_counts():
    tokenizer = Tokenizer()
    assert tokenizer.count("Hello, world!") == 4
    # The real API reported 11 prompt tokens for this conversation (recorded).
    assert len(tokenizer.chat_prompt([{"role": "user", "content": "Hello, world!"}])) == 11
    text = "Héllo, wörld! 你好世界 🎉"
    assert "".join(tokenizer.pieces(text)) == text

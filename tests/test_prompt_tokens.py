"""Prompt token counts against the usage the real API reported for the same requests."""

from __future__ import annotations

import json


from mockserver.catalog import rules_for
from mockserver.tokens import Tokenizer

from .support.shared import require_shared

TOKENIZER = Tokenizer()


def recorded_chat_usages():
    root = require_shared("recordings", "openai__openai-dotnet", "tests", "SessionRecords")
    for path in sorted(root.glob("Chat*/*.json")):
        for entry in json.loads(path.read_text())["Entries"]:
            response = entry["ResponseBody"]
            if entry["RequestUri"].endswith("/chat/completions") and entry["StatusCode"] == 200 and isinstance(response, dict):
                if "usage" in response and "search" not in entry["RequestBody"]["model"]:
                    yield path.name, entry["RequestBody"], response["usage"]["prompt_tokens"]


def counted(body: dict) -> int:
    spec = rules_for(body["model"])
    tools = body.get("tools") or body.get("functions")
    return len(TOKENIZER.chat_prompt(body["messages"], tools, spec.encoding, body.get("response_format")))


def test_plain_conversations_count_exactly():
    """Messages alone (no tools, schema or images) match the recorded prompt_tokens to the token."""
    checked = 0
    for name, body, real in recorded_chat_usages():
        plain = not (body.get("tools") or body.get("functions") or body.get("response_format"))
        text_only = all(isinstance(m.get("content"), str) for m in body["messages"])
        if plain and text_only and not rules_for(body["model"]).reasoning:
            assert counted(body) == real, name
            checked += 1
    assert checked >= 10


def test_tools_and_schemas_count_closely():
    """Tool definitions, tool calls and response schemas are rendered into the prompt in an
    unpublished form; the count stays within 15% of what the real API reported."""
    checked = 0
    for name, body, real in recorded_chat_usages():
        ours = counted(body)
        assert abs(ours - real) <= max(3, 0.15 * real), (name, real, ours)
        checked += 1
    assert checked >= 30

"""What a synthesized assistant turn says: text, JSON for a schema, or tool calls.

Family-neutral: chat completions and the Responses API describe their request as an
`Ask` and render the `Answer` in their own wire format. The policy is the one an
agent loop needs to terminate: with tools on offer and the user's turn last, call
the best-matching tool (several in parallel when several match); once tool results
are in, answer in text.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

import orjson

from . import text
from .instance import instance

_WORD = re.compile(r"[a-z0-9]+")


@dataclass
class Tool:
    name: str
    description: str = ""
    parameters: dict | None = None
    custom: bool = False  # a free-text custom tool rather than a JSON-arguments function


@dataclass
class Ask:
    tools: list[Tool] = field(default_factory=list)
    tool_choice: str = "auto"  # auto, none, required, or "function:<name>"
    parallel: bool = True
    output: str = "text"  # text, json_object, json_schema
    schema: dict | None = None
    user_text: str = ""
    after_tool_result: bool = False


@dataclass
class ToolCall:
    name: str
    arguments: str
    id: str | None = None
    custom: bool = False


@dataclass
class Answer:
    text: str | None = None
    refusal: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)


def answer(ask: Ask, rng: random.Random) -> Answer:
    calls = choose_tools(ask)
    if calls:
        return Answer(tool_calls=[ToolCall(t.name, arguments_for(t, rng), custom=t.custom) for t in calls])
    return Answer(text=output_text(ask, rng))


def choose_tools(ask: Ask) -> list[Tool]:
    if not ask.tools or ask.tool_choice == "none":
        return []
    if ask.tool_choice.startswith("function:"):
        name = ask.tool_choice.split(":", 1)[1]
        return [t for t in ask.tools if t.name == name][:1]
    if ask.after_tool_result and ask.tool_choice != "required":
        return []
    words = set(_WORD.findall(ask.user_text.lower()))
    scored = [(len(words & _tool_words(t)), -i, t) for i, t in enumerate(ask.tools)]
    scored.sort(key=lambda s: (s[0], s[1]), reverse=True)
    relevant = [t for score, _, t in scored if score > 0]
    if ask.parallel and len(relevant) > 1:
        return relevant[:3]
    return [relevant[0] if relevant else scored[0][2]]


def _tool_words(tool: Tool) -> set[str]:
    name_words = set(_WORD.findall(tool.name.lower().replace("_", " ")))
    return (name_words | set(_WORD.findall(tool.description.lower()))) - _STOP


_STOP = {"a", "an", "the", "of", "to", "for", "in", "on", "and", "or", "is", "get", "set", "with", "from", "by"}


def arguments_for(tool: Tool, rng: random.Random) -> str:
    if tool.custom:
        return text.sentence(rng)
    schema = tool.parameters or {"type": "object", "properties": {}}
    return orjson.dumps(instance(schema, rng)).decode()


def output_text(ask: Ask, rng: random.Random) -> str:
    if ask.output == "json_schema":
        return orjson.dumps(instance(ask.schema or {}, rng)).decode()
    if ask.output == "json_object":
        return orjson.dumps({"answer": text.sentence(rng), "confidence": round(rng.uniform(0.5, 1), 2)}).decode()
    return text.paragraph(rng)


# Effort -> range of 64-token blocks. Both ends grow with effort and one draw picks the
# same point in every range, so for one request more effort never means fewer tokens;
# a simple prompt at low or medium effort often needs a single block, as recorded.
_EFFORT_BLOCKS = {"none": (0, 0), "minimal": (0, 1), "low": (1, 3), "medium": (1, 8),
                  "high": (2, 22), "xhigh": (4, 44), "max": (8, 88)}


def reasoning_tokens(effort: str | None, draw: float) -> int:
    """Hidden reasoning tokens for `effort`; `draw` in [0, 1) comes from the request without
    its effort. The real API reports them in multiples of 64."""
    low, high = _EFFORT_BLOCKS.get(effort or "none", (0, 0))
    return 64 * min(high, low + int(draw * (high - low + 1)))

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
from .budget import chars_for
from .instance import Written, render

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
    # The answer's token budget (max_tokens, max_output_tokens, or the model's output
    # limit): JSON for a schema is built no further than it (see instance.render).
    max_tokens: int | None = None


@dataclass
class ToolCall:
    name: str
    arguments: str
    id: str | None = None
    custom: bool = False
    truncated: bool = False  # the schema asked for more than the budget: `arguments` is a prefix


@dataclass
class Answer:
    text: str | None = None
    refusal: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    truncated: bool = False  # the schema asked for more than the budget: `text` is a prefix


def answer(ask: Ask, rng: random.Random) -> Answer:
    """The turn. JSON for a schema stops at the budget, as a model stops at its output
    limit: the answer is then flagged `truncated` (a tool call's arguments, or the text),
    and no further tool call is written; the family cuts it to the budget in tokens."""
    chars = chars_for(ask.max_tokens)
    calls = choose_tools(ask)
    if calls:
        out: list[ToolCall] = []
        for tool in calls:
            if chars <= 0:  # the calls so far used the budget up
                out[-1].truncated = True
                break
            written = _arguments(tool, rng, chars)
            out.append(ToolCall(tool.name, written.text, custom=tool.custom, truncated=written.truncated))
            if written.truncated:
                break
            chars -= len(tool.name) + len(written.text)
        return Answer(tool_calls=out)
    written = _output(ask, rng, chars)
    return Answer(text=written.text, truncated=written.truncated)


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


def arguments_for(tool: Tool, rng: random.Random, chars: int | None = None) -> str:
    return _arguments(tool, rng, chars).text


def _arguments(tool: Tool, rng: random.Random, chars: int | None) -> Written:
    if tool.custom:
        return Written(text.sentence(rng))
    schema = tool.parameters or {"type": "object", "properties": {}}
    return render(schema, rng, chars)


def output_text(ask: Ask, rng: random.Random) -> str:
    return _output(ask, rng, chars_for(ask.max_tokens)).text


def _output(ask: Ask, rng: random.Random, chars: int | None) -> Written:
    if ask.output == "json_schema":
        return render(ask.schema or {}, rng, chars)
    if ask.output == "json_object":
        return Written(orjson.dumps({"answer": text.sentence(rng), "confidence": round(rng.uniform(0.5, 1), 2)}).decode())
    return Written(text.paragraph(rng))


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

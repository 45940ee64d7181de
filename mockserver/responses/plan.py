"""What a Responses request says and what the answer holds: its input as stored items,
the conversation so far as chat-shaped messages (for the tokenizer and the
synthesizer, which chat completions share), and the output items of the answer.
"""

from __future__ import annotations

import random
from typing import Any, Callable

import orjson

from .. import errors
from ..catalog import ModelSpec
from ..fixtures import FixtureResponse
from ..ids import token
from ..synth.answer import Answer, Ask, Tool, ToolCall, answer, reasoning_tokens
from ..synth.text import sentence
from ..api.common import text_of

# Item types that carry no role and are stored as given (with an id).
# A function call's output is filed under `fc_` like the call (as recorded); an MCP
# approval's answer and an apply_patch call's output likewise under their request's and
# call's prefixes (`mcpr_`, `apc_`: not recorded, the same rule).
_ID_PREFIX = {"message": "msg", "function_call": "fc", "function_call_output": "fc", "reasoning": "rs",
              "custom_tool_call": "ctc", "custom_tool_call_output": "ctco", "mcp_list_tools": "mcpl", "mcp_call": "mcp",
              "mcp_approval_request": "mcpr", "mcp_approval_response": "mcpr", "apply_patch_call": "apc",
              "apply_patch_call_output": "apc"}


def input_items(value: Any, make_id: Callable[[str], str]) -> list[dict]:
    """The request's `input` (or a conversation's `items`) as the real API stores it:
    each item typed, with an id (`make_id(prefix)`) and a status, a string or a message's
    string content spelled out as an `input_text` part."""
    raw = [{"role": "user", "content": value}] if isinstance(value, str) else list(value or [])
    items = []
    for entry in raw:
        kind = entry.get("type") or ("message" if "role" in entry else None)
        if kind == "item_reference":
            items.append(dict(entry))
            continue
        item = dict(entry)
        item["type"] = kind
        if kind == "message":
            content = entry.get("content")
            if isinstance(content, str):
                part = "output_text" if entry.get("role") == "assistant" else "input_text"
                content = [{"type": part, "text": content}] if part == "input_text" else \
                    [{"type": part, "annotations": [], "logprobs": [], "text": content}]
            item = {"id": entry.get("id") or make_id("msg"), "type": "message",
                    "status": entry.get("status") or "completed", "content": content}
            if entry.get("phase") is not None:  # an assistant message's phase, kept as sent (the SDK asks clients to resend it)
                item["phase"] = entry["phase"]
            item["role"] = entry.get("role")
        else:
            item.setdefault("id", make_id(_ID_PREFIX.get(kind, "item")))
            if kind in ("function_call", "function_call_output") and not item.get("status"):
                item["status"] = "completed"
        items.append(item)
    return items


def check_reasoning_items(value: Any) -> None:
    """A reasoning item sent back must come with the item it led to. Refused only in the
    two shapes on record: nothing follows it (community.openai.com/t/1236046, "a reasoning
    item as the last input item"), or an assistant message without an id follows it, which
    the API cannot pair with it (recorded: test_openai_responses_thinking_with_modified_history#1).
    Any other item is accepted, a `function_call` without an id among them (paired by its
    `call_id`; real traffic, e.g. the Vercel AI SDK with `store: false`)."""
    if not isinstance(value, list):
        return
    for index, item in enumerate(value):
        if isinstance(item, dict) and item.get("type") == "reasoning" and item.get("id"):
            following = value[index + 1] if index + 1 < len(value) else None
            if following is None or _unpaired_message(following):
                raise errors.invalid_request(
                    f"Item '{item['id']}' of type 'reasoning' was provided without its required following item.",
                    param="input",
                )


def _unpaired_message(item: Any) -> bool:
    """An assistant message the API cannot tie to the reasoning before it: it has no id."""
    if not isinstance(item, dict) or item.get("role") != "assistant":
        return False
    return item.get("type", "message") == "message" and not item.get("id")


def check_tool_outputs(history: list[dict]) -> None:
    """A function_call_output must answer a function call the conversation holds (publicly
    reported: continuedev/continue#10092, vercel/ai#8216, "No tool call found for function
    call output with call_id …", param `input`)."""
    calls = {item.get("call_id") for item in history if item.get("type") in ("function_call", "custom_tool_call")}
    for item in history:
        if item.get("type") in ("function_call_output", "custom_tool_call_output") and item.get("call_id") not in calls:
            raise errors.invalid_request(
                f"No tool call found for function call output with call_id {item.get('call_id')}.", param="input"
            )


def chat_messages(instructions: str | None, history: list[dict]) -> list[dict]:
    """The conversation in chat shape, for the tokenizer and the synthesizer."""
    messages: list[dict] = []
    if instructions:
        messages.append({"role": "developer", "content": instructions})
    for item in history:
        kind = item.get("type")
        if kind == "message":
            messages.append({"role": item.get("role") or "user", "content": _chat_content(item.get("content"))})
        elif kind in ("function_call", "custom_tool_call"):
            call = {"id": item.get("call_id"), "type": "function",
                    "function": {"name": item.get("name", ""), "arguments": item.get("arguments") or item.get("input") or ""}}
            if messages and messages[-1]["role"] == "assistant" and messages[-1].get("tool_calls"):
                messages[-1]["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind in ("function_call_output", "custom_tool_call_output"):
            messages.append({"role": "tool", "tool_call_id": item.get("call_id"), "content": _text(item.get("output"))})
        elif kind in ("apply_patch_call", "mcp_call", "mcp_approval_request"):
            # The client's tools and the MCP servers' calls, as tool calls and their results.
            name = "apply_patch" if kind == "apply_patch_call" else str(item.get("name") or "")
            arguments = item.get("arguments") if kind != "apply_patch_call" else _json_text(item.get("operation"))
            call_id = item.get("call_id") or item.get("id")
            call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": str(arguments or "")}}
            if messages and messages[-1]["role"] == "assistant" and messages[-1].get("tool_calls"):
                messages[-1]["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
            if kind == "mcp_call" and item.get("output") is not None:
                messages.append({"role": "tool", "tool_call_id": call_id, "content": _text(item.get("output"))})
        elif kind == "apply_patch_call_output":
            messages.append({"role": "tool", "tool_call_id": item.get("call_id"),
                             "content": _text(item.get("output")) or str(item.get("status") or "completed")})
        elif kind == "mcp_approval_response":
            messages.append({"role": "tool", "tool_call_id": item.get("approval_request_id"),
                             "content": "approved" if item.get("approve") else _text(item.get("reason")) or "declined"})
    return messages


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode() if value is not None else ""


def _chat_content(content: Any) -> Any:
    """A message's parts in chat's shape, so the tokenizer counts images as it does for chat."""
    if not isinstance(content, list):
        return _text(content)
    parts = []
    for part in content:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "input_image":
            parts.append({"type": "image_url", "image_url": {"url": part.get("image_url") or "", "detail": part.get("detail") or "auto"}})
        elif part.get("type") == "input_file":
            parts.append({"type": "text", "text": part.get("filename") or part.get("file_id") or ""})
        else:
            parts.append({"type": "text", "text": str(part.get("text") or part.get("refusal") or "")})
    return parts


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(str(part.get("text") or part.get("refusal") or "") for part in content if isinstance(part, dict))
    return text_of(content) if not isinstance(content, str) else content


def chat_tools(tools: list[dict]) -> list[dict]:
    """Function tools in chat shape (the tokenizer renders them the same way)."""
    return [
        {"type": "function", "function": {k: t[k] for k in ("name", "description", "parameters") if t.get(k) is not None}}
        for t in tools if t.get("type") == "function"
    ]


# The client's `apply_patch` tool, as the synthesizer sees it: chosen as a function is
# (`tool_choice` "required", {"type": "apply_patch"}, or "auto" with the user's turn last).
APPLY_PATCH_TOOL = Tool("apply_patch", "Create, update or delete files by applying a patch; edit code and text files",
                        None, custom=True)


def offers_apply_patch(body: dict) -> bool:
    """The built-in apply_patch tool is on offer (and no function of that name shadows it)."""
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict)]
    return any(t.get("type") == "apply_patch" for t in tools) and \
        not any(t.get("type") in ("function", "custom") and t.get("name") == "apply_patch" for t in tools)


def ask_from(body: dict, messages: list[dict]) -> Ask:
    tools = [Tool(t.get("name", ""), t.get("description") or "", t.get("parameters"), custom=t.get("type") == "custom")
             for t in body.get("tools") or [] if t.get("type") in ("function", "custom")]
    if offers_apply_patch(body):
        tools.append(APPLY_PATCH_TOOL)
    choice: Any = body.get("tool_choice") or ("auto" if tools else "none")
    if isinstance(choice, dict):
        if choice.get("type") == "allowed_tools":
            allowed = {t.get("name") if t.get("type") != "apply_patch" else "apply_patch" for t in choice.get("tools") or []}
            tools = [t for t in tools if t.name in allowed]
            choice = choice.get("mode", "auto")
        elif choice.get("type") in ("function", "custom"):
            choice = f"function:{choice.get('name')}"
        elif choice.get("type") == "apply_patch" and offers_apply_patch(body):
            choice = "function:apply_patch"
        else:  # a built-in tool forced: the synthesizer answers in text
            choice = "none"
    fmt = ((body.get("text") or {}).get("format")) or {}
    output = fmt.get("type", "text")
    last = messages[-1] if messages else {}
    user = next((text_of(m["content"]) for m in reversed(messages) if m["role"] == "user"), "")
    return Ask(
        tools=tools,
        tool_choice=choice,
        parallel=body.get("parallel_tool_calls", True) is not False,
        output=output if output in ("json_object", "json_schema") else "text",
        schema=fmt.get("schema"),
        user_text=user or "",
        after_tool_result=last.get("role") == "tool",
    )


def turn_for(ask: Ask, fixture: FixtureResponse | None, rng: random.Random) -> Answer:
    if fixture is None:
        return answer(ask, rng)
    calls = [ToolCall(c["name"], c["arguments"], c.get("id")) for c in fixture.tool_calls or []]
    return Answer(text=fixture.content, refusal=fixture.refusal, tool_calls=calls)


def reasoning_for(spec: ModelSpec, body: dict, draw: float, rng: random.Random) -> tuple[int, list[str]]:
    """Hidden reasoning tokens and, when a summary is asked for, its paragraphs."""
    if not spec.reasoning:
        return 0, []
    effort = (body.get("reasoning") or {}).get("effort") or spec.default_effort
    tokens = reasoning_tokens(effort, draw)
    summary = (body.get("reasoning") or {}).get("summary") or (body.get("reasoning") or {}).get("generate_summary")
    if not summary or tokens == 0:
        return tokens, []
    return tokens, [f"**{sentence(rng).rstrip('.')}**\n\n{sentence(rng)} {sentence(rng)}"]


def call_id(rng: random.Random) -> str:
    return token(rng, "call_", 24)

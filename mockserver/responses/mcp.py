"""Remote MCP servers (`{"type": "mcp", ...}` tools), synthesized: the fake never contacts
a server. Shapes, key order and events as recorded (ResponsesToolTests/MCPToolWorks,
MCPToolStreamingWorks, MCPToolAlwaysRequiresApproval(True), 2025-09;
test_openai_responses_model_mcp_server_tool and _stream, 2025-10):

- a server is listed once per conversation: an `mcp_list_tools` item (`mcpl_`) at the
  start of the response, unless the conversation already holds one for its label (the
  recorded second turns list nothing again);
- then, the user's turn being last, one call per server: the best-matching tool's
  `mcp_call` (`mcp_`, with its `output`), or, when the server's `require_approval` says
  so (the spec's default is "always"), an `mcp_approval_request` (`mcpr_`) and no message:
  the client's `mcp_approval_response` (in a later request, with `previous_response_id`)
  runs the call (`approval_request_id` naming the request) or declines it.

The tools a server offers are its `allowed_tools` (names, or a filter's `tool_names`),
each taking a `query`; without them, two of our own, `search` and `fetch`.
"""

from __future__ import annotations

import random
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

import orjson

from ..synth.answer import Ask, Tool, choose_tools
from ..synth.text import sentence

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def servers(body: dict) -> list[dict]:
    return [tool for tool in body.get("tools") or [] if isinstance(tool, dict) and tool.get("type") == "mcp"]


def echo(tool: dict) -> dict:
    """The tool as the real API echoes it: `type`, then its fields alphabetically, with
    `allowed_tools`, `headers`, `require_approval` and `server_description` always there,
    and what could carry a secret redacted: the URL's path and every header's value
    (recorded: `https://dmcp-server.deno.dev/sse` echoed `https://dmcp-server.deno.dev/<redacted>`,
    `{"custom-header-key": "<redacted>"}`). An `authorization` token is left out."""
    fields: dict[str, Any] = {"allowed_tools": None, "headers": None, "require_approval": "always",
                              "server_description": None}
    fields.update({k: v for k, v in tool.items() if k not in ("type", "authorization")})
    if tool.get("require_approval") is None:
        fields["require_approval"] = "always"
    if isinstance(fields.get("headers"), dict):
        fields["headers"] = {name: "<redacted>" for name in fields["headers"]}
    if isinstance(fields.get("server_url"), str):
        fields["server_url"] = redacted_url(fields["server_url"])
    return {"type": "mcp", **dict(sorted(fields.items()))}


def redacted_url(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<redacted>"
    if not parts.netloc:
        return "<redacted>"
    return urlunsplit((parts.scheme, parts.netloc, "/<redacted>", "", ""))


def label_of(tool: dict) -> str:
    return str(tool.get("server_label") or "mcp")


def listed_labels(history: list[dict]) -> set[str]:
    return {str(item.get("server_label")) for item in history if item.get("type") == "mcp_list_tools"}


def server_tools(tool: dict) -> list[dict]:
    """What the server offers, as listed (`annotations`, `description`, `input_schema`,
    `name`, as recorded): the allowed tools, or ours."""
    label = label_of(tool)
    allowed = tool.get("allowed_tools")
    names: list[str] | None = None
    read_only = None
    if isinstance(allowed, list):
        names = [str(name) for name in allowed]
    elif isinstance(allowed, dict):
        names = [str(name) for name in allowed["tool_names"]] if isinstance(allowed.get("tool_names"), list) else None
        read_only = allowed.get("read_only")
    ours = {
        "search": _listed("search", f"Search {label} for what matches a query.", "query",
                          "What to look for"),
        "fetch": _listed("fetch", f"Fetch one document from {label} by its id.", "id", "The document's id"),
    }
    listed = list(ours.values()) if names is None else \
        [ours.get(name) or _listed(name, f"{name.replace('_', ' ').capitalize()} on {label}.", "query", "The request")
         for name in dict.fromkeys(names)]
    if read_only is not None:
        listed = [entry for entry in listed if entry["annotations"]["read_only"] is bool(read_only)]
    return listed


def _listed(name: str, description: str, parameter: str, about: str) -> dict:
    schema = {"$schema": SCHEMA_DIALECT, "type": "object",
              "properties": {parameter: {"type": "string", "description": about}},
              "required": [parameter], "additionalProperties": False}
    return {"annotations": {"read_only": False}, "description": description, "input_schema": schema, "name": name}


def listing(tool: dict, make_id: Callable[[str], str]) -> dict:
    return {"id": make_id("mcpl"), "type": "mcp_list_tools", "server_label": label_of(tool), "tools": server_tools(tool)}


def needs_approval(tool: dict, entry: dict) -> bool:
    """`require_approval`: "always" (the spec's default), "never", or filters naming the
    tools that need it (`always`) and those that do not (`never`); a tool neither
    filter matches needs it."""
    rule = tool.get("require_approval")
    if rule == "never":
        return False
    return not (isinstance(rule, dict) and _matches(rule.get("never"), entry))


def _matches(rule: Any, entry: dict) -> bool:
    """An MCP tool filter (`tool_names`, `read_only`): every condition it states holds."""
    if not isinstance(rule, dict) or (rule.get("tool_names") is None and rule.get("read_only") is None):
        return False
    names = rule.get("tool_names")
    if isinstance(names, list) and entry["name"] not in names:
        return False
    return rule.get("read_only") is None or entry["annotations"]["read_only"] is bool(rule.get("read_only"))


def call(tool: dict, body: dict, make_id: Callable[[str], str], rng: random.Random, user_text: str) -> list[dict]:
    """The server's best-matching tool called (or its call put to the user for approval):
    `tool_choice: {"type": "mcp", "server_label", "name"}` names it; none listed, no call."""
    offered = server_tools(tool)
    if not offered:
        return []
    choice = body.get("tool_choice")
    named = choice.get("name") if isinstance(choice, dict) and choice.get("type") == "mcp" else None
    tools = [Tool(entry["name"], entry["description"], entry["input_schema"]) for entry in offered]
    ask = Ask(tools=tools, tool_choice=f"function:{named}" if named else "required", parallel=False,
              user_text=user_text)
    chosen = (choose_tools(ask) or tools)[0]
    entry = next(e for e in offered if e["name"] == chosen.name)
    parameter = next(iter(entry["input_schema"]["properties"]))
    value = f"doc-{rng.getrandbits(48):012x}" if parameter == "id" else (user_text.strip() or sentence(rng))[:500]
    arguments = orjson.dumps({parameter: value}).decode()
    if needs_approval(tool, entry):
        return [{"id": make_id("mcpr"), "type": "mcp_approval_request", "arguments": arguments, "name": chosen.name,
                 "server_label": label_of(tool)}]
    return [call_item(make_id("mcp"), label_of(tool), chosen.name, arguments, rng)]


def call_item(id: str, label: str, name: str, arguments: str, rng: random.Random,
              approval_request_id: str | None = None) -> dict:
    """An `mcp_call` as the server answered it, in the recorded key order (`status` since 2025-10)."""
    return {"id": id, "type": "mcp_call", "status": "completed", "approval_request_id": approval_request_id,
            "arguments": arguments, "error": None, "name": name, "output": sentence(rng), "server_label": label}


def approved_calls(inputs: list[dict], history: list[dict], make_id: Callable[[str], str],
                   rng: random.Random) -> tuple[list[dict], bool]:
    """The calls this request's `mcp_approval_response` items let run, each named after the
    request it answers (recorded: MCPToolAlwaysRequiresApproval(True)#1); and whether the
    request answers any approval at all (then no new call is made this turn)."""
    requests = {item.get("id"): item for item in history if item.get("type") == "mcp_approval_request"}
    out: list[dict] = []
    answered = False
    for item in inputs:
        if item.get("type") != "mcp_approval_response":
            continue
        answered = True
        request = requests.get(item.get("approval_request_id"))
        if request is not None and item.get("approve") is True:
            out.append(call_item(make_id("mcp"), str(request.get("server_label")), str(request.get("name")),
                                 str(request.get("arguments") or "{}"), rng, approval_request_id=request.get("id")))
    return out, answered

"""The newest models and tools of the Responses API through the official SDK: MCP servers
(listing, calls, the approval round trip), apply_patch and its output, web search's
action, image_generation's echo, what gpt-5.5 and gpt-5.6 echo and write, text deltas'
logprobs, Azure's `/openai/v1/responses`, and chat search models' citations. Where a
recording holds the exchange, it is replayed too, ids translated, and held to the
recorded-traffic test's comparisons. Every body and event is checked against contracts/
and the SDK's types by the audit (conftest)."""

from __future__ import annotations

import copy
import json
import re

import jsonschema_rs
import pytest
from openai import AzureOpenAI

from .support.recorded import recorded
from .test_recorded_traffic import RESPONSES_MODEL_CHOICE, compare_response_bodies

DICE = {"type": "mcp", "server_label": "dmcp", "server_url": "https://dmcp-server.deno.dev/sse",
        "server_description": "A Dungeons and Dragons MCP server to assist with dice rolling."}


def types_of(response) -> list[str]:
    return [item.type for item in response.output]


# --- MCP ----------------------------------------------------------------------------------


def test_mcp_lists_the_server_then_calls_it(client):
    response = client.responses.create(model="gpt-5", input="Search for a dice roller.",
                                       tools=[{**DICE, "require_approval": "never"}])
    assert types_of(response) == ["mcp_list_tools", "reasoning", "mcp_call", "message"]
    listing, _, call, message = response.output
    assert listing.id.startswith("mcpl_") and listing.server_label == "dmcp"
    assert [tool.name for tool in listing.tools] == ["search", "fetch"]
    assert call.id.startswith("mcp_") and call.server_label == "dmcp" and call.name == "search"
    assert call.status == "completed" and call.error is None and call.approval_request_id is None and call.output
    schema = next(tool.input_schema for tool in listing.tools if tool.name == call.name)
    jsonschema_rs.validate(schema, json.loads(call.arguments))  # arguments valid for the listed tool
    assert message.content[0].text
    # Echoed as the real API echoes it: every field, the URL's path and header values redacted.
    echoed = client.responses.create(model="gpt-5", input="Search.", tools=[
        {**DICE, "require_approval": "never", "headers": {"x-key": "secret"}, "allowed_tools": ["search"]}]).tools[0]
    assert echoed.model_dump(exclude_unset=True) == {
        "type": "mcp", "allowed_tools": ["search"], "headers": {"x-key": "<redacted>"}, "require_approval": "never",
        "server_description": DICE["server_description"], "server_label": "dmcp",
        "server_url": "https://dmcp-server.deno.dev/<redacted>"}


def test_mcp_allowed_tools_and_a_named_tool(client):
    server = {**DICE, "require_approval": "never", "allowed_tools": ["roll", "ask_question"]}
    response = client.responses.create(model="gpt-4o-mini", input="Roll 2d4+1", tools=[server],
                                       tool_choice={"type": "mcp", "server_label": "dmcp", "name": "ask_question"})
    listing, call, _ = response.output
    assert [tool.name for tool in listing.tools] == ["roll", "ask_question"]
    assert call.name == "ask_question" and json.loads(call.arguments) == {"query": "Roll 2d4+1"}
    # A filter: only the tools it names, and `require_approval` per tool.
    gated = client.responses.create(model="gpt-4o-mini", input="Roll 2d4+1", tools=[
        {**DICE, "allowed_tools": {"tool_names": ["roll"]}, "require_approval": {"never": {"tool_names": ["other"]}}}])
    assert types_of(gated) == ["mcp_list_tools", "mcp_approval_request"]
    assert [tool.name for tool in gated.output[0].tools] == ["roll"]
    # tool_choice "none": listed, not called.
    quiet = client.responses.create(model="gpt-4o-mini", input="Roll 2d4+1", tools=[server], tool_choice="none")
    assert types_of(quiet) == ["mcp_list_tools", "message"]


def test_mcp_stream_events_in_the_recorded_order(client):
    with client.responses.stream(model="gpt-5", input="Roll 2d4+1", tools=[{**DICE, "require_approval": "never"}]) as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [event.type for event in events]
    listing = kinds.index("response.mcp_list_tools.in_progress")
    assert kinds[listing - 1:listing + 3] == ["response.output_item.added", "response.mcp_list_tools.in_progress",
                                              "response.mcp_list_tools.completed", "response.output_item.done"]
    call = kinds.index("response.mcp_call.in_progress")
    assert kinds[call - 1:call + 5] == ["response.output_item.added", "response.mcp_call.in_progress",
                                        "response.mcp_call_arguments.delta", "response.mcp_call_arguments.done",
                                        "response.mcp_call.completed", "response.output_item.done"]
    announced = events[listing - 1].item
    assert announced.type == "mcp_list_tools" and announced.tools == []
    started = events[call - 1].item
    assert started.status == "in_progress" and started.arguments == "" and started.output is None
    assert events[call + 1].delta == final.output[2].arguments == events[call + 2].arguments
    assert types_of(final) == ["mcp_list_tools", "reasoning", "mcp_call", "message"]


def test_mcp_approval_round_trip(client):
    first = client.responses.create(model="gpt-5", input="Roll 2d4+1", tools=[{**DICE, "require_approval": "always"}])
    assert types_of(first) == ["mcp_list_tools", "reasoning", "mcp_approval_request"]  # no message: the turn waits
    request = first.output[-1]
    assert request.id.startswith("mcpr_") and request.name == "search" and json.loads(request.arguments)
    approved = client.responses.create(
        model="gpt-5", previous_response_id=first.id, tools=[{**DICE, "require_approval": "always"}],
        input=[{"type": "mcp_approval_response", "approval_request_id": request.id, "approve": True}])
    assert types_of(approved)[0] == "mcp_call" and types_of(approved)[-1] == "message"
    assert "mcp_list_tools" not in types_of(approved)  # listed once per conversation
    call = approved.output[0]
    assert call.approval_request_id == request.id and call.arguments == request.arguments and call.output
    items = client.responses.input_items.list(approved.id).data
    assert items[0].type == "mcp_approval_response" and items[0].approve is True and items[0].id.startswith("mcpr_")
    # Declined: no call, an answer.
    declined = client.responses.create(
        model="gpt-5", previous_response_id=first.id, tools=[{**DICE, "require_approval": "always"}],
        input=[{"type": "mcp_approval_response", "approval_request_id": request.id, "approve": False}])
    assert "mcp_call" not in types_of(declined) and types_of(declined)[-1] == "message"
    # Streamed, the request is announced as it is, then done.
    with client.responses.stream(model="gpt-5", input="Roll 2d4+1", tools=[DICE]) as stream:
        events = [event for event in stream if event.type.startswith("response.output_item")]
    assert [(event.type, event.item.type) for event in events[-2:]] == [
        ("response.output_item.added", "mcp_approval_request"), ("response.output_item.done", "mcp_approval_request")]
    assert events[-2].item == events[-1].item
    # The default is "always" (the spec's), echoed.
    assert client.responses.create(model="gpt-4o-mini", input="Roll", tools=[DICE]).tools[0].require_approval == "always"


# --- apply_patch --------------------------------------------------------------------------

PATCH_REQUEST = ("The user has the following files:\n<BEGIN_FILES>\n===== src/app.py\nprint(\"hello\")\n<END_FILES>\n\n"
                 "Create a new file named NOTES.md with exactly these two lines:\nreview tests\nupdate docs\n\n"
                 "Do not modify any existing files.")


def test_apply_patch_round_trip(client):
    first = client.responses.create(model="gpt-5.1", tools=[{"type": "apply_patch"}], tool_choice="required",
                                    input=[{"role": "developer", "content": "You are a patch assistant."},
                                           {"role": "user", "content": PATCH_REQUEST}])
    assert types_of(first) == ["apply_patch_call"] and first.tools[0].type == "apply_patch"
    call = first.output[0]
    assert call.id.startswith("apc_") and call.status == "completed" and re.fullmatch(r"call_\w{24}", call.call_id)
    assert call.operation.model_dump() == {"type": "create_file", "diff": "+review tests\n+update docs\n", "path": "NOTES.md"}
    assert first.reasoning.effort == "none"  # gpt-5.1's default, as recorded
    done = client.responses.create(model="gpt-5.1", previous_response_id=first.id, tools=[{"type": "apply_patch"}],
                                   input=[{"type": "apply_patch_call_output", "call_id": call.call_id, "status": "completed"}])
    assert types_of(done) == ["message"] and done.output_text
    # Offered with "auto", asked to edit: an update; asked to delete: a deletion; named in tool_choice.
    update = client.responses.create(model="gpt-5.1", tools=[{"type": "apply_patch"}], input="Update src/app.py to say bye")
    assert update.output[0].operation.type == "update_file" and update.output[0].operation.path == "src/app.py"
    assert update.output[0].operation.diff.startswith("@@\n+")
    delete = client.responses.create(model="gpt-5.1", tools=[{"type": "apply_patch"}], tool_choice={"type": "apply_patch"},
                                     input="Delete old/legacy.txt please")
    assert delete.output[0].operation.model_dump() == {"type": "delete_file", "path": "old/legacy.txt"}


def test_apply_patch_streamed(client):
    with client.responses.stream(model="gpt-5.1", tools=[{"type": "apply_patch"}], tool_choice="required",
                                 input=PATCH_REQUEST) as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [event.type for event in events]
    assert kinds == ["response.created", "response.in_progress", "response.output_item.added",
                     "response.output_item.done", "response.completed"]
    assert events[2].item.status == "in_progress" and events[3].item == final.output[0]


# --- web search and image generation ----------------------------------------------------


def test_web_search_action_queries_and_the_action_announced(client):
    response = client.responses.create(model="gpt-4o-mini", input="Weather in Redmond?", tools=[{"type": "web_search"}])
    action = response.output[0].action
    assert action.type == "search" and action.query == "Weather in Redmond?" and action.queries == ["Weather in Redmond?"]
    assert action.sources is None  # only with include
    assert "filters" not in response.tools[0].model_dump(exclude_unset=True)  # not sent, not echoed (since 2026-03)
    with client.responses.stream(model="gpt-4o-mini", input="Weather in Redmond?", tools=[{"type": "web_search"}]) as stream:
        added = next(event for event in stream if event.type == "response.output_item.added")
    assert added.item.type == "web_search_call" and added.item.status == "in_progress"
    assert added.item.action.model_dump(exclude_unset=True) == {"type": "search"}


def test_image_generation_echoed_with_its_defaults(client):
    response = client.responses.create(model="gpt-5", input="Draw an axolotl.", tool_choice="required", tools=[
        {"type": "image_generation", "output_format": "jpeg", "input_fidelity": None, "partial_images": 0}])
    assert response.tools[0].model_dump(exclude_unset=True) == {
        "type": "image_generation", "background": "auto", "moderation": "auto", "n": 1, "output_compression": 100,
        "output_format": "jpeg", "quality": "auto", "size": "auto"}
    assert response.output[-2].type == "image_generation_call" and response.output[-2].output_format == "jpeg"


# --- gpt-5.5 and gpt-5.6 ------------------------------------------------------------------


def test_newest_models_echo_and_write_as_recorded(client, http):
    weather = {"type": "function", "name": "get_capital", "parameters": {
        "type": "object", "properties": {"country": {"type": "string"}}, "required": ["country"]}}
    five = client.responses.create(model="gpt-5.5", input="Hello, world!")
    assert five.model == "gpt-5.5-2026-04-23" and five.top_p == 0.98 and five.prompt_cache_retention == "24h"
    assert five.reasoning.model_dump() == {"context": "current_turn", "effort": "medium", "generate_summary": None,
                                           "mode": "standard", "summary": None}
    reasoning, message = five.output
    assert reasoning.content == [] and reasoning.encrypted_content is None  # sealed only when asked
    assert message.phase == "final_answer"
    six = client.responses.create(model="gpt-5.6", input="Fold a burrito.", reasoning={"effort": "xhigh", "summary": "detailed"})
    assert six.model == "gpt-5.6-sol" and six.reasoning.context == "all_turns" and six.reasoning.effort == "xhigh"
    assert six.output[0].content == [] and six.output[0].encrypted_content.startswith("gAAAAA")  # always, as recorded
    assert six.output[0].summary and six.output[1].phase == "final_answer"
    sent = client.responses.create(model="gpt-5.5", input="Hi", reasoning={"context": "all_turns", "mode": "pro"})
    assert sent.reasoning.context == "all_turns" and sent.reasoning.mode == "pro"
    assert client.responses.create(model="gpt-5.5", input="Hi", reasoning={"context": "auto"}).reasoning.context == "current_turn"
    # The wire: key order of the message and reasoning items, `output_schema: null` on a function tool.
    raw = http.post("/v1/responses", json={"model": "gpt-5.5", "input": "What is the capital of PotatoLand?",
                                           "tools": [weather], "include": ["reasoning.encrypted_content"]}).json()
    assert list(raw["output"][0]) == ["id", "type", "content", "encrypted_content", "summary"]
    assert list(raw["tools"][0]) == ["type", "description", "name", "output_schema", "parameters", "strict"]
    assert raw["tools"][0]["output_schema"] is None and list(raw["reasoning"]) == ["context", "effort", "mode", "summary"]
    plain = http.post("/v1/responses", json={"model": "gpt-5.5", "input": "Hello"}).json()
    assert list(plain["output"][-1]) == ["id", "type", "status", "content", "phase", "role"]
    # An assistant message's phase, sent back as the SDK asks, is kept.
    again = client.responses.create(model="gpt-5.5", input=[
        {"role": "user", "content": "What is the capital of PotatoLand?"},
        {"role": "assistant", "content": "I'll check the tool.", "phase": "commentary"},
        {"role": "user", "content": "Go on."}])
    kept = client.responses.input_items.list(again.id, order="asc").data
    assert kept[1].phase == "commentary" and kept[0].model_dump().get("phase") is None
    # Older models: no mode, no phase; per-model default efforts as recorded.
    older = client.responses.create(model="gpt-4o-mini", input="Hi")
    assert older.reasoning.context is None and older.reasoning.mode is None and older.output[0].phase is None
    assert older.top_p == 1.0 and older.prompt_cache_retention == "in_memory"
    assert client.responses.create(model="gpt-5.2", input="Hi").reasoning.model_dump(exclude_none=True) == {
        "context": "current_turn", "effort": "none"}
    assert client.responses.create(model="gpt-5-pro", input="Hi").reasoning.effort == "high"


# --- logprobs in text deltas ----------------------------------------------------------------


def test_text_deltas_carry_logprobs_when_asked(client):
    kwargs = {"model": "gpt-4o-mini", "input": "What is the capital of Minas Gerais?", "top_logprobs": 2,
              "include": ["message.output_text.logprobs"]}
    with client.responses.stream(**kwargs) as stream:
        events = list(stream)
        final = stream.get_final_response()
    deltas = [event for event in events if event.type == "response.output_text.delta"]
    assert deltas and all(len(event.logprobs) == 1 and event.logprobs[0].token == event.delta for event in deltas)
    assert all(len(event.logprobs[0].top_logprobs) == 2 for event in deltas)
    done = next(event for event in events if event.type == "response.output_text.done")
    assert [entry.token for entry in done.logprobs] == [event.delta for event in deltas]
    part_done = next(event for event in events if event.type == "response.content_part.done")
    assert part_done.part.logprobs == []  # as recorded: the part as done carries none
    assert [entry.token for entry in final.output[0].content[0].logprobs] == [event.delta for event in deltas]
    with client.responses.stream(model="gpt-4o-mini", input="What is the capital of Minas Gerais?") as stream:
        assert all(event.logprobs == [] for event in stream if event.type == "response.output_text.delta")


# --- Azure ----------------------------------------------------------------------------------


def test_azure_v1_responses_have_azures_shape(server, http):
    azure = AzureOpenAI(base_url=server.origin + "/openai/v1", api_key="azure-key", api_version="preview", max_retries=0)
    response = azure.responses.create(model="gpt-5.5", input="What is the capital of France?",
                                      reasoning={"context": "all_turns"}, include=["reasoning.encrypted_content"])
    assert response.model == "gpt-5.5" and response.reasoning.context == "all_turns"
    assert types_of(response) == ["reasoning", "message"] and response.output[0].encrypted_content
    raw = http.post("/openai/v1/responses", json={"model": "gpt-5.5", "input": "What is the capital of France?"},
                    headers={"api-key": "azure-key"}).json()
    assert "billing" not in raw and "tool_usage" not in raw
    keys = list(raw)
    assert keys[keys.index("completed_at") + 1] == "content_filters"
    prompt, completion = raw["content_filters"]
    assert prompt["source_type"] == "prompt" and completion["source_type"] == "completion"
    assert not prompt["blocked"] and prompt["content_filter_results"]["jailbreak"] == {"detected": False, "filtered": False}
    assert completion["content_filter_results"]["protected_material_code"] == {"detected": False, "filtered": False}
    assert prompt["content_filter_offsets"]["end_offset"] == len("What is the capital of France?")
    # Streamed: no content checked when it opens, the verdicts when it completes.
    with azure.responses.stream(model="gpt-4o-mini", input="Hi") as stream:
        events = list(stream)
    assert events[0].response.model_extra["content_filters"] == []
    assert len(events[-1].response.model_extra["content_filters"]) == 2
    # The OpenAI shape on /v1.
    assert "billing" in http.post("/v1/responses", json={"model": "gpt-4o-mini", "input": "Hi"}).json()


# --- chat search models ---------------------------------------------------------------------


def test_chat_search_models_cite_their_pages(client):
    completion = client.chat.completions.create(model="gpt-4o-search-preview", web_search_options={},
                                                messages=[{"role": "user", "content": "A positive news story from today?"}])
    message = completion.choices[0].message
    assert message.annotations and all(a.type == "url_citation" for a in message.annotations)
    for annotation in message.annotations:
        cited = annotation.url_citation
        link = message.content[cited.start_index:cited.end_index]
        assert link.startswith("([") and link.endswith(f"]({cited.url}))") and cited.title
    assert client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}]).choices[0].message.annotations == []


# --- recorded round trips, replayed ----------------------------------------------------------


def translated(value, ids: dict[str, str]):
    text = json.dumps(value)
    for theirs, ours in ids.items():
        text = text.replace(theirs, ours)
    return json.loads(text)


@pytest.mark.parametrize("name", ["ResponsesToolTests/MCPToolAlwaysRequiresApproval(True)",
                                  "ResponsesToolTests/ApplyPatchToolWorks(%CreateFile%)"])
def test_recorded_round_trip_replayed(name, http):
    """Each request of a recorded chain sent in order, the ids the real API gave (the
    response, its items, the call ids) translated into the fake's, every answer held to the
    recorded-traffic comparisons."""
    chain = [item for item in recorded("responses") if item.id.startswith(name + "#")]
    assert len(chain) == 2
    ids: dict[str, str] = {}
    for item in chain:
        body = translated(copy.deepcopy(item.request_body), ids)
        response = http.post("/v1/responses", json=body, headers={"authorization": "Bearer sk-replay"})
        assert response.status_code == item.status == 200, response.text[:600]
        ours, theirs = response.json(), item.response_json
        compare_response_bodies(item, ours, planned=item.id not in RESPONSES_MODEL_CHOICE)
        ids[theirs["id"]] = ours["id"]
        for mine, recorded_item in zip(ours["output"], theirs["output"]):
            for key in ("id", "call_id"):
                if key in recorded_item:
                    ids[recorded_item[key]] = mine[key]
    assert ours["previous_response_id"] == ids[chain[0].response_json["id"]]


def test_tool_items_are_kept_in_conversations_and_input_items(client):
    conversation = client.conversations.create()
    client.responses.create(model="gpt-5", input="Roll 2d4+1", conversation=conversation.id,
                            tools=[{**DICE, "require_approval": "never"}])
    patched = client.responses.create(model="gpt-5.1", input="Create NOTES.md", conversation=conversation.id,
                                      tools=[{"type": "apply_patch"}])
    call = patched.output[0]
    client.responses.create(model="gpt-5.1", conversation=conversation.id, tools=[{"type": "apply_patch"}],
                            input=[{"type": "apply_patch_call_output", "call_id": call.call_id, "status": "failed",
                                    "output": "NOTES.md exists"}])
    kinds = [item.type for item in client.conversations.items.list(conversation.id, order="asc").data]
    assert kinds[:5] == ["message", "mcp_list_tools", "reasoning", "mcp_call", "message"]
    assert kinds[5:] == ["message", "apply_patch_call", "apply_patch_call_output", "message"]
    counted = client.responses.input_tokens.count(model="gpt-5", input=[
        {"role": "user", "content": "Roll"},
        {"type": "mcp_call", "id": "mcp_1", "server_label": "dmcp", "name": "roll", "arguments": "{}", "output": "7"},
        {"role": "user", "content": "Again"}])
    assert counted.input_tokens > 10

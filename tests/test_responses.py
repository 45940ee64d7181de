"""The Responses API through the official SDK: create, stream with the helpers, chain,
tools, structured output, reasoning, incomplete answers, stored objects and input
items, and the errors a client meets. Every body and event is checked against
contracts/ and the SDK's types by the audit (conftest)."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from pydantic import BaseModel

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def test_create_returns_a_complete_response(client, http):
    response = client.responses.create(model="gpt-4o-mini", input="Tell me about Lisbon.")
    assert response.status == "completed" and response.object == "response"
    assert response.id.startswith("resp_") and len(response.id) == 55
    assert response.model == "gpt-4o-mini-2024-07-18"
    message = response.output[0]
    assert message.type == "message" and message.role == "assistant" and message.id.startswith("msg_")
    assert message.id[4:20] == response.id[5:21]  # the response's shard
    assert response.output_text and response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    # The wire: indented two spaces, the real key order, no rate-limit headers lost.
    raw = http.post("/v1/responses", json={"model": "gpt-4o-mini", "input": "Tell me about Lisbon."})
    assert raw.text.startswith('{\n  "id": "resp_') and not raw.text.endswith("\n")
    keys = list(raw.json())
    assert keys[:5] == ["id", "object", "created_at", "status", "background"] and keys[-1] == "metadata"
    assert keys[5:-1] == sorted(keys[5:-1])
    assert raw.headers["x-ratelimit-limit-requests"] and raw.headers["openai-version"] == "2020-10-01"


def test_same_request_same_answer(client):
    first = client.responses.create(model="gpt-4o-mini", input="Deterministic, please.")
    second = client.responses.create(model="gpt-4o-mini", input="Deterministic, please.")
    assert first.output_text == second.output_text and first.id != second.id


def test_stream_with_the_sdk_helpers(client, http):
    with client.responses.stream(model="gpt-4o-mini", input="Stream a story.") as stream:
        events = list(stream)
        final = stream.get_final_response()
    types = [event.type for event in events]
    assert types[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"]
    assert types[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                          "response.completed"]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    deltas = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert deltas == final.output_text
    assert final.output_text == client.responses.create(model="gpt-4o-mini", input="Stream a story.").output_text
    # The wire: event lines, no [DONE], padding to 16 characters, no rate-limit headers.
    with http.stream("POST", "/v1/responses", json={"model": "gpt-4o-mini", "input": "Stream a story.", "stream": True}) as raw:
        text = raw.read().decode()
        assert raw.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert "x-ratelimit-limit-requests" not in raw.headers
    frames = [frame for frame in text.split("\n\n") if frame]
    assert "[DONE]" not in text and all(frame.startswith("event: ") for frame in frames)
    for frame in frames:
        event_line, data_line = frame.split("\n")
        data = json.loads(data_line[len("data: "):])
        assert event_line == f"event: {data['type']}"
        assert list(data)[0] == "type" and list(data)[1:] == sorted(list(data)[1:])
        if data["type"].endswith(".delta"):
            assert (len(data["delta"]) + len(data["obfuscation"])) % 16 == 0
        if data["type"] in ("response.created", "response.in_progress"):
            assert data["response"]["status"] == "in_progress" and data["response"]["output"] == []
            assert data["response"]["usage"] is None and "billing" not in data["response"]


def test_async_stream(async_client):
    import asyncio

    async def run():
        stream = await async_client.responses.create(model="gpt-4o-mini", input="async", stream=True)
        return [event.type async for event in stream]

    types = asyncio.run(run())
    assert types[0] == "response.created" and types[-1] == "response.completed"


def test_three_turns_chained(client):
    first = client.responses.create(model="gpt-4o-mini", input="My name is Ada.")
    second = client.responses.create(model="gpt-4o-mini", input="What is my name?", previous_response_id=first.id)
    third = client.responses.create(model="gpt-4o-mini", input="And again?", previous_response_id=second.id)
    assert third.previous_response_id == second.id
    assert third.id[5:21] == first.id[5:21]  # a chain shares its shard
    items = client.responses.input_items.list(third.id, order="asc", limit=100)
    texts = [item.content[0].text for item in items.data]
    assert texts[0] == "My name is Ada." and texts[2] == "What is my name?" and texts[-1] == "And again?"
    assert texts[1] == first.output_text and texts[3] == second.output_text
    assert client.responses.input_tokens.count(model="gpt-4o-mini", previous_response_id=second.id,
                                               input="And again?").input_tokens == third.usage.input_tokens


def test_chained_fixture_sees_the_conversation(make_server, tmp_path):
    (tmp_path / "chain.yaml").write_text(
        "- match: {endpoint: responses, conversation: 'I ordered soup', message: '(?i)what did I order'}\n"
        "  response: {content: You ordered soup.}\n"
    )
    running = make_server(fixtures=[tmp_path])
    client = openai.OpenAI(base_url=running.url, api_key="sk-test", max_retries=0)
    first = client.responses.create(model="gpt-4o-mini", input="I ordered soup.")
    assert first.output_text != "You ordered soup."
    alone = client.responses.create(model="gpt-4o-mini", input="What did I order?")
    assert alone.output_text != "You ordered soup."  # without the earlier turn: no match
    second = client.responses.create(model="gpt-4o-mini", input="What did I order?", previous_response_id=first.id)
    assert second.output_text == "You ordered soup."


def test_function_call_round_trip(client):
    first = client.responses.create(model="gpt-4o-mini", input="What's the weather in Paris?", tools=[WEATHER])
    call = first.output[0]
    assert call.type == "function_call" and call.name == "get_weather" and call.call_id.startswith("call_")
    assert call.id.startswith("fc_") and "city" in json.loads(call.arguments)
    assert first.tools[0].strict is True and first.tools[0].parameters["additionalProperties"] is False
    second = client.responses.create(
        model="gpt-4o-mini", previous_response_id=first.id, tools=[WEATHER],
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": '{"temperature": 21}'}],
    )
    assert second.output[0].type == "message" and second.output_text
    items = client.responses.input_items.list(second.id)
    assert [item.type for item in items.data] == ["function_call_output", "function_call", "message"]


def test_streamed_function_call(client):
    with client.responses.stream(model="gpt-4o-mini", input="weather in Oslo", tools=[WEATHER]) as stream:
        types = [event.type for event in stream]
        final = stream.get_final_response()
    assert "response.function_call_arguments.delta" in types and "response.content_part.added" not in types
    assert final.output[0].type == "function_call"


class City(BaseModel):
    name: str
    population: int


def test_structured_output_parses(client):
    parsed = client.responses.parse(model="gpt-4o-mini", input="A city, please.", text_format=City)
    assert isinstance(parsed.output_parsed, City)
    assert parsed.text.format.type == "json_schema" and parsed.text.format.strict is True


def test_reasoning_summary_and_tokens(client):
    response = client.responses.create(model="o3-mini", input="Think hard.", reasoning={"effort": "high", "summary": "auto"})
    assert response.output[0].type == "reasoning" and response.output[0].summary
    assert response.reasoning.summary == "detailed" and response.reasoning.effort == "high"
    assert response.usage.output_tokens_details.reasoning_tokens > 0
    with client.responses.stream(model="o3-mini", input="Think hard.", reasoning={"effort": "high", "summary": "auto"}) as stream:
        types = [event.type for event in stream]
    assert "response.reasoning_summary_text.delta" in types and "response.reasoning_summary_part.done" in types


def test_max_output_tokens_is_incomplete(client):
    response = client.responses.create(model="gpt-4o-mini", input="Write a long essay.", max_output_tokens=16)
    assert response.status == "incomplete" and response.incomplete_details.reason == "max_output_tokens"
    assert response.output[0].status == "incomplete" and response.usage.output_tokens == 16
    with client.responses.stream(model="gpt-4o-mini", input="Write a long essay.", max_output_tokens=16) as stream:
        types = [event.type for event in stream]
    assert types[-1] == "response.incomplete"


def test_retrieve_delete_then_404(client, http):
    created = http.post("/v1/responses", json={"model": "gpt-4o-mini", "input": "Keep me."})
    response_id = created.json()["id"]
    fetched = http.get(f"/v1/responses/{response_id}")
    assert fetched.content == created.content and "x-ratelimit-limit-requests" not in fetched.headers
    deleted = client.responses.delete(response_id)
    assert deleted is None
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.retrieve(response_id)
    assert caught.value.body == {"message": f"Response with id '{response_id}' not found.",
                                 "type": "invalid_request_error", "param": None, "code": None}
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(response_id)


def test_store_false_cannot_be_retrieved_or_chained(client):
    response = client.responses.create(model="gpt-4o-mini", input="Forget me.", store=False)
    assert response.store is False and response.id[21:23] == "01"
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model="gpt-4o-mini", input="again", previous_response_id=response.id)
    assert caught.value.body["code"] == "previous_response_not_found"
    assert caught.value.body["param"] == "previous_response_id"


def test_input_items_pagination(client):
    inputs = [{"role": "user", "content": f"Item {n}"} for n in range(1, 6)]
    response = client.responses.create(model="gpt-4o-mini", input=inputs)
    first = client.responses.input_items.list(response.id, limit=2)
    assert [item.content[0].text for item in first.data] == ["Item 5", "Item 4"]
    assert first.has_more and first.first_id == first.data[0].id and first.last_id == first.data[1].id
    second = client.responses.input_items.list(response.id, limit=2, after=first.last_id)
    assert [item.content[0].text for item in second.data] == ["Item 3", "Item 2"]
    everything = [item.content[0].text for item in client.responses.input_items.list(response.id, limit=2)]
    assert everything == ["Item 5", "Item 4", "Item 3", "Item 2", "Item 1"]  # the SDK follows the cursor
    ascending = client.responses.input_items.list(response.id, order="asc", limit=3)
    assert [item.content[0].text for item in ascending.data] == ["Item 1", "Item 2", "Item 3"]
    with pytest.raises(openai.BadRequestError):
        client.responses.input_items.list(response.id, limit=101)


def test_cancel_needs_a_background_response(client):
    response = client.responses.create(model="gpt-4o-mini", input="now")
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.cancel(response.id)
    assert caught.value.body["message"] == "Cannot cancel a synchronous response."


@pytest.mark.parametrize("body, param", [
    ({"model": "gpt-4o-mini", "input": [{"type": "no_such_item", "x": 1}]}, "input[0].type"),
    ({"model": "gpt-4o-mini", "input": "hi", "previous_response_id": "resp_missing"}, "previous_response_id"),
    ({"model": "gpt-4o-mini", "input": [{"type": "function_call_output", "call_id": "call_nope", "output": "x"}]}, "input"),
    ({"model": "gpt-4o-mini", "input": "hi", "text": {"format": {"type": "json_schema", "name": "x", "schema": 5}}}, "text.format.schema"),
    ({"model": "gpt-4o-mini", "input": "hi", "temperature": -1}, "temperature"),
    ({"model": "gpt-4o-mini", "input": "hi", "bogus": 1}, "bogus"),
])
def test_bad_input_gets_the_envelope_with_param(http, body, param):
    answer = http.post("/v1/responses", json=body)
    assert answer.status_code in (400, 404)
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param and error["message"]


def test_malformed_json_is_a_400(http):
    answer = http.post("/v1/responses", content=b"{not json", headers={"content-type": "application/json"})
    assert answer.status_code == 400 and answer.json()["error"]["type"] == "invalid_request_error"


def test_retrieve_unknown_id_is_404_with_the_real_message(http):
    answer = http.get("/v1/responses/resp_doesnotexist")
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == "Response with id 'resp_doesnotexist' not found."


def test_streamed_validation_error_is_plain_json(http):
    answer = http.post("/v1/responses", json={"model": "gpt-4o-mini", "input": "hi", "stream": True, "temperature": -1})
    assert answer.status_code == 400 and answer.headers["content-type"].startswith("application/json")
    assert answer.json()["error"]["code"] == "decimal_below_min_value"


def test_unknown_model_is_404(http):
    answer = http.post("/v1/responses", json={"model": "gpt-nope", "input": "hi"})
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "model_not_found"



# --- background ------------------------------------------------------------------------


@pytest.fixture
def frozen(make_server):
    """A fake whose background clock moves only when the test advances it."""
    running = make_server(time_scale=0)
    client = openai.OpenAI(base_url=running.url, api_key="sk-test", max_retries=0)

    def advance(seconds: float) -> None:
        httpx.post(f"{running.origin}/__mock/clock", json={"advance": seconds}).raise_for_status()

    return running, client, advance


def test_background_poll_on_the_test_clock(frozen):
    running, client, advance = frozen
    created = client.responses.create(model="gpt-4o-mini", input="Take your time.", background=True)
    assert created.status == "queued" and created.background is True and created.output == [] and created.usage is None
    assert client.responses.retrieve(created.id).status == "queued"
    advance(0.5)
    assert client.responses.retrieve(created.id).status == "in_progress"
    advance(2)
    done = client.responses.retrieve(created.id)
    assert done.status == "completed" and done.output_text and done.usage.output_tokens > 0
    assert done.output_text == client.responses.create(model="gpt-4o-mini", input="Take your time.").output_text


def test_background_cancel(frozen):
    running, client, advance = frozen
    created = client.responses.create(model="gpt-4o-mini", input="Cancel me.", background=True)
    cancelled = client.responses.cancel(created.id)
    assert cancelled.status == "cancelled" and cancelled.output == [] and cancelled.usage is None
    advance(10)
    assert client.responses.retrieve(created.id).status == "cancelled"
    assert client.responses.cancel(created.id).status == "cancelled"  # idempotent


def test_background_stream_resumes_after_a_sequence_number(frozen):
    running, client, advance = frozen
    events = list(client.responses.create(model="gpt-4o-mini", input="A story.", background=True, stream=True))
    types = [event.type for event in events]
    assert types[:3] == ["response.created", "response.queued", "response.in_progress"]
    assert events[0].response.status == "queued" and types[-1] == "response.completed"
    response_id = events[0].response.id
    resumed = list(client.responses.retrieve(response_id, stream=True, starting_after=1))
    assert [event.sequence_number for event in resumed] == [event.sequence_number for event in events[2:]]
    assert resumed[0].type == "response.in_progress"
    assert client.responses.retrieve(response_id).status == "completed"


def test_clock_admin_rejects_bad_input(frozen):
    running, client, advance = frozen
    answer = httpx.post(f"{running.origin}/__mock/clock", json={"advance": "soon"})
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "advance"


# --- state that outlives the server ----------------------------------------------------


def test_sqlite_state_survives_a_restart(tmp_path):
    from mockserver import Config

    from .support.server import RunningServer

    path = tmp_path / "state.db"
    with RunningServer(Config(state=path)) as first:
        client = openai.OpenAI(base_url=first.url, api_key="sk-test", max_retries=0)
        kept = client.responses.create(model="gpt-4o-mini", input="Remember this.")
        gone = client.responses.create(model="gpt-4o-mini", input="Forget this.")
        client.responses.delete(gone.id)
    with RunningServer(Config(state=path)) as second:
        client = openai.OpenAI(base_url=second.url, api_key="sk-test", max_retries=0)
        assert client.responses.retrieve(kept.id).output_text == kept.output_text
        with pytest.raises(openai.NotFoundError):
            client.responses.retrieve(gone.id)
        chained = client.responses.create(model="gpt-4o-mini", input="And?", previous_response_id=kept.id)
        assert [i.content[0].text for i in client.responses.input_items.list(chained.id, order="asc")][0] == "Remember this."


def test_sqlite_state_survives_a_kill(tmp_path):
    """Every acknowledged write is on disk: kill -9 the server mid-load, restart, all there."""
    import os
    import signal
    import subprocess

    from .support.process import free_port, serve

    path = tmp_path / "state.db"
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def start() -> subprocess.Popen:
        return serve(port, "--state", str(path))

    server = start()
    try:
        acknowledged = []
        with httpx.Client(base_url=base, timeout=5) as session:
            for n in range(40):
                answer = session.post("/v1/responses", json={"model": "gpt-4o-mini", "input": f"note {n}"})
                acknowledged.append(answer.json()["id"])
        os.kill(server.pid, signal.SIGKILL)
        server.wait()
        server = start()
        with httpx.Client(base_url=base, timeout=5) as session:
            for response_id in acknowledged:
                assert session.get(f"/v1/responses/{response_id}").status_code == 200
    finally:
        server.kill()
        server.wait()


def test_memory_store_evicts_the_oldest(make_server):
    running = make_server(state_max_objects=3)
    client = openai.OpenAI(base_url=running.url, api_key="sk-test", max_retries=0)
    ids = [client.responses.create(model="gpt-4o-mini", input=f"n{n}").id for n in range(4)]
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(ids[0])
    assert client.responses.retrieve(ids[3]).id == ids[3]


def test_broken_state_file_stops_start_up(tmp_path):
    from mockserver import Config, create_app
    from mockserver.yamlio import SourceError

    path = tmp_path / "state.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(SourceError) as caught:
        create_app(Config(state=path))
    assert "state.db" in str(caught.value)


# --- built-in tools ----------------------------------------------------------------------

BUILT_INS = [{"type": "web_search"}, {"type": "file_search", "vector_store_ids": ["vs_docs"]},
             {"type": "code_interpreter", "container": {"type": "auto"}}, {"type": "image_generation"}]


def test_built_in_tools_are_synthesized_as_their_items(client):
    import base64

    response = client.responses.create(
        model="gpt-4o-mini", input="Find the latest figures.", tools=BUILT_INS,
        include=["web_search_call.action.sources", "file_search_call.results", "code_interpreter_call.outputs"],
    )
    types = [item.type for item in response.output]
    assert types == ["web_search_call", "file_search_call", "code_interpreter_call", "image_generation_call", "message"]
    search, files, code, image, message = response.output
    assert search.id.startswith("ws_") and search.action.query == "Find the latest figures." and search.action.sources
    assert files.results and files.results[0].file_id.startswith("file-")
    assert code.container_id.startswith("cntr_") and code.outputs[0].logs.isdigit()
    png = base64.b64decode(image.result)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and b"IEND" in png
    kinds = {annotation.type for annotation in message.content[0].annotations}
    assert kinds == {"url_citation", "file_citation"}
    assert response.tools[0].user_location.country == "US" and response.tools[1].max_num_results == 20
    # Without include, what include adds is left out, as the real API does.
    plain = client.responses.create(model="gpt-4o-mini", input="Find the latest figures.", tools=BUILT_INS)
    assert plain.output[1].results is None and plain.output[2].outputs is None and plain.output[0].action.sources is None


def test_built_in_tool_events_stream_in_order(client):
    with client.responses.stream(model="gpt-4o-mini", input="Compute it.", tools=[BUILT_INS[2], BUILT_INS[0]]) as stream:
        types = [event.type for event in stream if not event.type.endswith(".delta")]
    assert types[2:8] == ["response.output_item.added", "response.code_interpreter_call.in_progress",
                          "response.code_interpreter_call_code.done", "response.code_interpreter_call.interpreting",
                          "response.code_interpreter_call.completed", "response.output_item.done"]
    assert "response.web_search_call.searching" in types and "response.output_text.annotation.added" in types
    assert client.responses.create(model="gpt-4o-mini", input="no tools", tools=BUILT_INS, tool_choice="none").output[0].type == "message"


def test_compact_folds_the_conversation(client, http):
    first = client.responses.create(model="gpt-4o-mini", input="Build a landing page.")
    compacted = client.responses.compact(model="gpt-4o-mini", previous_response_id=first.id)
    assert compacted.object == "response.compaction" and compacted.id[21:23] == "01"
    assert [item.type for item in compacted.output] == ["message", "compaction"]
    assert compacted.output[0].content[0].text == "Build a landing page."
    assert compacted.output[1].id.startswith("cmp_") and compacted.output[1].encrypted_content.startswith("gAAAAA")
    raw = http.post("/v1/responses/compact", json={"model": "gpt-4o-mini", "previous_response_id": first.id})
    assert raw.text.startswith('{"id":"resp_')  # compact JSON, as recorded
    # The compaction item goes back in as input.
    again = client.responses.create(model="gpt-4o-mini", input=[
        {"role": "user", "content": "Build a landing page."},
        {"type": "compaction", "encrypted_content": compacted.output[1].encrypted_content},
        {"role": "user", "content": "Now add a footer."},
    ])
    assert again.status == "completed"
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(compacted.id)


def test_lenient_answers_unknown_ids_with_objects_of_the_right_shape(make_server):
    running = make_server(lenient=True)
    client = openai.OpenAI(base_url=running.url, api_key="sk-test", max_retries=0)
    response = client.responses.retrieve("resp_recorded_elsewhere")
    assert response.id == "resp_recorded_elsewhere" and response.status == "completed" and response.output_text
    assert client.responses.input_items.list("resp_recorded_elsewhere").data[0].role == "user"
    chained = client.responses.create(model="gpt-4o-mini", input="go on", previous_response_id="resp_recorded_elsewhere")
    assert chained.previous_response_id == "resp_recorded_elsewhere"
    conversation = client.conversations.retrieve("conv_recorded_elsewhere")
    assert conversation.id == "conv_recorded_elsewhere" and conversation.metadata == {}
    assert client.conversations.items.list("conv_recorded_elsewhere").data == []


@pytest.mark.parametrize("body, param, code", [
    ({"reasoning": {"effort": "high"}}, "reasoning.effort", "unsupported_parameter"),
    ({"tools": [{"type": "function", "name": "f", "parameters": {"type": "object", "properties": {"a": {"type": "string"}}},
                 "strict": True}]}, "tools[0].parameters", "invalid_function_parameters"),
    ({"tools": [{"type": "function", "name": "f", "parameters": {"type": 12}}]}, "tools[0].parameters", "invalid_function_parameters"),
    ({"text": {"format": {"type": "json_schema", "name": "s", "strict": True,
                          "schema": {"type": "object", "properties": {"a": {"type": "string"}}}}}},
     "text.format.schema", "invalid_json_schema"),
])
def test_model_and_schema_rules(http, body, param, code):
    answer = http.post("/v1/responses", json={"model": "gpt-4o-mini", "input": "hi", **body})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["param"], error["code"]) == (param, code)


def test_reasoning_models_refuse_sampling(http):
    answer = http.post("/v1/responses", json={"model": "o3-mini", "input": "hi", "temperature": 0.2})
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "temperature"


def test_images_count_as_chat_counts_them(client):
    text_only = client.responses.input_tokens.count(model="gpt-4o-mini", input=[{"role": "user", "content": [
        {"type": "input_text", "text": "What is in this image?"}]}]).input_tokens
    with_image = client.responses.input_tokens.count(model="gpt-4o-mini", input=[{"role": "user", "content": [
        {"type": "input_text", "text": "What is in this image?"},
        {"type": "input_image", "image_url": "https://example.com/cat.png", "detail": "low"}]}]).input_tokens
    assert with_image - text_only == 85


def test_include_adds_encrypted_reasoning_and_logprobs(client):
    reasoned = client.responses.create(model="o3-mini", input="hi", include=["reasoning.encrypted_content"], store=False)
    assert reasoned.output[0].encrypted_content.startswith("gAAAAAB")
    assert client.responses.create(model="o3-mini", input="hi").output[0].encrypted_content is None
    scored = client.responses.create(model="gpt-4o-mini", input="hi", include=["message.output_text.logprobs"], top_logprobs=2)
    part = scored.output[0].content[0]
    assert "".join(entry.token for entry in part.logprobs) == part.text
    assert all(entry.logprob <= 0 and len(entry.top_logprobs) == 2 for entry in part.logprobs)


def test_error_bodies_are_written_as_recorded(http):
    answer = http.get("/v1/responses/resp_012716c47e5818750068c9ef3acb74819590c9bfdd9025e969")
    assert answer.status_code == 404 and len(answer.content) == 197  # the recorded Content-Length


def test_item_reference_resolves_a_stored_item(client, http):
    first = client.responses.create(model="gpt-4o-mini", input="Remember the number 42.")
    question_id = client.responses.input_items.list(first.id).data[0].id
    answer_id = first.output[0].id
    second = client.responses.create(model="gpt-4o-mini", input=[
        {"type": "item_reference", "id": question_id}, {"type": "item_reference", "id": answer_id},
        {"role": "user", "content": "Which number?"},
    ])
    texts = [item.content[0].text for item in client.responses.input_items.list(second.id, order="asc")]
    assert texts == ["Remember the number 42.", first.output_text, "Which number?"]
    missing = http.post("/v1/responses", json={"model": "gpt-4o-mini", "input": [{"type": "item_reference", "id": "msg_nope"}]})
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "Item with id 'msg_nope' not found."

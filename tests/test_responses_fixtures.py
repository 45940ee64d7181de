"""README's Responses fixtures, loaded as written and driven through the SDK: rendered
text, tool calls, a fixture that matches on an earlier turn, reasoning, a recorded body
with a built-in tool (also streamed), a recorded stream (also read as a body)."""

from __future__ import annotations

import re
from pathlib import Path

import openai
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture
def client(make_server, tmp_path):
    block = re.search(r"```yaml\n(# responses-fixtures\.yaml\n.*?)```", README.read_text(), re.S)
    assert block, "README lost its Responses fixtures example"
    (tmp_path / "responses.yaml").write_text(block.group(1))
    running = make_server(fixtures=[tmp_path])
    return openai.OpenAI(base_url=running.url, api_key="sk-test", max_retries=0)


def test_rendered_text_and_tool_call(client):
    assert client.responses.create(model="gpt-4o-mini", input="Hello").output_text == "Hi there!"
    with client.responses.stream(model="gpt-4o-mini", input="Hello") as stream:
        assert stream.get_final_response().output_text == "Hi there!"
    call = client.responses.create(model="gpt-4o-mini", input="weather, please").output[0]
    assert call.type == "function_call" and call.name == "get_weather" and call.arguments == '{"city":"Paris"}'


def test_match_on_an_earlier_turn(client):
    first = client.responses.create(model="gpt-4o-mini", input="I ordered soup.")
    assert client.responses.create(model="gpt-4o-mini", input="What did I order?").output_text != "You ordered soup."
    second = client.responses.create(model="gpt-4o-mini", input="What did I order?", previous_response_id=first.id)
    assert second.output_text == "You ordered soup."


def test_reasoning_fixture(client):
    response = client.responses.create(model="o3-mini", input="a riddle")
    assert response.output[0].type == "reasoning" and response.output_text == "A towel gets wetter as it dries."
    assert response.usage.output_tokens_details.reasoning_tokens % 64 == 0


def test_recorded_body_with_a_built_in_tool(client):
    response = client.responses.create(model="gpt-4o-mini", input="news")
    assert [item.type for item in response.output] == ["web_search_call", "message"]
    assert client.responses.retrieve(response.id).output_text == "Nothing happened today."
    events = list(client.responses.create(model="gpt-4o-mini", input="news", stream=True))
    assert events[-1].type == "response.completed" and events[-1].response.output_text == "Nothing happened today."


def test_recorded_stream_both_ways(client):
    events = list(client.responses.create(model="gpt-4o-mini", input="stream me", stream=True))
    assert [event.type for event in events] == ["response.created", "response.output_text.delta", "response.completed"]
    assert client.responses.create(model="gpt-4o-mini", input="stream me").output_text == "Streamed"

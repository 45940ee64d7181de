"""A caller's schema cannot block the server: whatever it demands, the answer comes in time.

A `json_schema` response format, a tool's `parameters` or a Responses `text.format` may ask
for a billion array items, a string of a billion characters, a pattern repeated a billion
times, numbers at the edge of a double, contradictions, or `$ref` cycles with no finite
instance. The real model writes until its output limit and stops (`finish_reason:
"length"`, a Responses `incomplete`); the fake does the same, in time proportional to the
budget, and a strict schema over the documented size limits is refused as the real API
refuses it. Hypothesis sends hostile schemas through the running server; every answer is
a 200 or a 400 in the error envelope, within a fixed time, and memory stays bounded.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import openai
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openai import OpenAI

from mockserver import Config

from .support.audit import problems
from .support.process import vm_rss_mb
from .support.server import RunningServer

SECONDS = 2.0  # every answer, whatever the schema
MEMORY_MB = 300  # what the server may grow by over the generated run (its answer memos fill up)
MODEL_LIMIT = 16_384  # gpt-4o-mini's output limit
BILLION = 10**9
ASK = [{"role": "user", "content": "Answer in JSON, please."}]


def timed(http: httpx.Client, path: str, body: dict) -> httpx.Response:
    started = time.perf_counter()
    response = http.post(path, json=body)
    elapsed = time.perf_counter() - started
    assert elapsed < SECONDS, f"{path} took {elapsed:.2f}s for {json.dumps(body)[:300]}"
    return response


def chat_format(schema: Any, strict: bool = False) -> dict:
    return {"type": "json_schema", "json_schema": {"name": "doc", "schema": schema, "strict": strict}}


def text_format(schema: Any, strict: bool = False) -> dict:
    return {"format": {"type": "json_schema", "name": "doc", "schema": schema, "strict": strict}}


def streamed(response: httpx.Response) -> tuple[str, str | None, dict | None]:
    """A chat stream's content, finish reason and usage."""
    assert response.text.rstrip().endswith("data: [DONE]")
    content, finish, usage = [], None, None
    for line in response.text.splitlines():
        if not line.startswith("data: {"):
            continue
        chunk = json.loads(line[6:])
        usage = chunk.get("usage") or usage
        for choice in chunk["choices"]:
            content.append(choice["delta"].get("content") or "")
            finish = choice.get("finish_reason") or finish
    return "".join(content), finish, usage


# --- the issue's cases ---------------------------------------------------------------------


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"items": {"type": "array", "minItems": BILLION, "items": {"type": "integer"}}},
     "required": ["items"]},
    {"type": "object", "properties": {"text": {"type": "string", "minLength": BILLION}}, "required": ["text"]},
    {"type": "object", "properties": {"code": {"type": "string", "pattern": "^(x{1000}){1000000}$"}}, "required": ["code"]},
    {"type": "object", "minProperties": BILLION},
], ids=["minItems", "minLength", "pattern", "minProperties"])
def test_a_schema_demanding_more_than_max_tokens_ends_with_length(http, schema):
    body = {"model": "gpt-4o-mini", "messages": ASK, "max_tokens": 50, "response_format": chat_format(schema)}
    response = timed(http, "/v1/chat/completions", body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["choices"][0]["finish_reason"] == "length"
    assert 0 < answer["usage"]["completion_tokens"] <= 50
    content = answer["choices"][0]["message"]["content"]
    assert content.startswith("{")
    # The same request streamed spells the same cut answer.
    text, finish, usage = streamed(timed(http, "/v1/chat/completions", {**body, "stream": True,
                                                                         "stream_options": {"include_usage": True}}))
    assert (text, finish) == (content, "length") and usage["completion_tokens"] == answer["usage"]["completion_tokens"]


def test_without_a_budget_the_model_output_limit_applies(http):
    schema = {"type": "array", "minItems": BILLION, "items": {"type": "string", "minLength": 20}}
    response = timed(http, "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": ASK,
                                                    "response_format": chat_format(schema)})
    answer = response.json()
    assert answer["choices"][0]["finish_reason"] == "length"
    assert answer["usage"]["completion_tokens"] == MODEL_LIMIT


def test_the_largest_output_limit_is_answered_in_time(http):
    """gpt-5 may write 128,000 tokens; what a schema makes endless stops at 16,384."""
    schema = {"type": "object", "properties": {"text": {"type": "string", "minLength": BILLION}}, "required": ["text"]}
    body = {"model": "gpt-5", "messages": ASK, "reasoning_effort": "minimal", "response_format": chat_format(schema)}
    answer = timed(http, "/v1/chat/completions", body).json()
    assert answer["choices"][0]["finish_reason"] == "length"
    reasoning = answer["usage"]["completion_tokens_details"]["reasoning_tokens"]
    assert answer["usage"]["completion_tokens"] == MODEL_LIMIT
    assert len(answer["choices"][0]["message"]["content"]) >= MODEL_LIMIT - reasoning  # a token is a character or more
    text, finish, _ = streamed(timed(http, "/v1/chat/completions", {**body, "stream": True}))
    assert (text, finish) == (answer["choices"][0]["message"]["content"], "length")


def test_a_cut_answer_is_the_start_of_a_longer_one(http):
    schema = {"type": "object", "properties": {"rows": {"type": "array", "minItems": BILLION, "items": {
        "type": "object", "properties": {"name": {"type": "string"}, "n": {"type": "integer"}}, "required": ["name", "n"]}}},
        "required": ["rows"]}
    contents = []
    for budget in (20, 60, 400):
        body = {"model": "gpt-4o-mini", "messages": ASK, "seed": 3, "max_tokens": budget, "response_format": chat_format(schema)}
        answer = timed(http, "/v1/chat/completions", body).json()
        assert answer["usage"]["completion_tokens"] == budget
        contents.append(answer["choices"][0]["message"]["content"])
    assert contents[1].startswith(contents[0]) and contents[2].startswith(contents[1])
    again = timed(http, "/v1/chat/completions", {**body, "max_tokens": 400}).json()
    assert again["choices"][0]["message"]["content"] == contents[2]


@pytest.mark.parametrize("bound", [{"minimum": 1e308}, {"maximum": -1e308}, {"exclusiveMinimum": 1.7976931348623157e308},
                                   {"minimum": 18446744073709551615, "exclusiveMinimum": 18446744073709551615},
                                   {"minimum": 10, "maximum": 5}, {"multipleOf": 1e-300, "minimum": 1e300}])
def test_extreme_numeric_bounds_are_answered(http, bound):
    for kind in ("integer", "number"):
        schema = {"type": "object", "properties": {"n": {"type": kind, **bound}}, "required": ["n"]}
        response = timed(http, "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": ASK,
                                                        "response_format": chat_format(schema)})
        assert response.status_code == 200, response.text
        value = json.loads(response.json()["choices"][0]["message"]["content"])["n"]
        assert isinstance(value, (int, float))
        if "minimum" in bound and bound.get("maximum", float("inf")) >= bound["minimum"]:
            assert value >= bound["minimum"]
        if "maximum" in bound and "minimum" not in bound:
            assert value <= bound["maximum"]


def test_the_sdk_reads_a_cut_answer_as_it_reads_a_real_one(client: OpenAI):
    schema = {"type": "object", "properties": {"items": {"type": "array", "minItems": BILLION, "items": {"type": "string"}}},
              "required": ["items"], "additionalProperties": False}
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=ASK, max_completion_tokens=30,
                                                response_format=chat_format(schema))
    assert completion.choices[0].finish_reason == "length" and completion.usage.completion_tokens == 30
    with pytest.raises(openai.LengthFinishReasonError):
        client.chat.completions.parse(model="gpt-4o-mini", messages=ASK, max_completion_tokens=30,
                                      response_format=chat_format(schema, strict=True))


def test_responses_with_max_output_tokens_end_incomplete(client: OpenAI, http):
    schema = {"type": "object", "properties": {"items": {"type": "array", "minItems": BILLION, "items": {"type": "integer"}}},
              "required": ["items"], "additionalProperties": False}
    started = time.perf_counter()
    response = client.responses.create(model="gpt-4o-mini", input="json please", max_output_tokens=50,
                                       text=text_format(schema))
    assert time.perf_counter() - started < SECONDS
    assert response.status == "incomplete" and response.incomplete_details.reason == "max_output_tokens"
    assert response.output[-1].status == "incomplete" and response.usage.output_tokens <= 50
    assert response.output_text.startswith('{"items":[')
    # Without a budget, the model's output limit.
    unbounded = timed(http, "/v1/responses", {"model": "gpt-4o-mini", "input": "json please", "store": False,
                                              "text": text_format({"type": "string", "minLength": BILLION})}).json()
    assert unbounded["status"] == "incomplete" and unbounded["usage"]["output_tokens"] == MODEL_LIMIT
    # Streamed: it ends with `response.incomplete` (which the SDK's `get_final_response`, like
    # the real API's clients, does not take for a finished response).
    events = list(client.responses.create(model="gpt-4o-mini", input="json please", max_output_tokens=50,
                                          text=text_format(schema), stream=True))
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.output_text == response.output_text


HUGE_ARGUMENTS = {"type": "object", "properties": {"city": {"type": "string"}, "days": {
    "type": "array", "minItems": BILLION, "items": {"type": "object", "properties": {"date": {"type": "string", "format": "date"}},
                                                    "required": ["date"]}}}, "required": ["city", "days"]}


def test_a_huge_tool_call_ends_with_length(http):
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": HUGE_ARGUMENTS}}
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "weather?"}], "tools": [tool],
            "tool_choice": "required", "max_tokens": 40}
    answer = timed(http, "/v1/chat/completions", body).json()
    choice = answer["choices"][0]
    assert choice["finish_reason"] == "length" and answer["usage"]["completion_tokens"] <= 40
    assert choice["message"]["tool_calls"][0]["function"]["arguments"].startswith('{"city":')
    # Without a budget: the output limit, in time.
    unbounded = timed(http, "/v1/chat/completions", {k: v for k, v in body.items() if k != "max_tokens"}).json()
    assert unbounded["choices"][0]["finish_reason"] == "length"
    assert unbounded["usage"]["completion_tokens"] <= MODEL_LIMIT
    # The legacy `functions` answer the same way.
    legacy = timed(http, "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": body["messages"], "max_tokens": 40,
                                                  "functions": [tool["function"]], "function_call": {"name": "get_weather"}})
    assert legacy.json()["choices"][0]["finish_reason"] == "length"
    assert legacy.json()["choices"][0]["message"]["function_call"]["arguments"].startswith('{"city":')


def test_a_huge_responses_function_call_is_incomplete(http):
    tool = {"type": "function", "name": "get_weather", "parameters": HUGE_ARGUMENTS, "strict": False}
    body = {"model": "gpt-4o-mini", "input": "weather?", "tools": [tool], "tool_choice": "required",
            "max_output_tokens": 40, "store": False}
    answer = timed(http, "/v1/responses", body).json()
    assert answer["status"] == "incomplete" and answer["incomplete_details"]["reason"] == "max_output_tokens"
    call = answer["output"][-1]
    assert call["type"] == "function_call" and call["status"] == "incomplete"
    assert call["arguments"].startswith('{"city":') and answer["usage"]["output_tokens"] <= 40


def test_a_normal_schema_is_unaffected_by_the_budget(http):
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
              "required": ["name", "tags"], "additionalProperties": False}
    answers = [timed(http, "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": ASK, "seed": 11,
                                                    "response_format": chat_format(schema, True), **extra}).json()
               for extra in ({}, {"max_tokens": 4000})]
    assert answers[0]["choices"][0]["message"]["content"] == answers[1]["choices"][0]["message"]["content"]
    assert all(a["choices"][0]["finish_reason"] == "stop" for a in answers)


# --- strict schemas over the documented limits ---------------------------------------------


def strict_object(properties: dict) -> dict:
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def nested(levels: int) -> dict:
    node: dict = {"type": "string"}
    for _ in range(levels):
        node = strict_object({"x": node})
    return strict_object({"x": node})


OVER_LIMITS = {
    "nesting": (nested(11), "11 levels of nesting exceeds limit of 10."),
    "properties": (strict_object({f"p{i}": {"type": "string"} for i in range(5001)}),
                   "5001 parameters exceed the limit of 5000."),
    "enum values": (strict_object({f"e{i}": {"type": "string", "enum": [f"v{j}" for j in range(100)]} for i in range(11)}),
                    "Expected at most 1000 enum values in total within a single schema when using structured outputs, "
                    "but received 1100."),
    "large enum": (strict_object({"e": {"type": "string", "enum": [f"{'x' * 60}{j}" for j in range(251)]}}),
                   "In context=('properties', 'e'), enum with 251 string values has a total string length of"),
    "string length": (strict_object({"c": {"type": "string", "const": "y" * 120_001}}),
                      "In context=(), the total string length of property names, definition names, enum values and "
                      "const values is 120002, which exceeds the limit of 120000."),
}
WITHIN_LIMITS = [nested(10), strict_object({f"p{i}": {"type": "string"} for i in range(5000)}),
                 strict_object({"e": {"type": "string", "enum": [f"v{j}" for j in range(1000)]}})]


@pytest.mark.parametrize("limit", list(OVER_LIMITS))
def test_a_strict_schema_over_the_documented_limits_is_refused(http, limit):
    schema, message = OVER_LIMITS[limit]
    cases = [
        ("/v1/chat/completions", {"model": "gpt-4o-mini", "messages": ASK, "response_format": chat_format(schema, True)},
         "response_format 'doc'", "response_format", "invalid_json_schema"),
        ("/v1/chat/completions", {"model": "gpt-4o-mini", "messages": ASK, "tools": [{"type": "function", "function": {
            "name": "f", "parameters": schema, "strict": True}}]}, "function 'f'", "tools[0].function.parameters",
         "invalid_function_parameters"),
        ("/v1/responses", {"model": "gpt-4o-mini", "input": "hi", "text": text_format(schema, True)},
         "response_format 'doc'", "text.format.schema", "invalid_json_schema"),
        ("/v1/responses", {"model": "gpt-4o-mini", "input": "hi", "tools": [{"type": "function", "name": "f",
                                                                             "parameters": schema, "strict": True}]},
         "function 'f'", "tools[0].parameters", "invalid_function_parameters"),
    ]
    for path, body, what, param, code in cases:
        response = timed(http, path, body)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["message"].startswith(f"Invalid schema for {what}: {message}"), error["message"]
        assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)


@pytest.mark.parametrize("limit", list(OVER_LIMITS))
def test_the_same_schema_without_strict_is_answered(http, limit):
    schema, _ = OVER_LIMITS[limit]
    response = timed(http, "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": ASK, "max_tokens": 30,
                                                    "response_format": chat_format(schema, False)})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("schema", WITHIN_LIMITS, ids=["nesting", "properties", "enum values"])
def test_a_strict_schema_at_the_limits_is_answered(http, schema):
    response = timed(http, "/v1/chat/completions", {"model": "gpt-4o-mini", "messages": ASK, "max_tokens": 30,
                                                    "response_format": chat_format(schema, True)})
    assert response.status_code == 200, response.text


# --- generated hostile schemas -------------------------------------------------------------

SIZES = st.sampled_from([0, 1, 3, 1000, 10**6, BILLION, 2**31, 2**53, 2**63 - 1, 2**64 - 1])
NUMBERS = st.sampled_from([0, -1, 0.5, 7, 1e-300, 5e-324, 1e15, 2**63, 2**64 - 1, 1e308, -1e308,
                           1.7976931348623157e308, -1.7976931348623157e308])
PATTERNS = st.one_of(
    st.sampled_from([
        "^a{1000000000}$", "^((a{1000}){1000}){1000}$", "^ {1000000000}$", "^\\n{100000}$", "(?:){1000000000}",
        "((?:){100000}){100000}", "(\\b){1000000}", "^(a+){50}(?=b)c$", "^(a|aa)+(?!a)b$", "(a)\\1{100000}",
        "(?<=x)y{5000}", "[", "(?P<x>a)(?P=x){1000}", "^[\\ud800-\\udfff]{10}$", "^é{1000000}$",
        "^[^\\W\\d]{1000000}$", "x{0,4294967294}", "x{4294967295}", "(?i)[^a]{100000}", "^(?=a{100000})a*$",
        "((((((((((a))))))))))" * 50, "(" * 200 + ")" * 200,
    ]),
    st.builds(lambda atom, low, high: f"^{atom}{{{low},{high}}}$",
              st.sampled_from(["a", "[a-z]", ".", "\\d", "(ab)", "(?:a|bc)", " ", "\\s", "[^a]"]), SIZES, SIZES),
)
FORMATS = st.sampled_from(["date-time", "email", "uuid", "ipv4", "uri", "nonsense"])


def leaves() -> st.SearchStrategy:
    return st.one_of(
        st.fixed_dictionaries({"type": st.just("string")}, optional={
            "minLength": SIZES, "maxLength": SIZES, "pattern": PATTERNS, "format": FORMATS}),
        st.fixed_dictionaries({"type": st.sampled_from(["integer", "number"])}, optional={
            "minimum": NUMBERS, "maximum": NUMBERS, "exclusiveMinimum": NUMBERS, "exclusiveMaximum": NUMBERS,
            "multipleOf": st.sampled_from([1e-300, 0.1, 3, 1e308, 2**64 - 1, 0.3333])}),
        st.sampled_from([{"$ref": "#"}, {"$ref": "#/$defs/a"}, {"$ref": "#/$defs/b"}, {"$ref": "#/$defs/a"},
                         {"type": ["null"]}, {}, {"enum": [1, 2, 3]}, {"const": "x" * 10_000}, {"type": "boolean"},
                         {"type": "null"}, {"not": {}}, {"type": ["integer", "string", "null"]}]),
        st.booleans(),  # true and false are schemas too
        # Not JSON Schemas at all: the real API refuses them; `--lenient` lets them through.
        st.sampled_from([{"enum": []}, {"type": []}, {"$ref": 5}, {"minItems": "many"}, {"type": "nothing"},
                         {"type": "array", "items": 5, "minItems": 3}, {"properties": {"a": "x"}, "required": "abc"},
                         {"anyOf": "x"}, {"allOf": {"a": 1}}, {"type": {"a": 1}}, {"enum": 7}, {"pattern": 5},
                         {"minimum": "1", "type": "integer"}, {"required": [{}], "properties": {}}]),
    )


def containers(inner: st.SearchStrategy) -> st.SearchStrategy:
    names = st.sampled_from(["a", "b", "c"])
    return st.one_of(
        st.fixed_dictionaries({"type": st.just("array"), "items": inner}, optional={
            "minItems": SIZES, "maxItems": SIZES, "uniqueItems": st.booleans(), "prefixItems": st.lists(inner, max_size=2)}),
        st.fixed_dictionaries({"type": st.just("object"), "properties": st.dictionaries(names, inner, max_size=3)}, optional={
            "required": st.lists(names, max_size=3, unique=True), "minProperties": SIZES,
            "additionalProperties": st.one_of(st.booleans(), inner)}),
        st.builds(lambda options: {"anyOf": options}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda parts: {"allOf": parts}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda sub, size: {"type": "array", "minItems": size, "uniqueItems": True, "items": sub}, inner, SIZES),
    )


SUBSCHEMAS = st.recursive(leaves(), containers, max_leaves=8)


@st.composite
def hostile_schemas(draw) -> dict:
    """A root object with `$defs` a and b (which may reference each other and the root)."""
    defs = {"a": draw(SUBSCHEMAS), "b": draw(SUBSCHEMAS)}
    body = draw(SUBSCHEMAS)
    if draw(st.booleans()) or not isinstance(body, dict):
        return {"type": "object", "properties": {"value": body}, "required": ["value"], "$defs": defs}
    return {**body, "$defs": defs}


BUDGETS = st.sampled_from([None, 1, 16, 50, 300])


def check_error(response: httpx.Response) -> None:
    assert response.status_code in (200, 400), response.text[:500]
    if response.status_code == 400:
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}


RUN = {"baseline": 0.0, "peak": 0.0}


def test_a_list_of_types_in_tool_parameters(http):
    """The structured-outputs guide's own optional parameter: `"type": ["string", "null"]`."""
    parameters = {"type": "object", "properties": {"unit": {"type": ["string", "null"]}}, "required": ["unit"],
                  "additionalProperties": False}
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": parameters, "strict": True}}
    response = http.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": ASK, "tools": [tool]})
    assert response.status_code == 200, response.text
    response = http.post("/v1/responses", json={"model": "gpt-4o-mini", "input": "hi", "tools": [
        {"type": "function", "name": "get_weather", "parameters": parameters}]})
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def lenient_server():
    """`--lenient` checks no schema: every generated one reaches the synthesizer."""
    with RunningServer(Config(lenient=True)) as running:
        yield running


def budget_of(name: str, budget: int | None) -> dict:
    return {} if budget is None else {name: budget}


@given(schema=hostile_schemas(), budget=BUDGETS, stream=st.booleans(), strict=st.sampled_from([False, False, True]),
       lenient=st.booleans())
@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
def test_hostile_schemas_are_answered_in_time_and_memory(server, lenient_server, schema, budget, stream, strict, lenient):
    RUN["baseline"] = RUN["baseline"] or vm_rss_mb()
    cap = budget or MODEL_LIMIT
    running = lenient_server if lenient else server
    with httpx.Client(base_url=running.origin, timeout=30) as http:
        # Chat: the schema as the response format (plain or streamed).
        body: dict = {"model": "gpt-4o-mini", "messages": ASK, "response_format": chat_format(schema, strict),
                      "stream": stream, **budget_of("max_tokens", budget)}
        if stream:
            body["stream_options"] = {"include_usage": True}
        response = timed(http, "/v1/chat/completions", body)
        check_error(response)
        event(f"chat: {response.status_code}")
        if response.status_code == 200:
            if stream:
                content, finish, usage = streamed(response)
            else:
                answer = response.json()
                content, finish, usage = (answer["choices"][0]["message"]["content"],
                                          answer["choices"][0]["finish_reason"], answer["usage"])
            assert usage["completion_tokens"] <= cap
            event(f"chat: finish_reason {finish}")
            if finish == "stop":
                json.loads(content)  # a whole document
            else:
                assert finish == "length"
        # Chat: the schema as a tool's parameters, the tool required.
        tool = {"type": "function", "function": {"name": "f", "parameters": schema, "strict": strict}}
        response = timed(http, "/v1/chat/completions", {
            "model": "gpt-4o-mini", "messages": ASK, "tools": [tool], "tool_choice": "required",
            **budget_of("max_tokens", budget)})
        check_error(response)
        if response.status_code == 200:
            answer = response.json()
            assert answer["choices"][0]["finish_reason"] in ("tool_calls", "length")
            assert answer["usage"]["completion_tokens"] <= cap
            event(f"tool call: finish_reason {answer['choices'][0]['finish_reason']}")
        # Responses: the schema as text.format.
        response = timed(http, "/v1/responses", {"model": "gpt-4o-mini", "input": "json please", "store": False,
                                                 "text": text_format(schema, strict),
                                                 **budget_of("max_output_tokens", budget)})
        check_error(response)
        if response.status_code == 200:
            answer = response.json()
            assert answer["status"] in ("completed", "incomplete")
            assert answer["usage"]["output_tokens"] <= cap
            event(f"responses: {answer['status']}")
    # Every body must still be a real one (checked here, so the run keeps no copies of them).
    found = problems(server.audit.drain() + lenient_server.audit.drain())
    assert not found, found[:5]
    RUN["peak"] = max(RUN["peak"], vm_rss_mb())
    assert RUN["peak"] - RUN["baseline"] < MEMORY_MB, f"the server grew from {RUN['baseline']:.0f} to {RUN['peak']:.0f} MB"

"""Generated requests, valid and invalid, never get a 5xx.

Schemathesis drives the running server from an OpenAPI document built out of our own
contracts (positive and negative cases); Hypothesis mutates valid bodies to check that
whenever the validator rejects a body, the real-API-style explanation exists.
"""

from __future__ import annotations


import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from mockserver.contracts import Contracts
from mockserver.kit.operations import openapi as _kit_openapi
from mockserver.kit.operations import select as _select
from mockserver.schema_errors import explain

CONTRACTS = Contracts()
OPERATIONS = ("chat.completions.create", "embeddings.create", "responses.create", "responses.compact",
              "responses.input_tokens.count", "conversations.create")
# The document is the contract kit's (mockserver.kit.operations.openapi): built from contracts/.

PATHS = {op.id: op.path for op in _select(ids=list(OPERATIONS))}


def openapi_from_contracts(operations=OPERATIONS) -> dict:
    return _kit_openapi(_select(ids=list(operations)), answers=False)


# Schemathesis's coverage phase (boundary and near-miss values, enumerated up front) costs
# about 80 MB and 20 s per operation on the Responses family's large schemas, so it runs
# on the small ones; every operation gets the examples and the generated phases.
SMALL = ("chat.completions.create", "embeddings.create")
small = schemathesis.openapi.from_dict(openapi_from_contracts([k for k in OPERATIONS if k in SMALL]))
large = schemathesis.openapi.from_dict(openapi_from_contracts([k for k in OPERATIONS if k not in SMALL]))
for schema in (small, large):
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=60)
large.config.phases.coverage.enabled = False


def check_generated(case, server) -> None:
    response = case.call(base_url=server.url, timeout=10)
    assert response.status_code < 500, (case.body, response.text)
    if response.status_code >= 400:
        error = response.json()["error"]
        assert CONTRACTS.problems("error.response", response.json()) == []
        assert error["message"]


@small.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=60)
def test_generated_requests_never_fail_the_server(case, server):
    check_generated(case, server)


@large.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=60)
def test_generated_requests_never_fail_the_responses_family(case, server):
    check_generated(case, server)


# --- every rejected body is explained -------------------------------------------------

VALID = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "temperature": 1}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 300) | st.floats(-5, 5, allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
KEYS = ["model", "messages", "temperature", "n", "tools", "tool_choice", "response_format", "stop", "stream",
        "stream_options", "max_tokens", "logprobs", "top_logprobs", "seed", "metadata", "unknown_field"]


@given(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=4), st.lists(st.sampled_from(KEYS), max_size=2))
@settings(max_examples=400, deadline=None)
def test_every_rejected_body_is_explained(changes, removed):
    body = {**VALID, **changes}
    for key in removed:
        body.pop(key, None)
    name = "chat.completions.create.request"
    if CONTRACTS.is_valid(name, body):
        return
    error = explain(CONTRACTS.schemas[name], body)
    assert error is not None and error.status == 400 and error.message


VALID_RESPONSES = {"model": "gpt-4o-mini", "input": [{"role": "user", "content": "hi"}], "temperature": 1}
RESPONSES_KEYS = ["model", "input", "instructions", "tools", "tool_choice", "text", "reasoning", "max_output_tokens",
                  "previous_response_id", "store", "stream", "include", "background", "conversation", "metadata",
                  "unknown_field"]


@given(st.dictionaries(st.sampled_from(RESPONSES_KEYS), json_values, max_size=4),
       st.lists(st.sampled_from(RESPONSES_KEYS), max_size=2))
@settings(max_examples=300, deadline=None)
def test_every_rejected_responses_body_is_explained(changes, removed):
    body = {**VALID_RESPONSES, **changes}
    for key in removed:
        body.pop(key, None)
    name = "responses.create.request"
    if CONTRACTS.is_valid(name, body):
        return
    error = explain(CONTRACTS.schemas[name], body, top_level_unknown="unknown")
    assert error is not None and error.status == 400 and error.message


@given(json_values)
@settings(max_examples=200, deadline=None)
def test_garbage_bodies_over_http(server, value):
    with httpx.Client(base_url=server.origin, timeout=10) as http:
        for path in PATHS.values():
            response = http.post("/v1" + path, json=value)
            assert response.status_code < 500


# --- callers' own JSON Schemas (tool parameters, response formats) -------------------

schema_keywords = st.sampled_from(["type", "properties", "items", "required", "enum", "const", "anyOf", "minimum",
                                   "maximum", "minItems", "maxItems", "minLength", "pattern", "format", "$ref",
                                   "additionalProperties", "$defs", "multipleOf", "prefixItems", "allOf"])
schema_values = st.one_of(
    st.sampled_from(["object", "array", "string", "integer", "number", "boolean", "null", "#/$defs/x", "#", "date-time", "^a+$", "("]),
    st.integers(-3, 5), st.booleans(), st.lists(st.sampled_from(["a", "b", 1, None]), max_size=3),
)
schemas = st.recursive(
    st.dictionaries(schema_keywords, schema_values, max_size=4),
    lambda inner: st.dictionaries(schema_keywords, st.one_of(schema_values, inner, st.dictionaries(st.sampled_from(["a", "b", "x"]), inner, max_size=3), st.lists(inner, max_size=3)), max_size=4),
    max_leaves=12,
)


@given(schemas, st.booleans())
@settings(max_examples=300, deadline=None)
def test_any_caller_schema_is_answered_without_a_server_error(server, schema, strict):
    """Tool parameters and response schemas are the caller's: any shape gets a 200 or a 400."""
    with httpx.Client(base_url=server.origin, timeout=10) as http:
        messages = [{"role": "user", "content": "use the tool, answer in json"}]
        tool = {"type": "function", "function": {"name": "f", "parameters": schema, "strict": strict}}
        for body in (
            {"model": "gpt-4o-mini", "messages": messages, "tools": [tool], "tool_choice": "required"},
            {"model": "gpt-4o-mini", "messages": messages, "stream": True,
             "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": schema, "strict": strict}}},
        ):
            response = http.post("/v1/chat/completions", json=body)
            assert response.status_code in (200, 400), response.text

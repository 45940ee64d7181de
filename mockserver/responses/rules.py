"""What the real Responses API refuses beyond the contract: rules that depend on the
model (reasoning, sampling) and the schemas a request carries, in the words and with
the `param` chat completions uses for the same mistakes (`chat.rules`). Each rule names what
backs it (a recording, a public report or the SDK's types); one nothing backs is not kept."""

from __future__ import annotations

from .. import errors
from ..catalog import ModelSpec
from ..errors import quoted_list
from ..strict_schema import strict_problem
from ..chat.rules import SAMPLING_DEFAULTS, check_schema


def check_model_rules(spec: ModelSpec, body: dict) -> None:
    # Publicly reported for image and audio models ("The requested model 'gpt-image-1' is not
    # supported with the Responses API.").
    if spec.family not in ("chat", "responses"):
        raise errors.invalid_request(f"The requested model '{spec.id}' is not supported with the Responses API.",
                                     param="model")
    reasoning = body.get("reasoning") or {}
    effort = reasoning.get("effort")
    if not spec.reasoning:
        # Publicly reported for gpt-4o and gpt-4.1 ("Unsupported parameter: 'reasoning.effort' is
        # not supported with this model.").
        if effort is not None:
            raise errors.unsupported_parameter("reasoning.effort")
        return
    # Publicly reported, as on chat completions; each family's values are in catalog.py.
    if effort is not None and spec.efforts and effort not in spec.efforts:
        raise errors.unsupported_value(
            "reasoning.effort",
            f"'reasoning.effort' does not support '{effort}' with this model. Supported values are: "
            f"{quoted_list(spec.efforts)}.",
        )
    # Publicly reported for gpt-5 and o-series ("Unsupported parameter: 'top_p' is not supported
    # with this model.", and the same for 'temperature').
    if not spec.accepts_sampling(effort or spec.default_effort):
        for name in ("temperature", "top_p"):
            value = body.get(name)
            if value is not None and value != SAMPLING_DEFAULTS[name]:
                raise errors.unsupported_parameter(name)


def check_request_rules(body: dict) -> None:
    """Function parameters and `text.format` schemas must be JSON Schemas, and strict
    ones must follow the structured-outputs rules (the backing is named at `chat.rules.check_schema`
    and in strict_schema.py); only when `strict` is true: the real API accepts a function tool
    without `strict` (recorded: test_responses/test_responses_tool_calls#0)."""
    for index, tool in enumerate(body.get("tools") or []):
        if tool.get("type") != "function" or tool.get("parameters") is None:
            continue
        param = f"tools[{index}].parameters"
        check_schema(tool["parameters"], f"function '{tool.get('name')}'", param, "invalid_function_parameters")
        if tool.get("strict") is True:
            problem = strict_problem(tool["parameters"])
            if problem:
                raise errors.invalid_request(f"Invalid schema for function '{tool.get('name')}': {problem}",
                                             param=param, code="invalid_function_parameters")
    fmt = (body.get("text") or {}).get("format") or {}
    if fmt.get("type") == "json_schema":
        name = fmt.get("name")
        check_schema(fmt.get("schema"), f"response_format '{name}'", "text.format.schema", "invalid_json_schema")
        if fmt.get("strict") is True:  # only when asked: a fake 400 would break a client the real API serves
            problem = strict_problem(fmt.get("schema"))
            if problem:
                raise errors.invalid_request(f"Invalid schema for response_format '{name}': {problem}",
                                             param="text.format.schema", code="invalid_json_schema")

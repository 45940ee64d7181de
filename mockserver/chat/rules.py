"""The chat completion rules the real API enforces beyond the schema: per model
(`max_tokens` on a reasoning model, sampling parameters, roles, efforts), across fields
(`stream_options` without `stream`, strict schemas, ...), and on length."""

from __future__ import annotations

from typing import Any

import jsonschema_rs

from .. import errors
from ..catalog import ModelSpec
from ..errors import quoted_list
from ..strict_schema import strict_problem
from ..api.common import text_of

SAMPLING_DEFAULTS = {"temperature": 1, "top_p": 1, "presence_penalty": 0, "frequency_penalty": 0}


def check_model_rules(spec: ModelSpec, body: dict) -> None:
    """What the real API refuses for this model, with its words and `param`."""
    if spec.family == "responses":
        raise errors.OpenAIError(
            404, "This model is only supported in v1/responses and not in v1/chat/completions.", param="model"
        )
    if spec.family != "chat":
        raise errors.not_a_chat_model(spec.id)
    effort = body.get("reasoning_effort")
    if not spec.reasoning:
        if effort is not None:
            raise errors.unrecognized_argument("reasoning_effort")
        if not spec.sampling:
            for name in ("temperature", "top_p", "presence_penalty", "frequency_penalty", "logprobs"):
                if body.get(name) is not None:
                    raise errors.unsupported_parameter(name)
    else:
        if body.get("max_tokens") is not None:
            raise errors.unsupported_parameter("max_tokens", "Use 'max_completion_tokens' instead.")
        if effort is not None and not spec.efforts:
            raise errors.unsupported_parameter("reasoning_effort")
        if effort is not None and effort not in spec.efforts:
            raise errors.unsupported_value(
                "reasoning_effort",
                f"'reasoning_effort' does not support '{effort}' with this model. Supported values are: "
                f"{quoted_list(spec.efforts)}.",
            )
        if not spec.accepts_sampling(effort or spec.default_effort):
            for name, default in SAMPLING_DEFAULTS.items():
                value = body.get(name)
                if value is not None and value != default:
                    raise errors.unsupported_value(
                        name,
                        f"'{name}' does not support {errors.describe(value)} with this model. "
                        f"Only the default ({default}) value is supported.",
                    )
            for name in ("logprobs", "top_logprobs"):
                if body.get(name):
                    raise errors.unsupported_parameter(name)
            if body.get("stop") is not None:  # widely reported for o-series and gpt-5
                raise errors.unsupported_parameter("stop")
        if not spec.system_role:
            for index, message in enumerate(body["messages"]):
                role = message.get("role")
                if role in ("system", "developer"):
                    param = f"messages[{index}].role"
                    raise errors.unsupported_value(param, f"'{param}' does not support '{role}' with this model.")
    if body.get("web_search_options") is not None and "search" not in spec.id:
        raise errors.invalid_request("Web search options not supported with this model.", param="web_search_options")
    verbosity = body.get("verbosity")
    if verbosity not in (None, "medium") and not spec.verbosity:
        raise errors.unsupported_value(
            "verbosity", f"'verbosity' does not support '{verbosity}' with this model. Supported values are: 'medium'."
        )
    if body.get("prompt_cache_retention") == "24h" and not spec.extended_cache:
        raise errors.unsupported_value(
            "prompt_cache_retention",
            "'prompt_cache_retention' does not support '24h' with this model. Supported values are: 'in_memory'.",
        )


def check_request_rules(body: dict) -> None:
    """Rules across fields that no schema carries."""
    if body.get("stream_options") is not None and not body.get("stream"):
        raise errors.invalid_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.", param="stream_options", code="invalid_value"
        )
    if body.get("top_logprobs") is not None and not body.get("logprobs"):
        raise errors.invalid_request(
            "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.",
            param="top_logprobs",
        )
    tools = body.get("tools")
    if not tools:
        for name in ("tool_choice", "parallel_tool_calls"):
            if body.get(name) is not None:
                raise errors.invalid_request(
                    f"Invalid value for '{name}': '{name}' is only allowed when 'tools' are specified.", param=name
                )
    else:
        names = [((t.get("function") or t.get("custom") or {}).get("name")) for t in tools]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise errors.invalid_request(
                    f"Invalid 'tools': duplicate function name '{name}'.", param="tools", code="invalid_value"
                )
        choice = body.get("tool_choice")
        if isinstance(choice, dict) and choice.get("type") in ("function", "custom"):
            wanted = (choice.get(choice["type"]) or {}).get("name")
            if wanted not in names:
                raise errors.invalid_request(
                    f"Invalid value for 'tool_choice': no function named '{wanted}' was specified in the 'tools' parameter.",
                    param="tool_choice",
                )
        for index, tool in enumerate(tools):
            fn = tool.get("function") or {}
            if tool.get("type") == "function" and "parameters" in fn:
                check_schema(fn["parameters"], f"function '{fn.get('name')}'", f"tools[{index}].function.parameters",
                             "invalid_function_parameters")
            if tool.get("type") == "function" and fn.get("strict"):
                problem = strict_problem(fn.get("parameters", {}))
                if problem:
                    raise errors.invalid_request(
                        f"Invalid schema for function '{fn.get('name')}': {problem}",
                        param=f"tools[{index}].function.parameters",
                        code="invalid_function_parameters",
                    )
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema") or {}
        if "schema" in spec:
            check_schema(spec["schema"], f"response_format '{spec.get('name')}'", "response_format", "invalid_json_schema")
        if spec.get("strict"):
            problem = strict_problem(spec.get("schema", {}))
            if problem:
                raise errors.invalid_request(
                    f"Invalid schema for response_format '{spec.get('name')}': {problem}",
                    param="response_format",
                    code="invalid_json_schema",
                )
    if fmt.get("type") == "json_object":
        if not any("json" in text_of(m.get("content")).lower() for m in body["messages"]):
            raise errors.invalid_request(
                "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
                param="messages",
            )


def check_schema(schema: Any, what: str, param: str, code: str) -> None:
    """A caller's JSON Schema must be one: the real API validates it against the meta-schema."""
    try:
        jsonschema_rs.meta.validate(schema)
    except jsonschema_rs.ValidationError as exc:
        raise errors.invalid_request(f"Invalid schema for {what}: {exc.message}.", param=param, code=code) from None
    except Exception as exc:  # noqa: BLE001 - e.g. a $ref the validator cannot resolve
        raise errors.invalid_request(f"Invalid schema for {what}: {exc}.", param=param, code=code) from None


def check_lengths(spec: ModelSpec, prompt_tokens: int, budget: int | None, body: dict) -> None:
    if budget is not None and spec.max_output and budget > spec.max_output:
        name = "max_completion_tokens" if body.get("max_completion_tokens") else "max_tokens"
        raise errors.invalid_request(
            f"max_tokens is too large: {budget}. This model supports at most {spec.max_output} completion tokens, "
            f"whereas you provided {budget}.",
            param=name,
            code="invalid_value",
        )
    if prompt_tokens + (budget or 0) > spec.context_window:
        raise errors.context_length_exceeded(spec.context_window, prompt_tokens, budget or 0)

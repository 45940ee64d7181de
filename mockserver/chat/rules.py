"""The chat completion rules the real API enforces beyond the schema: per model
(`max_tokens` on a reasoning model, sampling parameters, roles, efforts), across fields
(`stream_options` without `stream`, strict schemas, ...), and on length.

Each rule names what backs it: a recording (`dir/file#n` in ../shared/recordings), a public
report, or the SDK's types. A false 400 breaks a client that works in production, so a rule
nothing backs is not kept: the request is accepted."""

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
    # Publicly reported for o1-pro, gpt-5-pro, codex models ("This model is only supported in
    # v1/responses and not in v1/chat/completions.").
    if spec.family == "responses":
        raise errors.OpenAIError(
            404, "This model is only supported in v1/responses and not in v1/chat/completions.", param="model"
        )
    # Publicly reported ("This is not a chat model and thus not supported in the
    # v1/chat/completions endpoint. Did you mean to use v1/completions?", param `model`).
    if spec.family != "chat":
        raise errors.not_a_chat_model(spec.id)
    effort = body.get("reasoning_effort")
    if not spec.reasoning:
        # Publicly reported for gpt-4o and gpt-4.1 ("Unrecognized request argument supplied:
        # reasoning_effort").
        if effort is not None:
            raise errors.unrecognized_argument("reasoning_effort")
        # The search models: publicly reported for these two only ("Model incompatible request
        # argument supplied: temperature" / "presence_penalty", param and code null).
        if not spec.sampling:
            for name in ("temperature", "presence_penalty"):
                if body.get(name) is not None:
                    raise errors.invalid_request(f"Model incompatible request argument supplied: {name}")
    else:
        # Widely reported for o-series and gpt-5 ("... Use 'max_completion_tokens' instead.").
        if body.get("max_tokens") is not None:
            raise errors.unsupported_parameter("max_tokens", "Use 'max_completion_tokens' instead.")
        # Publicly reported ("Unsupported parameter: 'reasoning_effort' is not supported with this model.").
        if effort is not None and not spec.efforts:
            raise errors.unsupported_parameter("reasoning_effort")
        # Publicly reported ("'reasoning_effort' does not support 'minimal' with this model.
        # Supported values are: 'none', 'low', ..."); each family's values are in catalog.py.
        if effort is not None and effort not in spec.efforts:
            raise errors.unsupported_value(
                "reasoning_effort",
                f"'reasoning_effort' does not support '{effort}' with this model. Supported values are: "
                f"{quoted_list(spec.efforts)}.",
            )
        # Widely reported for o-series and gpt-5 ("'temperature' does not support 0.2 with this
        # model. Only the default (1) value is supported."; "'logprobs' is not supported";
        # "'stop' is not supported with this model.").
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
            if body.get("stop") is not None:
                raise errors.unsupported_parameter("stop")
        # Recorded: test_openai/test_openai_o1_mini_system_role[developer]#0.
        if not spec.system_role:
            for index, message in enumerate(body["messages"]):
                role = message.get("role")
                if role in ("system", "developer"):
                    param = f"messages[{index}].role"
                    raise errors.unsupported_value(param, f"'{param}' does not support '{role}' with this model.")
    # Recorded: test_openai/test_openai_web_search_tool_model_not_supported#0 (gpt-4o); accepted
    # on a search model: ChatTests/WebSearchWorks#0.
    if body.get("web_search_options") is not None and "search" not in spec.id:
        raise errors.invalid_request("Web search options not supported with this model.", param="web_search_options")
    # Publicly reported for gpt-4o-class models ("Unsupported value: 'verbosity' does not
    # support 'low' with this model. Supported values are: 'medium'.").
    verbosity = body.get("verbosity")
    if verbosity not in (None, "medium") and not spec.verbosity:
        raise errors.unsupported_value(
            "verbosity", f"'verbosity' does not support '{verbosity}' with this model. Supported values are: 'medium'."
        )
    # `prompt_cache_retention: "24h"` on a model without extended caching: no recording or
    # report shows a refusal (the guide only lists the models that keep it longer): accepted.


def check_request_rules(body: dict) -> None:
    """Rules across fields that no schema carries. Not kept, for want of any recording or
    report of the real API refusing them: `top_logprobs` without `logprobs`, and two tools
    of one name."""
    # Publicly reported ("The 'stream_options' parameter is only allowed when 'stream' is enabled.").
    if body.get("stream_options") is not None and not body.get("stream"):
        raise errors.invalid_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.", param="stream_options", code="invalid_value"
        )
    tools = body.get("tools")
    # Publicly reported for both ("Invalid value for 'parallel_tool_calls': 'parallel_tool_calls'
    # is only allowed when 'tools' are specified.").
    if not tools:
        for name in ("tool_choice", "parallel_tool_calls"):
            if body.get(name) is not None:
                raise errors.invalid_request(
                    f"Invalid value for '{name}': '{name}' is only allowed when 'tools' are specified.", param=name
                )
    else:
        names = [((t.get("function") or t.get("custom") or {}).get("name")) for t in tools]
        # The real API's words, as public logs quote them and vLLM copies them ("Invalid value
        # for 'tool_choice': no function named X was specified in the 'tools' parameter").
        choice = body.get("tool_choice")
        if isinstance(choice, dict) and choice.get("type") in ("function", "custom"):
            wanted = (choice.get(choice["type"]) or {}).get("name")
            if wanted not in names:
                raise errors.invalid_request(
                    f"Invalid value for 'tool_choice': no function named '{wanted}' was specified in the 'tools' parameter.",
                    param="tool_choice",
                )
        # Schemas: see check_schema, and strict_schema.py for the strict rules (recorded:
        # ChatToolTests/StructuredOutputs(WithoutSchema,Strict,FailureExpected)#0).
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
    # Widely reported ("'messages' must contain the word 'json' in some form, to use
    # 'response_format' of type 'json_object'.").
    if fmt.get("type") == "json_object":
        if not any("json" in text_of(m.get("content")).lower() for m in body["messages"]):
            raise errors.invalid_request(
                "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
                param="messages",
            )


# The meta-schemas the validator holds itself. Any other `$schema` is read as the default
# draft, as python-jsonschema does, rather than fetched: the fake stays offline, and an
# unreachable URI is no reason for a 400.
KNOWN_DRAFTS = {f"{scheme}://json-schema.org/{path}{end}" for scheme in ("http", "https") for end in ("", "#")
                for path in ("draft-04/schema", "draft-06/schema", "draft-07/schema", "draft/2019-09/schema",
                             "draft/2020-12/schema", "schema")}


def check_schema(schema: Any, what: str, param: str, code: str) -> None:
    """A caller's JSON Schema must be one: the real API validates it against the meta-schema
    (publicly reported in python-jsonschema's words, e.g. "Invalid schema for function
    'spawn_agent': 'text' is not of type 'object', 'boolean'")."""
    if isinstance(schema, dict) and "$schema" in schema and schema["$schema"] not in KNOWN_DRAFTS:
        schema = {key: value for key, value in schema.items() if key != "$schema"}
    try:
        jsonschema_rs.meta.validate(schema)
    except jsonschema_rs.ValidationError as exc:
        raise errors.invalid_request(f"Invalid schema for {what}: {exc.message}.", param=param, code=code) from None
    except Exception:  # noqa: BLE001 - the validator could not read it at all: nothing on record refuses that
        return


def check_lengths(spec: ModelSpec, prompt_tokens: int, budget: int | None, body: dict) -> None:
    # Both publicly reported ("max_tokens is too large: 32000. This model supports at most
    # 16384 completion tokens"; "This model's maximum context length is ...").
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

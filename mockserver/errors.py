"""The OpenAI error model: one exception, one envelope, and the catalogue of real errors.

Every error the fake sends is an `OpenAIError` rendered here and only here, as
`{"error": {"message", "type", "param", "code"}}` (and, for the families whose service
answers so, a second `"detail": {"message", "code"}`: `detail=True`, which an operation
sets for all its errors with `Operation.error_detail`). The constructors below carry the
real API's wording, status, type and code, taken from recorded traffic where it
exists (see README, "Errors"), so client code that branches on them behaves the same
against the fake.
"""

from __future__ import annotations

from typing import Any, Iterable

import orjson

INVALID_REQUEST = "invalid_request_error"


class OpenAIError(Exception):
    """An error answered with the OpenAI envelope; raise it anywhere below the endpoint."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = INVALID_REQUEST,
        param: str | None = None,
        code: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
        fields: tuple[str, ...] = ("message", "type", "param", "code"),
        profile: str | None = None,
        detail: bool = False,
    ) -> None:
        super().__init__(message)
        self.fields = fields
        self.detail = detail  # add `"detail": {"message", "code"}` beside `error` (the files service does)
        self.profile = profile  # the common headers it goes out with (wire.Exchange.common_headers)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = list(headers)

    def envelope(self) -> dict[str, Any]:
        envelope: dict[str, Any] = {"error": {name: getattr(self, name) for name in self.fields}}
        if self.detail:  # recorded: FilesTests/*CanParseServiceError.json
            envelope["detail"] = {"message": self.message, "code": self.code}
        return envelope

    def body(self) -> bytes:
        # The real API pretty-prints error bodies with two-space indentation.
        return orjson.dumps(self.envelope(), option=orjson.OPT_INDENT_2) + b"\n"

    def __repr__(self) -> str:
        return f"OpenAIError({self.status}, {self.message!r}, param={self.param!r}, code={self.code!r})"


def describe(value: Any) -> str:
    """How the real API quotes a value inside a message: strings in quotes, JSON otherwise."""
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(value)
    if isinstance(value, (int, float)):
        return repr(value)
    return orjson.dumps(value).decode()


TYPE_PHRASE = {
    "string": "a string",
    "integer": "an integer",
    "number": "a decimal",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
}


def json_type(value: Any) -> str:
    """A Python value's JSON Schema type (`true` is a boolean, not an integer)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def type_name(value: Any) -> str:
    """The article-and-noun the real API uses for a JSON value's type."""
    return TYPE_PHRASE.get(json_type(value), "null")


def quoted_list(values: Iterable[Any]) -> str:
    """`'a', 'b', and 'c'` as the real API enumerates supported values."""
    items = [describe(v) for v in values]
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    return ", ".join(items[:-1]) + f", and {items[-1]}"


# --- request body -----------------------------------------------------------------


def malformed_json() -> OpenAIError:
    return OpenAIError(
        400,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
        "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. "
        "If you have trouble figuring out how to fix this, please contact us through our help center at "
        "help.openai.com.)",
    )


def unsupported_content_type(content_type: str) -> OpenAIError:
    return OpenAIError(
        400,
        f"Unsupported content type: '{content_type}'. This API method only accepts 'application/json' "
        f"requests, but you specified the header 'Content-Type: {content_type}'. Please try again with a "
        "supported content type.",
        code="unsupported_content_type",
    )


def body_too_large(limit: int) -> OpenAIError:
    return OpenAIError(
        413,
        f"Request body too large. The maximum request size is {limit} bytes.",
        code="request_too_large",
    )


def file_too_large(size_name: str, limit: int) -> OpenAIError:
    """A file (or an upload part) over its limit, found from Content-Length or while the
    body streams in (`size_name`: "File", "Part")."""
    return OpenAIError(
        413,
        f"{size_name} too large. The maximum {size_name.lower()} size is {limit} bytes ({_megabytes(limit)}).",
        code="request_too_large",
    )


def _megabytes(limit: int) -> str:
    return f"{limit / (1 << 20):g} MB" if limit >= 1 << 20 else f"{limit} bytes"


def missing_parameter(param: str) -> OpenAIError:
    return OpenAIError(400, f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter")


def unrecognized_argument(name: str) -> OpenAIError:
    """An unknown top-level argument: the real API names it in the message only."""
    return OpenAIError(400, f"Unrecognized request argument supplied: {name}")


def unknown_parameter(param: str) -> OpenAIError:
    return OpenAIError(400, f"Unknown parameter: '{param}'.", param=param, code="unknown_parameter")


def invalid_type(param: str, expected: str, value: Any) -> OpenAIError:
    return OpenAIError(
        400,
        f"Invalid type for '{param}': expected {expected}, but got {type_name(value)} instead.",
        param=param,
        code="invalid_type",
    )


def invalid_value(param: str, value: Any, supported: Iterable[Any]) -> OpenAIError:
    return OpenAIError(
        400,
        f"Invalid value: {describe(value)}. Supported values are: {quoted_list(supported)}.",
        param=param,
        code="invalid_value",
    )


def out_of_range(param: str, value: Any, limit: Any, *, above: bool, integer: bool) -> OpenAIError:
    kind = "integer" if integer else "decimal"
    side = "above maximum" if above else "below minimum"
    op = "<=" if above else ">="
    return OpenAIError(
        400,
        f"Invalid '{param}': {kind} {side} value. Expected a value {op} {describe(limit)}, "
        f"but got {describe(value)} instead.",
        param=param,
        code=f"{kind}_{'above_max' if above else 'below_min'}_value",
    )


def length_error(param: str, kind: str, length: int, limit: int, *, too_long: bool) -> OpenAIError:
    """An array or string outside its length bounds (`kind` is "array" or "string")."""
    if length == 0 and not too_long:
        return OpenAIError(
            400,
            f"Invalid '{param}': empty {kind}. Expected {'an' if kind == 'array' else 'a'} {kind} with minimum "
            f"length {limit}, but got an empty {kind} instead.",
            param=param,
            code=f"empty_{kind}",
        )
    side, bound = ("too long", "maximum") if too_long else ("too short", "minimum")
    article = "an" if kind == "array" else "a"
    return OpenAIError(
        400,
        f"Invalid '{param}': {kind} {side}. Expected {article} {kind} with {bound} length {limit}, "
        f"but got {article} {kind} with length {length} instead.",
        param=param,
        code=f"{kind}_{'above_max' if too_long else 'below_min'}_length",
    )


def invalid_request(message: str, param: str | None = None, code: str | None = None) -> OpenAIError:
    return OpenAIError(400, message, param=param, code=code)


# --- models -----------------------------------------------------------------------


def model_not_found(model: str) -> OpenAIError:
    """An unknown model named in a request body."""
    return OpenAIError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        code="model_not_found",
    )


def no_such_model(model: str) -> OpenAIError:
    """An unknown model named in a /v1/models URL."""
    return OpenAIError(404, f"The model '{model}' does not exist", param="model", code="model_not_found")


def not_a_chat_model(model: str) -> OpenAIError:
    return OpenAIError(
        404,
        "This is not a chat model and thus not supported in the v1/chat/completions endpoint. "
        "Did you mean to use v1/completions?",
        param="model",
    )


def unsupported_parameter(param: str, hint: str = "") -> OpenAIError:
    message = f"Unsupported parameter: '{param}' is not supported with this model."
    return OpenAIError(400, f"{message} {hint}".strip(), param=param, code="unsupported_parameter")


def unsupported_value(param: str, message: str) -> OpenAIError:
    return OpenAIError(400, f"Unsupported value: {message}", param=param, code="unsupported_value")


def context_length_exceeded(window: int, prompt: int, completion: int) -> OpenAIError:
    return OpenAIError(
        400,
        f"This model's maximum context length is {window} tokens. However, you requested "
        f"{prompt + completion} tokens ({prompt} in the messages, {completion} in the completion). "
        "Please reduce the length of the messages or completion.",
        param="messages",
        code="context_length_exceeded",
    )


def deployment_not_found() -> OpenAIError:
    return OpenAIError(
        404,
        "The API deployment for this resource does not exist. If you created the deployment within the last "
        "5 minutes, please wait a moment and try again.",
        code="DeploymentNotFound",
        fields=("type", "code", "message"),  # Azure's envelope has no `param`
    )


# --- transport --------------------------------------------------------------------


def invalid_url(method: str, path: str) -> OpenAIError:
    return OpenAIError(404, f"Invalid URL ({method} {path})")


def method_not_allowed(method: str, path: str, allowed: Iterable[str]) -> OpenAIError:
    allow = ", ".join(sorted(allowed))
    return OpenAIError(
        405,
        f"Method not allowed: {method} {path}. Allowed methods: {allow}.",
        code="method_not_allowed",
        headers=[("allow", allow)],
    )


def missing_api_key() -> OpenAIError:
    return OpenAIError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using "
        "Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if "
        "you're accessing the API from your browser and are prompted for a username and password. You can "
        "obtain an API key from https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
        profile="auth",
    )


def invalid_api_key(key: str) -> OpenAIError:
    shown = key if len(key) <= 12 else f"{key[:8]}{'*' * (len(key) - 12)}{key[-4:]}"
    return OpenAIError(
        401,
        f"Incorrect API key provided: {shown}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
        profile="auth",
    )


def server_error() -> OpenAIError:
    return OpenAIError(
        500,
        "The server had an error while processing your request. Sorry about that!",
        type="server_error",
    )

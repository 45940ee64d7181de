"""Operations and the URL shapes they are served under.

An operation (`chat.completions.create`) is declared once by its family, with its
path under `/v1`. It is then served at every URL shape a client may use: OpenAI's
`/v1/...`, Azure OpenAI's `/openai/v1/...`, and, for the operations Azure serves
per deployment, `/openai/deployments/{deployment}/...?api-version=`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Awaitable, Callable, Iterable, Union

from starlette.routing import Route

if TYPE_CHECKING:
    from .runtime import Runtime
    from .wire import Exchange, FileReply, Reply, StreamReply

Handler = Callable[["Exchange"], Awaitable[Union["Reply", "StreamReply", "FileReply"]]]

PREFIXES = ("/v1", "/openai/v1")
AZURE_DEPLOYMENT = "/openai/deployments/{deployment}"


@dataclass(frozen=True)
class Operation:
    id: str  # "chat.completions.create"
    method: str
    path: str  # under /v1, with Starlette path parameters: "/models/{model:path}"
    handler: Handler
    request_schema: str | None = None  # contracts/ name; the body is validated before the handler
    azure_deployment: bool = False  # also served under /openai/deployments/{deployment}
    unknown_argument: str = "unrecognized"  # how the real API words an unknown top-level field
    error_dialect: str = "modern"  # how it words other schema failures (see schema_errors)
    header_profile: str = "api"  # the common headers on its answers (wire.Exchange.common_headers)
    error_newline: bool = True  # chat and embeddings end an error body with a newline; Responses does not
    prefixes: tuple[str, ...] = PREFIXES  # the URL prefixes it is served under
    admin: bool = False  # the fake's own API: no faults, no journal, loopback or token only
    # The handler reads the body itself, as it streams in (`Exchange.body_chunks`: multipart
    # uploads of hundreds of MB, written to the store piece by piece), and applies its own
    # limits; the envelope neither reads it nor applies `max_body_bytes`, and runs the rest
    # (auth, faults, whose body criteria then see an empty body, the journal) as for any other.
    streams_body: bool = False
    error_detail: bool = False  # its errors carry `detail` beside `error` (errors.OpenAIError.detail)

    def __post_init__(self) -> None:
        if self.streams_body and self.request_schema is not None:
            raise ValueError(f"{self.id}: an operation that streams its body has no JSON request schema")

    @property
    def family(self) -> str:
        return self.id.rsplit(".", 1)[0]


_OPERATIONS: list[Operation] = []


def all_operations() -> list[Operation]:
    """The operation table: every family's operations, in one list (built on first use, as
    the families import this module)."""
    if not _OPERATIONS:
        from . import batches, chat, files, realtime, responses
        from .api import admin, embeddings, models

        _OPERATIONS.extend([*chat.OPERATIONS, *embeddings.OPERATIONS, *models.OPERATIONS, *responses.OPERATIONS,
                            *files.OPERATIONS, *batches.OPERATIONS, *realtime.OPERATIONS, *admin.OPERATIONS])
    return _OPERATIONS


def resolve_endpoint(name: str, operations: Iterable[Operation] | None = None) -> str | None:
    """An operation id from what a fixture or rule may write: the id, its family, or a path."""
    ops = list(operations if operations is not None else all_operations())
    ops = [op for op in ops if not op.admin]
    for op in ops:
        if name == op.id:
            return op.id
    creators = [op for op in ops if op.family == name or op.id == f"{name}.create"]
    if creators:
        return next((op.id for op in creators if op.method == "POST"), creators[0].id)
    path = name.split("?", 1)[0].rstrip("/")
    for prefix in PREFIXES:
        if path.startswith(prefix + "/"):
            path = path[len(prefix):]
            break
    for op in ops:
        if "{" not in op.path and op.path == path:
            return op.id
    return None


def build_routes(runtime: "Runtime", operations: list[Operation]) -> list[Route]:
    """One Starlette route per URL, dispatching on method inside (so a wrong method is
    our 405 in the OpenAI envelope, not Starlette's plain text)."""
    from .envelope import Endpoint

    by_path: dict[str, dict[str, Operation]] = {}
    for op in operations:
        paths = [prefix + op.path for prefix in op.prefixes]
        if op.azure_deployment:
            paths.append(AZURE_DEPLOYMENT + op.path)
        for path in paths:
            by_path.setdefault(path, {})[op.method] = op
    # Literal paths first: they are the hot ones and must win over parameterised siblings.
    ordered = sorted(by_path.items(), key=lambda item: ("{" in item[0], not item[0].startswith("/v1/")))
    return [Route(path, Endpoint(runtime, methods), name=path) for path, methods in ordered]

"""Generate `contracts/schemas/*.yaml` and `contracts/models.yaml` from the installed `openai` SDK.

    python contracts/generate.py           # write the files
    python contracts/generate.py --check   # exit 1 if they are stale against the installed SDK

The SDK's types are the source: request params are TypedDicts, responses pydantic
models; `pydantic.TypeAdapter(...).json_schema()` turns both into JSON Schema. The
output is normalised so it reads well in review and validates the way the real API
does (see `normalise`). What the SDK types do not say (value ranges, non-empty lists,
fields real traffic carries that the types lack) lives in `contracts/overlays/`,
written by hand, never here.
"""

from __future__ import annotations

import argparse
import sys
import typing
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent
SCHEMAS = ROOT / "schemas"

# name -> (kind, dotted path of the SDK type[, second type merged in])
# kind "request": what a client sends; "response"/"chunk": what a server answers.
SOURCES: dict[str, tuple[str, ...]] = {
    "chat.completions.create.request": (
        "request",
        "openai.types.chat.completion_create_params:CompletionCreateParamsNonStreaming",
        "openai.types.chat.completion_create_params:CompletionCreateParamsStreaming",
    ),
    "chat.completions.create.response": ("response", "openai.types.chat:ChatCompletion"),
    "chat.completions.create.chunk": ("chunk", "openai.types.chat:ChatCompletionChunk"),
    "chat.completions.update.request": ("request", "openai.types.chat.completion_update_params:CompletionUpdateParams"),
    "chat.completions.list.response": ("response", "openai.pagination:SyncCursorPage[openai.types.chat:ChatCompletion]"),
    "chat.completions.delete.response": ("response", "openai.types.chat:ChatCompletionDeleted"),
    "chat.completions.messages.list.response": (
        "response", "openai.pagination:SyncCursorPage[openai.types.chat:ChatCompletionStoreMessage]",
    ),
    "embeddings.create.request": ("request", "openai.types.embedding_create_params:EmbeddingCreateParams"),
    "embeddings.create.response": ("response", "openai.types:CreateEmbeddingResponse"),
    "models.list.response": ("response", "openai.pagination:SyncPage[openai.types:Model]"),
    "models.retrieve.response": ("response", "openai.types:Model"),
    "models.delete.response": ("response", "openai.types:ModelDeleted"),
    "error.response": ("response", "openai.types.shared:ErrorObject"),
    "responses.create.request": (
        "request",
        "openai.types.responses.response_create_params:ResponseCreateParamsNonStreaming",
        "openai.types.responses.response_create_params:ResponseCreateParamsStreaming",
    ),
    "responses.create.response": ("response", "openai.types.responses:Response"),
    "responses.create.event": ("chunk", "openai.types.responses:ResponseStreamEvent"),
    "responses.input_items.list.response": (
        "response", "openai.pagination:SyncCursorPage[openai.types.responses:ResponseItem]",
    ),
    "responses.input_tokens.count.request": (
        "request", "openai.types.responses.input_token_count_params:InputTokenCountParams",
    ),
    "responses.input_tokens.count.response": ("response", "openai.types.responses:InputTokenCountResponse"),
    "responses.compact.request": ("request", "openai.types.responses.response_compact_params:ResponseCompactParams"),
    "responses.compact.response": ("response", "openai.types.responses:CompactedResponse"),
    "conversations.create.request": (
        "request", "openai.types.conversations.conversation_create_params:ConversationCreateParams",
    ),
    "conversations.update.request": (
        "request", "openai.types.conversations.conversation_update_params:ConversationUpdateParams",
    ),
    "conversations.create.response": ("response", "openai.types.conversations:Conversation"),
    "conversations.delete.response": ("response", "openai.types.conversations:ConversationDeletedResource"),
    "conversations.items.create.request": ("request", "openai.types.conversations.item_create_params:ItemCreateParams"),
    "conversations.items.list.response": ("response", "openai.types.conversations:ConversationItemList"),
    "conversations.items.retrieve.response": ("response", "openai.types.conversations:ConversationItem"),
    "files.create.response": ("response", "openai.types:FileObject"),  # also retrieve's, and an upload's `file`
    "files.list.response": ("response", "openai.pagination:SyncCursorPage[openai.types:FileObject]"),
    "files.delete.response": ("response", "openai.types:FileDeleted"),
    "uploads.create.request": ("request", "openai.types.upload_create_params:UploadCreateParams"),
    "uploads.create.response": ("response", "openai.types:Upload"),  # also complete's and cancel's
    "uploads.complete.request": ("request", "openai.types.upload_complete_params:UploadCompleteParams"),
    "uploads.parts.create.response": ("response", "openai.types.uploads:UploadPart"),
    "batches.create.request": ("request", "openai.types.batch_create_params:BatchCreateParams"),
    "batches.create.response": ("response", "openai.types:Batch"),  # also retrieve's and cancel's
    "batches.list.response": ("response", "openai.pagination:SyncCursorPage[openai.types:Batch]"),
    # A line of a batch's output or error file: the SDK has no type for it (it hands the file
    # over as bytes), so this is any object, and its shape is the overlay's, with its sources.
    "batches.output.line": ("response", "builtins:dict"),
    # Realtime: the WebSocket's client and server events (the SDK's unions, one branch per
    # `type`), and the HTTP side's bodies (client secrets, the WebRTC/SIP call controls).
    "realtime.client.event": ("request", "openai.types.realtime.realtime_client_event_param:RealtimeClientEventParam"),
    "realtime.server.event": ("chunk", "openai.types.realtime:RealtimeServerEvent"),
    "realtime.client_secrets.create.request": (
        "request", "openai.types.realtime.client_secret_create_params:ClientSecretCreateParams",
    ),
    "realtime.client_secrets.create.response": ("response", "openai.types.realtime:ClientSecretCreateResponse"),
    "realtime.calls.accept.request": ("request", "openai.types.realtime.call_accept_params:CallAcceptParams"),
    "realtime.calls.refer.request": ("request", "openai.types.realtime.call_refer_params:CallReferParams"),
    "realtime.calls.reject.request": ("request", "openai.types.realtime.call_reject_params:CallRejectParams"),
}

# family -> SDK type aliases whose string literals name that family's models
MODEL_SOURCES: dict[str, list[str]] = {
    "chat": ["openai.types:ChatModel"],
    "responses": ["openai.types.shared:ResponsesModel"],
    "embedding": ["openai.types:EmbeddingModel"],
    "image": ["openai.types:ImageModel"],
    "transcription": ["openai.types:AudioModel"],
    "speech": ["openai.types.audio:SpeechModel"],
    "moderation": ["openai.types:ModerationModel"],
    "video": ["openai.types:VideoModel"],
    "completion": ["openai.types.completion_create_params:CompletionCreateParamsBase.model"],
    "realtime": ["openai.types.realtime.realtime_session_create_request_param:RealtimeSessionCreateRequestParam.model"],
}


def resolve(dotted: str) -> Any:
    """`pkg.mod:Name`, `pkg.mod:Name.field` (a TypedDict field) or `pkg.mod:Generic[pkg.mod:Arg]`."""
    import importlib

    if "[" in dotted:
        outer, inner = dotted[:-1].split("[", 1)
        return resolve(outer)[resolve(inner)]
    module, _, name = dotted.partition(":")
    obj: Any = importlib.import_module(module)
    parts = name.split(".")
    obj = getattr(obj, parts[0])
    if len(parts) == 2:
        obj = typing.get_type_hints(obj, include_extras=True)[parts[1]]
    return obj


def literal_strings(tp: Any) -> list[str]:
    """Every string literal inside a Literal/Union/Required alias, in order, once."""
    seen: list[str] = []
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        seen.extend(a for a in typing.get_args(tp) if isinstance(a, str))
    else:
        for arg in typing.get_args(tp):
            seen.extend(literal_strings(arg))
    return list(dict.fromkeys(seen))


def sdk_version() -> str:
    import openai

    return openai.__version__


# --- normalisation ----------------------------------------------------------------


def normalise(node: Any, kind: str) -> Any:
    """Make the pydantic output readable and faithful to what the real API checks.

    - `title` and `description` go: the SDK is the documentation, this is the contract.
    - `anyOf: [string, enum of strings]` (open enums such as model names) is a string.
    - In requests, an object with declared properties rejects undeclared ones, as the
      real API does (`Unknown parameter`); free-form maps (metadata, JSON schemas)
      keep no `properties` and stay open.
    """
    if isinstance(node, list):
        return [normalise(item, kind) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("title", "description"):
            continue
        if key in ("properties", "$defs", "patternProperties"):  # name -> schema maps
            out[key] = {name: normalise(sub, kind) for name, sub in value.items()}
        elif key in ("enum", "const", "default", "examples"):  # values, not schemas
            out[key] = value
        else:
            out[key] = normalise(value, kind)
    branches = out.get("anyOf")
    if isinstance(branches, list) and {"type": "string"} in branches:
        rest = [b for b in branches if b != {"type": "string"}]
        if rest and all(set(b) <= {"enum", "type", "const"} and _string_literals(b) for b in rest):
            out.pop("anyOf")
            out["type"] = "string"
    if kind == "request" and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def _string_literals(branch: dict) -> bool:
    values = branch.get("enum", [branch.get("const")])
    return all(isinstance(v, str) for v in values)


def merge_streaming(a: dict, b: dict) -> dict:
    """One request schema for both `stream: false` and `stream: true` params."""
    merged = dict(a)
    merged["properties"] = {**a["properties"], **b["properties"]}
    merged["properties"]["stream"] = {"anyOf": [{"type": "boolean"}, {"type": "null"}]}
    merged["required"] = [r for r in a.get("required", []) if r != "stream"]
    return merged


def build_schema(name: str) -> dict:
    from pydantic import TypeAdapter

    kind, *types = SOURCES[name]
    schemas = [TypeAdapter(resolve(t)).json_schema() for t in types]
    schema = merge_streaming(*schemas) if len(schemas) == 2 else schemas[0]
    if name == "error.response":
        schema = {
            "type": "object",
            "properties": {"error": {k: v for k, v in schema.items() if k != "$defs"}},
            "required": ["error"],
            **({"$defs": schema["$defs"]} if "$defs" in schema else {}),
        }
    schema = normalise(schema, "request" if kind == "request" else "response")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    # Read top-down: the object itself first, the definitions it refers to last.
    return dict(sorted(schema.items(), key=lambda item: (item[0] == "$defs", item[0] != "$schema")))


def header(what: str) -> str:
    return (
        f"# Generated by contracts/generate.py from openai=={sdk_version()} ({what}).\n"
        "# Do not edit by hand: regenerate, and put hand-written rules in contracts/overlays/.\n"
    )


def dump(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=120)


def render_all() -> dict[Path, str]:
    """Every generated file's path and text."""
    files: dict[Path, str] = {}
    for name, (_kind, *types) in SOURCES.items():
        files[SCHEMAS / f"{name}.yaml"] = header(", ".join(types)) + dump(build_schema(name))
    models = {family: list(dict.fromkeys(m for src in srcs for m in literal_strings(resolve(src))))
              for family, srcs in MODEL_SOURCES.items()}
    # ResponsesModel repeats ChatModel; keep only what it adds.
    models["responses"] = [m for m in models["responses"] if m not in set(models["chat"])]
    files[ROOT / "models.yaml"] = header("model name literals") + dump({"sdk_version": sdk_version(), "models": models})
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed files are stale")
    args = parser.parse_args(argv)
    files = render_all()
    stale = [p for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"stale: {path.relative_to(ROOT.parent)}", file=sys.stderr)
        return 1 if stale else 0
    SCHEMAS.mkdir(exist_ok=True)
    for path in stale:
        path.write_text(files[path], encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

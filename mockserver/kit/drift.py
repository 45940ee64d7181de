"""`mockserver contract drift`: per operation and field, the installed SDK's types, the recorded
real traffic and the fake's answers side by side.

- SDK: the fields the installed `openai` SDK's type declares (its pydantic model, through
  `TypeAdapter(...).json_schema()` as `contracts/generate.py` reads it; a field `contracts/` has
  and the installed SDK lacks shows the contracts are stale too);
- recorded: the fields real answers carry (`../shared/recordings`, or a user's cassettes: any
  JSON or YAML file; each answer body found in it is told apart by its `object`);
- fake: the fields the fake sends for a typical request, in-process.

Verdicts: `fake behind` (real and SDK have it, the fake does not send it), `API ahead of the SDK`
(real answers carry it, the SDK does not declare it), `fake invents` (only the fake sends it),
`unrecorded` (SDK and fake agree, no recording shows it), `ok` (all three). The fake's
fields are those of one typical request per operation, so a field only another request
brings (a built-in tool's options) shows as `fake behind` until that request is added here.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

# operation -> (the answer's `object`, SDK type, a typical request)
OPERATIONS = {
    "chat.completions.create": ("chat.completion", "openai.types.chat:ChatCompletion",
                                {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hi"}]}),
    "embeddings.create": ("list", "openai.types:CreateEmbeddingResponse",
                          {"model": "text-embedding-3-small", "input": "hi", "encoding_format": "float"}),
    "responses.create": ("response", "openai.types.responses:Response", {"model": "gpt-4o-mini", "input": "Say hi"}),
}
PATHS = {"chat.completions.create": "/v1/chat/completions", "embeddings.create": "/v1/embeddings", "responses.create": "/v1/responses"}
DEPTH = 3


def schema_fields(schema: dict, root: dict | None = None, prefix: str = "", depth: int = 0, seen: frozenset = frozenset()) -> set[str]:
    root = root or schema
    out: set[str] = set()
    if depth > DEPTH or not isinstance(schema, dict):
        return out
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return out
        return schema_fields((root.get("$defs") or {}).get(name, {}), root, prefix, depth, seen | {name})
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key) or []:
            out |= schema_fields(branch, root, prefix, depth, seen)
    if schema.get("type") == "array" or "items" in schema:
        out |= schema_fields(schema.get("items") or {}, root, prefix + "[]", depth, seen)
    for name, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}.{name}" if prefix else name
        out.add(path)
        out |= schema_fields(sub, root, path, depth + 1, seen)
    return out


def value_fields(value: Any, prefix: str = "", depth: int = 0) -> set[str]:
    out: set[str] = set()
    if depth > DEPTH:
        return out
    if isinstance(value, list):
        for item in value[:20]:
            out |= value_fields(item, prefix + "[]", depth)
    elif isinstance(value, dict):
        for name, sub in value.items():
            path = f"{prefix}.{name}" if prefix else name
            out.add(path)
            out |= value_fields(sub, path, depth + 1)
    return out


def sdk_fields(dotted: str) -> set[str]:
    import importlib

    from pydantic import TypeAdapter

    module, _, name = dotted.partition(":")
    return schema_fields(TypeAdapter(getattr(importlib.import_module(module), name)).json_schema(ref_template="#/$defs/{model}"))


def recorded_bodies(folders: list[Path]) -> dict[str, list[dict]]:
    """Answer bodies found in recordings, by `object`."""
    found: dict[str, list[dict]] = {}

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            kind = value.get("object")
            if isinstance(kind, str) and "id" in value or kind == "list" and isinstance(value.get("data"), list):
                found.setdefault(kind, []).append(value)
            for sub in value.values():
                visit(sub)
        elif isinstance(value, list):
            for sub in value:
                visit(sub)
        elif isinstance(value, str) and value[:1] in "{[" and len(value) < 2_000_000:
            try:
                visit(json.loads(value))
            except ValueError:
                pass

    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if path.suffix not in (".json", ".yaml", ".yml") or not path.is_file() or path.stat().st_size > 20_000_000:
                continue
            try:
                text = path.read_text(errors="replace")
                if path.suffix == ".json":
                    visit(json.loads(text))
                else:
                    import yaml

                    visit(yaml.safe_load(text))
            except Exception:  # noqa: BLE001 - a file that is no recording is skipped
                continue
    return found


def fake_fields(operation: str, body: dict) -> set[str]:
    import httpx

    from .. import Config, create_app

    async def ask() -> Any:
        app = create_app(Config())
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as http:
            return (await http.post(PATHS[operation], json=body)).json()

    import asyncio

    return value_fields(asyncio.run(ask()))


def compare(folders: list[Path]) -> list[dict]:
    bodies = recorded_bodies(folders)
    rows = []
    for operation, (kind, sdk_type, request) in OPERATIONS.items():
        sdk = sdk_fields(sdk_type)
        real: set[str] = set()
        for value in bodies.get(kind, []):
            if kind == "list" and not any(isinstance(d, dict) and d.get("object") == "embedding" for d in value.get("data") or []):
                continue
            real |= value_fields(value)
        fake = fake_fields(operation, request)
        open_objects = {f for f in sdk if not any(g.startswith(f + ".") or g.startswith(f + "[]") for g in sdk)}
        for field in sorted(sdk | real | fake):
            if re.search(r"\.\d", field):
                continue
            if any(field.startswith(parent + ".") or field.startswith(parent + "[]") for parent in open_objects):
                continue  # inside a free-form object (metadata, a tool's parameters): the caller's data
            s, r, f = field in sdk, field in real, field in fake
            if r and not s:
                verdict = "API ahead of the SDK"
            elif r and s and not f:
                verdict = "fake behind"
            elif f and not s and not r:
                verdict = "fake invents"
            elif s and f and not r:
                verdict = "unrecorded"
            elif s and r and f:
                verdict = "ok"
            else:
                verdict = "SDK only"
            rows.append({"operation": operation, "field": field, "sdk": s, "recorded": r, "fake": f, "verdict": verdict})
    return rows


def main(args: Any) -> int:
    from .report import Report  # noqa: F401 - the kit's outputs live together

    folders = args.recordings or [Path(__file__).resolve().parents[2].parent / "shared" / "recordings"]
    missing = [str(f) for f in folders if not Path(f).is_dir()]
    if missing:
        print(f"mockserver contract drift: no such folder of recordings: {', '.join(missing)}", file=sys.stderr)
        return 2
    rows = compare([Path(f) for f in folders])
    shown = rows if args.all else [r for r in rows if r["verdict"] not in ("ok", "SDK only", "unrecorded")]
    print("| operation | field | SDK | recorded | fake | verdict |\n|---|---|---|---|---|---|")
    for row in shown:
        mark = lambda b: "yes" if b else "—"  # noqa: E731
        print(f"| {row['operation']} | `{row['field']}` | {mark(row['sdk'])} | {mark(row['recorded'])} | {mark(row['fake'])} | {row['verdict']} |")
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
    print("\n" + ", ".join(f"{n} {v}" for v, n in sorted(counts.items())))
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "counts": counts}, indent=2) + "\n")
    return 0

"""Real OpenAI traffic from ../shared/recordings, read into one form whatever its format.

Three HTTP formats are stored there (SOURCE.md): openai-dotnet session records (JSON,
bodies parsed, SSE as a list of lines), VCR.py YAML with `parsed_body`, and VCR.py YAML
with string or base64-of-gzip bodies. Each exchange becomes a `Recorded` with the
request and the response as a client saw them. Tests read these as an oracle; nothing
here is copied into the project.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from .shared import require_shared


@dataclass
class Recorded:
    source: str  # path below recordings/
    index: int
    method: str
    url: str
    path: str
    query: dict
    request_headers: dict[str, str]
    request_body: Any
    status: int
    response_headers: dict[str, str]
    response_text: str | None
    response_json: Any
    sse: list[tuple[str | None, str]] = field(default_factory=list)  # (event, data) when streamed
    ordered: bool = True  # False where the recorder re-sorted the body's keys (pydantic-ai's parsed_body)
    request_raw: bytes | None = None  # a body that is not JSON (multipart), as sent; None where not recorded

    @property
    def id(self) -> str:
        path = Path(self.source)
        return f"{path.parent.name}/{path.stem}#{self.index}"

    @property
    def streamed(self) -> bool:
        return bool(self.sse)

    @property
    def azure_deployment(self) -> bool:
        return "/openai/deployments/" in self.path


def _headers(raw: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (raw or {}).items():
        values = value if isinstance(value, list) else [value]
        out[str(key).lower()] = ", ".join(v.decode() if isinstance(v, bytes) else str(v) for v in values)
    return out


def _text(raw: Any) -> str | None:
    if isinstance(raw, bytes):
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return raw if isinstance(raw, str) else None


def _json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def parse_sse(text: str) -> list[tuple[str | None, str]]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        event, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
        if data:
            events.append((event, "\n".join(data)))
    return events


def _make(source: str, index: int, method: str, url: str, request_headers: dict, request_body: Any,
          status: int, response_headers: dict, response_text: str | None, response_json: Any, ordered: bool = True,
          request_raw: bytes | None = None) -> Recorded:
    parts = urlsplit(url)
    query = {k: v if len(v) > 1 else v[0] for k, v in parse_qs(parts.query).items()}
    streamed = response_headers.get("content-type", "").startswith("text/event-stream") or (
        response_text is not None and response_text.lstrip().startswith(("data:", "event:"))
    )
    sse = parse_sse(response_text) if streamed and response_text else []
    return Recorded(source, index, method.upper(), url, parts.path, query, request_headers, request_body, status,
                    response_headers, response_text, None if sse else response_json, sse, ordered, request_raw)


def _dotnet_multipart(body: Any) -> bytes | None:
    """The .NET records keep a multipart body as its parts, strings, binary ones `b64:`."""
    if not isinstance(body, list) or not all(isinstance(part, str) for part in body):
        return None
    return b"".join(base64.b64decode(part[4:]) if part.startswith("b64:") else part.encode() for part in body)


def _dotnet(path: Path, source: str) -> list[Recorded]:
    out = []
    for index, entry in enumerate(json.loads(path.read_text(encoding="utf-8")).get("Entries", [])):
        body = entry.get("ResponseBody")
        if isinstance(body, list) and all(isinstance(line, str) for line in body):
            text, value = "".join(body), None
        else:
            text, value = None, body
        request = entry.get("RequestBody")
        raw = _dotnet_multipart(request)
        out.append(_make(source, index, entry["RequestMethod"], entry["RequestUri"], _headers(entry.get("RequestHeaders")),
                         None if raw is not None else request, entry["StatusCode"], _headers(entry.get("ResponseHeaders")),
                         text, value if text is None else _json(text), request_raw=raw))
    return out


def _vcr(path: Path, source: str) -> list[Recorded]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "interactions" not in data:
        return []
    out = []
    for index, item in enumerate(data["interactions"]):
        request, response = item.get("request"), item.get("response")
        if not request or not response:
            continue  # a WebSocket transcript entry
        request_raw = None
        if "parsed_body" in request:
            request_body = request["parsed_body"]
        else:
            raw = request.get("body")
            raw = raw.get("string") if isinstance(raw, dict) else raw
            request_body = _json(_text(raw)) if raw else None
            if request_body is None and raw and "multipart/form-data" in str(request.get("headers")):
                request_raw = raw.encode() if isinstance(raw, str) else raw
        ordered = "parsed_body" not in response
        if not ordered:
            text, value = None, response["parsed_body"]
        else:
            raw = response.get("body") or {}
            text = _text(raw.get("string") if isinstance(raw, dict) else raw)
            value = _json(text)
        out.append(_make(source, index, request.get("method", "GET"), request.get("uri", ""), _headers(request.get("headers")),
                         request_body, response["status"]["code"], _headers(response.get("headers")), text, value, ordered,
                         request_raw))
    return out


@lru_cache(maxsize=1)
def _load_all(root: str) -> tuple[Recorded, ...]:
    base = Path(root)
    out: list[Recorded] = []
    for path in sorted(base.rglob("*")):
        source = str(path.relative_to(base))
        if path.suffix == ".json":
            out += _dotnet(path, source)
        elif path.suffix in (".yaml", ".yml") and "/realtime/" not in source:
            out += _vcr(path, source)
    return tuple(out)


def all_recorded() -> tuple[Recorded, ...]:
    return _load_all(str(require_shared("recordings")))


_FAMILIES = {
    "chat": re.compile(r"/chat/completions$"),
    "embeddings": re.compile(r"/embeddings$"),
    "models": re.compile(r"/v1/models(/[^/]+)?$"),
    # create, retrieve, delete, cancel, input_items, input_tokens, compact (and Azure's /openai/v1/...)
    "responses": re.compile(r"/v1/responses(/[^/]+){0,2}$"),
    # upload, list, retrieve, content, delete; uploads and their parts, complete, cancel
    "files": re.compile(r"/v1/files(/[^/]+){0,2}$"),
    "uploads": re.compile(r"/v1/uploads(/[^/]+){0,2}$"),
    # create, list, retrieve, cancel
    "batches": re.compile(r"/v1/batches(/[^/]+){0,2}$"),
}


def recorded(family: str | None = None) -> list[Recorded]:
    items = all_recorded()
    if family is None:
        return list(items)
    pattern = _FAMILIES[family]
    return [item for item in items if pattern.search(item.path)]

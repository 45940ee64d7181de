"""Built-in tools, synthesized: the call items the real API puts before its message when
a request offers web_search, file_search, code_interpreter, image_generation or an MCP
server (mcp.py), and the citations the message then carries; and `apply_patch`, whose
calls the client runs. Shapes and key order as recorded (see README, "Responses API");
what `include` adds (sources, results, outputs) only when asked.

The policy: each built-in tool on offer is used once, in the order offered, unless
`tool_choice` is "none" or a function was called instead; an MCP server only when the
user's turn is last. `apply_patch` is chosen as a function is (plan.ask_from).
"""

from __future__ import annotations

import base64
import random
import re
import struct
import zlib
from typing import Callable

from . import mcp
from ..synth.text import sentence, words

BUILT_IN = ("web_search", "web_search_preview", "file_search", "code_interpreter", "image_generation", "mcp")


def offered(body: dict) -> list[dict]:
    if body.get("tool_choice") == "none":
        return []
    return [tool for tool in body.get("tools") or [] if tool.get("type") in BUILT_IN]


def calls(tools: list[dict], body: dict, make_id: Callable[[str], str], rng: random.Random, query: str,
          servers: bool = True) -> list[dict]:
    """The built-in tools' items; `servers` false: no MCP server is called this turn (the
    user's turn is not last, or it answers an approval)."""
    include = set(body.get("include") or [])
    out = []
    for tool in tools:
        kind = tool["type"]
        if kind.startswith("web_search"):
            # `queries` (every query the search ran) before `query`, recorded since 2026-01
            # (test_openai_include_raw_annotations_streaming, WebSearchCall*).
            action: dict = {"type": "search", "queries": [query], "query": query}
            if "web_search_call.action.sources" in include:
                action["sources"] = [{"type": "url", "url": url} for url, _ in pages(query)]
            out.append({"id": make_id("ws"), "type": "web_search_call", "status": "completed", "action": action})
        elif kind == "mcp":
            if servers:
                out.extend(mcp.call(tool, body, make_id, rng, query))
        elif kind == "file_search":
            results = None
            if "file_search_call.results" in include:
                results = [{"attributes": {}, "file_id": file_id, "filename": name, "score": score, "text": sentence(rng)}
                           for file_id, name, score in _files(tool)]
            out.append({"id": make_id("fs"), "type": "file_search_call", "status": "completed", "queries": [query],
                        "results": results})
        elif kind == "code_interpreter":
            code = f"result = {rng.randint(2, 99)} * {rng.randint(2, 99)}\nprint(result)"
            outputs = [{"type": "logs", "logs": str(eval_product(code))}] if "code_interpreter_call.outputs" in include else None
            out.append({"id": make_id("ci"), "type": "code_interpreter_call", "status": "completed", "code": code,
                        "container_id": f"cntr_{rng.getrandbits(192):048x}", "outputs": outputs})
        elif kind == "image_generation":
            size = tool.get("size") if tool.get("size") not in (None, "auto") else "1024x1024"
            out.append({"id": make_id("ig"), "type": "image_generation_call", "status": "completed",
                        "background": tool.get("background") or "opaque",
                        "output_format": tool.get("output_format") or "png",
                        "quality": tool.get("quality") if tool.get("quality") not in (None, "auto") else "medium",
                        "result": png_base64(rng), "revised_prompt": query, "size": size})
    return out


def eval_product(code: str) -> int:
    """What the synthesized snippet prints: `a * b`."""
    expression = code.split("=", 1)[1].split("\n", 1)[0]
    left, right = (int(part) for part in expression.split("*"))
    return left * right


def echo(tool: dict) -> dict:
    """A built-in tool as the real API echoes it, with its defaults filled in."""
    kind = tool.get("type")
    if kind == "file_search":
        return {"type": "file_search", "filters": tool.get("filters"), "max_num_results": tool.get("max_num_results", 20),
                "ranking_options": tool.get("ranking_options") or {"ranker": "auto", "score_threshold": 0.0},
                "vector_store_ids": tool.get("vector_store_ids") or []}
    if kind in ("web_search", "web_search_preview"):
        # `filters` only when sent: echoed `null` through 2026-01, left out since 2026-03 (WebSearchCall).
        location = {"type": "approximate", "city": None, "country": "US", "region": None, "timezone": None}
        out = {"type": kind}
        if tool.get("filters") is not None:
            out["filters"] = tool["filters"]
        out["search_context_size"] = tool.get("search_context_size", "medium")
        out["user_location"] = {**location, **(tool.get("user_location") or {})}
        return out
    if kind == "image_generation":
        return image_generation_echo(tool)
    if kind == "mcp":
        return mcp.echo(tool)
    return tool


# What an image_generation tool echoes when not told (test_openai_responses_image_generation_jpeg
# sent all but `n`, which the real API adds).
_IMAGE_DEFAULTS = {"background": "auto", "moderation": "auto", "n": 1, "output_compression": 100,
                   "output_format": "png", "quality": "auto", "size": "auto"}


def image_generation_echo(tool: dict) -> dict:
    """`type`, then its fields alphabetically, `n: 1` added, and the two the recording sent
    empty (`input_fidelity: null`, `partial_images: 0`) left out as the real API left them."""
    fields = dict(_IMAGE_DEFAULTS)
    fields.update({k: v for k, v in tool.items() if k != "type"})
    if fields.get("input_fidelity") is None:
        fields.pop("input_fidelity", None)
    if not fields.get("partial_images"):
        fields.pop("partial_images", None)
    return {"type": "image_generation", **dict(sorted(fields.items()))}


# --- apply_patch --------------------------------------------------------------------------

_PATH = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-][\w.-]*\.[A-Za-z][A-Za-z0-9]{0,7})(?![\w/])")


def patch_operation(user_text: str, rng: random.Random) -> dict:
    """What an `apply_patch_call` does, read from the user's words: delete or update a file
    they name (the last one), or create it; the new lines are those the request lists after a
    colon, or a sentence. The diff is V4A, as the tool's clients apply it (recorded:
    ApplyPatchToolWorks(%CreateFile%), `{"type": "create_file", "diff": "+review tests\n+update docs\n", "path": "NOTES.md"}`)."""
    text = user_text or ""
    paths = _PATH.findall(text)
    lowered = text.lower()
    path = paths[-1] if paths else "notes.txt"
    lines = _listed_lines(text) or [sentence(rng)]
    if re.search(r"\b(delete|remove)\b", lowered) and not re.search(r"\b(create|new file|add)\b", lowered):
        return {"type": "delete_file", "path": path}
    if re.search(r"\b(update|modify|change|edit|fix|append|replace)\b", lowered) and not re.search(r"\b(create|new file)\b", lowered):
        return {"type": "update_file", "diff": "@@\n" + "".join(f"+{line}\n" for line in lines), "path": path}
    return {"type": "create_file", "diff": "".join(f"+{line}\n" for line in lines), "path": path}


def _listed_lines(text: str) -> list[str]:
    """The lines after the last colon that ends a line, up to a blank line."""
    at = text.rfind(":\n")
    if at < 0:
        return []
    lines = []
    for line in text[at + 2:].split("\n"):
        if not line.strip():
            break
        lines.append(line.rstrip())
    return lines[:50]


def apply_patch_call(id: str, call_id: str, operation: dict, status: str = "completed") -> dict:
    return {"id": id, "type": "apply_patch_call", "status": status, "call_id": call_id, "operation": operation}


def annotations(items: list[dict], text: str, rng: random.Random, body: dict) -> list[dict]:
    """Citations for what the tools found, over the answer's text (indexes in characters)."""
    out: list[dict] = []
    for item in items:
        if item["type"] == "web_search_call":
            for url, title in pages(item["action"]["query"])[:2]:
                start = rng.randrange(0, max(1, len(text) // 2))
                out.append({"type": "url_citation", "end_index": min(len(text), start + 20), "start_index": start,
                            "title": title, "url": url})
        elif item["type"] == "file_search_call":
            tool = next((t for t in body.get("tools") or [] if t.get("type") == "file_search"), {})
            for file_id, name, _ in _files(tool)[:1]:
                out.append({"type": "file_citation", "file_id": file_id, "filename": name, "index": len(text)})
    return out


def pages(query: str) -> list[tuple[str, str]]:
    """Search results (url, title) that depend only on the query."""
    seed = random.Random(query)
    return [(f"https://example.{seed.choice(['com', 'org', 'net'])}/{words(seed, 1, 2).replace(' ', '-')}?utm_source=openai",
             sentence(seed, 5).rstrip(".!?")) for _ in range(3)]


def _files(tool: dict) -> list[tuple[str, str, float]]:
    """Files found, that depend only on the vector stores searched."""
    seed = random.Random(",".join(tool.get("vector_store_ids") or []))
    return [(f"file-{seed.getrandbits(128):032x}"[:27], f"{words(seed, 1, 2).replace(' ', '_')}.txt",
             round(seed.uniform(0.5, 0.99), 4)) for _ in range(2)]


def png_base64(rng: random.Random, side: int = 8) -> str:
    """A small, valid PNG (one colour, `side` pixels square), base64."""
    colour = bytes(rng.randrange(256) for _ in range(3))
    raw = b"".join(b"\x00" + colour * side for _ in range(side))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return base64.b64encode(png).decode()

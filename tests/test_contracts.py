"""The contracts are current with the SDK, and agree with the official OpenAPI spec.

Two checks, both cheap:

- Staleness: `contracts/schemas/*.yaml` and `contracts/models.yaml` are exactly what
  `contracts/generate.py` writes for the installed `openai` SDK, so an SDK upgrade
  cannot silently leave the fake validating against old types.
- Spec agreement: for every operation the fake serves, our merged contract (generated
  schema + overlay) is walked side by side with the official spec's schema, reached
  from the spec's paths (never by guessing component names). Required fields, string
  enums, JSON types, nullability and (for closed request objects) declared properties
  must agree. The spec and the SDK come from different dates, so some differences are
  legitimate; each is listed in `ALLOWED` with its reason. Anything else, new or gone,
  fails the test, so the allowlist stays exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from .support.shared import require_shared

ROOT = Path(__file__).resolve().parents[1]
DISCRIMINATORS = ("type", "role", "object")  # properties whose const tells union branches apart


# --- staleness --------------------------------------------------------------------


def test_contracts_are_current_with_installed_sdk():
    """Upgrading the SDK without regenerating would leave the fake checking old types.
    Rendered in a fresh process, as `make contracts` does: typing caches `Literal`s by
    equality, so an enum's order follows whichever equal `Literal` a process built first,
    and a test worker has imported many."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(ROOT / "contracts" / "generate.py"), "--check"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, (
        "contracts are stale against the installed openai SDK:\n" + done.stderr[-3000:]
        + "\nrun `python contracts/generate.py` and review the diff (and the overlays)"
    )


# --- the spec as an oracle ----------------------------------------------------------

# contract name -> (spec path, method, "request" or a response status, media type).
# error.response has no path of its own: every served path answers 429 with the envelope.
OPERATIONS: dict[str, tuple[str, str, str, str]] = {
    "chat.completions.create.request": ("/chat/completions", "post", "request", "application/json"),
    "chat.completions.create.response": ("/chat/completions", "post", "200", "application/json"),
    "chat.completions.create.chunk": ("/chat/completions", "post", "200", "text/event-stream"),
    "chat.completions.list.response": ("/chat/completions", "get", "200", "application/json"),
    "chat.completions.update.request": ("/chat/completions/{completion_id}", "post", "request", "application/json"),
    "chat.completions.delete.response": ("/chat/completions/{completion_id}", "delete", "200", "application/json"),
    "chat.completions.messages.list.response": (
        "/chat/completions/{completion_id}/messages", "get", "200", "application/json",
    ),
    "embeddings.create.request": ("/embeddings", "post", "request", "application/json"),
    "embeddings.create.response": ("/embeddings", "post", "200", "application/json"),
    "models.list.response": ("/models", "get", "200", "application/json"),
    "models.retrieve.response": ("/models/{model}", "get", "200", "application/json"),
    "models.delete.response": ("/models/{model}", "delete", "200", "application/json"),
    "error.response": ("/chat/completions", "post", "429", "application/json"),
}


@pytest.fixture(scope="session")
def spec() -> dict:
    """The official spec, parsed once per session (3 MB; the C loader takes under a second)."""
    path = require_shared("spec", "openai-openapi.yaml")
    with path.open("rb") as handle:
        return yaml.load(handle, Loader=yaml.CSafeLoader)


def operation_schema(spec: dict, path: str, method: str, where: str, media: str) -> dict:
    """The schema the spec's path gives for a request body or a response (following
    `#/components/responses/...` refs), so the spec's component names are never guessed."""
    doc = Document(spec)
    operation = spec["paths"][path][method]
    part = operation["requestBody"] if where == "request" else operation["responses"][where]
    if "$ref" in part:
        part = doc.pointer(part["$ref"])
    return part["content"][media]["schema"]


# --- reading a schema: refs, allOf, unions -----------------------------------------


class Document:
    """One JSON Schema document (the spec, or one of our contracts) whose local `$ref`s resolve.

    `resolve` returns a schema with `$ref` and `allOf` gone, so the walker only ever sees
    plain schemas and unions. Results are cached by node identity: the spec repeats
    large `allOf` chains, and merging them once keeps the walk fast.
    """

    def __init__(self, root: dict) -> None:
        self.root = root
        self._cache: dict[int, tuple[dict, dict]] = {}  # id -> (node kept alive, resolved)

    def pointer(self, ref: str) -> dict:
        assert ref.startswith("#/"), f"only local refs are expected, got {ref}"
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def resolve(self, node: Any) -> dict:
        if not isinstance(node, dict):
            return {}
        key = id(node)
        if key not in self._cache:
            self._cache[key] = (node, node)  # a placeholder breaks self-reference while resolving
            self._cache[key] = (node, self._resolve(node))
        return self._cache[key][1]

    def _resolve(self, node: dict) -> dict:
        if "$ref" in node:
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            return merge(self.resolve(self.pointer(node["$ref"])), siblings)
        if "allOf" in node:
            merged = {k: v for k, v in node.items() if k != "allOf"}
            for part in node["allOf"]:
                merged = merge(merged, self.resolve(part))
            return merged
        return node


def merge(base: dict, extra: dict) -> dict:
    """Combine two `allOf` parts: properties and required accumulate, the later part wins a clash.

    A true intersection is not needed here: in the spec a later part that redefines a
    property narrows it (e.g. `top_logprobs` drops `null`), so "later wins" is that intersection.
    """
    out = {**base, **{k: v for k, v in extra.items() if k not in ("properties", "required")}}
    if "properties" in base or "properties" in extra:
        out["properties"] = {**base.get("properties", {}), **extra.get("properties", {})}
    if "required" in base or "required" in extra:
        out["required"] = list(dict.fromkeys([*base.get("required", []), *extra.get("required", [])]))
    return out


@dataclass
class Shape:
    """A schema seen as a union: its non-null branches (each resolved) and whether null is allowed."""

    branches: list[dict] = field(default_factory=list)
    nullable: bool = False


def shape(doc: Document, node: Any) -> Shape:
    """Flatten `anyOf`/`oneOf`, type lists and `nullable: true` into branches plus a null flag."""
    node = doc.resolve(node)
    out = Shape(nullable=bool(node.get("nullable")))
    union = node.get("anyOf") or node.get("oneOf")
    if union:
        for branch in union:
            inner = shape(doc, branch)
            out.branches += inner.branches
            out.nullable |= inner.nullable
        return collapse_open_enum(out)
    types = node.get("type")
    if isinstance(types, list):
        out.nullable |= "null" in types
        out.branches = [{**node, "type": t} for t in types if t != "null"]
        return out
    if types == "null" or node.get("const", ...) is None:
        out.nullable = True
        return out
    if None in node.get("enum", []):
        out.nullable = True
        node = {**node, "enum": [v for v in node["enum"] if v is not None]}
    out.branches = [node]
    return out


def collapse_open_enum(union: Shape) -> Shape:
    """`anyOf: [string, enum of strings, ...]` (model names, voices): the enum adds nothing.

    contracts/generate.py folds such unions into `string` on our side only when nothing
    else is in them, so both sides get the same, more thorough reading here.
    """
    if not any(kind(b) == "string" and enum_values(b) is None for b in union.branches):
        return union
    kept = [b for b in union.branches if not (kind(b) == "string" and enum_values(b) is not None)]
    return Shape(kept, union.nullable)


def kind(schema: dict) -> str:
    """The JSON type of a (non-union) schema, or "any" when it says nothing about type."""
    declared = schema.get("type")
    if declared is None:
        if "properties" in schema or "additionalProperties" in schema:
            declared = "object"
        elif "items" in schema:
            declared = "array"
        elif (values := enum_values(schema)) and all(isinstance(v, str) for v in values):
            declared = "string"
        else:
            return "any"
    return declared


def family(json_type: str) -> str:
    """Integer and number are one family: every integer is a number, so they never clash outright."""
    return "number" if json_type == "integer" else json_type


def enum_values(schema: dict) -> set | None:
    """The allowed values of an enum or const (`x-stainless-const` enums are the same thing)."""
    if "const" in schema:
        return {schema["const"]}
    if "enum" in schema:
        return set(schema["enum"])
    return None


# --- walking both sides together ---------------------------------------------------


class Walker:
    """Walks a spec schema and our schema side by side and records each difference as text.

    A difference reads `<path>: <what>`, with paths such as
    `messages[]<role=user>.content<array[object]>[]<type=text>.text` (`[]` an array's
    items, `<...>` a union branch), so that an allowlist entry names one place and one fact.
    """

    def __init__(self, spec_doc: Document, ours_doc: Document) -> None:
        self.spec, self.ours = spec_doc, ours_doc
        self.found: list[str] = []

    def report(self, path: str, what: str) -> None:
        self.found.append(f"{path or '(root)'}: {what}")

    def node(self, spec_node: Any, ours_node: Any, path: str, seen: frozenset = frozenset()) -> None:
        pair = (id(self.spec.resolve(spec_node)), id(self.ours.resolve(ours_node)))
        if pair in seen:  # recursive schemas: each pair once per path
            return
        seen = seen | {pair}
        s, o = shape(self.spec, spec_node), shape(self.ours, ours_node)
        if s.nullable and not o.nullable:
            self.report(path, "null allowed by spec, not by ours")
        if not s.branches or not o.branches:
            return
        if len(s.branches) == 1 and len(o.branches) == 1:
            self.single(s.branches[0], o.branches[0], path, seen)
            return
        spec_keyed, ours_keyed = self.keyed(self.spec, s.branches), self.keyed(self.ours, o.branches)
        for key in spec_keyed.keys() - ours_keyed.keys():
            self.report(path, f"branch <{key}> only in spec")
        for key in ours_keyed.keys() - spec_keyed.keys():
            self.report(path, f"branch <{key}> only in ours")
        for key in spec_keyed.keys() & ours_keyed.keys():
            self.single(spec_keyed[key], ours_keyed[key], f"{path}<{key}>", seen)

    def keyed(self, doc: Document, branches: list[dict]) -> dict[str, dict]:
        """Union branches by a key both sides agree on: the discriminator const, else the type."""
        out: dict[str, dict] = {}
        for branch in branches:
            key = branch_key(doc, branch)
            n = 2
            while key in out:  # two branches of one kind (should not happen; keep both visible)
                key, n = f"{branch_key(doc, branch)}#{n}", n + 1
            out[key] = branch
        return out

    def single(self, s: dict, o: dict, path: str, seen: frozenset) -> None:
        ks, ko = kind(s), kind(o)
        if "any" not in (ks, ko) and family(ks) != family(ko):
            self.report(path, f"type {ks} in spec, {ko} in ours")
            return
        if (ks, ko) == ("number", "integer"):  # spec integer vs ours number is fine, not this way
            self.report(path, "type number in spec, integer in ours (ours rejects fractions)")
        self.enums(s, o, path)
        if "properties" in s and "properties" in o:
            self.properties(s, o, path, seen)
        if isinstance(s.get("additionalProperties"), dict) and isinstance(o.get("additionalProperties"), dict):
            self.node(s["additionalProperties"], o["additionalProperties"], f"{path}.*", seen)
        if "items" in s and "items" in o:
            self.node(s["items"], o["items"], f"{path}[]", seen)

    def enums(self, s: dict, o: dict, path: str) -> None:
        es, eo = enum_values(s), enum_values(o)
        if es is None and eo is None:
            return
        if es is None or eo is None:
            closed, side = (eo, "ours") if es is None else (es, "spec")
            self.report(path, f"enum {sorted(map(str, closed))} only in {side}")
            return
        if es - eo:
            self.report(path, f"enum values only in spec: {sorted(map(str, es - eo))}")
        if eo - es:
            self.report(path, f"enum values only in ours: {sorted(map(str, eo - es))}")

    def properties(self, s: dict, o: dict, path: str, seen: frozenset) -> None:
        """Required sets both ways; a spec field ours would reject; then each shared field.

        Fields only in ours are not differences: the SDK is newer than the spec and adds them.
        """
        sp, op = s["properties"], o["properties"]
        sr, orq = set(s.get("required", [])), set(o.get("required", []))
        for name in sorted(sr - orq):
            self.report(join(path, name), "required by spec, optional in ours")
        for name in sorted(orq - sr):
            self.report(join(path, name), "required by ours, optional in spec")
        if o.get("additionalProperties") is False:  # ours would reject a field the real API takes
            for name in sorted(sp.keys() - op.keys()):
                self.report(join(path, name), "in spec, rejected by ours (additionalProperties: false)")
        for name in sp.keys() & op.keys():
            self.node(sp[name], op[name], join(path, name), seen)


def join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def branch_key(doc: Document, branch: dict) -> str:
    """`type=text`, `role=user`, or a JSON type; arrays by their items' types (`array[string]`).

    Arrays are told apart by item types only, not by item discriminators, so a content-part
    type added on one side shows up as one missing branch inside the array, not as a
    whole array branch that no longer matches.
    """
    for prop in DISCRIMINATORS:
        sub = doc.resolve(branch.get("properties", {}).get(prop))
        values = enum_values(sub) if sub else None
        if values and len(values) == 1:
            return f"{prop}={next(iter(values))}"
    found = family(kind(branch))
    if found == "array" and "items" in branch:
        items = shape(doc, branch["items"]).branches
        return f"array[{'|'.join(sorted({family(kind(b)) for b in items}))}]"
    return found


def differences(spec: dict, ours: dict, name: str) -> list[str]:
    """Every difference between the spec's schema for `name` and our merged contract."""
    walker = Walker(Document(spec), Document(ours))
    walker.node(operation_schema(spec, *OPERATIONS[name]), ours, "")
    return sorted(set(walker.found))


# --- the allowlist -----------------------------------------------------------------

# contract name -> {difference: why it is legitimate}. Exact texts, so a new difference
# (or a changed value list) fails, and so does an entry that no longer matches anything.
ALLOWED: dict[str, dict[str, str]] = {
    "chat.completions.create.request": {
        "messages[]<role=user>.content<array[object]>[]<type=image_url>.image_url.detail: "
        "enum values only in ours: ['original']":
            "SDK newer than the spec: image detail 'original' was added after the spec's 2026-08-21 snapshot",
    },
    "chat.completions.create.response": {
        "choices[].message.refusal: required by spec, optional in ours":
            "real traffic from before mid-2024 has no `refusal` (openllmetry test_chat.yaml); contracts must accept it",
        "choices[].logprobs: required by spec, optional in ours":
            "real service_tier=priority responses have no `logprobs` key (openllmetry test_chat_with_service_tier.yaml)",
        "choices[].logprobs.refusal: required by spec, optional in ours":
            "kept optional with `message.refusal`: older traffic predates refusals",
    },
    "chat.completions.list.response": {
        "data[].choices[].message.refusal: required by spec, optional in ours":
            "a stored completion's message has no `refusal` (openai-dotnet GetChatCompletionsWithPagination.json)",
        "data[].choices[].logprobs.refusal: required by spec, optional in ours":
            "kept optional with `message.refusal`, as in create's answer",
    },
    "chat.completions.messages.list.response": {
        "data[].refusal: required by spec, optional in ours":
            "a stored message has no `refusal` (openai-dotnet GetChatCompletionMessagesWithBasicUsage.json)",
        "data[].role: enum values only in ours: ['developer', 'function', 'system', 'tool', 'user']":
            "the list holds the request's messages: recorded `role: user`; the spec (and SDK) say only assistant",
        "data[].content_parts: required by ours, optional in spec":
            "every recorded message carries `content_parts`, null when the content was a string",
        "data[].name: required by ours, optional in spec":
            "every recorded message carries `name`, null when none was sent",
        "data[].content_parts[]<type=image_url>.image_url.detail: enum values only in ours: ['original']":
            "SDK newer than the spec: image detail 'original' was added after the spec's 2026-08-21 snapshot",
    },
    "chat.completions.create.chunk": {
        "choices[].logprobs.refusal: required by spec, optional in ours":
            "kept optional with `message.refusal`: older traffic predates refusals",
        "choices: required by spec, optional in ours":
            "real audio-model chunks carry no `choices` (openai-dotnet ChatWithBasicAudioOutput.json)",
        "choices[].finish_reason: required by spec, optional in ours":
            "real audio-model chunks carry no `finish_reason` (openai-dotnet ChatWithBasicAudioOutput.json)",
        "object: enum values only in ours: ['']":
            "Azure OpenAI's prelude chunk has `object: \"\"` (openllmetry test_azure/test_chat_streaming.yaml)",
    },
    "embeddings.create.response": {
        "data[].embedding: branch <string> only in ours":
            "overlay correction: with encoding_format=base64 the wire carries a base64 string; "
            "the spec types only the decoded list",
    },
    "error.response": {
        "error.param: required by spec, optional in ours":
            "Azure OpenAI's envelope (e.g. DeploymentNotFound) has no `param`, and the fake serves Azure paths too",
    },
}


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_contract_agrees_with_official_spec(name, spec, contracts):
    found = differences(spec, contracts.schemas[name], name)
    allowed = ALLOWED.get(name, {})
    new = [d for d in found if d not in allowed]
    gone = [d for d in allowed if d not in found]
    assert not new and not gone, (
        f"{name} vs the official spec:\n"
        + "".join(f"  new difference: {d}\n" for d in new)
        + "".join(f"  allowlisted but no longer found (remove it): {d}\n" for d in gone)
        + "fix contracts/overlays/, or allowlist it with a reason in tests/test_contracts.py"
    )


def test_allowlist_names_only_compared_contracts():
    """A typo in a contract name would silently allow nothing; catch it here."""
    assert set(ALLOWED) <= set(OPERATIONS)


# --- the walker itself -------------------------------------------------------------


def walk(spec_schema: dict, ours_schema: dict, components: dict | None = None) -> list[str]:
    """Differences between two small documents; the spec side's refs point at `components`."""
    spec_doc = {"components": {"schemas": components or {}}, "root": spec_schema}
    walker = Walker(Document(spec_doc), Document(ours_schema))
    walker.node(spec_doc["root"], ours_schema, "")
    return sorted(walker.found)


def obj(required: list[str] = (), closed: bool = False, **properties: Any) -> dict:
    out = {"type": "object", "properties": properties, "required": list(required)}
    return {**out, "additionalProperties": False} if closed else out


def test_walker_reports_each_kind_of_difference():
    """So that a walker broken into silence cannot pass the spec tests by finding nothing."""
    spec = obj(
        ["a", "b"],
        a={"type": "string", "enum": ["x", "y"]},
        b={"anyOf": [{"type": "integer"}, {"type": "null"}]},
        c={"type": "string"},
        d={"type": "string"},
        f={"type": "number"},
        e={"type": "array", "items": {"oneOf": [{"$ref": "#/components/schemas/Text"}]}},
    )
    components = {"Text": obj(["type"], type={"type": "string", "enum": ["text"]}, text={"type": "string"})}
    ours = obj(
        ["a", "c"],
        closed=True,
        a={"enum": ["x", "z"], "type": "string"},
        b={"type": "number"},
        c={"type": "object"},
        f={"type": "integer"},
        e={"type": "array", "items": {"anyOf": [obj(["type", "text"], type={"const": "text"}, text={"type": "string"}),
                                                obj(["type"], type={"const": "image"})]}},
    )
    assert walk(spec, ours, components) == [
        "a: enum values only in ours: ['z']",
        "a: enum values only in spec: ['y']",
        "b: null allowed by spec, not by ours",
        "b: required by spec, optional in ours",
        "c: required by ours, optional in spec",
        "c: type string in spec, object in ours",
        "d: in spec, rejected by ours (additionalProperties: false)",
        "e[]: branch <type=image> only in ours",
        "e[]<type=text>.text: required by ours, optional in spec",
        "f: type number in spec, integer in ours (ours rejects fractions)",
    ]


def test_walker_accepts_equivalent_spellings():
    """integer vs number, allOf vs flat, type lists vs anyOf, open enums vs string: no difference."""
    spec = {"allOf": [{"$ref": "#/components/schemas/Base"}, obj(["n"], n={"type": "integer"})]}
    components = {"Base": obj(
        m={"type": ["string", "null"]},
        model={"anyOf": [{"type": "string"}, {"type": "string", "enum": ["gpt-x"]}]},
    )}
    ours = obj(["n"], n={"type": "number"}, m={"anyOf": [{"type": "string"}, {"type": "null"}]},
               model={"type": "string"})
    assert walk(spec, ours, components) == []

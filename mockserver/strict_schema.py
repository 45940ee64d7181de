"""The rules a schema must follow under `strict: true` (structured outputs), as the real API checks them.

Every object must set `additionalProperties: false` and list every property in
`required`. A client whose schema breaks a rule gets a 400 from the real API; it
gets the same 400, in the same words, from the fake. Backing: the structured-outputs guide
("Supported schemas") and, for `additionalProperties`, the recording
ChatToolTests/StructuredOutputs(WithoutSchema,Strict,FailureExpected)#0; `required` and the
missing `type` key are publicly reported in the same `In context=(...)` words. Checked only
when the caller asks for `strict: true`.
"""

from __future__ import annotations

from typing import Any


def strict_problem(schema: Any) -> str | None:
    """`In context=(...), ...` for the first rule broken, or None. The rules first, then
    the limits on the schema's size (`size_problem`)."""
    if not isinstance(schema, dict):
        return "In context=(), schema must be a JSON object."
    try:
        problem = _check(schema, ())
    except RecursionError:  # nested past Python's stack, so far past the nesting limit
        problem = None
    return problem or size_problem(schema)


# The limits structured outputs put on a strict schema, from OpenAI's guide
# (https://platform.openai.com/docs/guides/structured-outputs, "Supported schemas":
# "Objects have limitations on nesting depth and size", "Limitations on total string
# size", "Limitations on enum size"). Where the real API's words for breaking one are on
# record they are used: the enum count (community.openai.com, "500 Enums Limitation in
# Structured Output", when the limit was 500), the property count (openai/openai-node#1176,
# "144 parameters exceed the limit of 100.", when it was 100) and the nesting
# (tidyverse/ellmer#671, "6 levels of nesting exceeds limit of 5.", when it was 5); the two
# string-size rules are worded in this module's own style. Measured leniently where the
# guide is vague (a false 400 breaks a client the real API serves): nesting counts object
# schemas below the root (each definition from its own root), string sizes count strings.
MAX_PROPERTIES = 5_000
MAX_NESTING = 10
MAX_STRING_LENGTH = 120_000
MAX_ENUM_VALUES = 1_000
LARGE_ENUM = 250  # a string enum with more values than this ...
MAX_LARGE_ENUM_LENGTH = 15_000  # ... may hold at most this many characters in all


def size_problem(schema: dict) -> str | None:
    """The first documented size limit a strict schema goes over, or None."""
    properties = strings = enums = deepest = 0
    large: str | None = None
    stack: list[tuple[Any, tuple, int, bool]] = [(schema, (), 0, True)]  # node, where, depth, a root
    for name, _ in _named(schema, "$defs") + _named(schema, "definitions"):
        strings += len(name)
    while stack:
        node, context, depth, root = stack.pop()
        if not isinstance(node, dict):
            continue
        is_object = node.get("type") == "object" or isinstance(node.get("properties"), dict)
        below = depth + 1 if is_object and not root else depth
        deepest = max(deepest, below)
        enum = node.get("enum")
        if isinstance(enum, list):
            enums += len(enum)
            texts = [len(value) for value in enum if isinstance(value, str)]
            strings += sum(texts)
            if large is None and len(texts) > LARGE_ENUM and sum(texts) > MAX_LARGE_ENUM_LENGTH:
                large = (f"In context={context!r}, enum with {len(texts)} string values has a total string length of "
                         f"{sum(texts)}, which exceeds the limit of {MAX_LARGE_ENUM_LENGTH} for an enum with more than "
                         f"{LARGE_ENUM} values.")
        if isinstance(node.get("const"), str):
            strings += len(node["const"])
        for key, sub in _named(node, "properties"):
            properties += 1
            strings += len(key)
            stack.append((sub, context + ("properties", key), below, False))
        for keyword in ("items", "additionalProperties", "not", "contains"):
            if isinstance(node.get(keyword), dict):
                stack.append((node[keyword], context + (keyword,), below, False))
        for keyword in ("anyOf", "allOf", "oneOf", "prefixItems", "items"):
            if isinstance(node.get(keyword), list):
                stack.extend((sub, context + (keyword, index), below, False) for index, sub in enumerate(node[keyword]))
        if context == ():  # definitions nest from their own root
            for keyword in ("$defs", "definitions"):
                stack.extend((sub, (keyword, name), 0, True) for name, sub in _named(node, keyword))
    if deepest > MAX_NESTING:
        return f"{deepest} levels of nesting exceeds limit of {MAX_NESTING}."
    if properties > MAX_PROPERTIES:
        return f"{properties} parameters exceed the limit of {MAX_PROPERTIES}."
    if enums > MAX_ENUM_VALUES:
        return (f"Expected at most {MAX_ENUM_VALUES} enum values in total within a single schema when using structured "
                f"outputs, but received {enums}. Consider reducing the number of enums, or use 'strict: false' to opt "
                "out of structured outputs.")
    if large is not None:
        return large
    if strings > MAX_STRING_LENGTH:
        return (f"In context=(), the total string length of property names, definition names, enum values and const "
                f"values is {strings}, which exceeds the limit of {MAX_STRING_LENGTH}.")
    return None


def _named(node: dict, keyword: str) -> list[tuple[str, Any]]:
    value = node.get(keyword)
    return list(value.items()) if isinstance(value, dict) else []


def _check(node: Any, context: tuple) -> str | None:
    if not isinstance(node, dict):
        return None
    typed = any(k in node for k in ("type", "anyOf", "$ref", "enum", "const", "allOf"))
    if not typed and context:
        return f"In context={context!r}, schema must have a 'type' key."
    if node.get("type") == "object" or "properties" in node or not typed:
        if node.get("additionalProperties") is not False:
            return f"In context={context!r}, 'additionalProperties' is required to be supplied and to be false."
        properties = node.get("properties") or {}
        required = node.get("required")
        missing = [key for key in properties if not isinstance(required, list) or key not in required]
        if missing:
            return (
                f"In context={context!r}, 'required' is required to be supplied and to be an array including "
                f"every key in properties. Missing '{missing[0]}'."
            )
        extra = [key for key in (required or []) if key not in properties]
        if extra:
            return f"In context={context!r}, 'required' includes '{extra[0]}', which is not in 'properties'."
        for key, sub in properties.items():
            problem = _check(sub, context + ("properties", key))
            if problem:
                return problem
    if "items" in node:
        problem = _check(node["items"], context + ("items",))
        if problem:
            return problem
    for keyword in ("anyOf", "allOf"):
        for index, sub in enumerate(node.get(keyword) or []):
            problem = _check(sub, context + (keyword, index))
            if problem:
                return problem
    for keyword in ("$defs", "definitions"):
        for name, sub in (node.get(keyword) or {}).items():
            problem = _check(sub, context + (keyword, name))
            if problem:
                return problem
    return None

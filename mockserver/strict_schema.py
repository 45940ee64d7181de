"""The rules a schema must follow under `strict: true` (structured outputs), as the real API checks them.

Every object must set `additionalProperties: false` and list every property in
`required`. A client whose schema breaks a rule gets a 400 from the real API; it
gets the same 400, in the same words, from the fake.
"""

from __future__ import annotations

from typing import Any


def strict_problem(schema: Any) -> str | None:
    """`In context=(...), ...` for the first rule broken, or None."""
    if not isinstance(schema, dict):
        return "In context=(), schema must be a JSON object."
    return _check(schema, ())


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

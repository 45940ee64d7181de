"""The contracts at run time: schemas from `contracts/`, overlays merged, validators compiled once.

`contracts/schemas/` is generated from the official SDK's types; `contracts/overlays/`
adds by hand what the real API enforces beyond them (`constraints`) and where real
traffic is wider than the types (`corrections`). Validation uses jsonschema-rs (chosen
by measurement: about 1 µs for a typical chat request, against 40 µs for
fastjsonschema and 240 µs for jsonschema); only a request that fails is walked again
by `schema_errors.explain` to word the error as the real API does.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson

from . import errors
from .integral import INT64, OutOfRange, compile_shape, make_integral
from .paths import bundled
from .schema_errors import explain
from .yamlio import SourceError, load_plain


def deep_merge(base: Any, overlay: Any) -> Any:
    """Mappings merge key by key; anything else in the overlay replaces the base, and so
    does a mapping that says `$replace: true` (the way to drop a keyword such as `const`)."""
    if isinstance(overlay, dict) and overlay.get("$replace") is True:
        return {k: v for k, v in overlay.items() if k != "$replace"}
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = deep_merge(base.get(key), value) if key in base else value
        return merged
    return overlay


# `metadata`, wherever a request takes it: at most 16 pairs, keys of at most 64 characters,
# values of at most 512 (the API reference and the official spec's `Metadata`; a long value is
# answered `string_above_max_length` with param `metadata.<key>`, as publicly reported).
# One rule for every family, applied as a constraint: `--lenient` skips it.
METADATA_LIMITS = {"maxProperties": 16, "propertyNames": {"maxLength": 64},
                   "additionalProperties": {"type": "string", "maxLength": 512}}


class Contracts:
    """Every schema in `contracts/`. Request schemas are loaded and compiled at start-up,
    since every request needs one and a broken one must stop start-up; the answer
    schemas only tests and the contract kit use are loaded when first asked for."""

    def __init__(self, root: Path | None = None, *, lenient: bool = False) -> None:
        self.root = Path(root) if root else bundled("contracts")
        self.lenient = lenient
        self.names = sorted(path.name[: -len(".yaml")] for path in (self.root / "schemas").glob("*.yaml"))
        self._schemas: dict[str, dict] = {}
        self._validators: dict[str, Any] = {}
        self._integers: dict[str, Any] = {}  # where integral floats become ints (integral.py)
        for name in self.names:
            if name.endswith(".request"):
                self._load(name)
        self.schemas = _Lazy(self)

    def _load(self, name: str) -> None:
        path = self.root / "schemas" / f"{name}.yaml"
        schema = parsed(path)
        overlay_path = self.root / "overlays" / path.name
        if overlay_path.exists():
            overlay = parsed(overlay_path) or {}
            unknown = set(overlay) - {"constraints", "corrections"}
            if unknown:
                raise SourceError(overlay_path, None, f"unknown overlay section(s): {', '.join(sorted(unknown))}")
            schema = deep_merge(schema, overlay.get("corrections") or {})
            if not self.lenient:
                schema = deep_merge(schema, overlay.get("constraints") or {})
        if not self.lenient and "metadata" in (schema.get("properties") or {}):
            schema = deep_merge(schema, {"properties": {"metadata": METADATA_LIMITS}})
        try:
            self._validators[name] = jsonschema_rs.validator_for(schema)
        except Exception as exc:  # a broken overlay must stop start-up, named
            raise SourceError(path, None, f"schema does not compile: {exc}") from None
        self._schemas[name] = schema

    def validator(self, name: str) -> Any:
        if name not in self._validators:
            if name not in self.names:
                raise KeyError(name)
            self._load(name)
        return self._validators[name]

    def is_valid(self, name: str, value: Any) -> bool:
        return self.validator(name).is_valid(value)

    def problems(self, name: str, value: Any) -> list[str]:
        """Every violation, for tests and the contract kit: `path: message`."""
        return [
            f"{'/'.join(map(str, e.instance_path)) or '(root)'}: {e.message}"
            for e in self.validator(name).iter_errors(value)
        ]

    def check_request(self, name: str, body: Any, *, top_level_unknown: str = "unrecognized", dialect: str = "modern") -> None:
        """Raise the real API's 400 for the first problem in a request body; a valid body
        leaves with its integers as ints (`2.0` where the contract says integer is `2`)."""
        validator = self._validators[name]
        if validator.is_valid(body):
            self._make_integral(name, body)  # a walk of the integer paths only: under a µs for chat
            return
        schema = self._schemas[name]
        error = explain(schema, body, top_level_unknown=top_level_unknown, dialect=dialect)
        if error is None:  # the walker does not know a keyword: fall back to the validator's words
            first = next(iter(validator.iter_errors(body)))
            param = format_path(first.instance_path) or None
            error = errors.invalid_request(f"Invalid '{param or 'body'}': {first.message}", param=param, code="invalid_value")
        raise error


    def _make_integral(self, name: str, body: Any) -> None:
        shape = self._integers.get(name, _UNCOMPILED)
        if shape is _UNCOMPILED:  # compiled on first need: some 15 ms for a Responses schema
            shape = self._integers[name] = compile_shape(self._schemas[name])
        if shape is None:
            return
        try:
            make_integral(shape, body)
        except OutOfRange as problem:  # past 64 bits: the real API's range error
            above = problem.value > 0
            raise errors.out_of_range(format_path(problem.path), problem.value, INT64[1] if above else INT64[0],
                                      above=above, integer=True) from None


_UNCOMPILED = object()


def parsed(path: Path) -> Any:
    """A contract file's content. Parsing YAML is most of start-up (the Responses schemas
    are large), so the parsed value is cached as JSON, keyed by the file's bytes, in the
    user's cache directory; any trouble with the cache just means parsing again."""
    raw = path.read_bytes()
    cache = _cache_dir() / f"{hashlib.blake2b(raw, digest_size=16).hexdigest()}.json"
    try:
        return orjson.loads(cache.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        pass
    value = load_plain(path)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(orjson.dumps(value))
        temporary.replace(cache)  # atomic: a reader never sees half a file
    except (OSError, TypeError):
        pass
    return value


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mockserver" / "contracts"


class _Lazy(Mapping):
    """`contracts.schemas[name]`: the merged schema, loaded on first use."""

    def __init__(self, contracts: Contracts) -> None:
        self._contracts = contracts

    def __getitem__(self, name: str) -> dict:
        self._contracts.validator(name)
        return self._contracts._schemas[name]

    def __iter__(self):
        return iter(self._contracts.names)

    def __len__(self) -> int:
        return len(self._contracts.names)


def format_path(parts: Any) -> str:
    """`messages[0].content` from a sequence of keys and indexes."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load_model_names(root: Path | None = None) -> dict[str, list[str]]:
    """Model ids by family, as the SDK's literals list them (contracts/models.yaml)."""
    data = load_plain((Path(root) if root else bundled("contracts")) / "models.yaml") or {}
    return {family: list(names) for family, names in (data.get("models") or {}).items()}

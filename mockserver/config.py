"""The server's configuration: defaults, the YAML file, and the command line, in that order.

A config file is checked key by key; anything wrong stops start-up with
`mockserver.yaml:LINE: problem`, so a typo never silently turns a setting off.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .yamlio import SourceError, YamlMap, line_of, load_one

DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024
DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024  # POST /v1/files: "Individual files can be up to 512 MB"
DEFAULT_MAX_UPLOAD_PART_BYTES = 64 * 1024 * 1024  # an upload part (the SDK's part size, exactly)
DEFAULT_MAX_UPLOAD_BYTES = 8 * 1024 * 1024 * 1024  # an Upload in all: "at most 8 GB"


@dataclass
class ModelEntry:
    """A model the config adds; `like` borrows the rules of a known model."""

    id: str
    like: str | None = None
    owned_by: str = "system"
    context_window: int | None = None
    max_output_tokens: int | None = None
    reasoning: bool | None = None
    dimensions: int | None = None
    line: int | None = field(default=None, compare=False)  # where the config file declares it


@dataclass
class RateLimit:
    requests_per_minute: int
    tokens_per_minute: int


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 8000
    fixtures: list[Path] | None = None  # None: the bundled fixtures
    strict_fixtures: bool = False
    require_auth: bool = False
    api_keys: list[str] = field(default_factory=list)
    seed: int = 0
    lenient: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES  # a file uploaded with POST /v1/files (streamed: max_body_bytes does not apply)
    max_upload_part_bytes: int = DEFAULT_MAX_UPLOAD_PART_BYTES  # one part of an Upload
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES  # an Upload's declared `bytes`
    models: list[ModelEntry] = field(default_factory=list)
    azure_deployments: dict[str, str] = field(default_factory=dict)
    rate_limits: dict[str, RateLimit] = field(default_factory=dict)
    enforce_rate_limits: bool = False  # answer 429 when a key's requests or tokens per minute run out
    faults: list = field(default_factory=list)  # fault rules (README, "Chaos testing"), checked at start-up
    scenarios: dict = field(default_factory=dict)  # named lists of steps
    admin_token: str | None = None  # with a token the admin API answers anyone who sends it
    journal_size: int = 1000
    max_hold_seconds: float = 60.0  # the most all delays, holds and pacing may add to one request
    client_timeout_seconds: float = 30.0  # a request's head must arrive within this, and no body gap be longer
    keep_alive_seconds: float = 5.0  # an idle kept-alive connection is closed after this
    max_connections: int = 1000  # connections and requests at once; past it, uvicorn answers 503
    retry_budget: int = 5  # retries per call the verdict allows
    fault_engine: bool = True  # off: no fault rules, headers or journal (benchmarks)
    state: Path | None = None  # a SQLite file for stored objects; None: in memory
    state_max_objects: int = 10_000  # the in-memory store's cap (oldest evicted)
    background_queued_seconds: float = 0.5  # a background response waits this long in `queued`
    background_seconds: float = 2.0  # then runs this long `in_progress` before it completes
    time_scale: float = 1.0  # how fast the background clock runs; 0: only POST /__mock/clock moves it
    # Batches, on the same clock: validating, then lines run at a rate, then finalizing; a cancel
    # is `cancelling` this long before `cancelled`. A small batch completes within a second.
    batch_validating_seconds: float = 0.1
    batch_lines_per_second: float = 1000.0
    batch_finalizing_seconds: float = 0.1
    batch_cancelling_seconds: float = 0.1
    batch_max_lines: int = 50_000  # the real limits of an input file: requests ...
    batch_max_input_bytes: int = 200 * 1024 * 1024  # ... and bytes (200 MB)
    source: str | None = None  # the config file, for messages

    def fixture_paths(self) -> list[Path]:
        from .paths import bundled

        return list(self.fixtures) if self.fixtures is not None else [bundled("fixtures")]

    def replace(self, **changes: Any) -> "Config":
        return dataclasses.replace(self, **changes)


# --- loading ----------------------------------------------------------------------

_SCALARS: dict[str, tuple[type, ...]] = {
    "host": (str,),
    "port": (int,),
    "strict_fixtures": (bool,),
    "require_auth": (bool,),
    "seed": (int,),
    "lenient": (bool,),
    "max_body_bytes": (int,),
    "max_file_bytes": (int,),
    "max_upload_part_bytes": (int,),
    "max_upload_bytes": (int,),
    "admin_token": (str,),
    "journal_size": (int,),
    "max_hold_seconds": (int, float),
    "client_timeout_seconds": (int, float),
    "keep_alive_seconds": (int, float),
    "max_connections": (int,),
    "retry_budget": (int,),
    "fault_engine": (bool,),
    "state_max_objects": (int,),
    "background_queued_seconds": (int, float),
    "background_seconds": (int, float),
    "time_scale": (int, float),
    "batch_validating_seconds": (int, float),
    "batch_lines_per_second": (int, float),
    "batch_finalizing_seconds": (int, float),
    "batch_cancelling_seconds": (int, float),
    "batch_max_lines": (int,),
    "batch_max_input_bytes": (int,),
}
_KEYS = set(_SCALARS) | {"fixtures", "api_keys", "models", "azure", "rate_limits", "faults", "scenarios", "state"}
_MODEL_KEYS = {f.name for f in dataclasses.fields(ModelEntry)} - {"line"}


def load_config(path: str | Path) -> Config:
    """Read a `mockserver.yaml`; relative fixture paths are relative to the file."""
    path = Path(path)
    data = load_one(path)
    if data is None:
        return Config(source=str(path))
    check = _Checker(path)
    check.mapping(data, "the config file")
    config = Config(source=str(path))
    for key, value in data.items():
        if key not in _KEYS:
            check.fail(data, key, f"unknown key {key!r}; expected one of: {', '.join(sorted(_KEYS))}")
        if key in _SCALARS:
            value = integral(value, _SCALARS[key])
            check.kind(data, key, value, _SCALARS[key])
            setattr(config, key, value)
        elif key == "fixtures":
            items = [value] if isinstance(value, str) else value
            check.string_list(data, key, items)
            config.fixtures = [(path.parent / item).resolve() for item in items]
        elif key == "state":
            check.kind(data, key, value, (str,))
            config.state = (path.parent / value).resolve()
        elif key == "api_keys":
            check.string_list(data, key, value)
            config.api_keys = list(value)
        elif key == "models":
            config.models = [_model_entry(check, data, item) for item in check.sequence(data, key, value)]
        elif key == "azure":
            check.mapping(value, "'azure'")
            for sub, sub_value in value.items():
                if sub != "deployments":
                    check.fail(value, sub, f"unknown key {sub!r} under 'azure'; expected 'deployments'")
                check.mapping(sub_value, "'azure.deployments'")
                for name, model in sub_value.items():
                    check.kind(sub_value, name, model, (str,))
                config.azure_deployments = {str(k): v for k, v in sub_value.items()}
        elif key == "rate_limits":
            check.mapping(value, "'rate_limits'")
            for model, limit in value.items():
                if model == "enforce":
                    check.kind(value, model, limit, (bool,))
                    config.enforce_rate_limits = limit
                else:
                    config.rate_limits[str(model)] = _rate_limit(check, value, model, limit)
        elif key == "faults":
            config.faults = check.sequence(data, key, value)  # checked rule by rule at start-up, with lines
        elif key == "scenarios":
            check.mapping(value, "'scenarios'")
            config.scenarios = value
    for key, types in _SCALARS.items():
        if float in types and not math.isfinite(getattr(config, key)):
            check.fail(data, key, f"{key} must be a finite number")
    if not 0 < config.port < 65536:
        check.fail(data, "port", f"port must be between 1 and 65535, got {config.port}")
    for key in ("max_body_bytes", "max_file_bytes", "max_upload_part_bytes", "max_upload_bytes",
                "journal_size", "max_hold_seconds", "state_max_objects", "client_timeout_seconds",
                "keep_alive_seconds", "max_connections", "batch_lines_per_second", "batch_max_lines",
                "batch_max_input_bytes"):
        if getattr(config, key) <= 0:
            check.fail(data, key, f"{key} must be positive")
    for key in ("background_queued_seconds", "background_seconds", "time_scale", "batch_validating_seconds",
                "batch_finalizing_seconds", "batch_cancelling_seconds"):
        if getattr(config, key) < 0:
            check.fail(data, key, f"{key} must be 0 or more")
    if config.retry_budget < 0:
        check.fail(data, "retry_budget", "retry_budget must be 0 or more")
    return config


def _model_entry(check: "_Checker", parent: Any, item: Any) -> ModelEntry:
    if isinstance(item, str):
        return ModelEntry(id=item, line=line_of(parent, "models"))
    check.mapping(item, "a model entry")
    for key, value in item.items():
        if key not in _MODEL_KEYS:
            check.fail(item, key, f"unknown key {key!r} in a model entry; expected one of: {', '.join(sorted(_MODEL_KEYS))}")
        expected = {"reasoning": (bool,), "context_window": (int,), "max_output_tokens": (int,), "dimensions": (int,)}
        check.kind(item, key, value, expected.get(key, (str,)))
    if "id" not in item:
        check.fail(item, None, "a model entry needs an 'id'")
    return ModelEntry(**dict(item), line=line_of(item))


def _rate_limit(check: "_Checker", parent: Any, model: Any, value: Any) -> RateLimit:
    check.mapping(value, f"rate_limits.{model}")
    allowed = {"requests_per_minute", "tokens_per_minute"}
    for key, number in list(value.items()):
        if key not in allowed:
            check.fail(value, key, f"unknown key {key!r}; expected requests_per_minute or tokens_per_minute")
        number = value[key] = integral(number, (int,))
        check.kind(value, key, number, (int,))
        if number <= 0:
            check.fail(value, key, f"{key} must be positive")
    return RateLimit(value.get("requests_per_minute", 30_000), value.get("tokens_per_minute", 150_000_000))


def integral(value: Any, types: tuple[type, ...]) -> Any:
    """`8000.0` where only an int will do is `8000`: any integer may be written as a float."""
    if int in types and float not in types and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class _Checker:
    """Raises `SourceError` pointing at the offending line."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: Any, key: Any, problem: str) -> None:
        raise SourceError(self.path, line_of(where, key), problem)

    def mapping(self, value: Any, what: str) -> None:
        if not isinstance(value, dict):
            raise SourceError(self.path, line_of(value), f"{what} must be a mapping")

    def sequence(self, parent: Any, key: str, value: Any) -> list:
        if not isinstance(value, list):
            self.fail(parent, key, f"{key!r} must be a list")
        return value

    def kind(self, parent: Any, key: Any, value: Any, types: tuple[type, ...]) -> None:
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if not ok:
            names = " or ".join(t.__name__ for t in types)
            self.fail(parent, key, f"{key!r} must be {names}, got {type(value).__name__} {value!r}")

    def string_list(self, parent: Any, key: str, value: Any) -> None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(parent, key, f"{key!r} must be a list of strings")


__all__ = ["Config", "ModelEntry", "RateLimit", "SourceError", "YamlMap", "load_config"]

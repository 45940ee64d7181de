"""A client event, read and checked: JSON, a known `type`, then that type's contract.

The 11 client events are the SDK's union (`contracts/schemas/realtime.client.event.yaml`,
generated from `RealtimeClientEventParam`). Each branch is compiled once, on its own, so a
bad `session.update` is worded against the session's shape (`schema_errors.explain`:
`Invalid value: 'video'. Supported values are: ...`, `param: session.output_modalities[0]`),
not as "matches none of 11 schemas". Every problem becomes an `error` event; the socket
stays open.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import orjson

from ..errors import OpenAIError
from ..schema_errors import explain

CLIENT = "realtime.client.event"
SERVER = "realtime.server.event"


class BadEvent(Exception):
    """A client event the server refuses: becomes an `error` event, the socket stays open."""

    def __init__(self, message: str, code: str | None = None, param: str | None = None,
                 type: str = "invalid_request_error", event_id: str | None = None) -> None:
        super().__init__(message)
        self.message, self.code, self.param, self.type, self.event_id = message, code, param, type, event_id


class Checker:
    """The client event contract, one compiled branch per event type."""

    def __init__(self, contracts: Any) -> None:
        schema = contracts.schemas[CLIENT]
        defs = schema["$defs"]
        self.branches: dict[str, tuple[dict, Any]] = {}
        for ref in schema["anyOf"]:
            name = ref["$ref"].rsplit("/", 1)[-1]
            kind = defs[name]["properties"]["type"]["const"]
            branch = {"$defs": defs, **defs[name]}
            self.branches[kind] = (branch, jsonschema_rs.validator_for(branch))
        self.types = list(self.branches)

    def read(self, text: str | bytes) -> dict:
        """The event, valid against its type's contract, or BadEvent."""
        try:
            event = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            # Our wording (the SDK's types say only that every event is a JSON object).
            raise BadEvent(f"Invalid JSON: the event could not be parsed ({exc.msg}).", code="invalid_json") from None
        if not isinstance(event, dict):
            raise BadEvent("Invalid event: expected a JSON object.", code="invalid_json")
        event_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
        kind = event.get("type")
        if kind is None:  # the SDK's types: `type` is required on every client event
            raise BadEvent("Missing required parameter: 'type'.", code="missing_required_parameter", param="type",
                           event_id=event_id)
        found = self.branches.get(kind) if isinstance(kind, str) else None
        if found is None:  # the real API's wording for a value outside an enum (schema_errors), on `type`
            supported = ", ".join(f"'{t}'" for t in self.types[:-1]) + f" and '{self.types[-1]}'"
            raise BadEvent(f"Invalid value: {orjson.dumps(kind).decode()}. Supported values are: {supported}.",
                           code="invalid_value", param="type", event_id=event_id)
        branch, validator = found
        if not validator.is_valid(event):
            error = explain(branch, event)
            if error is None:
                first = next(iter(validator.iter_errors(event)))
                path = ".".join(str(p) for p in first.instance_path)
                raise BadEvent(f"Invalid '{path or kind}': {first.message}", code="invalid_value", param=path or None,
                               event_id=event_id)
            raise _from(error, event_id)
        return event


def _from(error: OpenAIError, event_id: str | None) -> BadEvent:
    return BadEvent(error.message, code=error.code, param=error.param, type=error.type, event_id=event_id)

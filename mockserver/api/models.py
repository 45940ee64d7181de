"""/v1/models: list, retrieve and delete, from the catalogue."""

from __future__ import annotations

import orjson

from .. import errors
from ..catalog import ModelSpec
from ..routing import Operation
from ..wire import Exchange, Reply


def model_object(spec: ModelSpec) -> dict:
    return {"id": spec.id, "object": "model", "created": spec.created, "owned_by": spec.owned_by}


def pretty(value: dict) -> Reply:
    """The real /v1/models answers are pretty-printed (two spaces)."""
    return Reply(orjson.dumps(value, option=orjson.OPT_INDENT_2))


async def list_models(ex: Exchange) -> Reply:
    return pretty({"object": "list", "data": [model_object(s) for s in ex.runtime.catalog.listed()]})


async def retrieve_model(ex: Exchange) -> Reply:
    """A known model; under `--lenient` any name, as a model of its family's rules."""
    model = ex.path_params["model"]
    spec = ex.runtime.catalog.get(model)
    if spec is None:
        if not ex.runtime.config.lenient:
            raise errors.no_such_model(model)
        spec = ex.runtime.catalog.lenient(model)
    return pretty(model_object(spec))


async def delete_model(ex: Exchange) -> Reply:
    """Only fine-tuned models can be deleted, by their owner; base models refuse. Under
    `--lenient` any id deletes fine (a known fine-tune is removed; a base model stays)."""
    model = ex.path_params["model"]
    catalog = ex.runtime.catalog
    if ex.runtime.config.lenient:
        if model.startswith("ft:") and catalog.get(model) is not None:
            catalog.deleted.add(model)
        return Reply.json({"id": model, "object": "model", "deleted": True})
    if catalog.get(model) is None:
        raise errors.no_such_model(model)
    if not model.startswith("ft:"):
        raise errors.OpenAIError(
            403, "You have insufficient permissions for this operation.", param="model", code="model_not_deletable"
        )
    catalog.deleted.add(model)
    return Reply.json({"id": model, "object": "model", "deleted": True})


OPERATIONS = [
    Operation("models.list", "GET", "/models", list_models, header_profile="catalog"),
    Operation("models.retrieve", "GET", "/models/{model:path}", retrieve_model, header_profile="catalog"),
    Operation("models.delete", "DELETE", "/models/{model:path}", delete_model),
]

"""/v1/embeddings and /v1/models through the official SDK."""

from __future__ import annotations

import base64
import math
from array import array

import openai
import pytest
from openai.types import CreateEmbeddingResponse, Model


def norm(vector) -> float:
    return math.sqrt(sum(v * v for v in vector))


@pytest.mark.parametrize("model, size", [("text-embedding-3-small", 1536), ("text-embedding-3-large", 3072), ("text-embedding-ada-002", 1536)])
def test_real_dimensions_and_unit_length(client, model, size):
    result = client.embeddings.create(model=model, input="The food was delicious.")
    vector = result.data[0].embedding
    assert len(vector) == size and abs(norm(vector) - 1) < 1e-4


def test_deterministic_per_text_not_per_request(client):
    alone = client.embeddings.create(model="text-embedding-3-small", input="apple").data[0].embedding
    batch = client.embeddings.create(model="text-embedding-3-small", input=["pear", "apple"])
    assert [d.index for d in batch.data] == [0, 1]
    assert batch.data[1].embedding == alone and batch.data[0].embedding != alone


def test_dimensions_shorten_and_renormalise(client):
    full = client.embeddings.create(model="text-embedding-3-large", input="x").data[0].embedding
    short = client.embeddings.create(model="text-embedding-3-large", input="x", dimensions=256).data[0].embedding
    assert len(short) == 256 and abs(norm(short) - 1) < 1e-4
    scale = norm(full[:256])
    assert all(abs(a / scale - b) < 1e-4 for a, b in zip(full[:256], short))


def test_float_and_base64_encodings(http, contracts):
    body = {"model": "text-embedding-3-small", "input": ["hello", "hello world"], "dimensions": 8}
    floats = http.post("/v1/embeddings", json=body).json()
    encoded = http.post("/v1/embeddings", json={**body, "encoding_format": "base64"}).json()
    for value in (floats, encoded):
        assert contracts.problems("embeddings.create.response", value) == []
    CreateEmbeddingResponse.model_validate(floats)  # the SDK decodes base64 before its types see it
    decoded = array("f", base64.b64decode(encoded["data"][0]["embedding"])).tolist()
    assert all(abs(a - b) < 1e-6 for a, b in zip(decoded, floats["data"][0]["embedding"]))
    assert floats["usage"] == {"prompt_tokens": 3, "total_tokens": 3}  # cl100k_base: 1 + 2 tokens
    assert list(floats) == ["object", "data", "model", "usage"]
    tokens = http.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": [[15339, 1917], [1, 2, 3]]}).json()
    assert tokens["usage"]["prompt_tokens"] == 5 and len(tokens["data"]) == 2


def test_embedding_headers(http):
    response = http.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "hi"})
    assert response.headers["openai-model"] == "text-embedding-3-small"
    assert response.headers["x-ratelimit-limit-tokens"]


def test_model_list_follows_the_sdk(client):
    from openai.types import ChatModel, EmbeddingModel
    from typing import get_args

    listed = {m.id for m in client.models.list()}
    assert set(get_args(ChatModel)) <= listed
    assert set(get_args(EmbeddingModel)) <= listed
    for model in client.models.list():
        assert model.object == "model" and model.created > 0 and model.owned_by


def test_retrieve_and_errors(client, http, contracts):
    model = client.models.retrieve("gpt-4o-mini")
    assert isinstance(model, Model) and model.id == "gpt-4o-mini"
    tuned = client.models.retrieve("ft:gpt-4o-mini-2024-07-18:acme:support:9abc")
    assert tuned.owned_by == "acme"
    response = http.get("/v1/models/fake_id")
    assert response.status_code == 404
    assert response.json() == {"error": {"message": "The model 'fake_id' does not exist", "type": "invalid_request_error",
                                         "param": "model", "code": "model_not_found"}}
    listing = http.get("/v1/models")
    assert contracts.problems("models.list.response", listing.json()) == []
    # As recorded: /v1/models answers carry no organization, project or rate-limit headers.
    assert "openai-organization" not in listing.headers and "x-ratelimit-limit-requests" not in listing.headers
    assert listing.headers["openai-version"] == "2020-10-01"


def test_delete_fine_tuned_model(client, http):
    name = "ft:gpt-4o-mini:acme:deleteme:1"
    deleted = client.models.delete(name)
    assert deleted.deleted is True and deleted.id == name
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve(name)
    assert http.delete("/v1/models/gpt-4o").status_code == 403
    assert http.delete("/v1/models/fake_id").status_code == 404

"""Real traffic as the oracle (../shared/recordings).

1. Every recorded chat completion, stream chunk, embedding, model and error body
   validates against contracts/ and parses with the SDK's types: where one does not,
   the contract is wrong.
2. Every recorded request the real API accepted passes our request contracts.
3. Every recorded chat and embeddings request, replayed against the fake, gets the
   recorded status and the recorded shape: key order, the error's type, code, param
   and message, the stream's framing and chunk shapes.
"""

from __future__ import annotations

import json

import httpx
import pytest
from openai.types import Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from mockserver import Config

from .support.recorded import Recorded, recorded
from .support.server import RunningServer

# Recorded exchanges the fake cannot reproduce, each for a reason outside the request.
NOT_REPLAYABLE = {
    "test_azure/test_chat_reasoning#1": "the Azure deployment was deleted between recordings (the same request got 200 before)",
    "test_azure/test_chat_reasoning#2": "the Azure deployment was deleted between recordings",
    "test_azure/test_chat_reasoning#3": "the Azure deployment was deleted between recordings",
    "test_vision/test_vision#1": "the real API failed to download the image URL; the fake never fetches URLs",
    "test_vision/test_vision#2": "the real API failed to download the image URL; the fake never fetches URLs",
    "test_azure/test_prompt_content_filtering#0": "hand-edited by its test author (body and Content-Length disagree)",
    "test_azure/test_chat_content_filtering#0": "hand-edited by its test author (body and Content-Length disagree)",
}
# Where the real model chose differently from the synthesizer: the shape is checked, the choice not.
MODEL_CHOICE = {
    "ChatTests/StructuredRefusalWorks#0": "the real model refused (the fake refuses only from fixtures)",
    "test_chat_parse/test_parsed_refused_completion#0": "the real model refused (the fake refuses only from fixtures)",
    "test_chat_parse/test_parsed_refused_completion#1": "the real model refused",
    "test_chat_parse/test_parsed_refused_completion#2": "the real model refused",
    "ChatToolTests/ConsecutiveToolCalls#1": "after a tool result the real model called another tool; the fake answers",
    "test_functions/test_open_ai_function_calls_tools_streaming_parallel#1": "the real model called one tool twice (two cities)",
    "test_openai/test_max_completion_tokens[o3-mini]#0": "how long the real model reasoned (it fit in 100 tokens; ours may not)",
}
# Features the fake does not synthesize yet; the status is checked, the shape not.
NOT_SYNTHESIZED = {
    "ChatTests/ChatWithBasicAudioOutput#0": "audio output (`modalities: [audio]`)",
    "test_openai/test_openai_moderation_stream#0": "moderation results (`moderation`)",
}


def ident(item: Recorded | None) -> str:
    return item.id if item is not None else "recordings"


def lazy(family: str, keep) -> list[Recorded]:
    """Parametrize from the recordings (less NOT_REPLAYABLE, documented above); an absent
    ../shared becomes one case that skips, or fails in CI."""
    try:
        return [item for item in recorded(family) if keep(item) and item.id not in NOT_REPLAYABLE]
    except BaseException:  # pytest's skip/fail outcome: let one placeholder carry it
        return [None]


def chunks_of(item: Recorded) -> list[dict]:
    return [json.loads(data) for _, data in item.sse if data.strip() != "[DONE]"]


# --- 1. recorded responses satisfy the contracts -------------------------------------

CHAT_200 = lazy("chat", lambda r: r.method == "POST" and r.status == 200)


@pytest.mark.parametrize("item", CHAT_200, ids=ident)
def test_recorded_chat_responses_satisfy_contracts(item, contracts):
    if item is None:
        recorded("chat")
    if item.streamed:
        for chunk in chunks_of(item):
            assert contracts.problems("chat.completions.create.chunk", chunk) == [], chunk
            # The SDK reads stream chunks leniently; its strict types reject two real shapes
            # the contract accepts: Azure's prelude (`object: ""`) and audio chunks without `choices`.
            if chunk.get("object") and "choices" in chunk:
                ChatCompletionChunk.model_validate(chunk)
    else:
        assert contracts.problems("chat.completions.create.response", item.response_json) == []
        ChatCompletion.model_validate(item.response_json)


def test_recorded_embeddings_models_and_errors_satisfy_contracts(contracts):
    for item in recorded("embeddings"):
        if item.status == 200:
            assert contracts.problems("embeddings.create.response", item.response_json) == [], item.id
    for item in recorded("models"):
        if item.status == 200:
            name = "models.list.response" if item.path.endswith("/models") else "models.retrieve.response"
            assert contracts.problems(name, item.response_json) == [], item.id
            if name == "models.retrieve.response":
                Model.model_validate(item.response_json)
    errors = [item for item in recorded() if item.status >= 400 and isinstance(item.response_json, dict)]
    assert len(errors) >= 25
    for item in errors:
        assert contracts.problems("error.response", item.response_json) == [], item.id


# --- 2. accepted requests pass our request contracts ----------------------------------

def test_accepted_requests_pass_our_contracts(contracts):
    checked = 0
    for family, name in (("chat", "chat.completions.create.request"), ("embeddings", "embeddings.create.request")):
        for item in recorded(family):
            if item.method == "POST" and item.status == 200 and isinstance(item.request_body, dict):
                body = dict(item.request_body)
                if item.azure_deployment:
                    body.setdefault("model", item.path.split("/")[3])
                assert contracts.problems(name, body) == [], (item.id, contracts.problems(name, body))
                checked += 1
    assert checked >= 100


# --- 3. replayed, the fake answers with the recorded status and shape ----------------

REPLAYED = lazy("chat", lambda r: r.method == "POST") + lazy("embeddings", lambda r: True)


@pytest.fixture(scope="module")
def replay_server():
    deployments = {"openllmetry-testing": "gpt-4.1-mini"}
    with RunningServer(Config(azure_deployments=deployments, fixtures=[])) as running:
        yield running


def send(server: RunningServer, item: Recorded) -> httpx.Response:
    url = server.origin + item.path + (f"?{httpx.QueryParams(item.query)}" if item.query else "")
    headers = {"content-type": "application/json", "authorization": "Bearer sk-replay"}
    return httpx.post(url, content=json.dumps(item.request_body), headers=headers, timeout=30)


def modern(item: Recorded) -> bool:
    """Recorded in the current format (2025+: usage details, refusal, annotations)."""
    body = item.response_json if isinstance(item.response_json, dict) else (chunks_of(item) or [{}])[-1]
    usage = body.get("usage") or {}
    return "audio_tokens" in (usage.get("prompt_tokens_details") or {}) or "obfuscation" in body


@pytest.mark.parametrize("item", REPLAYED, ids=ident)
def test_replayed_request_gets_the_recorded_answer(item, replay_server):
    if item is None:
        recorded("chat")
    if item.id == "ChatTests/AuthFailure#0":
        return check_auth_failure(item)
    response = send(replay_server, item)
    assert response.status_code == item.status, response.text
    if item.status >= 400:
        ours, theirs = response.json()["error"], item.response_json["error"]
        assert same_keys(list(ours), list(theirs), item.ordered)
        for key in ("type", "code", "param", "message"):
            assert ours.get(key) == theirs.get(key), key
        return
    if item.id in NOT_SYNTHESIZED:
        return
    if item.streamed:
        compare_streams(item, response)
    elif item.path.endswith("/embeddings"):
        body = response.json()
        assert list(body) == list(item.response_json)
        assert [list(d) for d in body["data"]] == [list(d) for d in item.response_json["data"]]
        assert type(body["data"][0]["embedding"]) is type(item.response_json["data"][0]["embedding"])
        assert body["usage"] == item.response_json["usage"]
    else:
        compare_bodies(item, response.json())


def same_keys(ours: list, theirs: list, ordered: bool) -> bool:
    """Key order where the recording kept it; the key set where the recorder sorted them."""
    return ours == theirs if ordered else sorted(ours) == sorted(theirs)


def check_auth_failure(item: Recorded) -> None:
    """Replayed with its (sanitised) key against a server that demands a valid one."""
    with RunningServer(Config(require_auth=True, api_keys=["sk-valid"], fixtures=[])) as running:
        response = httpx.post(running.url + "/chat/completions", json=item.request_body,
                              headers={"authorization": "Bearer " + item.request_headers.get("authorization", "x")})
    assert response.status_code == item.status == 401
    ours, theirs = response.json()["error"], item.response_json["error"]
    assert list(ours) == list(theirs)
    assert {k: ours[k] for k in ("type", "param", "code")} == {k: theirs[k] for k in ("type", "param", "code")}
    assert ours["message"].startswith("Incorrect API key provided: ") and theirs["message"].startswith("Incorrect API key provided: ")
    assert response.headers["content-type"] == item.response_headers["content-type"]


def compare_bodies(item: Recorded, ours: dict) -> None:
    theirs = item.response_json
    if item.azure_deployment or modern(item):
        assert same_keys(list(ours), list(theirs), item.ordered)
    for mine, recorded_choice in zip(ours["choices"], theirs["choices"]):
        assert same_keys(list(mine), list(recorded_choice), item.ordered) or not modern(item)
        if item.id in MODEL_CHOICE:
            continue
        if modern(item):
            assert set(mine["message"]) == set(recorded_choice["message"]) - {"audio"}
        assert (mine["message"]["content"] is None) == (recorded_choice["message"]["content"] is None)
        assert mine["finish_reason"] == recorded_choice["finish_reason"] or recorded_choice["finish_reason"] == "length"
    if modern(item):
        assert set(ours["usage"]) == set(theirs["usage"])
        assert set(ours["usage"]["prompt_tokens_details"]) >= set(theirs["usage"]["prompt_tokens_details"]) - {"image_tokens", "text_tokens", "cache_write_tokens"}
    assert ours["model"] == theirs["model"] or item.request_body["model"] != theirs["model"].rsplit("-", 3)[0]


def compare_streams(item: Recorded, response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = response.text.split("\n\n")
    assert frames[-1] == "" and frames[-2] == "data: [DONE]"
    assert all(frame.startswith("data: {") for frame in frames[:-2])
    ours = [json.loads(frame[6:]) for frame in frames[:-2]]
    theirs = chunks_of(item)
    if item.azure_deployment:
        assert list(ours[0]) == list(theirs[0])  # Azure's prelude chunk
        ours, theirs = ours[1:], theirs[1:]
    if modern(item):
        assert same_keys(list(ours[0]), list(theirs[0]), item.ordered)
        if item.id not in MODEL_CHOICE:
            assert same_keys(list(ours[0]["choices"][0]["delta"]), list(theirs[0]["choices"][0]["delta"]), item.ordered)
        assert same_keys(list(ours[-1]), list(theirs[-1]), item.ordered)
    assert ("usage" in ours[-1]) == ("usage" in theirs[-1])
    assert (ours[-1]["choices"] == []) == (theirs[-1]["choices"] == [])

def test_chat_completion_round_trip(client, contracts):
    completion = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello!"}]
    )
    assert completion.http_response.status_code == 200
    body = completion.http_response.json()
    assert contracts.problems("chat.completions.create.response", body) == []
    assert completion.parse().choices[0].message.content


def test_in_process_with_the_sdk():
    """create_app() is a plain ASGI app: the SDK can drive it in-process, no port needed."""
    import httpx
    from openai import AsyncOpenAI
    import asyncio

    from mockserver import create_app

    app = create_app()

    async def run():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock") as http:
            sdk = AsyncOpenAI(base_url="http://mock/v1", api_key="k", http_client=http, max_retries=0)
            return await sdk.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])

    assert asyncio.run(run()).choices[0].message.content


def test_starlette_test_client():
    from starlette.testclient import TestClient

    from mockserver import create_app

    with TestClient(create_app()) as http:
        response = http.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
        assert response.status_code == 200 and response.headers["x-request-id"].startswith("req_")

def test_chat_completion_round_trip(client, contracts):
    completion = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello!"}]
    )
    assert completion.http_response.status_code == 200
    body = completion.http_response.json()
    assert contracts.problems("chat.completions.create.response", body) == []
    assert completion.parse().choices[0].message.content

// One chat completion (or, with mode "responses-stream", one streamed response) through
// the official openai Node SDK, against the URL given; prints what the caller saw as one
// JSON line. Used by tests/test_node_sdk.py.
import OpenAI from "openai";

const [baseURL, maxRetries, fault, stream] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "sk-node", maxRetries: Number(maxRetries), timeout: 5000 });
const headers = fault ? { "X-Mock-Fault": fault } : {};
const body = { model: "gpt-4o-mini", messages: [{ role: "user", content: "node says hi" }] };
try {
  if (stream === "responses-stream") {
    let text = "";
    const events = await client.responses.create({ model: "gpt-4o-mini", input: "node says hi", stream: true }, { headers });
    for await (const event of events) if (event.type === "response.output_text.delta") text += event.delta;
    console.log(JSON.stringify({ ok: true, text }));
  } else if (stream === "stream") {
    let text = "";
    const chunks = await client.chat.completions.create({ ...body, stream: true }, { headers });
    for await (const chunk of chunks) text += chunk.choices[0]?.delta?.content ?? "";
    console.log(JSON.stringify({ ok: true, text }));
  } else {
    const completion = await client.chat.completions.create(body, { headers });
    console.log(JSON.stringify({ ok: true, text: completion.choices[0].message.content }));
  }
} catch (error) {
  console.log(JSON.stringify({ ok: false, name: error.constructor.name, status: error.status ?? null, message: String(error.message) }));
}

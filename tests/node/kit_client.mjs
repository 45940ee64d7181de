// One call of one kind through the official openai Node SDK, against the URL given: the
// contract kit's Node client (tests/test_kit_clients.py). Exit 0 when the SDK returned or
// raised its own API error; exit 1 (with what broke on stderr) on any other error.
import OpenAI from "openai";

const [baseURL, mode] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "sk-node-kit", maxRetries: 0, timeout: 20000 });
const messages = [{ role: "user", content: "Say hi" }];
try {
  if (mode === "chat") {
    const completion = await client.chat.completions.create({ model: "gpt-4o-mini", messages });
    JSON.stringify(completion);
  } else if (mode === "chat-stream") {
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true,
                                                          stream_options: { include_usage: true } });
    for await (const chunk of stream) JSON.stringify(chunk);
  } else if (mode === "responses") {
    const response = await client.responses.create({ model: "gpt-4o-mini", input: "Say hi" });
    String(response.output_text);
  } else if (mode === "responses-stream") {
    const stream = await client.responses.create({ model: "gpt-4o-mini", input: "Say hi", stream: true });
    for await (const event of stream) String(event.type);
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
} catch (error) {
  if (error instanceof OpenAI.APIError) process.exit(0);
  console.error(`${error?.constructor?.name}: ${error?.message}`);
  process.exit(1);
}

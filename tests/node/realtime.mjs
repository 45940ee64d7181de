// One realtime text turn (and one chat completion, over HTTPS) through the official openai
// Node SDK, against `mockserver serve --tls` at the base URL given. The SDK builds a `wss:`
// URL whatever the base URL, so the fake's CA must be trusted: NODE_EXTRA_CA_CERTS.
// Prints the server event types and the answer as one JSON line. Used by tests/test_realtime_tls.py.
import OpenAI from "openai";
import { OpenAIRealtimeWebSocket } from "openai/realtime/websocket";

const [baseURL] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "sk-node", maxRetries: 0, timeout: 5000 });
const completion = await client.chat.completions.create({
  model: "gpt-4o-mini", messages: [{ role: "user", content: "over https" }],
});
const rt = new OpenAIRealtimeWebSocket({ model: "gpt-realtime" }, client);
const types = [];
let text = "";
const done = new Promise((resolve, reject) => {
  rt.on("error", (error) => reject(error));
  rt.on("event", (event) => {
    types.push(event.type);
    if (event.type === "response.output_text.delta") text += event.delta;
    if (event.type === "response.done") resolve(event);
  });
});
rt.socket.addEventListener("open", () => {
  rt.send({ type: "session.update", session: { type: "realtime", output_modalities: ["text"] } });
  rt.send({ type: "conversation.item.create",
            item: { type: "message", role: "user", content: [{ type: "input_text", text: "Hello from Node" }] } });
  rt.send({ type: "response.create" });
});
const response = await done;
rt.close();
console.log(JSON.stringify({ chat: completion.choices[0].message.content, url: rt.url.toString(), types, text,
                             status: response.response.status }));

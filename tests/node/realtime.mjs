// Realtime through the official openai Node SDK against `mockserver serve --tls` at the base
// URL given: a text turn, a function-call round trip, and a voice turn driven by synthetic
// audio under server VAD (and one chat completion over HTTPS). The SDK builds a `wss:` URL
// whatever the base URL, so the fake's CA must be trusted: NODE_EXTRA_CA_CERTS. Prints what
// it saw as one JSON line. Used by tests/test_realtime_tls.py.
import OpenAI from "openai";
import { OpenAIRealtimeWebSocket } from "openai/realtime/websocket";

const [baseURL] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "sk-node", maxRetries: 0, timeout: 5000 });
const completion = await client.chat.completions.create({
  model: "gpt-4o-mini", messages: [{ role: "user", content: "over https" }],
});
const rt = new OpenAIRealtimeWebSocket({ model: "gpt-realtime" }, client);
const types = [];
let waiting = null;
const queue = [];
rt.on("error", (error) => { if (waiting) waiting.reject(error); });
rt.on("event", (event) => {
  types.push(event.type);
  queue.push(event);
  if (waiting && waiting.type === event.type) { waiting.resolve(event); waiting = null; }
});
// Resolves with the first event of `type` not yet taken (the queue keeps what came before).
function next(type) {
  const index = queue.findIndex((event) => event.type === type);
  if (index >= 0) return Promise.resolve(queue.splice(0, index + 1).pop());
  return new Promise((resolve, reject) => { waiting = { type, resolve: (e) => { queue.length = 0; resolve(e); }, reject }; });
}
const user = (text) => ({ type: "message", role: "user", content: [{ type: "input_text", text }] });
await new Promise((resolve) => rt.socket.addEventListener("open", resolve));

// A text turn.
rt.send({ type: "session.update", session: { type: "realtime", output_modalities: ["text"] } });
await next("session.updated");
rt.send({ type: "conversation.item.create", item: user("Hello from Node") });
rt.send({ type: "response.create" });
const text = (await next("response.done")).response;

// A function call, its output, and the answer.
const weather = { type: "function", name: "get_weather", description: "Look up the weather for a city.",
                  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } };
rt.send({ type: "session.update", session: { type: "realtime", tools: [weather] } });
await next("session.updated");
rt.send({ type: "conversation.item.create", item: user("What is the weather in Paris?") });
rt.send({ type: "response.create" });
const call = (await next("response.done")).response.output[0];
rt.send({ type: "conversation.item.create", item: { type: "function_call_output", call_id: call.call_id, output: "Sunny." } });
rt.send({ type: "response.create" });
const answer = (await next("response.done")).response.output[0];

// A voice turn: silence, a tone, silence (PCM16 at 24 kHz); server VAD answers it aloud.
const pcm = (ms, amplitude) => {
  const samples = new Int16Array(24 * ms);
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(amplitude * Math.sin(2 * Math.PI * 440 * i / 24000));
  return Buffer.from(samples.buffer).toString("base64");
};
rt.send({ type: "session.update", session: { type: "realtime", output_modalities: ["audio"], tools: [] } });
await next("session.updated");
for (const [ms, amplitude] of [[400, 0], [800, 6000], [400, 0]]) rt.send({ type: "input_audio_buffer.append", audio: pcm(ms, amplitude) });
await next("input_audio_buffer.speech_started");
await next("input_audio_buffer.committed");
const voice = (await next("response.done")).response;
rt.close();
console.log(JSON.stringify({
  chat: completion.choices[0].message.content, url: rt.url.toString(), types,
  text: text.output[0].content[0].text, status: text.status,
  call: { name: call.name, arguments: call.arguments }, answer: answer.type,
  voice: { transcript: voice.output[0].content[0].transcript, audio_tokens: voice.usage.output_token_details.audio_tokens },
}));

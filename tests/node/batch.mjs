// One batch through the official openai Node SDK, against the URL given: upload a JSONL
// file, create the batch, poll it to completion, download and parse the output; prints what
// the caller saw as one JSON line. Used by tests/test_batches.py.
import OpenAI, { toFile } from "openai";

const [baseURL] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "sk-node", maxRetries: 0, timeout: 10000 });
const lines = [0, 1, 2].map((n) => JSON.stringify({
  custom_id: `node-${n}`, method: "POST", url: "/v1/chat/completions",
  body: { model: "gpt-4o-mini", messages: [{ role: "user", content: `node batch line ${n}` }] },
}));
const file = await client.files.create({ file: await toFile(Buffer.from(lines.join("\n") + "\n"), "node.jsonl"), purpose: "batch" });
let batch = await client.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
const deadline = Date.now() + 20000;
while (!["completed", "failed", "expired", "cancelled"].includes(batch.status) && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  batch = await client.batches.retrieve(batch.id);
}
const output = batch.output_file_id ? await (await client.files.content(batch.output_file_id)).text() : "";
const parsed = output.split("\n").filter(Boolean).map((line) => JSON.parse(line));
console.log(JSON.stringify({
  status: batch.status, counts: batch.request_counts, custom_ids: parsed.map((line) => line.custom_id),
  answers: parsed.map((line) => line.response.body.choices[0].message.content),
}));

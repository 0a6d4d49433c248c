// promptEnhance, textInference (sync, async, and "stream", which sdk-js sends over WebSocket)
// and modelSearch through npm @runware/sdk-js 1.3.x, run by tests/test_text_sdks.py.
//
//   node sdk_js_text.cjs <ws-url> <api-key> <sdk-dir>
//
// Prints one JSON line: {"event": "done", ...}.
"use strict";

const path = require("node:path");
const { createRequire } = require("node:module");

const [url, apiKey, sdkDir] = process.argv.slice(2);
const { Runware } = createRequire(path.join(sdkDir, "package.json"))("@runware/sdk-js");
const MODEL = "google:gemma@4-31b";
const MESSAGES = [{ role: "user", content: "Reply with exactly: hello" }];

async function main() {
  const runware = await Runware.initialize({ apiKey, url });
  const enhanced = await runware.promptEnhance({ prompt: "a sunset over the ocean" });
  const versions = await runware.enhancePrompt({
    prompt: "a cat sitting on a chair", promptMaxLength: 200, promptVersions: 3,
  });
  const text = await runware.textInference({ model: MODEL, messages: MESSAGES, includeCost: true });
  const streamed = await runware.textInference({
    model: MODEL, messages: MESSAGES, deliveryMethod: "stream",
  });
  const search = await runware.modelSearch({ search: "realistic", category: "checkpoint", limit: 3 });
  await runware.disconnect();
  console.log(JSON.stringify({ event: "done", enhanced, versions, text, streamed, search }));
}

main().then(
  () => process.exit(0),
  (failure) => {
    console.error(failure?.stack ?? JSON.stringify(failure));
    process.exit(1);
  },
);

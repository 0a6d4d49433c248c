// An avatar job through npm @runware/sdk-js 1.3.x, run by tests/test_sdks.py under node.
//
//   node sdk_js_avatar.cjs <ws-url> <api-key> <portrait> <voice> <task-uuid> <sdk-dir>
//
// Uploads the portrait with imageUpload and the voice with mediaStorage, runs the avatar task
// (the SDK polls getResponse until the video exists), then a task with an unknown model.
// Prints one JSON line: {"event": "done", ...}. The SDK is loaded from <sdk-dir>, the folder
// the test installed it into, since this script lives outside it.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { createRequire } = require("node:module");

const MODEL = "klingai:avatar@2.0-standard";
const [url, apiKey, portrait, voice, taskUUID, sdkDir] = process.argv.slice(2);
const { Runware } = createRequire(path.join(sdkDir, "package.json"))("@runware/sdk-js");

async function main() {
  const runware = await Runware.initialize({ apiKey, url });
  const image = await runware.imageUpload({
    image: `data:image/jpeg;base64,${fs.readFileSync(portrait).toString("base64")}`,
  });
  const audio = await runware.mediaStorage({
    media: fs.readFileSync(voice).toString("base64"),
    operation: "upload",
  });
  const inputs = { image: image.imageUUID, audio: audio.mediaUUID };
  const videos = await runware.videoInference({
    model: MODEL, taskUUID, positivePrompt: "A calm talking head.", includeCost: true, inputs,
  });
  let invalidModel = { rejected: false };
  try {
    await runware.videoInference({ model: "nonexistent:999@999", inputs });
  } catch (rejection) {
    invalidModel = { rejected: true, error: rejection?.error ?? null, text: String(rejection) };
  }
  await runware.disconnect();
  console.log(JSON.stringify({ event: "done", uploads: { image, audio }, videos, invalid_model: invalidModel }));
}

main().then(
  () => process.exit(0),
  (failure) => {
    console.error(failure?.stack ?? failure);
    process.exit(1);
  },
);

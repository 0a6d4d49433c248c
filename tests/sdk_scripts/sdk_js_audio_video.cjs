// Audio and a PixVerse video through npm @runware/sdk-js 1.3.x, run by
// tests/test_sdk_audio_video.py under node.
//
//   node sdk_js_audio_video.cjs <ws-url> <api-key> <sdk-dir>
//
// Speaks a text with audioInference (sync, the SDK's default), makes a pixverse:1@5 video (the
// SDK polls getResponse every 2 s until it exists), submits one with skipResponse and polls it
// itself as the SDK's own video test does, then a video with an unknown model. Prints one
// JSON line: {"event": "done", ...}.
"use strict";

const path = require("node:path");
const { createRequire } = require("node:module");

const [url, apiKey, sdkDir] = process.argv.slice(2);
const { Runware } = createRequire(path.join(sdkDir, "package.json"))("@runware/sdk-js");
const VIDEO = {
  model: "pixverse:1@5", positivePrompt: "smooth camera pan across a mountain landscape",
  duration: 5, width: 360, height: 640, numberResults: 1, outputFormat: "MP4", includeCost: true,
};

async function main() {
  const runware = await Runware.initialize({ apiKey, url });
  const speech = await runware.audioInference({
    model: "inworld:tts@1.5-max", includeCost: true, outputFormat: "OGG",
    speech: { text: "Hello from the JavaScript SDK.", voice: "Dennis" },
  });
  const videos = await runware.videoInference({ ...VIDEO });
  const ack = await runware.videoInference({ ...VIDEO, skipResponse: true });
  let polled = [];
  for (let attempt = 0; attempt < 60 && !polled[0]?.videoURL; attempt += 1) {
    polled = await runware.getResponse({ taskUUID: ack.taskUUID });
    if (!polled[0]?.videoURL) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  let invalidModel = { rejected: false };
  try {
    await runware.videoInference({ ...VIDEO, model: "nonexistent:999@999", skipResponse: true });
  } catch (rejection) {
    invalidModel = { rejected: true, error: rejection?.error ?? null };
  }
  await runware.disconnect();
  console.log(JSON.stringify({ event: "done", speech, videos, ack, polled, invalid_model: invalidModel }));
}

main().then(
  () => process.exit(0),
  (failure) => {
    console.error(failure?.stack ?? failure);
    process.exit(1);
  },
);

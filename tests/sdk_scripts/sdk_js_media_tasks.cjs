// photoMaker and 3D through npm @runware/sdk-js 1.3.x, run by tests/test_sdk_media_tasks.py.
//
//   node sdk_js_media_tasks.cjs <ws-url> <api-key> <image-url> <sdk-dir>
//
// photoMaker with the fields of the README's "Photo Maker" entry and the docs' example model
// (the SDK adds a random seed); threeDInference sync, the SDK's default (async polls every
// 2 s; runware 0.5's test polls the same task type). Prints one JSON line:
// {"event": "done", ...}.
"use strict";

const path = require("node:path");
const { createRequire } = require("node:module");

const [url, apiKey, imageURL, sdkDir] = process.argv.slice(2);
const { Runware } = createRequire(path.join(sdkDir, "package.json"))("@runware/sdk-js");

async function main() {
  const runware = await Runware.initialize({ apiKey, url });
  const photoMaker = await runware.photoMaker({
    model: "civitai:139562@344487",
    positivePrompt: "img of a beautiful lady in a forest",
    height: 512,
    width: 512,
    numberResults: 2,
    steps: 35,
    inputImages: [imageURL],
    style: "No style",
    strength: 40,
    outputFormat: "WEBP",
    includeCost: true,
  });
  const sync3d = await runware.threeDInference({
    model: "microsoft:trellis-2@4b", inputs: { image: imageURL }, outputFormat: "glb",
  });
  await runware.disconnect();
  console.log(JSON.stringify({ event: "done", photoMaker, sync3d }));
}

main().then(
  () => process.exit(0),
  (failure) => {
    console.error(failure?.stack ?? failure);
    process.exit(1);
  },
);

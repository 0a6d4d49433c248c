// Images through npm @runware/sdk-js 1.3.x, run by tests/test_sdk_images.py under node.
//
//   node sdk_js_images.cjs <ws-url> <api-key> <image-url> <sdk-dir>
//
// The calls of sdk-js's own tests (tests/Runware/inference/image-generation.test.ts and
// upscale.test.ts): one image with includeCost, two requests in parallel, imageInference, an
// unknown model; then upscaleGan and upscale of <image-url> (the tests use a wikimedia PNG).
// Prints one JSON line: {"event": "done", ...}. The SDK is loaded from <sdk-dir>.
"use strict";

const path = require("node:path");
const { createRequire } = require("node:module");

const [url, apiKey, imageURL, sdkDir] = process.argv.slice(2);
const { Runware } = createRequire(path.join(sdkDir, "package.json"))("@runware/sdk-js");
const BASE = { model: "runware:100@1", numberResults: 1, width: 512, height: 512, steps: 4 };

async function main() {
  const runware = await Runware.initialize({ apiKey, url });
  const first = await runware.requestImages({
    ...BASE, positivePrompt: "a beautiful mountain landscape", includeCost: true,
  });
  const parallel = await Promise.all([
    runware.requestImages({ ...BASE, positivePrompt: "a red rose" }),
    runware.requestImages({ ...BASE, positivePrompt: "a blue sky" }),
  ]);
  const delegated = await runware.imageInference({ ...BASE, positivePrompt: "a forest path" });
  let invalidModel = { rejected: false };
  try {
    await runware.requestImages({ ...BASE, model: "nonexistent:999@999", positivePrompt: "x y z w" });
  } catch (rejection) {
    invalidModel = { rejected: true, error: rejection?.error ?? null, text: String(rejection) };
  }
  const upscaleGan = await runware.upscaleGan({ inputImage: imageURL, upscaleFactor: 2 });
  const upscale = await runware.upscale({ inputImage: imageURL, upscaleFactor: 2 });
  await runware.disconnect();
  console.log(JSON.stringify({
    event: "done", first, parallel, delegated, invalid_model: invalidModel, upscaleGan, upscale,
  }));
}

main().then(
  () => process.exit(0),
  (failure) => {
    console.error(failure?.stack ?? failure);
    process.exit(1);
  },
);

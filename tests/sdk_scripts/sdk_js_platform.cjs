// modelUpload and getTaskDetails through npm @runware/sdk-js 1.3.x, run by
// tests/test_platform_sdks.py: modelUpload with the README's checkpoint fields (TAddModelCheckPoint),
// its statuses seen through onUploadStream, then the upload looked up by getTaskDetails.
//
//   node sdk_js_platform.cjs <ws-url> <api-key> <sdk-dir>
//
// Prints one JSON line: {"event": "done", ...}.
"use strict";

const path = require("node:path");
const { createRequire } = require("node:module");

const [url, apiKey, sdkDir] = process.argv.slice(2);
const { Runware } = createRequire(path.join(sdkDir, "package.json"))("@runware/sdk-js");

async function main() {
  const runware = await Runware.initialize({ apiKey, url });
  const streamed = [];
  const ready = await runware.modelUpload({
    category: "checkpoint",
    air: "qatests:68487@08629",
    name: "yWO8IaKwez",
    downloadURL: "https://repo-controlnets-r2.runware.ai/controlnet-zoe-depth-sdxl-1.0.safetensors"
      + "/controlnet-zoe-depth-sdxl-1.0.safetensors.part-001-1",
    uniqueIdentifier: "aq2w3e4r5t6y7u8i9o0p1q2w3e4r5t6y7u8i9o0p1q2w3e4r5t6y7u8i9o0p1234",
    version: "1.0",
    format: "safetensors",
    architecture: "flux1d",
    type: "base",
    defaultStrength: 0.8,
    private: false,
    onUploadStream: (response, error) => streamed.push(response?.status ?? error?.code),
  });
  const details = await runware.getTaskDetails({ taskUUID: ready.taskUUID });
  await runware.disconnect();
  console.log(JSON.stringify({ event: "done", ready, streamed, details }));
}

main().then(
  () => process.exit(0),
  (failure) => {
    console.error(failure?.stack ?? JSON.stringify(failure));
    process.exit(1);
  },
);

// photoMaker, 3D, caption, getResponse and training through npm @runware/sdk-js 1.3.x, run by
// tests/test_sdk_media_tasks.py.
//
//   node sdk_js_media_tasks.cjs <ws-url> <api-key> <image-url> <sdk-dir>
//
// photoMaker with the fields of the README's "Photo Maker" entry and the docs' example model
// (the SDK adds a random seed); threeDInference sync, the SDK's default (async polls every
// 2 s; runware 0.5's test polls the same task type); the README's "Request Caption" (a video
// at https://example.com/video.mp4: video captions are async, runware-surface.md §2.8, so the
// example's call answers the acknowledgement, and getResponse fetches the caption); training
// with runware 0.5's README fields (sdk-js has no example; by default, skipResponse, it
// answers the acknowledgement, and getResponse fetches the result). Prints one JSON line:
// {"event": "done", ...}.
"use strict";

const path = require("node:path");
const { createRequire } = require("node:module");

const [url, apiKey, imageURL, sdkDir] = process.argv.slice(2);
const { Runware } = createRequire(path.join(sdkDir, "package.json"))("@runware/sdk-js");

// getResponse until the task's item is no longer processing.
async function untilDone(runware, taskUUID) {
  for (;;) {
    const items = await runware.getResponse({ taskUUID });
    if (items.some((item) => item.status !== "processing")) return items;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

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
  const caption = await runware.caption({
    "model": "memories:1@1",
    inputs: {
      video: "https://example.com/video.mp4"
    }
  });
  const captions = await untilDone(runware, caption.taskUUID);
  const trained = await runware.training({
    model: "runware:illustrative@training",
    importModel: {
      air: "qatests:illustrative-js@0", name: "Runware Illustrative Training Model",
      uniqueIdentifier: "runware_illustrative_model_js", version: "1.0", private: false,
    },
    inputs: { dataset: "https://example.com/pictures.zip" },
  });
  const trainings = await untilDone(runware, trained.taskUUID);
  await runware.disconnect();
  console.log(JSON.stringify({
    event: "done", photoMaker, sync3d, caption, captions, trained, trainings,
  }));
}

main().then(
  () => process.exit(0),
  (failure) => {
    console.error(failure?.stack ?? failure);
    process.exit(1);
  },
);

// The image tools through npm @runware/sdk-js 1.3.x, run by tests/test_sdk_image_tools.py.
//
//   node sdk_js_image_tools.cjs <ws-url> <api-key> <image-url> <sdk-dir>
//
// The readme's calls (removeBackground with its settings flat, controlNetPreprocess, which
// sends async and polls, and its legacy alias controlNetPreProcess, imageMasking, caption as
// "Request Image To Text" shows it and its legacy alias requestImageToText) and vectorize (its
// types: model and inputs.image), each on <image-url>. Prints one JSON line:
// {"event": "done", ...}.
"use strict";

const path = require("node:path");
const { createRequire } = require("node:module");

const [url, apiKey, imageURL, sdkDir] = process.argv.slice(2);
const { Runware } = createRequire(path.join(sdkDir, "package.json"))("@runware/sdk-js");

async function main() {
  const runware = await Runware.initialize({ apiKey, url });
  const removed = await runware.removeBackground({
    inputImage: imageURL, outputType: "URL", outputFormat: "PNG", rgba: [255, 255, 255, 0],
    postProcessMask: true, returnOnlyMask: false, alphaMatting: true,
    alphaMattingForegroundThreshold: 240, alphaMattingBackgroundThreshold: 10,
    alphaMattingErodeSize: 10, includeCost: true,
  });
  const legacy = await runware.removeImageBackground({ inputImage: imageURL });
  const guide = await runware.controlNetPreprocess({
    inputImage: imageURL, preProcessorType: "canny", height: 512, width: 512,
    outputType: "URL", outputFormat: "JPG", highThresholdCanny: 200, lowThresholdCanny: 100,
  });
  const legacyGuide = await runware.controlNetPreProcess({
    inputImage: imageURL, preProcessorType: "canny", height: 512, width: 512,
    outputType: "URL", outputFormat: "JPG", highThresholdCanny: 200, lowThresholdCanny: 100,
  });
  const caption = await runware.caption({ inputImage: imageURL });
  const imageToText = await runware.requestImageToText({ inputImage: imageURL });
  const masked = await runware.imageMasking({
    model: "runware:35@1", inputImage: imageURL, confidence: 0.25, maskPadding: 4, maskBlur: 4,
    outputFormat: "PNG", outputType: "URL", includeCost: true,
  });
  const vectorized = await runware.vectorize({
    model: "recraft:1@1", outputFormat: "svg", includeCost: true, inputs: { image: imageURL },
  });
  await runware.disconnect();
  console.log(JSON.stringify({
    event: "done", removed, legacy, guide, legacyGuide, caption, imageToText, masked, vectorized,
  }));
}

main().then(
  () => process.exit(0),
  (failure) => {
    console.error(failure?.stack ?? failure);
    process.exit(1);
  },
);

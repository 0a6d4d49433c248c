"""Images through PyPI ``runware`` 0.5.x, run by tests/test_sdk_images.py in its own venv.

``imageInference`` (sync, the SDK's default) for two images with every outputType at once, an
unknown model, then ``imageUpscale`` of a local file (the SDK uploads it with imageUpload
first, and sends taskType imageUpscale). Prints one JSON line: ``{"event": "done", ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from runware import IImageInference, IImageUpscale, Runware, RunwareAPIError


def public(value: Any) -> dict[str, Any]:
    return {key: item for key, item in vars(value).items() if item is not None}


async def main(args: argparse.Namespace) -> None:
    client = Runware(api_key=args.api_key, url=args.ws_url)
    await client.connect()
    images = await client.imageInference(requestImage=IImageInference(
        model="runware:100@1", positivePrompt="a cat", width=512, height=512, numberResults=2,
        seed=77, includeCost=True, outputType=["URL", "base64Data", "dataURI"],
        outputFormat="PNG"))
    try:
        await client.imageInference(requestImage=IImageInference(
            model="nonexistent:999@999", positivePrompt="a cat", width=512, height=512))
        invalid: dict[str, Any] = {"raised": None}
    except RunwareAPIError as exc:
        invalid = {"raised": type(exc).__name__, "code": exc.code, "error": exc.error_data}
    upscaled = await client.imageUpscale(upscaleGanPayload=IImageUpscale(
        inputImage=args.image, upscaleFactor=2, includeCost=True))
    await client.disconnect()
    print(json.dumps({"event": "done", "images": [public(image) for image in images],
                      "invalid": invalid, "upscaled": [public(image) for image in upscaled]}),
          flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--ws-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--image", required=True)
    asyncio.run(main(parser.parse_args()))

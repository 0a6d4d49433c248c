"""The image tools through PyPI ``runware`` 0.5.x, run by tests/test_sdk_image_tools.py in its
own venv: the SDK's own examples (examples/image_background_removal_with_settings.py,
image_background_removal_withModel.py, video/video_background_removal.py) unchanged but for the
URL and key (the video example's result waited for with ``getResponse``: its call answers the
acknowledgement), then ``imageVectorize`` and the README's "Image-to-Text Conversion"
(``imageCaption``) of a local file. Their inputs are public URLs, which the
emulator stands in for offline. Prints one JSON line: ``{"event": "done", ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from runware import (
    IAsyncTaskResponse,
    IBackgroundRemovalSettings,
    IImageBackgroundRemoval,
    IImageCaption,
    IInputs,
    IVectorize,
    IVideoBackgroundRemoval,
    IVideoBackgroundRemovalInputs,
    IVideoBackgroundRemovalSettings,
    Runware,
)


def public(value: Any) -> dict[str, Any]:
    return {key: item for key, item in vars(value).items() if item is not None}


async def main(args: argparse.Namespace) -> None:
    runware = Runware(api_key=args.api_key, url=args.ws_url)
    await runware.connect()
    # examples/image_background_removal_with_settings.py
    background_removal_settings = IBackgroundRemovalSettings(
        rgba=[255, 255, 255, 0],
        alphaMatting=True,
        postProcessMask=True,
        returnOnlyMask=False,
        alphaMattingErodeSize=10,
        alphaMattingForegroundThreshold=240,
        alphaMattingBackgroundThreshold=10
        )
    request_image = IImageBackgroundRemoval(
        taskUUID="abcdbb9c-3bd3-4d75-9234-bffeef994772",
        inputImage="https://raw.githubusercontent.com/adilentiq/test-images/refs/heads/main/common/headphones.jpeg",
        settings=background_removal_settings,
        outputType="URL",
        outputFormat="PNG",
        includeCost=True,
    )
    with_settings = await runware.imageBackgroundRemoval(
        removeImageBackgroundPayload=request_image)
    # examples/image_background_removal_withModel.py (its taskUUID is the other example's: a
    # fresh one here, as a second task may not reuse it)
    request_image = IImageBackgroundRemoval(
        model="runware:110@1",
        inputImage="https://raw.githubusercontent.com/adilentiq/test-images/refs/heads/main/common/headphones.jpeg"
    )
    with_model = await runware.imageBackgroundRemoval(removeImageBackgroundPayload=request_image)
    # examples/video/video_background_removal.py
    request = IVideoBackgroundRemoval(
        model="bria:51@1",
        inputs=IVideoBackgroundRemovalInputs(
            video="https://example.com/video.mp4"
        ),
        outputFormat="WEBM",
        includeCost=True,
        settings=IVideoBackgroundRemovalSettings(
            rgba=[255, 255, 255, 0]
        )
    )
    ack = await runware.videoBackgroundRemoval(requestVideoBackgroundRemoval=request)
    # Async (the SDK's default for videos) answers the acknowledgement, not a list as the
    # example iterates: the result is waited for with getResponse, as for videoInference.
    if not isinstance(ack, IAsyncTaskResponse):
        raise SystemExit(f"expected an acknowledgement, got {ack!r}")
    videos = await runware.getResponse(taskUUID=ack.taskUUID, numberResults=1)
    vectorized = await runware.imageVectorize(vectorizePayload=IVectorize(
        model="recraft:1@1", inputs=IInputs(image=args.image), includeCost=True))
    # README "Image-to-Text Conversion" (its image_path: the local file).
    image_path = args.image
    request_image_to_text_payload = IImageCaption(inputImage=image_path)

    image_to_text = await runware.imageCaption(
        requestImageToText=request_image_to_text_payload
    )
    await runware.disconnect()
    print(json.dumps({"event": "done", "caption": public(image_to_text),
                      "with_settings": [public(i) for i in with_settings],
                      "with_model": [public(i) for i in with_model],
                      "videos": [public(v) for v in videos],
                      "vectorized": [public(i) for i in vectorized]},
                     default=lambda enum: enum.value), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--ws-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--image", required=True)
    asyncio.run(main(parser.parse_args()))

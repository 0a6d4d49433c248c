"""photoMaker, videoCaption, videoUpscale and inference3d through PyPI ``runware`` 0.5.x, run by
tests/test_sdk_media_tasks.py in its own venv.

photoMaker and videoCaption are the README's own examples, unchanged but for the URL and key
(their public input URLs are served from a --url-map folder, or stood in for); videoUpscale
and inference3d, which the README does not show, as their request types
(``IVideoUpscale``, ``I3dInference``) are documented; then the README's training, its
placeholder dataset given as a URL. Prints one JSON line:
``{"event": "done", ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from typing import Any

from runware import (
    I3dInference,
    I3dInputs,
    IPhotoMaker,
    ITraining,
    ITrainingImportModel,
    ITrainingInputs,
    IVideoCaption,
    IVideoCaptionInputs,
    IVideoUpscale,
    IVideoUpscaleInputs,
    Runware,
)


def public(value: Any) -> Any:
    if isinstance(value, list):
        return [public(item) for item in value]
    if hasattr(value, "__dict__"):
        return {key: public(item) for key, item in vars(value).items() if item is not None}
    return value


async def main(args: argparse.Namespace) -> None:
    runware = Runware(api_key=args.api_key, url=args.ws_url)
    await runware.connect()

    # README "Photo Maker".
    request_image = IPhotoMaker(
        model="civitai:139562@344487",
        positivePrompt="img of a beautiful lady in a forest",
        steps=35,
        numberResults=1,
        height=512,
        width=512,
        style="No style",
        strength=40,
        outputFormat="WEBP",
        includeCost=True,
        taskUUID=str(uuid.uuid4()),
        inputImages=[
            "https://im.runware.ai/image/ws/0.5/ii/74723926-22f6-417c-befb-f2058fc88c13.webp",
            "https://im.runware.ai/image/ws/0.5/ii/64acee31-100d-4aa1-a47e-6f8b432e7188.webp",
            "https://im.runware.ai/image/ws/0.5/ii/1b39b0e0-6bf7-4c9a-8134-c0251b5ede01.webp",
            "https://im.runware.ai/image/ws/0.5/ii/f4b4cec3-66d9-4c02-97c5-506b8813182a.webp"
        ],
    )
    photos = await runware.photoMaker(requestPhotoMaker=request_image)

    # README "Video Caption".
    request_caption = IVideoCaption(
        model="memories:1@1",
        inputs=IVideoCaptionInputs(
            video="https://example.com/video.mp4"
        ),
        deliveryMethod="async",
        includeCost=True
    )
    caption_response = await runware.videoCaption(
        requestVideoCaption=request_caption
    )

    # Async (both types' default): acknowledged, then polled with getResponse as the README
    # polls a video.
    upscale_ack = await runware.videoUpscale(requestVideoUpscale=IVideoUpscale(
        model="bytedance:50@1", inputs=IVideoUpscaleInputs(video="https://example.com/video.mp4"),
        upscaleFactor=2, outputFormat="mp4", includeCost=True))
    upscaled = await runware.getResponse(taskUUID=upscale_ack.taskUUID)

    model_ack = await runware.inference3d(request3d=I3dInference(
        model="microsoft:trellis-2@4b", inputs=I3dInputs(image="https://example.com/photo.png"),
        outputFormat="GLB", includeCost=True))
    models = await runware.getResponse(taskUUID=model_ack.taskUUID)

    # README "Training (Async Only)"; its dataset "example/pictures.zip" is a placeholder,
    # not a URL: a served ZIP of pictures stands for it.
    request_training = ITraining(
        taskUUID=str(uuid.uuid4()),
        model="runware:illustrative@training",
        deliveryMethod="async",
        importModel=ITrainingImportModel(
            air="runware:illustrative@0",
            name="Runware Illustrative Training Model",
            uniqueIdentifier="runware_illustrative_model_1",
            version="1.0",
            private=False,
            heroImageURL="https://example.com/hero-image.png",
            shortDescription="First training model",
        ),
        inputs=ITrainingInputs(
            dataset="https://example.com/pictures.zip"
        ),
    )

    training_task = await runware.training(requestTraining=request_training)
    trained = await runware.getResponse(taskUUID=training_task.taskUUID)
    await runware.disconnect()
    print(json.dumps({"event": "done", "photos": public(photos),
                      "caption": public(caption_response), "upscaled": public(upscaled),
                      "models": public(models), "trained": public(trained)}), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--ws-url", required=True)
    parser.add_argument("--api-key", required=True)
    asyncio.run(main(parser.parse_args()))

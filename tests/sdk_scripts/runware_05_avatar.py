"""An avatar job through PyPI ``runware`` 0.5.x, run by tests/test_sdks.py in its own venv.

Uploads the portrait with ``uploadImage`` and the voice with ``uploadMedia``, submits the avatar
task (async delivery, the SDK's default), waits for it with ``getResponse``, then submits a task
with an unknown model. Prints JSON lines; the last one, ``{"event": "done", ...}``, has the
results. With ``--pause`` it prints ``{"event": "uploaded"}`` and waits for a line on stdin
before submitting, so the test can break the connection at a chosen moment.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from runware import (
    IAsyncTaskResponse,
    IVideoInference,
    IVideoInputs,
    Runware,
    RunwareAPIError,
)

MODEL = "klingai:avatar@2.0-standard"


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def public(value: Any) -> dict[str, Any]:
    return {key: item for key, item in vars(value).items() if item is not None}


async def main(args: argparse.Namespace) -> None:
    client = Runware(api_key=args.api_key, url=args.ws_url)
    await client.connect()
    image = await client.uploadImage(args.image)
    audio = await client.uploadMedia(args.audio)
    if args.pause:
        emit("uploaded")
        await asyncio.to_thread(sys.stdin.readline)
    inputs = IVideoInputs(image=image.imageUUID, audio=audio.mediaUUID)
    ack = await client.videoInference(requestVideo=IVideoInference(
        model=MODEL, taskUUID=args.task_uuid, positivePrompt="A calm talking head.",
        includeCost=True, inputs=inputs))
    if not isinstance(ack, IAsyncTaskResponse):
        raise SystemExit(f"expected an async ack, got {ack!r}")
    videos = await client.getResponse(taskUUID=ack.taskUUID, numberResults=1)
    try:
        await client.videoInference(requestVideo=IVideoInference(
            model="nonexistent:999@999", inputs=inputs))
        invalid: dict[str, Any] = {"raised": None}
    except RunwareAPIError as exc:
        invalid = {"raised": type(exc).__name__, "code": exc.code, "error": exc.error_data}
    await client.disconnect()
    emit("done", uploads={"image": public(image), "audio": public(audio)},
         videos=[public(video) for video in videos], invalid_model=invalid)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--ws-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--audio", required=True)
    parser.add_argument("--task-uuid", required=True)
    parser.add_argument("--pause", action="store_true")
    asyncio.run(main(parser.parse_args()))

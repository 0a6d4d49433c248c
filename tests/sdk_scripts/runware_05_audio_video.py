"""Audio and a PixVerse video through PyPI ``runware`` 0.5.x, run by
tests/test_sdk_audio_video.py in its own venv.

Speaks a text with ``audioInference`` (sync, the SDK's default), submits a ``pixverse:1@5``
video (async) and waits for it with ``getResponse``, then submits a video with a size PixVerse
does not make. Prints one JSON line: ``{"event": "done", ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from runware import (
    IAsyncTaskResponse,
    IAudioInference,
    IAudioSpeech,
    IVideoInference,
    Runware,
    RunwareAPIError,
)


def public(value: Any) -> dict[str, Any]:
    return {key: item for key, item in vars(value).items() if item is not None}


async def main(args: argparse.Namespace) -> None:
    client = Runware(api_key=args.api_key, url=args.ws_url)
    await client.connect()
    speech = await client.audioInference(requestAudio=IAudioInference(
        model="inworld:tts@1.5-max", includeCost=True, outputFormat="FLAC",
        speech=IAudioSpeech(text="Hello from runware zero point five.", voice="Dennis")))
    ack = await client.videoInference(requestVideo=IVideoInference(
        model="pixverse:1@5", positivePrompt="ocean waves crashing", duration=5, width=360,
        height=640, includeCost=True))
    if not isinstance(ack, IAsyncTaskResponse):
        raise SystemExit(f"expected an async ack, got {ack!r}")
    videos = await client.getResponse(taskUUID=ack.taskUUID, numberResults=1)
    try:
        await client.videoInference(requestVideo=IVideoInference(
            model="pixverse:1@5", positivePrompt="a fox", duration=5, width=720, height=360))
        invalid: dict[str, Any] = {"raised": None}
    except RunwareAPIError as exc:
        invalid = {"raised": type(exc).__name__, "code": exc.code, "error": exc.error_data}
    await client.disconnect()
    print(json.dumps({"event": "done", "speech": [public(item) for item in speech],
                      "videos": [public(video) for video in videos], "invalid": invalid}),
          flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--ws-url", required=True)
    parser.add_argument("--api-key", required=True)
    asyncio.run(main(parser.parse_args()))

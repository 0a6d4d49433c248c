"""promptEnhance, textInference (sync and stream) and modelSearch through PyPI ``runware``
0.5.x, run by tests/test_text_sdks.py in its own venv.

0.5 streams over HTTP to a URL it derives from the WebSocket URL through a table
(``runware.utils._WS_TO_HTTP``) that only knows the production and ``ws://localhost:8080``
URLs: the script adds the emulator's pair to it, which is configuration, not a change to the
SDK. ``--cut-model`` names a model the test armed a ``stream_cut`` fault for. Prints one JSON
line, ``{"event": "done", ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import runware.utils
from runware import (
    IModelSearch,
    IPromptEnhance,
    IText,
    ITextInference,
    ITextInferenceMessage,
    Runware,
    RunwareAPIError,
)

MODEL = "google:gemma@4-31b"


def public(value: Any) -> dict[str, Any]:
    return {key: item for key, item in vars(value).items() if item is not None}


def messages() -> list[ITextInferenceMessage]:
    return [ITextInferenceMessage(role="user", content="Reply with exactly: hello")]


async def stream_text(client: Runware, model: str) -> dict[str, Any]:
    deltas: list[str] = []
    final: dict[str, Any] | None = None
    try:
        chunks = await client.textInference(ITextInference(
            model=model, messages=messages(), deliveryMethod="stream", includeCost=True))
        async for chunk in chunks:
            if isinstance(chunk, IText):
                final = public(chunk)
                final["usage"] = public(chunk.usage) if chunk.usage else None
            else:
                deltas.append(chunk)
    except RunwareAPIError as exc:
        return {"deltas": deltas, "raised": type(exc).__name__, "code": exc.code,
                "message": str(exc)}
    return {"deltas": deltas, "final": final}


async def main(args: argparse.Namespace) -> None:
    runware.utils._WS_TO_HTTP[args.ws_url] = args.http_url
    client = Runware(api_key=args.api_key, url=args.ws_url)
    await client.connect()
    enhanced = await client.promptEnhance(IPromptEnhance(
        prompt="a cat on a chair", promptMaxLength=100, promptVersions=3, includeCost=True))
    texts = await client.textInference(ITextInference(model=MODEL, messages=messages(),
                                                      includeCost=True))
    streamed = await stream_text(client, MODEL)
    cut = await stream_text(client, args.cut_model)
    refused = await stream_text(client, "nonexistent:999@999")
    search = await client.modelSearch(IModelSearch(search="realistic", category="checkpoint",
                                                   limit=3))
    await client.disconnect()
    print(json.dumps(default=lambda enum: getattr(enum, "value", str(enum)), obj={
        "event": "done", "enhanced": [public(item) for item in enhanced],
        "texts": [{**public(item), "usage": public(item.usage)} for item in texts],
        "streamed": streamed, "cut": cut, "refused": refused,
        "search": {"totalResults": search.totalResults, "taskType": search.taskType,
                   "results": [public(model) for model in search.results]}}), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--ws-url", required=True)
    parser.add_argument("--http-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--cut-model", required=True)
    asyncio.run(main(parser.parse_args()))

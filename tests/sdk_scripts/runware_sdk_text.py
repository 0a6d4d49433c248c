"""promptEnhance, textInference (run and stream) and modelSearch through PyPI ``runware-sdk``
1.8.x, run by tests/test_text_sdks.py in its own venv. Only the URLs and the key are set.

``--cut-model`` names a model the test armed a ``stream_cut`` fault for: the script streams it
too and reports what the SDK raised. Prints one JSON line, ``{"event": "done", ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from runware import Runware, RunwareError
from sdk_flags import runware_sdk_parser

TEXT = {"taskType": "textInference", "model": "google:gemma@4-31b",
        "messages": [{"role": "user", "content": "Reply with exactly: hello"}]}


def raised(exc: RunwareError) -> dict[str, Any]:
    return {"raised": type(exc).__name__, "code": exc.code, "message": exc.message}


async def stream_text(client: Runware, params: dict[str, Any]) -> dict[str, Any]:
    stream = await client.stream(params)
    streamed: list[str] = []
    try:
        async for delta in stream.text_stream:
            streamed.append(delta)
        result = await stream.result()
    except RunwareError as exc:
        return {"deltas": streamed, **raised(exc)}
    return {"deltas": streamed, "text": result.text, "finish_reason": result.finish_reason,
            "usage": result.usage, "cost": result.cost, "task_uuid": result.task_uuid}


async def main(args: argparse.Namespace) -> None:
    client = Runware(api_key=args.api_key, transport=args.transport, ws_base_url=args.ws_url,
                     http_base_url=args.http_url)
    async with client:
        enhanced = await client.run({"taskType": "promptEnhance", "prompt": "a cat on a chair",
                                     "promptMaxLength": 120, "promptVersions": 1,
                                     "includeCost": True})
        texts = await client.run({**TEXT, "includeCost": True})
        streamed = await stream_text(client, {**TEXT, "includeCost": True})
        cut = await stream_text(client, {**TEXT, "model": args.cut_model})
        search = await client.model_search({"search": "realistic", "category": "checkpoint",
                                            "limit": 3})
        try:
            await client.run({**TEXT, "messages": []})
            invalid: dict[str, Any] = {"raised": None}
        except RunwareError as exc:
            invalid = raised(exc)
    print(json.dumps({"event": "done", "enhanced": [dict(item) for item in enhanced],
                      "texts": [dict(item) for item in texts], "streamed": streamed,
                      "cut": cut, "search": [dict(item) for item in search],
                      "invalid": invalid}), flush=True)


if __name__ == "__main__":
    parser = runware_sdk_parser()
    parser.add_argument("--cut-model", required=True)
    asyncio.run(main(parser.parse_args()))

"""promptEnhance, textInference (plain and streamed) and modelSearch through the official SDKs,
unchanged but for the URL and key (the environments of tests/test_sdks.py).

Each script also streams a model the test armed a ``stream_cut`` fault for (matched by task
type and model), and reports what the SDK made of the cut. @runware/sdk (the TypeScript SDK
with ``client.stream()``) is not on the npm registry reachable here: its behaviour is covered
by the same server answers runware-sdk reads.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from runware_mock.runner import ServerThread
from tests.sdks import API_KEY, SCRIPTS, run_to_end

CUT_MODEL = "openai:gpt@5-mini"
CUT_AFTER = 3
REQUIRED_MODEL_FIELDS = ("air", "name", "version", "category", "architecture", "tags",
                         "heroImage", "private", "comment")


def arm_stream_cut(server: ServerThread) -> None:
    rule = {"kind": "stream_cut", "taskType": "textInference", "model": CUT_MODEL,
            "after": CUT_AFTER, "code": "inferenceError"}
    reply = httpx.post(f"{server.base_url}/__admin/faults", json=rule, timeout=30)
    assert reply.status_code == 201, reply.text


def polled(server: ServerThread, task_uuid: str) -> dict[str, Any]:
    reply = httpx.post(server.url, json=[{"taskType": "getResponse", "taskUUID": task_uuid}],
                       headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30)
    return dict(reply.json()["data"][0])


def check_search(results: list[dict[str, Any]]) -> None:
    assert results
    for model in results:
        assert all(model.get(name) is not None for name in REQUIRED_MODEL_FIELDS), model
        assert model["category"] == "checkpoint"


@pytest.mark.parametrize("transport", ["websocket", "rest"])
def test_runware_sdk_enhances_answers_streams_and_searches(
        server: ServerThread, runware_sdk_python: Path, tmp_path: Path,
        transport: str) -> None:
    arm_stream_cut(server)
    done = run_to_end([str(runware_sdk_python), str(SCRIPTS / "runware_sdk_text.py"),
                       "--transport", transport, "--ws-url", server.ws_url,
                       "--http-url", server.url, "--api-key", API_KEY,
                       "--cut-model", CUT_MODEL], tmp_path)
    (enhanced,) = done["enhanced"]
    assert enhanced["taskType"] == "promptEnhance" and 0 < len(enhanced["text"]) <= 120
    assert enhanced["cost"] > 0 and "code" not in enhanced
    (text,) = done["texts"]
    assert (text["status"], text["finishReason"]) == ("success", "stop") and text["cost"] > 0

    streamed = done["streamed"]
    assert len(streamed["deltas"]) > 1
    assert streamed["text"] == "".join(streamed["deltas"])
    assert streamed["finish_reason"] == "stop" and streamed["cost"] > 0
    assert streamed["usage"]["completionTokens"] == len(streamed["deltas"])
    assert polled(server, streamed["task_uuid"])["text"] == streamed["text"]

    cut = done["cut"]
    assert len(cut["deltas"]) == CUT_AFTER
    assert (cut["raised"], cut["code"]) == ("RunwareError", "provider")  # inferenceError

    (search,) = done["search"]
    check_search(search["results"])
    assert done["invalid"]["code"] == "validation"


def test_runware_05_enhances_answers_streams_and_searches(
        server: ServerThread, runware_05_python: Path, tmp_path: Path) -> None:
    arm_stream_cut(server)
    done = run_to_end([str(runware_05_python), str(SCRIPTS / "runware_05_text.py"),
                       "--ws-url", server.ws_url, "--http-url", server.url,
                       "--api-key", API_KEY, "--cut-model", CUT_MODEL], tmp_path)
    enhanced = done["enhanced"]
    assert len(enhanced) == 3 and len({item["text"] for item in enhanced}) == 3
    assert all(len(item["text"]) <= 100 and item["cost"] > 0 for item in enhanced)
    (text,) = done["texts"]
    assert text["text"] and text["usage"]["totalTokens"] > 0

    streamed = done["streamed"]
    final = streamed["final"]
    assert final["text"] == "".join(streamed["deltas"]) and len(streamed["deltas"]) > 1
    assert final["finishReason"] == "stop" and final["cost"] > 0
    assert final["usage"]["completionTokens"] == len(streamed["deltas"])

    cut = done["cut"]
    assert len(cut["deltas"]) == CUT_AFTER
    assert (cut["raised"], cut["code"]) == ("RunwareAPIError", "inferenceError")

    # 0.5 reads a refused stream's body after closing it: it only knows the HTTP status.
    refused = done["refused"]
    assert (refused["raised"], refused["deltas"]) == ("RunwareAPIError", [])
    assert "HTTP 400" in refused["message"]

    search = done["search"]
    assert search["taskType"] == "modelSearch" and search["totalResults"] >= 3
    check_search(search["results"])


def test_sdk_js_enhances_answers_and_searches(server: ServerThread,
                                              sdk_js: tuple[str, Path],
                                              tmp_path: Path) -> None:
    node, folder = sdk_js
    done = run_to_end([node, str(SCRIPTS / "sdk_js_text.cjs"), server.ws_url, API_KEY,
                       str(folder)], tmp_path)
    (default,) = done["enhanced"]
    assert default["text"] and len(default["text"]) <= 380  # sdk-js's default length
    versions = done["versions"]
    assert len({item["text"] for item in versions}) == 3
    assert all(len(item["text"]) <= 200 for item in versions)
    (text,) = done["text"]
    assert text["text"] and text["cost"] > 0
    streamed = done["streamed"]  # sdk-js sends "stream" over WebSocket: answered like sync
    assert (streamed["status"], streamed["finishReason"]) == ("success", "stop")
    uuid.UUID(streamed["taskUUID"])
    check_search(done["search"]["results"])

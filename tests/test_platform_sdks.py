"""modelUpload, getTaskDetails and accountManagement (and runware-sdk's media_storage,
image_upload and get_response) through the official SDKs, each running its own documented
example unchanged but for the URL and key (the environments of
tests/test_sdks.py): runware 0.5.24 and @runware/sdk-js over WebSocket, runware-sdk 1.8 over
REST and WebSocket.

Every upload is held processing (a ``never_finish`` fault rule) until the test finishes it
with the admin API, once the SDK has its first answer: the statuses arrive as the stream the
SDKs wait through until ``ready``, whatever the machine's speed."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from runware_mock.runner import ServerThread
from runware_mock.settings import Settings
from tests.sdks import API_KEY, SCRIPT_TIMEOUT, SCRIPTS, ScriptRun

AIR = "qatests:68487@08629"  # the SDKs' own example's
STATUSES = ["validated", "downloaded", "optimized", "stored", "ready"]
T = TypeVar("T")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    settings = dataclasses.replace(Settings(), latency="instant",
                                   data_dir=tmp_path_factory.mktemp("platform-sdks"))
    with ServerThread(settings) as started:
        rule = {"kind": "never_finish", "taskType": "modelUpload"}
        assert httpx.post(f"{started.base_url}/__admin/faults", json=rule).status_code == 201
        yield started


def until(found: Callable[[], T | None]) -> T:
    """The admin API's answer once it shows what ``found`` looks for (an event of the
    server's, polled)."""
    deadline = time.monotonic() + SCRIPT_TIMEOUT
    while (value := found()) is None:
        assert time.monotonic() < deadline, "the server never showed it"
        time.sleep(0.02)
    return value


def finish_the_upload(server: ServerThread, answered: bool) -> None:
    """Finish the upload the SDK sent once it is processing and, ``answered``, once its
    WebSocket answer is written (the journal has it: its session now watches it)."""
    admin = f"{server.base_url}/__admin"

    def processing() -> str | None:
        tasks = httpx.get(f"{admin}/tasks", params={"state": "processing"}).json()["tasks"]
        return next((task["taskUUID"] for task in tasks if task["taskType"] == "modelUpload"),
                    None)

    task_uuid = until(processing)
    if answered:
        until(lambda: httpx.get(f"{admin}/journal",
                                params={"taskUUID": task_uuid}).json()["count"] or None)
    assert httpx.post(f"{admin}/tasks/{task_uuid}/complete").status_code == 200


def run_finishing_the_upload(command: list[str], server: ServerThread, tmp_path: Path,
                             answered: bool = True) -> dict[str, Any]:
    with ScriptRun(command, tmp_path / "sdk-stderr.txt") as run:
        finish_the_upload(server, answered)
        return run.result()


def test_runware_05_uploads_a_model_and_reads_the_task_back(
        server: ServerThread, runware_05_python: Path, tmp_path: Path) -> None:
    done: dict[str, Any] = run_finishing_the_upload(
        [str(runware_05_python), str(SCRIPTS / "runware_05_platform.py"),
         "--ws-url", server.ws_url, "--api-key", API_KEY], server, tmp_path)
    statuses = [item["status"] for item in done["uploaded"]]
    assert statuses == STATUSES
    assert {item["air"] for item in done["uploaded"]} == {AIR}
    details = done["details"]
    (request,) = details["request"]
    assert (request["taskType"], request["air"], request["name"]) == \
        ("modelUpload", AIR, "yWO8IaKwez")
    assert [item["status"] for item in details["response"]] == ["ready"]


@pytest.mark.parametrize("transport", ["rest", "websocket"])
def test_runware_sdk_uploads_reads_back_and_reports_the_account(
        server: ServerThread, runware_sdk_python: Path, tmp_path: Path,
        transport: str) -> None:
    # Over REST the answer waits for the upload (no journal entry before it).
    done: dict[str, Any] = run_finishing_the_upload(
        [str(runware_sdk_python), str(SCRIPTS / "runware_sdk_platform.py"),
         "--transport", transport, "--ws-url", server.ws_url, "--http-url", server.url,
         "--api-key", API_KEY], server, tmp_path, answered=transport == "websocket")
    statuses = [item["status"] for item in done["uploaded"]]
    # Over WebSocket runware-sdk takes the first item that answers a utility task as its
    # whole answer (client.py: _utility, expected_count=1).
    assert statuses == (STATUSES if transport == "rest" else ["validated"])
    (archived,) = done["archived"]
    assert archived["request"][0]["architecture"] == "sdxl"
    assert archived["taskUUID"] == done["uploaded"][0]["taskUUID"]
    (account,) = done["account"]
    assert account["operation"] == "getDetails" and account["AIRSource"] == "qatests"
    assert set(account["usage"]) == {"total", "today", "last7Days", "last30Days"}
    (stored,) = done["stored"]
    (deleted,) = done["deleted"]
    assert (deleted["operation"], deleted["mediaUUID"]) == ("delete", stored["mediaUUID"])
    (image,) = done["image"]
    assert image["taskType"] == "imageUpload" and image["imageUUID"]
    assert done["uploaded"][0]["taskUUID"] in [item["taskUUID"] for item in done["result"]]


def test_sdk_js_uploads_a_model_and_reads_the_task_back(
        server: ServerThread, sdk_js: tuple[str, Path], tmp_path: Path) -> None:
    node, folder = sdk_js
    done: dict[str, Any] = run_finishing_the_upload(
        [node, str(SCRIPTS / "sdk_js_platform.cjs"), server.ws_url, API_KEY, str(folder)],
        server, tmp_path)
    assert (done["ready"]["status"], done["ready"]["air"]) == ("ready", AIR)
    assert done["streamed"] == ["validated", "ready"]  # the first item of each frame
    details = done["details"]
    (details,) = details if isinstance(details, list) else [details]
    assert details["taskUUID"] == done["ready"]["taskUUID"]
    assert details["request"][0]["air"] == AIR

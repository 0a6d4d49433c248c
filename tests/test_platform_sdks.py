"""modelUpload, getTaskDetails and accountManagement through the official SDKs, each running
its own documented example unchanged but for the URL and key (the environments of
tests/test_sdks.py): runware 0.5.24 and @runware/sdk-js over WebSocket, runware-sdk 1.8 over
REST and WebSocket. The latency is the default profile's (about a second, here scaled to a
fifth), so the upload's statuses arrive as a stream the SDKs wait through until ``ready``."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from runware_mock.runner import ServerThread
from runware_mock.settings import Settings
from tests.sdks import API_KEY, SCRIPTS, run_to_end

AIR = "qatests:68487@08629"  # the SDKs' own example's


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    settings = dataclasses.replace(Settings(), latency="fast", time_scale=0.2,
                                   data_dir=tmp_path_factory.mktemp("platform-sdks"))
    with ServerThread(settings) as started:
        yield started


def test_runware_05_uploads_a_model_and_reads_the_task_back(
        server: ServerThread, runware_05_python: Path, tmp_path: Path) -> None:
    done = run_to_end([str(runware_05_python), str(SCRIPTS / "runware_05_platform.py"),
                       "--ws-url", server.ws_url, "--api-key", API_KEY], tmp_path)
    statuses = [item["status"] for item in done["uploaded"]]
    assert statuses == ["validated", "downloaded", "optimized", "stored", "ready"]
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
    done = run_to_end([str(runware_sdk_python), str(SCRIPTS / "runware_sdk_platform.py"),
                       "--transport", transport, "--ws-url", server.ws_url,
                       "--http-url", server.url, "--api-key", API_KEY], tmp_path)
    statuses = [item["status"] for item in done["uploaded"]]
    # Over WebSocket runware-sdk takes the first item that answers a utility task as its
    # whole answer (client.py: _utility, expected_count=1).
    assert statuses == (["validated", "downloaded", "optimized", "stored", "ready"]
                        if transport == "rest" else ["validated"])
    (archived,) = done["archived"]
    assert archived["request"][0]["architecture"] == "sdxl"
    assert archived["taskUUID"] == done["uploaded"][0]["taskUUID"]
    (account,) = done["account"]
    assert account["operation"] == "getDetails" and account["AIRSource"] == "qatests"
    assert set(account["usage"]) == {"total", "today", "last7Days", "last30Days"}


def test_sdk_js_uploads_a_model_and_reads_the_task_back(
        server: ServerThread, sdk_js: tuple[str, Path], tmp_path: Path) -> None:
    node, folder = sdk_js
    done = run_to_end([node, str(SCRIPTS / "sdk_js_platform.cjs"), server.ws_url, API_KEY,
                       str(folder)], tmp_path)
    assert (done["ready"]["status"], done["ready"]["air"]) == ("ready", AIR)
    assert done["streamed"] == ["validated", "ready"]  # the first item of each frame
    details = done["details"]
    (details,) = details if isinstance(details, list) else [details]
    assert details["taskUUID"] == done["ready"]["taskUUID"]
    assert details["request"][0]["air"] == AIR

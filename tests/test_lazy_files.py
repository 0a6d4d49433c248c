"""When files are made (issue 17): with ``--renders lazy`` a result is reported at its due time
and its file made at the first GET or HEAD of its URL; the file is byte for byte the one
``--renders eager`` makes before reporting. Bytes a client needs at once (base64, an
``uploadEndpoint``) are made at once; the on-demand queue is bounded; SIGTERM with renders
queued and running stops the server within its bound."""

from __future__ import annotations

import base64
import contextlib
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from runware_mock.admin.client import AdminClient
from runware_mock.contract.receivers import Receiver
from runware_mock.fixtures import seed_examples
from runware_mock.runner import ServerThread, free_port
from tests.conftest import ServerFactory
from tests.helpers import RestClient, avatar_task
from tests.raw_wire import wait_until
from tests.task_bodies import image_task, speech_task, upscale_task, video_task

URL_FIELDS = ("videoURL", "imageURL", "audioURL")
UUID_FIELDS = ("videoUUID", "imageUUID", "audioUUID")
# The documented bound of a shutdown (docs/api.md): --shutdown-timeout, then this long at
# most to cancel renders and close.
SHUTDOWN_CLEANUP = 2.0

CASES: dict[str, Callable[[], dict[str, Any]]] = {
    **{f"avatar {fmt}": (lambda fmt=fmt: avatar_task(outputFormat=fmt))
       for fmt in ("MP4", "MOV", "WEBM")},
    "generated video MP4": lambda: video_task(outputFormat="MP4"),
    **{f"image {fmt}": (lambda fmt=fmt: image_task(outputFormat=fmt))
       for fmt in ("JPG", "PNG", "WEBP")},
    "upscale PNG": lambda: upscale_task(outputFormat="PNG"),
    **{f"audio {fmt}": (lambda fmt=fmt: speech_task(outputFormat=fmt))
       for fmt in ("MP3", "WAV", "FLAC", "OGG")},
}


def result_of(server: ServerThread, task: dict[str, Any]) -> dict[str, Any]:
    """The task's one result, whether it is answered at once (sync) or polled."""
    client = RestClient(server.url)
    body = client.post([dict(task)]).json()
    assert "errors" not in body, body
    if not any(name in body["data"][0] for name in URL_FIELDS):
        body = client.wait(task["taskUUID"])
    (item,) = body["data"]
    assert item["status"] == "success" if "status" in item else True, item
    return dict(item)


def renders(server: ServerThread) -> dict[str, int]:
    return dict(AdminClient(server.base_url).health()["renders"])


def url_of(item: dict[str, Any]) -> str:
    return next(item[name] for name in URL_FIELDS if name in item)


@pytest.mark.parametrize("case", list(CASES))
def test_a_file_made_at_its_first_download_is_the_one_made_before_the_result(
        server_factory: ServerFactory, case: str) -> None:
    eager = server_factory(renders="eager", seed=7)
    lazy = server_factory(renders="lazy", seed=7)
    task = CASES[case]()

    made_first, made_later = result_of(eager, task), result_of(lazy, task)

    assert renders(eager)["pendingFiles"] == 0
    assert renders(lazy)["pendingFiles"] == 1, "nothing made before the download"
    # The same result (the media UUID is a function of the seed, task and index), only the
    # server's address differs.
    assert made_later == {name: value.replace(eager.base_url, lazy.base_url)
                          if isinstance(value, str) else value
                          for name, value in made_first.items()}
    media_uuid = next(made_later[name] for name in UUID_FIELDS if name in made_later)
    assert uuid.UUID(media_uuid).version == 4
    downloaded = httpx.get(url_of(made_later), timeout=60)
    assert downloaded.status_code == 200, downloaded.text
    assert downloaded.content == httpx.get(url_of(made_first), timeout=60).content
    assert renders(lazy)["pendingFiles"] == 0 and renders(lazy)["made"] == 1


def test_head_makes_the_file_and_concurrent_downloads_share_one_render(
        server: ServerThread) -> None:
    item = result_of(server, avatar_task())
    answers: list[httpx.Response] = []
    fetchers = [threading.Thread(target=lambda: answers.append(
        httpx.get(item["videoURL"], timeout=60))) for _ in range(4)]
    head = httpx.head(item["videoURL"], timeout=60)
    for fetcher in fetchers:
        fetcher.start()
    for fetcher in fetchers:
        fetcher.join()

    assert head.status_code == 200 and head.headers["content-type"] == "video/mp4"
    assert {answer.status_code for answer in answers} == {200}
    assert {answer.content for answer in answers} == {answers[0].content}
    assert int(head.headers["content-length"]) == len(answers[0].content)
    assert renders(server)["made"] == 1


def test_the_same_task_and_seed_name_the_same_file_another_seed_another(
        server_factory: ServerFactory) -> None:
    task = avatar_task()
    first = result_of(server_factory(seed=3), task)
    again = result_of(server_factory(seed=3), task)
    other = result_of(server_factory(seed=4), task)
    assert first["videoUUID"] == again["videoUUID"] != other["videoUUID"]


def test_a_download_past_the_backlog_or_the_wait_gets_a_clear_503(
        server_factory: ServerFactory) -> None:
    # Every frame encoded (--animate): each render lasts long enough for both downloads to
    # reach the server while the first is still being made.
    server = server_factory(render_backlog=1, render_wait=0.01, render_workers=1, animate=True)
    first, second = (result_of(server, avatar_task()) for _ in range(2))

    waited = httpx.get(first["videoURL"], timeout=60)
    refused = httpx.get(second["videoURL"], timeout=60)

    for answer, code in ((waited, "renderTimeout"), (refused, "renderBacklogFull")):
        assert answer.status_code == 503, answer.text
        assert int(answer.headers["retry-after"]) >= 1
        (problem,) = answer.json()["errors"]
        assert problem["code"] == code and problem["message"]
    assert renders(server)["refused"] == 1
    # The render given up on goes on; once made, its file is served, and the backlog frees.
    assert wait_until(lambda: renders(server)["made"] == 1), renders(server)
    assert httpx.get(first["videoURL"], timeout=60).status_code == 200
    assert renders(server)["queued"] + renders(server)["running"] == 0


def test_bytes_the_client_needs_now_are_made_now(server_factory: ServerFactory) -> None:
    server = server_factory()
    image = result_of(server, image_task(outputType=["URL", "base64Data"]))
    assert renders(server)["pendingFiles"] == 0
    assert base64.b64decode(image["imageBase64Data"]) == httpx.get(image["imageURL"]).content

    with Receiver() as sink:
        task = avatar_task(uploadEndpoint=f"{sink.base_url}/bucket/out.mp4")
        video = result_of(server, task)
        assert renders(server)["pendingFiles"] == 0
        sink.wait_for(1)
    assert sink.requests[0].body == httpx.get(video["videoURL"]).content


def test_an_output_not_yet_made_works_as_a_later_task_input(server: ServerThread) -> None:
    voice = result_of(server, speech_task(outputFormat="MP3"))
    assert renders(server)["pendingFiles"] == 1
    video = result_of(server, avatar_task(inputs={
        "image": avatar_task()["inputs"]["image"], "audio": voice["audioUUID"]}))
    assert httpx.get(video["videoURL"], timeout=60).status_code == 200


def test_sigterm_with_renders_queued_and_running_stops_within_the_bound(tmp_path: Path) -> None:
    port, shutdown = free_port(), 1.0
    base_url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "runware_mock", "serve", "--port", str(port), "--data-dir",
         str(tmp_path / "data"), "--latency", "instant", "--render-workers", "1",
         "--shutdown-timeout", str(shutdown), "--log-level", "warning"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        assert wait_until(lambda: _serving(base_url), timeout=60), "the server did not start"
        client = RestClient(f"{base_url}/v1")
        tasks = [dict(example["request"], taskUUID=str(uuid.uuid4()), outputFormat="WEBM")
                 for example in seed_examples() for _ in range(25)]
        assert client.post(tasks).status_code == 200
        urls = [client.wait(task["taskUUID"])["data"][0]["videoURL"] for task in tasks]
        for url in urls[:20]:
            threading.Thread(target=_download_cut_short, args=(url,), daemon=True).start()
        assert wait_until(lambda: _backlog(base_url) == (1, True)), _backlog(base_url)

        server.send_signal(signal.SIGTERM)
        server.wait(timeout=shutdown + SHUTDOWN_CLEANUP)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()


def _serving(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/__admin/health").status_code == 200
    except httpx.TransportError:
        return False


def _backlog(base_url: str) -> tuple[int, bool]:
    """(renders running, whether others are queued)."""
    counts = httpx.get(f"{base_url}/__admin/health").json()["renders"]
    return counts["running"], counts["queued"] > 0


def _download_cut_short(url: str) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the server stopped: the download is cut
        httpx.get(url, timeout=120)

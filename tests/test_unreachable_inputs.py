"""Issue 24, item 5: an input URL whose host cannot be reached gets a generated stand-in of the
kind its field expects (``--unreachable-inputs stand-in``, the default), marked on the task (admin
API) and on its dashboard page; ``--unreachable-inputs error`` keeps the strict answer; a
malformed URL or a host answering 4xx fails as before. Real servers over sockets; the hosts are
in the reserved ``.invalid`` domain, which the emulator never looks up (RFC 6761), or a closed
port on 127.0.0.1: no traffic leaves the machine."""

from __future__ import annotations

import asyncio
import io
import socket
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from runware_mock.admin.client import AdminClient
from runware_mock.media.file_store import MediaStore
from runware_mock.media.inputs import InputResolver, Unreachable
from runware_mock.media.outbound import Resolver
from runware_mock.media.targets import TargetNotReached, TargetPolicy, TargetRefused
from runware_mock.runner import ServerThread
from tests.conftest import ServerFactory
from tests.helpers import RestClient, avatar_task, decode, decode_audio
from tests.sdks import API_KEY, SCRIPTS, WIKIMEDIA_IMAGE, run_to_end
from tests.server_process import ServerProcess, wait_done
from tests.task_bodies import upscale_task

PORTRAIT_URL = "https://images.example.invalid/portrait.jpg"
VOICE_URL = "https://audio.example.invalid/voice.mp3"
MB = 1024 * 1024


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def download(url: str) -> bytes:
    reply = httpx.get(url, timeout=60)
    assert reply.status_code == 200, url
    return reply.content


def uploaded(server: ServerThread, media: str) -> bytes:
    """The bytes the emulator keeps for ``media`` uploaded with mediaStorage."""
    task = {"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()), "operation": "upload",
            "media": media}
    (item,) = RestClient(server.url).post([task]).json()["data"]
    return download(item["mediaURL"])


def errors_of(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(problem["code"], problem["parameter"]) for problem in body.get("errors", [])]


def test_an_unresolvable_image_url_gets_a_stand_in_marked_on_the_task_and_its_page(
        server: ServerThread) -> None:
    task = upscale_task(inputImage=PORTRAIT_URL, upscaleFactor=2)
    (item,) = RestClient(server.url).post([task]).json()["data"]
    upscaled = Image.open(io.BytesIO(download(item["imageURL"])))
    upscaled.load()
    # An image, within the avatar's limits (each side at least 300 px), upscaled 2x.
    assert upscaled.width >= 600 and upscaled.height >= 600
    with AdminClient(server.base_url) as admin:
        (stand_in,) = admin.task(task["taskUUID"])["standIns"]
        entries = admin.journal(task_uuid=task["taskUUID"])
    assert (stand_in["parameter"], stand_in["url"], stand_in["kind"]) == (
        "inputImage", PORTRAIT_URL, "image")
    assert "invalid" in stand_in["reason"]
    # The submit's journal entry lists it too.
    (submit,) = [entry for entry in entries if entry["request"][0]["taskType"] == "upscale"]
    assert submit["standIns"] == [{"taskUUID": task["taskUUID"], **stand_in}]
    page = httpx.get(f"{server.base_url}/__admin/ui/tasks/{task['taskUUID']}").text
    assert 'data-stand-in="inputImage"' in page and PORTRAIT_URL in page


def test_an_avatar_with_both_inputs_unreachable_renders_from_stand_ins_within_its_limits(
        server: ServerThread, tmp_path: Path) -> None:
    port = closed_port()
    image_url = f"http://127.0.0.1:{port}/portrait.jpg"
    # No file extension: the field alone says which kind to make.
    voice_url = "https://tts.example.invalid/speak?voice=Dennis"
    task = avatar_task(inputs={"image": image_url, "audio": voice_url})
    body = RestClient(server.url).run(task, timeout=120)
    (item,) = body["data"]
    video = tmp_path / "avatar.mp4"
    video.write_bytes(download(item["videoURL"]))
    decoded = decode(video)
    # The seed page: the video's length follows the audio, 2 to 300 seconds.
    assert decoded["errors"] == 0 and decoded["video_codec"] and decoded["audio_codec"]
    assert 2 <= decoded["audio_seconds"] <= 300
    with AdminClient(server.base_url) as admin:
        stand_ins = admin.task(task["taskUUID"])["standIns"]
    assert [(s["parameter"], s["url"], s["kind"]) for s in stand_ins] == [
        ("inputs.image", image_url, "image"), ("inputs.audio", voice_url, "audio")]


def test_stand_ins_fit_the_avatar_limits_and_are_a_function_of_url_and_seed(
        server_factory: ServerFactory, tmp_path: Path) -> None:
    first, again, reseeded = (server_factory(seed=5), server_factory(seed=5),
                              server_factory(seed=6))
    picture = uploaded(first, PORTRAIT_URL)
    # Seed page limits for klingai:avatar@2.0: at most 10 MB, each side 300 px or more, aspect
    # ratio between 1:2.5 and 2.5:1; audio at most 5 MB, 2 to 300 seconds.
    image = Image.open(io.BytesIO(picture))
    assert image.format in ("JPEG", "PNG") and len(picture) <= 10 * MB
    assert min(image.size) >= 300 and 1 / 2.5 <= image.width / image.height <= 2.5
    sound = uploaded(first, VOICE_URL)
    track = tmp_path / "voice.mp3"
    track.write_bytes(sound)
    measured = decode_audio(track)
    assert measured["errors"] == 0 and len(sound) <= 5 * MB
    assert 2 <= measured["seconds"] <= 300
    # The same URL and seed: the same bytes, on another server too; else different ones.
    assert uploaded(again, PORTRAIT_URL) == picture and uploaded(again, VOICE_URL) == sound
    assert uploaded(reseeded, PORTRAIT_URL) != picture
    assert uploaded(first, PORTRAIT_URL.replace("portrait", "other")) != picture


def test_a_video_field_gets_a_video_stand_in(server: ServerThread, tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(uploaded(server, "https://videos.example.invalid/clip.mp4"))
    decoded = decode(video)
    assert decoded["errors"] == 0 and decoded["video_codec"] and decoded["frames"] > 0


def test_with_unreachable_inputs_error_the_task_fails_as_before(
        server_factory: ServerFactory) -> None:
    client = RestClient(server_factory(unreachable_inputs="error").url)
    body = client.post([upscale_task(inputImage=PORTRAIT_URL)]).json()
    assert errors_of(body) == [("invalidValueUploadFailed", "inputImage")]
    assert "could not fetch" in body["errors"][0]["message"]
    refused = avatar_task(inputs={"image": f"http://127.0.0.1:{closed_port()}/p.jpg",
                                  "audio": avatar_task()["inputs"]["audio"]})
    (problem,) = client.run(refused)["errors"]
    assert (problem["code"], problem["parameter"]) == ("invalidValueUploadFailed",
                                                        "inputs.image")


def test_a_host_answering_4xx_and_a_malformed_url_still_fail(client: RestClient,
                                                             file_server: str) -> None:
    missing = client.post([upscale_task(inputImage=f"{file_server}/missing.jpg")]).json()
    assert errors_of(missing) == [("invalidValueUploadFailed", "inputImage")]
    assert "HTTP 404" in missing["errors"][0]["message"]
    # Malformed, whatever part: httpx's parse, a port out of range, a host that is no name.
    for url in ("https://[::1/portrait.jpg", "https://images.example.invalid:99999/p.jpg",
                "https://images example.invalid/p.jpg", "https://-images.example.invalid/p.jpg"):
        malformed = client.post([upscale_task(inputImage=url)]).json()
        assert errors_of(malformed) == [("invalidValueUploadFailed", "inputImage")], url
        assert "not a valid URL" in malformed["errors"][0]["message"]


# --- underneath: what counts as unreachable ---------------------------------------------------

def test_the_policy_calls_only_addresses_it_does_not_reach_unreachable() -> None:
    public_bind = TargetPolicy(bound_to="0.0.0.0", allow_private=False)
    for addresses in (["10.1.2.3", "169.254.169.254"], []):
        with pytest.raises(TargetNotReached):
            public_bind.check(addresses, 80)
    # This emulator's private port is refused, not unreachable: that stays an error.
    public_bind.private_ports.add(4321)
    with pytest.raises(TargetRefused) as refused:
        public_bind.check(["127.0.0.1"], 4321)
    assert not isinstance(refused.value, TargetNotReached)


async def _never(pending: Any) -> Path:
    raise AssertionError("no pending output here")


def test_an_invalid_host_is_never_looked_up_and_a_refused_address_never_connected(
        tmp_path: Path) -> None:
    looked_up: list[str] = []

    def lookup(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return ["10.9.8.7"]

    async def unreachable(url: str) -> Unreachable:
        store = MediaStore(tmp_path, "http://203.0.113.5:8787", None)  # type: ignore[arg-type]
        resolver = InputResolver(
            store, url_map=(), fetch_timeout=5, fetch_max_bytes=MB,
            find_upload=lambda uuid: None, make_pending=_never, lookups=Resolver(1, lookup),
            targets=TargetPolicy(bound_to="0.0.0.0", allow_private=False))
        with pytest.raises(Unreachable) as caught:
            await resolver.resolve(url)
        return caught.value

    invalid = asyncio.run(unreachable(PORTRAIT_URL))
    assert invalid.url == PORTRAIT_URL and looked_up == []
    private = asyncio.run(unreachable("https://intranet.example.com/p.jpg"))
    assert looked_up == ["intranet.example.com"] and "not public" in private.reason


# --- an official SDK's own test, unchanged ------------------------------------------------------

def test_sdk_js_upscales_its_tests_public_wikimedia_png_offline(
        server: ServerThread, sdk_js: tuple[str, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """@runware/sdk-js's upscale test sends a wikimedia PNG (tests/sdk_scripts/sdk_js_images.cjs),
    here without a --url-map. The machine is made offline as CI is: every lookup fails as the
    system resolver's does without a network (so no query leaves), and the upscales succeed on
    a stand-in, each marked on its task."""
    looked_up: list[str] = []

    def offline(host: str, port: int) -> list[str]:
        looked_up.append(host)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(server.services.media.lookups, "_lookup", offline)
    node, sdk_folder = sdk_js
    done = run_to_end([node, str(SCRIPTS / "sdk_js_images.cjs"), server.ws_url, API_KEY,
                       WIKIMEDIA_IMAGE, str(sdk_folder)], tmp_path)
    assert set(looked_up) == {"upload.wikimedia.org"}
    with AdminClient(server.base_url) as admin:
        for result in (done["upscaleGan"], done["upscale"]):
            assert result["taskType"] == "upscale"
            upscaled = Image.open(io.BytesIO(download(result["imageURL"])))
            assert upscaled.width >= 600 and upscaled.height >= 600
            (stand_in,) = admin.task(result["taskUUID"])["standIns"]
            assert (stand_in["parameter"], stand_in["url"], stand_in["kind"]) == (
                "inputImage", WIKIMEDIA_IMAGE, "image")


def test_the_record_of_a_stand_in_outlives_a_restart(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", "--latency", "instant",
                           "--unreachable-inputs", "stand-in").start()
    try:
        task = upscale_task(inputImage=PORTRAIT_URL, deliveryMethod="async")
        assert server.post([task]).status_code == 200
        (item,) = wait_done(server, task["taskUUID"])["data"]
        before = server.admin("GET", f"/tasks/{task['taskUUID']}").json()["standIns"]
        assert [s["url"] for s in before] == [PORTRAIT_URL]
        server.restart()
        after = server.admin("GET", f"/tasks/{task['taskUUID']}").json()
        assert after["standIns"] == before
        assert after["results"][0]["imageURL"] == item["imageURL"]
    finally:
        server.close()

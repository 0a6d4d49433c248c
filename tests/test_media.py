"""Issue 3: every input form, every published input limit at its edge, every output format,
and serving (HEAD, byte ranges, ttl expiry), over real HTTP."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runware_mock.admin.client import AdminClient
from runware_mock.fixtures import media_path, seed_examples
from runware_mock.runner import ServerThread
from runware_mock.settings import Settings
from tests.helpers import (
    PORTRAIT,
    VOICE,
    RestClient,
    avatar_task,
    data_uri,
    decode,
    ffmpeg,
    raw_base64,
)
from tests.media_factory import audio_file, bomb_png, image_bytes, padded

MB = 1024 * 1024


@pytest.fixture(scope="module")
def media_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    data = tmp_path_factory.mktemp("media-data")
    settings = Settings(latency="instant", data_dir=data, fetch_max_bytes=12 * MB)
    with ServerThread(settings) as server:
        yield server


@pytest.fixture(scope="module")
def rest(media_server: ServerThread) -> RestClient:
    return RestClient(media_server.url)


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audio")


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def run_inputs(rest: RestClient, image: str | None = None, audio: str | None = None,
               **task: Any) -> dict[str, Any]:
    defaults = avatar_task()["inputs"]
    inputs = {"image": image or defaults["image"], "audio": audio or defaults["audio"]}
    return rest.run(avatar_task(inputs=inputs, **task), timeout=120)


def rejected(body: dict[str, Any], code: str, parameter: str, *words: str) -> None:
    assert "data" not in body, body
    problem = body["errors"][0]
    assert (problem["code"], problem["parameter"], problem["status"]) == (code, parameter, "error")
    for word in words:
        assert word in problem["message"], problem["message"]


def accepted(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    return body["data"][0]


def download(url: str, folder: Path, name: str = "video") -> Path:
    # A result's file is made at its first download, which waits for it up to --render-wait:
    # so does this one (httpx's 5 s ran out on an animated render on a busy machine).
    reply = httpx.get(url, timeout=Settings().render_wait + 5)
    assert reply.status_code == 200
    path = folder / name
    path.write_bytes(reply.content)
    return path


# --- input forms ----------------------------------------------------------------------------

def test_every_input_form(rest: RestClient, file_server: str) -> None:
    portrait, voice = media_path(PORTRAIT), media_path(VOICE)
    forms = [
        (f"{file_server}/{PORTRAIT}", f"{file_server}/{VOICE}"),                   # public URL
        (data_uri(portrait, "image/jpeg"), data_uri(voice, "audio/mpeg")),         # data URI
        (raw_base64(portrait), raw_base64(voice)),                                 # raw base64
        (seed_examples()[0]["request"]["inputs"]["image"],                         # URL map
         seed_examples()[0]["request"]["inputs"]["audio"]),
    ]
    for image, audio in forms:
        assert accepted(run_inputs(rest, image, audio, includeCost=True))["cost"] == 0.5397


def test_upload_tasks_give_uuids_usable_as_inputs(rest: RestClient) -> None:
    image_task = {"taskType": "imageUpload", "taskUUID": str(uuid.uuid4()),
                  "image": data_uri(media_path(PORTRAIT), "image/jpeg")}
    audio_task = {"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()),
                  "operation": "upload", "media": raw_base64(media_path(VOICE))}
    body = rest.post([image_task, audio_task]).json()
    image_item, audio_item = body["data"]
    assert image_item["imageURL"].endswith(".jpg") and audio_item["mediaURL"].endswith(".mp3")
    served = httpx.get(audio_item["mediaURL"])
    assert served.content == media_path(VOICE).read_bytes()
    assert served.headers["content-type"] == "audio/mpeg"
    result = run_inputs(rest, image_item["imageUUID"], audio_item["mediaUUID"], includeCost=True)
    assert accepted(result)["cost"] == 0.5397
    delete = {"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()), "operation": "delete",
              "media": audio_item["mediaUUID"]}
    assert rest.post([delete]).json()["data"][0]["mediaUUID"] == audio_item["mediaUUID"]
    rejected(run_inputs(rest, image_item["imageUUID"], audio_item["mediaUUID"]),
             "invalidValueUploadFailed", "inputs.audio", audio_item["mediaUUID"])
    again = rest.post([delete]).json()
    assert again["errors"][0]["code"] == "mediaNotFound"


def test_upload_of_something_that_is_not_media(rest: RestClient) -> None:
    task = {"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()), "operation": "upload",
            "media": b64(b"just some text, not media")}
    problem = rest.post([task]).json()["errors"][0]
    assert (problem["code"], problem["parameter"]) == ("invalidValueUploadFailed", "media")


def test_unfetchable_and_oversized_urls(rest: RestClient, file_server: str,
                                        tmp_path: Path) -> None:
    rejected(run_inputs(rest, image=f"{file_server}/missing.jpg"), "invalidValueUploadFailed",
             "inputs.image", "HTTP 404")
    rejected(run_inputs(rest, image="https://assets.runware.ai/assets/inputs/nope.jpg"),
             "invalidValueUploadFailed", "inputs.image", "no file nope.jpg")
    rejected(run_inputs(rest, image="not base64 at all!"), "invalidValueUploadFailed",
             "inputs.image", "valid base64")


def test_fetch_size_cap(server_factory, file_server: str) -> None:
    server = server_factory(fetch_max_bytes=10_000)
    body = run_inputs(RestClient(server.url), image=f"{file_server}/{PORTRAIT}")
    rejected(body, "invalidValueUploadFailed", "inputs.image", "fetch limit of 10000 bytes")


# --- image limits ---------------------------------------------------------------------------

@pytest.mark.parametrize(("size", "ok"), [((300, 300), True), ((299, 600), False),
                                          ((600, 299), False), ((300, 750), True),
                                          ((300, 751), False), ((750, 300), True),
                                          ((751, 300), False)])
def test_image_sides_and_aspect_ratio(rest: RestClient, size: tuple[int, int], ok: bool) -> None:
    body = run_inputs(rest, image=b64(image_bytes(*size)))
    if ok:
        accepted(body)
    elif min(size) < 300:
        rejected(body, "invalidImageDimensions", "inputs.image", f"{size[0]}x{size[1]}",
                 "at least 300 px")
    else:
        rejected(body, "invalidImageAspectRatio", "inputs.image", "between 1:2.5", "2.5:1",
                 f"{size[0] / size[1]:.3f}")


def test_image_file_size_edge(rest: RestClient) -> None:
    picture = image_bytes(400, 400, "JPEG")
    accepted(run_inputs(rest, image=b64(padded(picture, 10 * MB))))
    rejected(run_inputs(rest, image=b64(padded(picture, 10 * MB + 1))), "invalidImageSize",
             "inputs.image", "10.00 MB (10485760 bytes)", "10.00 MB")


@pytest.mark.parametrize(("fmt", "ok"), [("PNG", True), ("JPEG", True), ("WEBP", True),
                                         ("GIF", False), ("BMP", False), ("TIFF", False)])
def test_image_formats(rest: RestClient, fmt: str, ok: bool) -> None:
    body = run_inputs(rest, image=b64(image_bytes(400, 500, fmt)))
    if ok:
        accepted(body)
    else:
        rejected(body, "invalidImageFormat", "inputs.image", fmt, "JPG, PNG and WEBP")


def test_bad_images_are_rejected_cleanly(rest: RestClient) -> None:
    rejected(run_inputs(rest, image=b64(bomb_png())), "invalidImageDimensions", "inputs.image",
             "20000x20000", "without decoding")
    truncated = image_bytes(600, 600, "JPEG", "orange")
    rejected(run_inputs(rest, image=b64(truncated[: len(truncated) // 2])),
             "invalidValueUploadFailed", "inputs.image", "not a decodable image")
    rejected(run_inputs(rest, image=raw_base64(media_path(VOICE))),
             "invalidValueUploadFailed", "inputs.image", "not a decodable image")


# --- audio limits ---------------------------------------------------------------------------

@pytest.mark.parametrize(("seconds", "ok"), [(1.99, False), (2.0, True), (300.0, True),
                                             (300.05, False)])
def test_audio_duration_edges(rest: RestClient, audio_dir: Path, seconds: float, ok: bool) -> None:
    track = audio_file(audio_dir, seconds, "wav", "-c:a", "pcm_s16le")
    body = run_inputs(rest, audio=raw_base64(track), includeCost=True)
    if ok:
        assert accepted(body)["cost"] == round(0.044 * seconds, 5)
    elif seconds < 2:
        rejected(body, "invalidAudioDuration", "inputs.audio", "1.990 s long", "2 to 300 seconds")
    else:
        rejected(body, "invalidAudioDuration", "inputs.audio", "300.050 s long")


def test_very_long_audio_is_measured_only_up_to_the_limit(rest: RestClient,
                                                          audio_dir: Path) -> None:
    track = audio_file(audio_dir, 900, "mp3", "-c:a", "libmp3lame", "-b:a", "8k")
    rejected(run_inputs(rest, audio=raw_base64(track)), "invalidAudioDuration", "inputs.audio",
             "longer than 300 s")


def test_audio_file_size_edge(rest: RestClient, audio_dir: Path) -> None:
    track = audio_file(audio_dir, 3, "wav", "-c:a", "pcm_s16le").read_bytes()
    accepted(run_inputs(rest, audio=b64(padded(track, 5 * MB))))
    rejected(run_inputs(rest, audio=b64(padded(track, 5 * MB + 1))), "invalidAudioSize",
             "inputs.audio", "5.00 MB (5242880 bytes)")


@pytest.mark.parametrize(("extension", "codec", "ok"), [
    ("mp3", ["-c:a", "libmp3lame"], True), ("wav", ["-c:a", "pcm_s16le"], True),
    ("m4a", ["-c:a", "aac"], True), ("aac", ["-c:a", "aac", "-f", "adts"], True),
    ("ogg", ["-c:a", "libvorbis"], True), ("flac", ["-c:a", "flac"], True),
    ("webm", ["-c:a", "libopus"], False), ("mka", ["-c:a", "flac"], False),
])
def test_audio_formats(rest: RestClient, audio_dir: Path, extension: str, codec: list[str],
                       ok: bool) -> None:
    track = audio_file(audio_dir, 2.5, extension, *codec, rate=48000)
    body = run_inputs(rest, audio=raw_base64(track))
    if ok:
        accepted(body)
    else:
        rejected(body, "invalidAudioFormat", "inputs.audio", "MP3, WAV, M4A, AAC, OGG and FLAC")


def test_wrong_media_type_for_audio(rest: RestClient) -> None:
    rejected(run_inputs(rest, audio=raw_base64(media_path(PORTRAIT))),
             "invalidValueUploadFailed", "inputs.audio", "not a decodable audio track")


# --- output formats -------------------------------------------------------------------------

@pytest.mark.parametrize(("fmt", "content_type", "codecs"), [
    ("MP4", "video/mp4", ("h264", "aac")),
    ("MOV", "video/quicktime", ("h264", "aac")),
    ("WEBM", "video/webm", ("vp9", "opus")),
])
def test_output_formats_decode(rest: RestClient, tmp_path: Path, fmt: str, content_type: str,
                               codecs: tuple[str, str]) -> None:
    item = accepted(run_inputs(rest, outputFormat=fmt))
    assert item["videoURL"].endswith(f".{fmt.lower()}")
    reply = httpx.get(item["videoURL"])
    assert reply.headers["content-type"] == content_type
    path = tmp_path / f"video.{fmt.lower()}"
    path.write_bytes(reply.content)
    decoded = decode(path)
    assert (decoded["video_codec"], decoded["audio_codec"]) == codecs
    assert decoded["errors"] == 0
    assert abs(decoded["frames"] - 12.266 * 25) <= 1
    assert abs(decoded["audio_seconds"] - 12.266) <= 1 / 25
    assert (decoded["width"], decoded["height"]) == (480, 720)


@pytest.mark.parametrize("fmt", ["MP4", "WEBM"])
def test_quality_maps_monotonically_to_file_size(rest: RestClient, fmt: str) -> None:
    sizes = []
    for quality in (20, 60, 99):
        item = accepted(run_inputs(rest, outputFormat=fmt, outputQuality=quality))
        sizes.append(len(httpx.get(item["videoURL"]).content))
    assert sizes[0] < sizes[1] < sizes[2], sizes


@pytest.mark.parametrize(("size", "expected"), [((750, 300), (720, 288)),
                                                ((301, 500), (300, 500)),
                                                ((2000, 1000), (720, 360))])
def test_frame_follows_the_portrait(rest: RestClient, tmp_path: Path, size: tuple[int, int],
                                    expected: tuple[int, int]) -> None:
    item = accepted(run_inputs(rest, image=b64(image_bytes(*size))))
    decoded = decode(download(item["videoURL"], tmp_path))
    assert (decoded["width"], decoded["height"]) == expected


def first_frame(video: Path, at: float = 0.0) -> bytes:
    out = video.with_suffix(f".{at}.png")
    ffmpeg("-v", "error", "-y", "-ss", str(at), "-i", str(video), "-frames:v", "1", str(out))
    return out.read_bytes()


def test_results_are_labelled_apart(rest: RestClient, tmp_path: Path) -> None:
    items = accepted_all(run_inputs(rest, numberResults=2))
    frames = [first_frame(download(item["videoURL"], tmp_path, f"r{i}.mp4"))
              for i, item in enumerate(items)]
    assert frames[0] != frames[1]


def accepted_all(body: dict[str, Any]) -> list[dict[str, Any]]:
    assert "errors" not in body, body
    return body["data"]


def test_animated_mode_moves_with_the_voice(server_factory, tmp_path: Path) -> None:
    server = server_factory(animate=True)
    item = accepted(run_inputs(RestClient(server.url)))
    video = download(item["videoURL"], tmp_path, "animated.mp4")
    decoded = decode(video)
    assert abs(decoded["frames"] - 12.266 * 25) <= 1 and decoded["audio_codec"] == "aac"
    assert len({first_frame(video, at) for at in (0.5, 1.7, 3.1)}) == 3


# --- serving --------------------------------------------------------------------------------

def test_head_and_byte_ranges(rest: RestClient) -> None:
    url = accepted(run_inputs(rest))["videoURL"]
    whole = httpx.get(url).content
    head = httpx.head(url)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(whole)
    assert head.headers["accept-ranges"] == "bytes"
    part = httpx.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole)}"
    tail = httpx.get(url, headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == whole[-50:]
    beyond = httpx.get(url, headers={"Range": f"bytes={len(whole) + 10}-"})
    assert beyond.status_code == 416


def test_video_url_expires_after_ttl(server_factory) -> None:
    server = server_factory()
    client = RestClient(server.url)
    short, default = (accepted(run_inputs(client, ttl=60))["videoURL"],
                      accepted(run_inputs(client))["videoURL"])
    admin = AdminClient(server.base_url)
    # The simulated clock also runs on real time: under load, seconds pass between the file's
    # publication and this check, so "still there" is checked well before the ttl.
    admin.advance(50)
    assert httpx.head(short).status_code == 200
    admin.advance(11)
    gone = httpx.get(short)
    assert gone.status_code == 404 and gone.json()["errors"][0]["code"] == "mediaNotFound"
    assert httpx.head(default).status_code == 200  # default ttl: 3600 s


def test_disk_budget_removes_oldest_renders(server_factory) -> None:
    server = server_factory(disk_budget_mb=0)
    client = RestClient(server.url)
    url = accepted(run_inputs(client))["videoURL"]
    assert httpx.head(url).status_code == 200
    services = server.services
    freed = services.media.store.trim_cache(0, services.clock.now())
    assert freed > 0
    assert not any(services.media.store.cache_dir.iterdir())
    assert httpx.head(url).status_code == 404

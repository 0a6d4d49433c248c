"""``runware-mock run``: one avatar video made through the public HTTP API, as a client would.

Upload the portrait and the voice (``mediaStorage``), submit a ``videoInference`` with a fresh
taskUUID, poll ``getResponse`` behind a progress bar, download the video and measure it with
the ffmpeg bundled by imageio-ffmpeg. Only the public API is used, so it runs against the
emulator (the default URL) and the real service alike. The bar is tqdm's: one small package
without dependencies, written to stderr so stdout keeps only the result.
"""

from __future__ import annotations

import base64
import difflib
import mimetypes
import re
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

SAMPLE_PORTRAIT = "b06de116-9865-4f69-85aa-47389348df02.jpg"
SAMPLE_VOICE = "f7e9776d-d6d9-40d3-aa53-120611f4b9c8.mp3"  # 12.266 s
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_PASSED_AS_IS = ("http://", "https://", "data:")
REQUEST_TIMEOUT = 120.0  # seconds for one API call or the download (uploads can be 10 MB)


class RunFailed(Exception):
    """A problem to report in one line: unreachable URL, refused task, failed generation."""


class BadOption(RunFailed):
    """An option no request could succeed with, refused before anything is sent."""


@dataclass(frozen=True)
class Job:
    image: str | None = None
    audio: str | None = None
    model: str = "klingai:avatar@2.0-standard"
    prompt: str | None = None
    output_format: str = "MP4"
    url: str = "http://127.0.0.1:8787/v1"
    api_key: str = "any-key"
    output: Path | None = None
    timeout: float = 900.0
    poll_every: float = 1.0


@dataclass(frozen=True)
class Video:
    task_uuid: str
    url: str
    path: Path
    seconds: float
    frames: int
    cost: float | None
    elapsed: float


def say(message: str) -> None:
    print(f"runware-mock run: {message}", file=sys.stderr, flush=True)


class ApiClient:
    """The Runware REST API: one JSON array of tasks per POST."""

    def __init__(self, url: str, api_key: str) -> None:
        self.url = url
        self.http = httpx.Client(timeout=REQUEST_TIMEOUT,
                                 headers={"Authorization": f"Bearer {api_key}"})

    def send(self, task: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The ``data`` and ``errors`` of the reply to one task."""
        try:
            reply = self.http.post(self.url, json=[task])
        except httpx.TransportError as exc:
            raise RunFailed(f"cannot reach {self.url} ({exc.__class__.__name__}): is the "
                            "emulator running (runware-mock serve)? Or pass --url") from exc
        try:
            body = reply.json()
        except ValueError as exc:
            raise RunFailed(f"{self.url} answered HTTP {reply.status_code} with a body that is "
                            "not JSON: is it a Runware API URL?") from exc
        if not isinstance(body, dict):
            raise RunFailed(f"{self.url} answered an unexpected body: {str(body)[:200]}")
        return list(body.get("data") or []), list(body.get("errors") or [])

    def call(self, task: dict[str, Any]) -> dict[str, Any]:
        """The one reply item of a task that must succeed at once (an upload, a submit)."""
        data, errors = self.send(task)
        if errors:
            raise RunFailed(f"{task['taskType']} refused: {describe_error(errors[0])}")
        if not data:
            raise RunFailed(f"{task['taskType']}: the reply holds no data")
        return data[0]

    def close(self) -> None:
        self.http.close()


def describe_error(error: dict[str, Any]) -> str:
    where = f" ({error['parameter']})" if error.get("parameter") else ""
    return f"{error.get('code', 'error')}{where}: {error.get('message', '')}".rstrip(": ")


def fresh_task_uuid() -> str:
    """A new one every time: the service refuses a taskUUID it has seen (conflictTaskUUID)."""
    return str(uuid.uuid4())


def avatar_models() -> tuple[str, ...]:
    """The catalog's models that make a video from a portrait and a voice: what ``run`` sends
    (the official model list, so the real service knows them too)."""
    from runware_mock.contract import model_catalog

    return tuple(air for air, model in model_catalog.models().items()
                 if model.family.task_type == "videoInference" and model.family.image
                 and model.family.audio)


def check_model(model: str) -> None:
    """Refuse a model ``run`` cannot use before any upload, naming the closest one."""
    known = avatar_models()
    if model in known:
        return
    closest = difflib.get_close_matches(model, known, n=1, cutoff=0.5)
    hint = f"did you mean {closest[0]}? " if closest else ""
    raise BadOption(f"--model: {model} is not a model that makes a video from a portrait and a "
                    f"voice; {hint}`run --help` lists the {len(known)} that do")


def make_video(job: Job) -> Video:
    started = time.monotonic()
    check_model(job.model)
    client = ApiClient(job.url, job.api_key)
    try:
        image = media_input(client, job.image or str(_sample(SAMPLE_PORTRAIT)), "image")
        audio = media_input(client, job.audio or str(_sample(SAMPLE_VOICE)), "audio")
        task_uuid = submit(client, job, image, audio)
        result = wait_with_progress(client, task_uuid, job)
    finally:
        client.close()
    path = download(result["videoURL"], job.output, result.get("videoUUID") or task_uuid)
    frames, seconds = probe(path)
    return Video(task_uuid, result["videoURL"], path, seconds, frames, result.get("cost"),
                 time.monotonic() - started)


def _sample(name: str) -> Path:
    from runware_mock.fixtures import media_path

    return media_path(name)


def media_input(client: ApiClient, value: str, kind: str) -> str:
    """URLs, data URIs and media UUIDs go as they are; a file is uploaded first."""
    if value.startswith(_PASSED_AS_IS) or _UUID.match(value):
        return value
    path = Path(value).expanduser()
    if not path.is_file():
        raise RunFailed(f"--{kind}: no such file: {value} (give a file, a URL, a data URI or "
                        "a media UUID)")
    say(f"uploading the {kind} {path.name} ({path.stat().st_size / 1024:.0f} KB)")
    item = client.call({"taskType": "mediaStorage", "taskUUID": fresh_task_uuid(),
                        "operation": "upload", "media": data_uri(path)})
    return str(item["mediaUUID"])


def data_uri(path: Path) -> str:
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    mime, _ = mimetypes.guess_type(path.name)
    return f"data:{mime};base64,{encoded}" if mime else encoded


def submit(client: ApiClient, job: Job, image: str, audio: str) -> str:
    task_uuid = fresh_task_uuid()
    task: dict[str, Any] = {
        "taskType": "videoInference", "taskUUID": task_uuid, "model": job.model,
        "outputType": "URL", "outputFormat": job.output_format.upper(), "includeCost": True,
        "numberResults": 1, "inputs": {"image": image, "audio": audio},
    }
    if job.prompt:
        task["positivePrompt"] = job.prompt
    client.call(task)
    say(f"submitted task {task_uuid} ({job.model}); polling getResponse")
    return task_uuid


def wait_with_progress(client: ApiClient, task_uuid: str, job: Job) -> dict[str, Any]:
    from tqdm import tqdm

    with tqdm(total=100, desc="rendering", unit="%", file=sys.stderr, dynamic_ncols=True,
              bar_format="{desc} {bar} {n:.0f}% [{elapsed}]") as bar:
        def show(progress: int) -> None:
            bar.update(max(0, progress - bar.n))

        result = poll_until_done(client, task_uuid, job, show)
        show(100)
    return result


def poll_until_done(client: ApiClient, task_uuid: str, job: Job,
                    on_progress: Callable[[int], None]) -> dict[str, Any]:
    deadline = time.monotonic() + job.timeout
    while True:
        data, errors = client.send({"taskType": "getResponse", "taskUUID": task_uuid})
        if errors:
            raise RunFailed(f"task {task_uuid} failed: {describe_error(errors[0])}")
        item = next((entry for entry in data if entry.get("taskUUID") == task_uuid), None)
        if item is not None and item.get("status") == "success":
            return item
        on_progress(int((item or {}).get("progress") or 0))
        if time.monotonic() >= deadline:
            raise RunFailed(f"no video after {job.timeout:g} s: task {task_uuid} is still "
                            "processing (raise --timeout, or poll it later)")
        time.sleep(job.poll_every)


def download(url: str, output: Path | None, video_uuid: str) -> Path:
    """Without the API key: the video may be on another host (a CDN) than the API."""
    suffix = Path(urlsplit(url).path).suffix or ".mp4"
    path = output or Path.cwd()
    if path.is_dir():
        path = path / f"{video_uuid}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with httpx.stream("GET", url, timeout=REQUEST_TIMEOUT, follow_redirects=True) as reply:
            if reply.status_code != 200:
                raise RunFailed(f"downloading {url} answered HTTP {reply.status_code}")
            with path.open("wb") as file:
                for chunk in reply.iter_bytes():
                    file.write(chunk)
    except httpx.HTTPError as exc:
        raise RunFailed(f"cannot download {url} ({exc.__class__.__name__})") from exc
    return path.resolve()


def probe(path: Path) -> tuple[int, float]:
    """Frames and seconds, by decoding the whole file: a video that does not play fails."""
    import imageio_ffmpeg

    try:
        return imageio_ffmpeg.count_frames_and_secs(str(path))
    except (RuntimeError, OSError) as exc:
        raise RunFailed(f"the video saved at {path} does not decode: {exc}") from exc


def describe(video: Video) -> str:
    cost = f"${video.cost:g}" if video.cost is not None else "not reported"
    rows = [("video", video.url), ("saved", str(video.path)),
            ("duration", f"{video.seconds:.2f} s ({video.frames} frames)"), ("cost", cost),
            ("task", video.task_uuid), ("took", f"{video.elapsed:.1f} s")]
    return "\n".join(f"{name:<9} {value}" for name, value in rows)

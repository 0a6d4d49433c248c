"""The media facade the task engine talks to: prepare inputs, render, publish, upload.

A task's output is published at once with the maker of its file: with ``--renders lazy`` the
file is made at its first download (``file``), or when a later task takes it as input; with
``--renders eager``, or when the client needs the bytes now, before the result is reported.
Either way the same maker makes it, so the bytes are the same."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from runware_mock.media.ffmpeg import FFmpegPool
from runware_mock.media.file_store import REQUESTER, Maker, MediaStore, Pending, Served
from runware_mock.media.images import ImageMaker
from runware_mock.media.input_checks import (
    MAX_DECODED_PIXELS,
    AudioLimits,
    ImageLimits,
    InputLimits,
    longest_audio_measured,
)
from runware_mock.media.inputs import InputError, InputResolver, Unreachable
from runware_mock.media.made_files import MadeFiles
from runware_mock.media.memo import AsyncMemo
from runware_mock.media.ondemand import Backlog, RenderQueue
from runware_mock.media.outbound import Resolver
from runware_mock.media.probe import AudioInfo, ImageInfo, ProbeError, probe_audio, probe_image
from runware_mock.media.render import FORMATS, Renderer, RenderRequest, file_identity
from runware_mock.media.sound import SoundMaker
from runware_mock.media.stand_ins import StandIn, StandInMaker, expected_kind, note
from runware_mock.media.targets import TargetPolicy
from runware_mock.media.video_probe import VideoInfo, probe_video
from runware_mock.settings import Settings
from runware_mock.store.file_table import FileTable
from runware_mock.store.health import StoreUnwritable

Info = TypeVar("Info", ImageInfo, AudioInfo)

_IMAGE_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
_AUDIO_EXTENSIONS = {"mp3": "mp3", "wav": "wav", "mov,mp4,m4a,3gp,3g2,mj2": "m4a", "aac": "aac",
                     "ogg": "ogg", "flac": "flac"}


class MediaInputError(ValueError):
    """An input of a task that cannot be used; ``parameter`` is its field path."""

    def __init__(self, parameter: str, message: str,
                 code: str = "invalidValueUploadFailed") -> None:
        super().__init__(message)
        self.parameter = parameter
        self.code = code


@dataclass(frozen=True, slots=True, weakref_slot=True)
class PreparedInputs:
    image: Path
    image_info: ImageInfo
    audio: Path
    audio_info: AudioInfo


@dataclass(frozen=True)
class Upload:
    served: Served
    url: str


@dataclass(frozen=True, slots=True)
class Published:
    """A task's output as its result reports it; ``path`` is None while the file is not made."""

    uuid: str
    url: str
    path: Path | None


# Names a task's result file: (taskUUID, result index) -> a UUID, from the run's seeded source.
ResultNamer = Callable[[str, int], str]


class Media:
    def __init__(self, settings: Settings, result_uuid: ResultNamer, files: FileTable) -> None:
        self.store = MediaStore(settings.data_dir, settings.base_url, files)
        self._result_uuid = result_uuid
        self._lazy = settings.renders == "lazy"
        self._on_demand = RenderQueue(settings.render_workers, settings.render_backlog,
                                      settings.render_wait)
        self._probe_pool = FFmpegPool(max(2, settings.render_workers))
        render_pool = FFmpegPool(settings.render_workers)
        # The pool of ffmpeg runs that make outputs (video upscale's and edits' too).
        self.render_pool = render_pool
        self._renderer = Renderer(render_pool, self.store.cache_dir,
                                  settings.max_long_side, settings.animate)
        self.sounds = SoundMaker(render_pool, self.store.cache_dir)
        self.images = ImageMaker(self.store.cache_dir)
        # 3D models, upscaled videos, video frames: each made once (media.made_files).
        self.made = MadeFiles(self.store.cache_dir)
        # None: an unreachable input fails its task (--unreachable-inputs error).
        self._stand_ins = StandInMaker(settings.seed, self.images, self.sounds, self._renderer) \
            if settings.unreachable_inputs == "stand-in" else None
        self._disk_budget = settings.disk_budget_mb * 1024 * 1024
        self._longest_audio = longest_audio_measured()
        self._audio_probes: AsyncMemo[AudioInfo] = AsyncMemo()
        self._image_probes: AsyncMemo[ImageInfo] = AsyncMemo()
        # The inputs of tasks that still hold them: the disk budget never deletes these files.
        self._live: weakref.WeakSet[PreparedInputs] = weakref.WeakSet()
        # Host names of input URLs, webhooks and uploads (``Delivery`` uses it too).
        self.lookups = Resolver(settings.lookup_threads)
        # Where they may go (``Delivery`` uses it too; a leader adds its private port).
        self.targets = TargetPolicy(bound_to=settings.host,
                                    allow_private=settings.allow_private_targets)
        self._inputs = InputResolver(
            self.store, url_map=settings.url_map, fetch_timeout=settings.fetch_timeout,
            fetch_max_bytes=settings.fetch_max_bytes, find_upload=self._find_upload,
            make_pending=self._make_input, lookups=self.lookups,
            targets=self.targets,
        )

    async def prepare(self, image_spec: str, audio_spec: str,
                      limits: InputLimits) -> PreparedInputs:
        """Fetch or decode both inputs and check them against the model's published limits."""
        image = await self._resolve("inputs.image", image_spec)
        audio = await self._resolve("inputs.audio", audio_spec)
        try:
            image_info = await self._checked("inputs.image", image, self._probe_image,
                                             limits.image)
            audio_info = await self._checked("inputs.audio", audio, self._probe_audio,
                                             limits.audio)
        except MediaInputError:
            self._discard(image, audio)
            raise
        return self._held(PreparedInputs(image, image_info, audio, audio_info))

    def prepared_now(self, image_spec: str, audio_spec: str,
                     limits: InputLimits) -> PreparedInputs | None:
        """What ``prepare`` would return, when that needs no waiting: both inputs are local
        files (under the URL map, or uploads) already measured, and within the limits.
        Otherwise None: ``prepare`` does the work, and reports what is wrong."""
        try:
            image, audio = self._inputs.local(image_spec), self._inputs.local(audio_spec)
        except InputError:
            return None
        if image is None or audio is None:
            return None
        image_info = self._measured(image, self._image_probes, limits.image)
        audio_info = self._measured(audio, self._audio_probes, limits.audio)
        if image_info is None or audio_info is None:
            return None
        return self._held(PreparedInputs(image, image_info, audio, audio_info))

    def _held(self, inputs: PreparedInputs) -> PreparedInputs:
        self._live.add(inputs)
        return inputs

    def _in_use(self) -> set[Path]:
        return {path for inputs in list(self._live) for path in (inputs.image, inputs.audio)}

    def _discard(self, *paths: Path) -> None:
        """Refused inputs do not stay in the data dir (unless a task or upload uses them)."""
        in_use = self._in_use()
        for path in paths:
            self.store.discard_input(path, in_use)

    @staticmethod
    def _measured(path: Path, probes: AsyncMemo[Info],
                  limits: ImageLimits | AudioLimits) -> Info | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        info = probes.peek(file_identity(path, stat))
        if (info is None or limits.check_size(stat.st_size) is not None
                or limits.check(info) is not None):  # type: ignore[arg-type]
            return None
        return info

    async def _checked(self, parameter: str, path: Path,
                       probe: Callable[[Path, str], Awaitable[Info]],
                       limits: ImageLimits | AudioLimits) -> Info:
        try:
            stat = path.stat()  # once: the size check and the probe cache key both come from it
        except OSError as exc:
            raise MediaInputError(parameter, f"{parameter} could not be read: {exc.strerror} "
                                  f"({path.name})") from exc
        violation = limits.check_size(stat.st_size)
        if violation is None:
            try:
                info = await probe(path, file_identity(path, stat))
            except ProbeError as exc:
                raise MediaInputError(parameter, f"{parameter} is {exc}") from exc
            violation = limits.check(info)  # type: ignore[arg-type]
        if violation is not None:
            raise MediaInputError(parameter, violation.message, violation.code)
        return info

    async def _probe_image(self, path: Path, identity: str | None = None) -> ImageInfo:
        return await self._image_probes.get(
            identity or file_identity(path),
            lambda: probe_image(path, MAX_DECODED_PIXELS))

    async def _probe_audio(self, path: Path, identity: str | None = None) -> AudioInfo:
        """Decoding a track to measure it costs CPU: each distinct file is measured once."""
        return await self._audio_probes.get(identity or file_identity(path), lambda: probe_audio(
            self._probe_pool, path, self._longest_audio))

    async def render(self, inputs: PreparedInputs, output_format: str, quality: int,
                     label: str) -> Path:
        return await self._renderer.render(RenderRequest(
            inputs.image, inputs.audio, inputs.audio_info.seconds, output_format, quality, label))

    async def render_clip(self, picture: Path, sound: Path, seconds: float, output_format: str,
                          quality: int, label: str, long_side: int) -> Path:
        """A generated video: a still picture and a sound track, frames ``long_side`` at most."""
        return await self._renderer.render(RenderRequest(
            picture, sound, seconds, output_format, quality, label, long_side))

    @staticmethod
    def video_extension(output_format: str) -> str:
        return FORMATS[output_format].extension

    async def publish_result(self, kind: str, task_uuid: str, index: int, extension: str,
                             expires_at: Callable[[], float], make: Maker, *,
                             needed_now: bool = False) -> Published:
        """Publish result ``index`` of a task, its file made by ``make``: now when the client
        needs the bytes (``needed_now``) or renders are eager, else at its first download.
        The ttl (``expires_at()``) counts from the moment it is published."""
        item_uuid = self._result_uuid(task_uuid, index)
        if needed_now or not self._lazy:
            path = await make()
            served = self.store.publish(kind, path, extension, expires_at(), item_uuid)
            return Published(item_uuid, self.store.url(kind, served), path)
        pending = Pending(kind, item_uuid, extension, expires_at(), make, (task_uuid, index))
        self.store.publish_pending(pending)
        return Published(item_uuid, self.store.url(kind, pending), None)

    async def file(self, kind: str, item_uuid: str, now: float) -> Served | None:
        """A served file, made first if it is pending (the queue may refuse: RenderRefused)."""
        item_uuid = item_uuid.lower()
        served = self.store.find(kind, item_uuid, now)
        if served is not None:
            return served
        pending = self.store.find_pending(kind, item_uuid, now)
        if pending is None:
            return None
        await self._on_demand.get(f"{kind}/{item_uuid}", lambda: self._made(pending))
        return self.store.find(kind, item_uuid, now)

    async def _make_input(self, pending: Pending) -> Path:
        """An earlier task's output named as an input: made now (sharing a render under way),
        whatever the backlog: the task waiting for it is bounded already."""
        return await self._on_demand.get(f"{pending.kind}/{pending.uuid}",
                                         lambda: self._made(pending), bounded=False)

    async def _made(self, pending: Pending) -> Path:
        path = await pending.make()
        self.store.publish(pending.kind, path, pending.extension, pending.expires_at,
                           pending.uuid)
        return path

    def render_backlog(self) -> Backlog:
        """Files being made on demand or queued to be, and totals made and refused."""
        return self._on_demand.backlog()

    def pending_files(self) -> int:
        """Outputs published whose file is not made (nobody downloaded them yet)."""
        return self.store.pending_count()

    async def close(self) -> None:
        """Cancel every render queued or running on demand (shutdown)."""
        await self._on_demand.close()

    async def image_input(self, parameter: str, spec: str) -> tuple[Path, ImageInfo]:
        """An image input (URL, upload UUID, data URI or base64) on disk, decodable, with at
        most MAX_DECODED_PIXELS pixels."""
        path = await self._resolve(parameter, spec)
        try:
            info = await self._probe_image(path)
        except ProbeError as exc:
            raise MediaInputError(parameter, f"{parameter} is {exc}") from exc
        if info.pixels > MAX_DECODED_PIXELS:
            raise MediaInputError(parameter, f"{parameter} is {info.width}x{info.height} px, "
                                  f"over the {MAX_DECODED_PIXELS} pixels accepted",
                                  "invalidImageDimensions")
        return path, info

    async def video_input(self, parameter: str, spec: str) -> tuple[Path, VideoInfo]:
        """A video input (URL, upload UUID, data URI or base64) on disk, with its size and
        length read from its header."""
        path = await self._resolve(parameter, spec)
        try:
            return path, await probe_video(self._probe_pool, path)
        except ProbeError as exc:
            self._discard(path)
            raise MediaInputError(parameter, f"{parameter} is {exc}") from exc

    async def audio_input(self, parameter: str, spec: str) -> tuple[Path, AudioInfo]:
        """An audio input (URL, upload UUID, data URI or base64) on disk, decodable."""
        path = await self._resolve(parameter, spec)
        try:
            return path, await self._probe_audio(path)
        except ProbeError as exc:
            self._discard(path)
            raise MediaInputError(parameter, f"{parameter} is {exc}") from exc

    async def file_input(self, parameter: str, spec: str) -> Path:
        """Any input file (URL, upload UUID, data URI or base64) on disk, its content not
        checked: what the task does with it checks it (training's dataset ZIP)."""
        return await self._resolve(parameter, spec)

    async def upload(self, spec: str, parameter: str) -> Upload:
        """Store an uploaded image or audio file; its UUID then works as a task input."""
        path = await self._resolve(parameter, spec)
        extension = await self._upload_extension(path)
        if extension is None:
            self._discard(path)
            raise MediaInputError(parameter, f"{parameter} is neither a decodable image nor "
                                  "a decodable audio track")
        # The key the upload runs as owns it: another key's tasks do not find it.
        served = self.store.publish("media", path, extension, expires_at=None,
                                    owner=REQUESTER.get())
        # Acknowledged once kept: the mediaUUID works after a crash.
        try:
            await self.store.committed()
        except StoreUnwritable:
            # Refused without a trace: the mediaUUID was never told, so it must not work.
            self.store.remove("media", served.uuid)
            self._discard(path)
            raise
        return Upload(served, self.store.url("media", served))

    async def enforce_disk_budget(self, now: float | None = None) -> int:
        """Remove files, oldest first, while the data dir is over budget (see
        ``MediaStore.trim_cache``); returns bytes freed."""
        return await asyncio.to_thread(self.store.trim_cache, self._disk_budget, now,
                                       self._in_use())

    def delete_upload(self, media_uuid: str) -> bool:
        return self.store.remove("media", media_uuid.lower())

    def find(self, kind: str, item_uuid: str, now: float) -> Served | None:
        return self.store.find(kind, item_uuid.lower(), now)

    async def _upload_extension(self, path: Path) -> str | None:
        try:
            return _IMAGE_EXTENSIONS.get((await self._probe_image(path)).format, "bin")
        except ProbeError:
            pass
        try:
            return _AUDIO_EXTENSIONS.get((await self._probe_audio(path)).format, "bin")
        except ProbeError:
            return None

    async def _resolve(self, parameter: str, spec: str) -> Path:
        try:
            path = await self._inputs.resolve(spec)
        except Unreachable as exc:
            if self._stand_ins is None:
                raise MediaInputError(parameter, f"{parameter}: {exc}") from exc
            path = await self._stand_in(parameter, exc)
        except InputError as exc:
            raise MediaInputError(parameter, f"{parameter}: {exc}") from exc
        if self.store.over(self._disk_budget):
            await self.enforce_disk_budget()
        return path

    async def _stand_in(self, parameter: str, unreachable: Unreachable) -> Path:
        """A generated input of the kind ``parameter`` takes, for a URL that cannot be reached;
        recorded on the task being measured."""
        assert self._stand_ins is not None
        kind = expected_kind(parameter, unreachable.url)
        path = await self.store.save_input(await self._stand_ins.make(kind, unreachable.url))
        note(StandIn(parameter, unreachable.url, kind, unreachable.reason))
        return path

    def _find_upload(self, media_uuid: str) -> Path | Pending | None:
        """An upload's file, or an output's: the UUID of an earlier task's audio, image or video
        is an input too (a voice from audioInference drives an avatar). An output not made
        yet is its ``Pending``, to be made."""
        for kind in _INPUT_KINDS:
            served = self.store.find(kind, media_uuid, now=0.0)
            if served is not None:
                return served.path
            pending = self.store.find_pending(kind, media_uuid, now=0.0)
            if pending is not None:
                return pending
        return None


# What a UUID given as a task input may name, looked up in this order.
_INPUT_KINDS = ("media", "audio", "image", "video")

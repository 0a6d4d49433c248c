"""``tools``: one FFmpeg run over media inputs, answered with one output file
(runware-surface.md §2.13; runware.ai/docs/models/ffmpeg).

The model is ``runware:ffmpeg@0``, the one the catalog lists for tools
(``contract/models/tools.toml``), else ``invalidModel``. The members of ``inputs`` and
``settings`` are not published; the emulator's choice (docs/task-types/tools.md):

- ``inputs``: ``video``, ``audio``, ``image`` and the lists ``videos``, ``audios``, ``images``
  (URLs, upload UUIDs, data URIs or base64), 1 to 10 in all (the page's "up to 10 inputs"),
  else ``missingParameter`` or ``invalidInputs``. Each is fetched and must decode as its kind.
- ``settings``: ``inputOptions``, ``outputOptions``, ``map`` (lists of strings) and
  ``filterComplex`` (a string), FFmpeg's raw arguments: checked for shape and kept with the
  task, never run (a request cannot make the host's ffmpeg read or write a file).

The output is ``media/ffmpeg_tool.py``'s: the first input (video, then image, then audio, in
that order of fields) in ``outputFormat`` (MP4 by default; any of the twelve, any case),
made by the bundled ffmpeg. ``deliveryMethod`` async (the default) acknowledges at once; sync
answers the finished result. A result is ``{taskType, taskUUID, status, outputs: {files:
[{uuid, url}]}, cost?}``, the file served at its ``url``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from runware_mock.contract import model_catalog
from runware_mock.contract.errors import ApiRefusal, error
from runware_mock.contract.request_types import ToolsRequest
from runware_mock.engine.lifecycle import Expiry, Generation, Produced
from runware_mock.handling.input_failures import inputs_fail_the_task
from runware_mock.handling.submission import submit
from runware_mock.handling.task_type import (
    Context,
    TaskServices,
    TaskType,
    check_served_model,
    without_inline_data,
)
from runware_mock.media.facade import Media
from runware_mock.media.ffmpeg_tool import AUDIO, IMAGE, VIDEO, ToolInput, extension, run_tool
from runware_mock.protocol.envelope import Reply

# The page: "It takes up to 10 video, audio or image inputs".
MOST_INPUTS = 10
# The fields of inputs, in the order the primary input is chosen from.
_FIELDS = ((VIDEO, "video", "videos"), (IMAGE, "image", "images"), (AUDIO, "audio", "audios"))


async def tools(task: ToolsRequest, context: Context, services: TaskServices) -> Reply:
    check_served_model("tools", task["model"])
    check_input_count(len(input_specs(task)))
    return await submit(task, context, services, tools_work(task, services))


def tools_work(request: ToolsRequest, services: TaskServices) -> ToolsWork:
    return ToolsWork(request, services.media)


def input_specs(request: ToolsRequest) -> list[tuple[str, str, str]]:
    """(kind, parameter, input) of every input the request names, the primary first."""
    inputs = request.get("inputs", {})
    found = []
    for kind, one, many in _FIELDS:
        if one in inputs:
            found.append((kind, f"inputs.{one}", inputs[one]))  # type: ignore[literal-required]
        found += [(kind, f"inputs.{many}.{index}", spec)
                  for index, spec in enumerate(inputs.get(many, []))]  # type: ignore[misc]
    return found


def check_input_count(count: int) -> None:
    if count == 0:
        raise ApiRefusal(error(
            "missingParameter", "Missing required parameter: inputs. FFmpeg runs over 1 to "
            f"{MOST_INPUTS} media files: inputs.video, inputs.image, inputs.audio (or the lists "
            "inputs.videos, inputs.images, inputs.audios).", parameter="inputs",
            type="object"))
    if count > MOST_INPUTS:
        raise ApiRefusal(error(
            "invalidInputs", f"inputs names {count} files: FFmpeg takes at most {MOST_INPUTS}.",
            parameter="inputs", type="object", min=1, max=MOST_INPUTS))


class ToolsWork:
    """The engine's ``Work`` for one tools task: every input fetched and checked, then the
    output made from the first."""

    def __init__(self, request: ToolsRequest, media: Media) -> None:
        self._request = request
        self._media = media
        self._primary: ToolInput | None = None

    def measured_now(self) -> float | None:
        return None  # the inputs are fetched first (measure)

    async def measure(self) -> float:
        for index, (kind, parameter, spec) in enumerate(input_specs(self._request)):
            checked = await self._fetched(kind, parameter, spec)
            if index == 0:
                self._primary = checked
        return 0.0

    async def _fetched(self, kind: str, parameter: str, spec: str) -> ToolInput:
        with inputs_fail_the_task():
            if kind == VIDEO:
                path, video = await self._media.video_input(parameter, spec)
                return ToolInput(path, kind, video.audio_codec is not None)
            if kind == IMAGE:
                path, _ = await self._media.image_input(parameter, spec)
                return ToolInput(path, kind, False)
            path, _ = await self._media.audio_input(parameter, spec)
            return ToolInput(path, kind, True)

    async def produce(self, generation: Generation, expiry: Expiry) -> Produced:
        assert self._primary is not None, "produced before measured"
        primary = self._primary
        output_format = self._request["outputFormat"].upper()
        published = await self._media.publish_result(
            "media", self._request["taskUUID"], generation.index, extension(output_format),
            expiry, lambda: self._output(primary, output_format))
        price = model_catalog.model(self._request["model"]).price
        return Produced({"outputs": {"files": [{"uuid": published.uuid, "url": published.url}]}},
                        cost=price.of(), file=("media", published.uuid))

    async def _output(self, primary: ToolInput, output_format: str) -> Path:
        # Named by the input's file (inputs are stored by content) and the format: the same
        # input and format give the same file, made once.
        key = hashlib.sha256(f"{primary.path.name}|{primary.kind}|{output_format}".encode())
        name = f"tool-{key.hexdigest()[:32]}.{extension(output_format)}"
        return await self._media.made.file(name, lambda path: run_tool(
            self._media.render_pool, primary, output_format, path))

    def forget_inline_data(self) -> None:
        inputs = without_inline_data(dict(self._request.get("inputs", {})))
        for _, _, many in _FIELDS:
            if many in inputs:
                inputs[many] = list(without_inline_data(
                    {str(i): spec for i, spec in enumerate(inputs[many])}).values())
        if "inputs" in self._request:
            self._request["inputs"] = inputs  # type: ignore[typeddict-item]


TASK_TYPE = TaskType.later("tools", tools, tools_work, schema="request.tools")

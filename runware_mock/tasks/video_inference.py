"""``videoInference``: a task whose videos come later, acknowledged at once and reported per
generation (getResponse, webhook, upload, pushed frame).

The model's family decides the work: a family whose inputs are a portrait and a voice track
(the KlingAI avatars, the talking heads) makes a video as long as the voice (``AvatarVideo``);
every other family generates one from its prompt (``handling.video_plans``).
"""

from __future__ import annotations

from runware_mock.contract import model_catalog
from runware_mock.contract.request_types import VideoInferenceRequest
from runware_mock.engine.lifecycle import Expiry, Generation, Produced
from runware_mock.handling.input_failures import inputs_fail_the_task
from runware_mock.handling.submission import submit
from runware_mock.handling.task_type import (
    Context,
    TaskServices,
    TaskType,
    bytes_needed_now,
    without_inline_data,
)
from runware_mock.handling.video_plans import GeneratedVideo, plan
from runware_mock.media.facade import Media, PreparedInputs
from runware_mock.media.input_checks import input_limits
from runware_mock.protocol.envelope import Reply


async def video_inference(task: VideoInferenceRequest, context: Context,
                          services: TaskServices) -> Reply:
    return await submit(task, context, services, video_work(task, services))


def video_work(request: VideoInferenceRequest,
               services: TaskServices) -> AvatarVideo | GeneratedVideo:
    """The work the model's family does; a request its rules refuse raises ApiRefusal."""
    family = model_catalog.model(request["model"]).family
    if family.image is not None and family.audio is not None:
        return AvatarVideo(request, services.media)
    return GeneratedVideo(request, services.media, plan(request, family))


class AvatarVideo:
    """The engine's ``Work`` for an avatar task: the inputs measured, then one render each."""

    def __init__(self, request: VideoInferenceRequest, media: Media) -> None:
        self._request = request
        self._media = media
        self._limits = input_limits(request["model"])
        self._inputs: PreparedInputs | None = None

    def measured_now(self) -> float | None:
        inputs = self._request["inputs"]
        self._inputs = self._media.prepared_now(inputs["image"], inputs["audio"], self._limits)
        return None if self._inputs is None else self._inputs.audio_info.seconds

    async def measure(self) -> float:
        inputs = self._request["inputs"]
        with inputs_fail_the_task():
            self._inputs = await self._media.prepare(inputs["image"], inputs["audio"],
                                                     self._limits)
        return self._inputs.audio_info.seconds

    async def produce(self, generation: Generation, expiry: Expiry) -> Produced:
        """The result at once; the video is rendered when first needed (``Media``)."""
        inputs = self._inputs
        assert inputs is not None, "produced before measured"
        request = self._request
        output_format, quality = request["outputFormat"], request["outputQuality"]
        label = (f"task {str(request['taskUUID'])[:8]}  result {generation.index + 1}/"
                 f"{request.get('numberResults', 1)}  seed {generation.seed}")
        video = await self._media.publish_result(
            "video", request["taskUUID"], generation.index,
            self._media.video_extension(output_format), expiry,
            lambda: self._media.render(inputs, output_format, quality, label),
            needed_now=bytes_needed_now(request))
        seconds = inputs.audio_info.seconds
        return Produced({"videoUUID": video.uuid, "videoURL": video.url, "seed": generation.seed},
                        cost=model_catalog.model(request["model"]).price.of(seconds=seconds),
                        file=("video", video.uuid))

    def forget_inline_data(self) -> None:
        self._request["inputs"] = without_inline_data(self._request["inputs"])


TASK_TYPE = TaskType.later("videoInference", video_inference, video_work)

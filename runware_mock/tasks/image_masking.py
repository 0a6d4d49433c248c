"""``imageMasking``: a mask of the faces, hands, persons or facial features an input image
holds, and the detections it was drawn from (runware-surface.md §2.5).

The model (required) is one of ``runware:35@1`` to ``@15`` (``contract/models/image_masking
.toml``), each finding its target (a face, a hand, a person, the eyes, nose or lips), else
``invalidModel``. The input is ``inputImage`` (sdk-js, ComfyUI) or ``inputs.image`` (runware-sdk
1.8). ``confidence``, ``maxDetections``, ``maskPadding`` and ``maskBlur`` come at the top level
or under ``settings`` (a nested value wins).

The result is the mask (``media/masking.py``): the input's size, white where a detection is,
JPG by default, under ``maskImageUUID`` and ``maskImageURL`` (or ``…Base64Data``/``…DataURI``)
and also ``imageUUID`` (the docs' example and sdk-js's readme show that key); ``detections``
lists each box ``{x_min, y_min, x_max, y_max}`` in input pixels, most confident first.
"""

from __future__ import annotations

from pathlib import Path

from runware_mock.contract import model_catalog
from runware_mock.contract.request_types import ImageMaskingRequest
from runware_mock.engine.lifecycle import Expiry, Generation, Produced
from runware_mock.handling.image_tools import Output, ToolWork, input_source, one_input
from runware_mock.handling.submission import submit
from runware_mock.handling.task_type import Context, TaskServices, TaskType, check_served_model
from runware_mock.media.masking import Masking, mask
from runware_mock.media.placeholder import FORMATS
from runware_mock.protocol.envelope import Reply


async def image_masking(task: ImageMaskingRequest, context: Context,
                        services: TaskServices) -> Reply:
    return await submit(task, context, services, image_masking_work(task, services))


def image_masking_work(request: ImageMaskingRequest, services: TaskServices) -> ToolWork:
    check_served_model("imageMasking", request["model"])
    model = model_catalog.model(request["model"])
    parameter, spec = one_input(request)
    settings = {**request, **request.get("settings", {})}
    output_format = request["outputFormat"]
    masking = Masking(model.family.details["target"], settings["confidence"],
                      settings["maxDetections"], settings["maskPadding"], settings["maskBlur"],
                      output_format, request["outputQuality"])
    media = services.media

    def made(path: Path) -> Output:
        found = mask(path.read_bytes(), masking)  # the detections are in the result itself
        boxes = [{"x_min": box.x_min, "y_min": box.y_min, "x_max": box.x_max,
                  "y_max": box.y_max} for box in found.detections]
        return Output(lambda: found.image, {"detections": boxes})

    return _WithImageUUID(request, media, input_source(media, parameter, spec), made,
                          prefix="maskImage",
                          extension=FORMATS[output_format][1], describe=repr(masking),
                          cost=model.price.of())


class _WithImageUUID(ToolWork):
    """The mask's UUID under ``imageUUID`` too (runware-surface.md §2.5: sources disagree)."""

    async def produce(self, generation: Generation, expiry: Expiry) -> Produced:
        produced = await super().produce(generation, expiry)
        produced.fields["imageUUID"] = produced.fields["maskImageUUID"]
        return produced


TASK_TYPE = TaskType.later("imageMasking", image_masking, image_masking_work,
                           schema="request.imageMasking")

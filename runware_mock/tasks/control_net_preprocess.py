"""``controlNetPreprocess``: a ControlNet guide image computed from an input image
(runware-surface.md §2.4).

Also sent as ``imageControlNetPreProcess`` (runware 0.5's docs, sdk-js, ComfyUI), and answered
under the name received. Two forms: the legacy ``inputImage`` + ``preProcessorType`` (any case:
ComfyUI sends ``Canny``, ``LineArtAnime``; the task keeps the documented value), or the modern
``model`` ``runware:controlnet-preprocess@<preprocessor>`` + ``inputs.image``. Given both, the
model and the type must agree (``incompatibleParameters``). The canny thresholds and
``includeHandsAndFaceOpenPose`` come at the top level or under ``settings``.

The result is the guide (``media/controlnet_guides.py``): edges for canny, a depth gradient,
a pose skeleton..., at the input's size unless ``width``/``height`` shrink it; JPG by default.
Its keys are ``guideImageUUID``, ``guideImageURL`` (or ``…Base64Data``/``…DataURI``) and
``inputImageUUID`` when the input is a UUID. sdk-js sends it async and polls.
"""

from __future__ import annotations

from pathlib import Path

from runware_mock.contract import model_catalog
from runware_mock.contract.errors import ApiRefusal, error
from runware_mock.contract.request_types import ControlNetPreprocessRequest
from runware_mock.handling.image_tools import Output, ToolWork, input_source, one_input
from runware_mock.handling.submission import submit
from runware_mock.handling.task_type import Context, TaskServices, TaskType, check_served_model
from runware_mock.media.controlnet_guides import Guide, canonical_preprocessor, guide
from runware_mock.media.placeholder import FORMATS
from runware_mock.protocol.envelope import Reply

_MODEL_PREFIX = "runware:controlnet-preprocess@"
# The price of the legacy form (no model): the documented example's cost (§8).
_LEGACY_MODEL = _MODEL_PREFIX + "canny"


async def control_net_preprocess(task: ControlNetPreprocessRequest, context: Context,
                                 services: TaskServices) -> Reply:
    return await submit(task, context, services, control_net_preprocess_work(task, services))


def control_net_preprocess_work(request: ControlNetPreprocessRequest,
                                services: TaskServices) -> ToolWork:
    preprocessor = _preprocessor(request)
    request["preProcessorType"] = preprocessor
    parameter, spec = one_input(request)
    settings = {**request, **request.get("settings", {})}
    output_format = request["outputFormat"]
    wanted = Guide(preprocessor, request.get("width"), request.get("height"),
                   settings["lowThresholdCanny"], settings["highThresholdCanny"],
                   settings["includeHandsAndFaceOpenPose"], output_format,
                   request["outputQuality"])
    media = services.media

    def made(path: Path) -> Output:
        return Output(lambda: guide(path.read_bytes(), wanted))

    price = model_catalog.model(request.get("model", _LEGACY_MODEL)).price
    return ToolWork(request, media, input_source(media, parameter, spec), made,
                    prefix="guideImage",
                    extension=FORMATS[output_format][1], describe=repr(wanted),
                    cost=price.of())


def _preprocessor(request: ControlNetPreprocessRequest) -> str:
    """The documented preprocessor the task asks for, by its type or its model."""
    asked = request.get("preProcessorType")
    if "model" not in request:
        if asked is None:
            raise ApiRefusal(error("missingParameter", "Missing required parameter: "
                                   "preProcessorType (or a model runware:controlnet-preprocess@"
                                   "<preprocessor>).", parameter="preProcessorType",
                                   type="string"))
        return asked
    check_served_model("controlNetPreprocess", request["model"])
    by_model = canonical_preprocessor(request["model"].removeprefix(_MODEL_PREFIX))
    assert by_model is not None, request["model"]
    if asked is not None and asked != by_model:
        raise ApiRefusal(error(
            "incompatibleParameters", f"preProcessorType {asked!r} and model "
            f"{request['model']!r} ask for different guides: give one of them.",
            parameter="preProcessorType", type="string", allowed_values=[by_model]))
    return by_model


TASK_TYPE = TaskType.later("controlNetPreprocess", control_net_preprocess,
                           control_net_preprocess_work, schema="request.controlNetPreprocess",
                           aliases=("imageControlNetPreProcess",))

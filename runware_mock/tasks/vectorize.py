"""``vectorize``: an SVG tracing an input image (runware-surface.md §2.3).

The model is one the catalog lists for vectorize (``contract/models/vectorize.toml``), else
``invalidModel``; absent, ``recraft:1@1``. The input is ``inputs.image`` (or the legacy
``inputImage``): a URL, an upload's UUID, a data URI or base64. The Recraft V4 vector models
also draw from text: ``positivePrompt`` with ``width`` and ``height`` (one of their sizes) and
no image, traced from a picture the emulator draws for the prompt and ``--seed``.

The result is a well-formed SVG (``media/svg_tracing.py``): the input's size unless ``width``/
``height`` ask another, in ``providerSettings.recraft.colors`` when given, on its
``backgroundColor``; ``outputFormat`` is SVG (any case). It carries ``imageUUID`` (runware 0.5
counts a result only with it) and one key per ``outputType``. ``deliveryMethod`` sync (the
default) answers the result, async acknowledges and the result is polled.
"""

from __future__ import annotations

from pathlib import Path

from runware_mock.contract import model_catalog
from runware_mock.contract.errors import ApiRefusal, error
from runware_mock.contract.request_types import VectorizeRequest
from runware_mock.handling.image_tools import Output, Source, ToolWork, input_source, one_input
from runware_mock.handling.submission import submit
from runware_mock.handling.task_type import Context, TaskServices, TaskType, check_served_model
from runware_mock.media.placeholder import Picture
from runware_mock.media.svg_tracing import Tracing, vectorize
from runware_mock.protocol.envelope import Reply


async def vectorize_task(task: VectorizeRequest, context: Context,
                         services: TaskServices) -> Reply:
    return await submit(task, context, services, vectorize_work(task, services))


def vectorize_work(request: VectorizeRequest, services: TaskServices) -> ToolWork:
    check_served_model("vectorize", request["model"])
    model = model_catalog.model(request["model"])
    details = model.family.details
    width, height = request.get("width"), request.get("height")
    if details["from_text"] and (width or height) and f"{width}x{height}" not in details["sizes"]:
        raise ApiRefusal(error(
            "invalidDimensions", f"{model.name} makes {', '.join(details['sizes'])} only, not "
            f"{width}x{height}.", parameter="width", type="integer",
            allowed_values=list(details["sizes"])))
    recraft = request.get("providerSettings", {}).get("recraft", {})
    background = recraft.get("backgroundColor")
    palette = tuple(tuple(colour["rgb"]) for colour in recraft.get("colors", ()) if "rgb" in colour)
    backdrop = tuple(background["rgb"]) if background and "rgb" in background else None
    tracing = Tracing(width, height, palette, backdrop)
    source = _source(request, services, details["from_text"], model.name)

    def made(path: Path) -> Output:
        return Output(lambda: vectorize(path.read_bytes(), tracing))

    return ToolWork(request, services.media, source, made, prefix="image", extension="svg",
                    describe=repr(tracing), cost=model.price.of())


def _source(request: VectorizeRequest, services: TaskServices, from_text: bool,
            name: str) -> Source:
    """How the picture to trace is found: the input, or (a V4 vector model given a prompt and
    no image) a picture drawn for the prompt."""
    media = services.media
    has_input = "inputImage" in request or "image" in request.get("inputs", {})
    if not has_input and from_text and request.get("positivePrompt"):
        width, height = request.get("width", 1024), request.get("height", 1024)
        picture = Picture(width, height, "PNG", 95, services.settings.seed,
                          (request["positivePrompt"], f"model {request['model']}"))

        async def drawn() -> Path:
            return await media.images.picture(picture)

        return drawn
    if not has_input and from_text:
        raise ApiRefusal(error("missingParameter", f"Missing required parameter: inputs.image "
                               f"(or positivePrompt: {name} also vectorizes from text).",
                               parameter="inputs.image", type="string"))
    return input_source(media, *one_input(request))


TASK_TYPE = TaskType.later("vectorize", vectorize_task, vectorize_work,
                           schema="request.vectorize")

"""``3dInference``: a 3D model made from an input image, or from a prompt (runware-surface.md
§2.7).

The model is one the catalog lists for 3dInference (``contract/models/three_d.toml``), else
``invalidModel``; what it needs is its family's ``needs``: ``inputs`` (TRELLIS.2),
``positivePrompt`` and ``inputs`` (SAM 3D), or either (Rodin, Meshy, Hunyuan3D, Tripo), else
``missingParameter``. The picture the mesh is made from is ``inputs.image``, else the first of
``inputs.images``, else of ``inputs.referenceImages`` (every image input is fetched and must
decode; ``mask`` and ``meshFile`` are taken as given); with none, it is a picture generated
from the prompt and the seed, as imageInference draws one. The mesh is a relief of that
picture (``media.glb``) in ``outputFormat`` (GLB by default; OBJ, FBX, STL, USDZ, 3MF, PLY; any
case). ``deliveryMethod`` async (the default) acknowledges at once; sync (sdk-js) answers the
finished result.

A result is ``{taskType, taskUUID, status, outputs: {files: [{uuid, url}]}, seed, cost?}``;
the file is served at its ``url`` (``/media/<uuid>.<ext>``), made at its first download.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from runware_mock.contract import model_catalog
from runware_mock.contract.errors import ApiRefusal, error
from runware_mock.contract.request_types import ThreeDInferenceRequest
from runware_mock.engine.lifecycle import Expiry, Generation, Produced
from runware_mock.handling.image_results import image_input
from runware_mock.handling.submission import submit
from runware_mock.handling.task_type import (
    Context,
    TaskServices,
    TaskType,
    check_served_model,
    without_inline_data,
)
from runware_mock.media import glb
from runware_mock.media.facade import Media
from runware_mock.media.made_files import write_whole
from runware_mock.media.placeholder import Picture
from runware_mock.protocol.envelope import Reply

# The side of the picture generated from a prompt, when no image is given.
_PROMPT_PICTURE_SIDE = 512
SEEDS = 2**63  # the schema's largest seed is 2**63 - 1: a seed sent comes back as sent


async def three_d_inference(task: ThreeDInferenceRequest, context: Context,
                            services: TaskServices) -> Reply:
    _check(task)
    return await submit(task, context, services, three_d_work(task, services))


def three_d_work(request: ThreeDInferenceRequest, services: TaskServices) -> ThreeDWork:
    return ThreeDWork(request, services.media)


def _check(task: ThreeDInferenceRequest) -> None:
    """What the schema cannot say: the model against the catalog, and what it needs."""
    check_served_model("3dInference", task["model"])
    needs = model_catalog.model(task["model"]).family.details.get("needs", [])
    has_inputs = any(task.get("inputs", {}).get(name) for name in ("image", "images",
                                                                  "referenceImages"))
    for need in needs:
        if need == "inputs" and not has_inputs:
            raise ApiRefusal(error(
                "missingParameter", f"Missing required parameter: inputs.image. "
                f"{task['model']} makes a 3D model from an image (inputs.image, inputs.images "
                "or inputs.referenceImages).", parameter="inputs.image", type="string"))
        if need == "positivePrompt" and "positivePrompt" not in task:
            raise ApiRefusal(error(
                "missingParameter", f"Missing required parameter: positivePrompt. "
                f"{task['model']} needs a prompt naming the object to make.",
                parameter="positivePrompt", type="string"))
        if need == "prompt-or-inputs" and not has_inputs and "positivePrompt" not in task:
            raise ApiRefusal(error(
                "missingParameter", "Missing required parameter: positivePrompt (or "
                f"inputs.image). {task['model']} makes a 3D model from a prompt or an image.",
                parameter="positivePrompt", type="string"))


def _image_specs(request: ThreeDInferenceRequest) -> list[tuple[str, str]]:
    """(parameter, input) of every image the request names, the mesh's picture first."""
    inputs = request.get("inputs", {})
    found = [("inputs.image", inputs["image"])] if "image" in inputs else []
    for name in ("images", "referenceImages"):
        found += [(f"inputs.{name}.{index}", spec)
                  for index, spec in enumerate(inputs.get(name, []))]
    return found


class ThreeDWork:
    """The engine's ``Work`` for one 3dInference task: the images fetched and checked, then
    each result's file published, made when first needed."""

    def __init__(self, request: ThreeDInferenceRequest, media: Media) -> None:
        self._request = request
        self._media = media
        self._picture: Path | None = None

    def measured_now(self) -> float | None:
        return None if _image_specs(self._request) else 0.0

    async def measure(self) -> float:
        for index, (parameter, spec) in enumerate(_image_specs(self._request)):
            path, _ = await image_input(self._media, parameter, spec)
            if index == 0:
                self._picture = path
        return 0.0

    async def produce(self, generation: Generation, expiry: Expiry) -> Produced:
        request = self._request
        seed = ((request["seed"] + generation.index) % SEEDS if "seed" in request
                else generation.seed)
        output_format = request["outputFormat"]
        published = await self._media.publish_result(
            "media", request["taskUUID"], generation.index, output_format.lower(), expiry,
            lambda: self._model_file(seed, output_format))
        price = model_catalog.model(request["model"]).price
        return Produced({"outputs": {"files": [{"uuid": published.uuid, "url": published.url}]},
                         "seed": seed}, cost=price.of(), file=("media", published.uuid))

    async def _model_file(self, seed: int, output_format: str) -> Path:
        picture = self._picture or await self._media.images.picture(Picture(
            _PROMPT_PICTURE_SIDE, _PROMPT_PICTURE_SIDE, "PNG", 95, seed,
            (self._request.get("positivePrompt", ""), f"model {self._request['model']}")))
        key = hashlib.sha256(f"{picture.name}|{output_format}".encode()).hexdigest()
        name = f"model-{key[:32]}.{output_format.lower()}"
        return await self._media.made.file(name, lambda path: write_whole(
            path, lambda: glb.model(picture.read_bytes(), output_format)))

    def forget_inline_data(self) -> None:
        if "inputs" in self._request:
            inputs = without_inline_data(self._request["inputs"])
            for name in ("images", "referenceImages"):
                if name in inputs:
                    inputs[name] = list(without_inline_data(
                        {str(i): spec for i, spec in enumerate(inputs[name])}).values())
            self._request["inputs"] = inputs


TASK_TYPE = TaskType.later("3dInference", three_d_inference, three_d_work,
                           schema="request.3dInference")

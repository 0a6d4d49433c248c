"""``modelUpload``: add a model to the API key's organization under an AIR, then use it.

The request's fields and bounds are the model-upload page's (runware-surface.md §2.10;
``request.modelUpload``). The AIR must be ``source:id@version`` under a source the organization
owns (``--air-source``: by default ``qatests``, the source of the SDKs' own example), else
``unsupportedAirSource``; a second upload under the same AIR updates the model, but its ``type``
cannot change (``conflictModelType``). ``type`` belongs to checkpoints and embeddings only, and
a ControlNet needs its ``conditioning``.

The model is kept for the API key that uploaded it, in the store (it survives restarts), once
the upload is accepted: from then on ``modelSearch`` finds it for that key, and an uploaded
checkpoint is a ``model`` imageInference takes (an open-weights checkpoint, priced and
validated as an unlisted CivitAI one: docs/models.md). No file is downloaded: the emulator has
no weights to run.

The answer is the documented stream of status items ``{taskType, taskUUID, status, message,
air}``, ``validated`` → ``downloaded`` → ``optimized`` → ``stored`` → ``ready``, which the SDKs
wait through until ``ready``. Over WebSocket the first four answer the request and ``ready``
follows in a frame of its own when the upload finishes (the task's latency): @runware/sdk-js
reads the first item of each frame; an upload finished before its answer (``--latency
instant``) answers ``ready`` alone. Over REST (or with ``--no-push-results``) the request is
answered with all five once the upload is ready. getResponse reports the stage reached.
"""

from __future__ import annotations

import asyncio
from typing import Any

from runware_mock.contract import model_catalog
from runware_mock.contract.errors import ApiRefusal, error
from runware_mock.contract.request_types import ModelUploadRequest
from runware_mock.engine.lifecycle import SUCCESS, Expiry, Generation, Produced, Task
from runware_mock.handling.submission import accept_committed, results
from runware_mock.handling.task_type import Context, TaskServices, TaskType
from runware_mock.protocol.envelope import Reply, succeeded

# The statuses before ``ready``, in the order they are reported.
STAGES = ("validated", "downloaded", "optimized", "stored")
READY = "ready"
_MESSAGES = {"validated": "Model upload request validated.",
             "downloaded": "Model file downloaded.",
             "optimized": "Model optimized for inference.",
             "stored": "Model stored.",
             READY: "Model uploaded and ready for inference."}
# Which categories take ``type``, and the types each allows (@runware/sdk-js adds pix2pix).
TYPES = {"checkpoint": ("base", "inpainting", "refiner", "pix2pix"),
         "embeddings": ("positive", "negative")}
# The SDKs' own fields, sent on the wire and not part of the model.
_NOT_KEPT = ("taskType", "taskUUID", "retry", "customTaskUUID")


async def model_upload(task: ModelUploadRequest, context: Context,
                       services: TaskServices) -> Reply:
    _check(task, context.owner, services)
    accepted = await accept_committed(task, context, services, UploadWork(task))
    services.accounts.keep_model(context.owner, _spec(task))
    stages = succeeded(*(_item(accepted.task_type, accepted.sent_uuid, stage, task["air"])
                         for stage in STAGES))
    if context.transport == "websocket" and services.settings.push_results:
        # ``ready`` is pushed to the session when the upload finishes; one that finished
        # already (``--latency instant``) answers ``ready`` alone, which every SDK waits for.
        return results(accepted, services) if accepted.finished else stages
    try:
        async with asyncio.timeout(services.settings.sync_timeout):
            await services.engine.wait_finished(accepted)
    except TimeoutError:
        return stages  # still going: getResponse reports ``ready`` later
    stages.extend(results(accepted, services))
    return stages


def _check(task: ModelUploadRequest, owner: str, services: TaskServices) -> None:
    air = model_catalog.parse_air(task["air"])
    if air is None:
        raise ApiRefusal(error("invalidAir", f"Invalid AIR {task['air'][:100]!r}: an AIR is "
                               "source:id@version.", parameter="air", type="string"))
    sources = services.settings.air_sources
    if air.source not in sources:
        raise ApiRefusal(error(
            "unsupportedAirSource", f"The AIR source {air.source!r} does not exist in this "
            f"organization: it owns {', '.join(sources) or 'no source'} (--air-source).",
            parameter="air", type="string", allowed_values=list(sources)))
    category, kind = task["category"], task.get("type")
    allowed = TYPES.get(category, ())
    if kind is not None and kind not in allowed:
        raise ApiRefusal(error(
            "unsupportedType", f"type {kind!r} does not apply to a {category} model"
            + (f": use one of {', '.join(allowed)}." if allowed else "."),
            parameter="type", type="string", allowed_values=list(allowed)))
    if category == "controlnet" and "conditioning" not in task:
        raise ApiRefusal(error("missingParameter", "Missing required parameter: conditioning "
                               "(a controlnet model's).", parameter="conditioning",
                               type="string"))
    kept = services.accounts.uploaded(owner, task["air"])
    if kept is not None and kept.get("type") != kind:
        raise ApiRefusal(error(
            "conflictModelType", f"The model {task['air']} was uploaded with type "
            f"{kept.get('type')!r}: an update cannot change its type.", parameter="type",
            type="string"))


def _spec(task: ModelUploadRequest) -> dict[str, Any]:
    """The model as modelSearch reports it: the upload's fields, the documented defaults."""
    spec = {name: value for name, value in task.items() if name not in _NOT_KEPT}
    spec["defaultCFG"] = task.get("defaultCFGScale", task.get("defaultGuidanceScale",
                                                              task["defaultCFG"]))
    return spec


def _item(task_type: str, task_uuid: str, status: str, air: str) -> dict[str, Any]:
    return {"taskType": task_type, "taskUUID": task_uuid, "status": status,
            "message": _MESSAGES[status], "air": air}


def upload_item(services: TaskServices, task: Task, generation: Generation) -> dict[str, Any]:
    """``ready`` once the upload finished, else the stage its progress has reached."""
    if generation.status == SUCCESS:
        return _item(task.task_type, task.sent_uuid, READY, task.request["air"])
    progress = services.engine.progress(task, generation)
    stage = STAGES[min(progress * len(STAGES) // 100, len(STAGES) - 1)]
    return _item(task.task_type, task.sent_uuid, stage, task.request["air"])


class UploadWork:
    """The engine's ``Work`` of an upload: nothing to fetch, one result, free."""

    def __init__(self, request: ModelUploadRequest) -> None:
        self._air = request["air"]

    def measured_now(self) -> float | None:
        return 0.0

    async def measure(self) -> float:
        return 0.0

    async def produce(self, generation: Generation, expiry: Expiry) -> Produced:
        return Produced({"air": self._air, "message": _MESSAGES[READY]})

    def forget_inline_data(self) -> None:
        """An upload names its file by URL: nothing inline."""


def upload_work(request: ModelUploadRequest, services: TaskServices) -> UploadWork:
    return UploadWork(request)


TASK_TYPE = TaskType.later("modelUpload", model_upload, upload_work,
                           schema="request.modelUpload", result_item=upload_item)

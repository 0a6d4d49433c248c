"""``training``: a style LoRA trained from a ZIP of images (runware-surface.md §2.12).

The model is one the catalog lists for training (``contract/models/training.toml``), else
``invalidModel``. Training is async only: ``deliveryMethod`` sync is ``unsupportedDeliveryMethod``
(runware 0.5 refuses it, sdk-js forces async); the ack comes at once, then getResponse reports
``processing`` with ``progress`` until ``success`` or ``error`` (or the webhook, or a pushed
frame, tells it).

``inputs.dataset`` is a ZIP (a URL, an upload's UUID, a data URI or base64) fetched like every
input (an unreachable host gets a stand-in ZIP of 10 pictures with ``--unreachable-inputs
stand-in``); it must hold 10 to 50 images (``media/datasets.py`` counts them), else the task
fails with ``invalidDataset`` naming ``inputs.dataset``.

``importModel`` imports the trained LoRA for the API key under its ``air``, which must be
``source:id@version`` under a source the organization owns (``--air-source``), as modelUpload's:
once the training succeeds, modelSearch finds it for that key, and, imported as a checkpoint
(Exactly's and runware 0.5's README's trainings are, unless importModel says otherwise), it is
a ``model`` imageInference takes (``handling/accounts.py``).

A result is ``{taskType, taskUUID, status, outputs: {files: [{uuid, url}]}, air?, cost?}``: the
LoRA as a safetensors file (its header's ``__metadata__`` names the base model, the trigger
word, the steps and the learning rate), served at its ``url``, the same bytes for the same
request and ``--seed``; ``air`` when the request imports it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from runware_mock.contract import model_catalog
from runware_mock.contract.errors import ApiRefusal, error
from runware_mock.contract.request_types import TrainingRequest
from runware_mock.engine.lifecycle import Expiry, Generation, Produced, WorkFailed
from runware_mock.handling.accounts import Accounts
from runware_mock.handling.input_failures import inputs_fail_the_task
from runware_mock.handling.submission import submit
from runware_mock.handling.task_type import (
    Context,
    TaskServices,
    TaskType,
    check_served_model,
    without_inline_data,
)
from runware_mock.media.datasets import DatasetError, lora_file, read_dataset
from runware_mock.media.facade import Media
from runware_mock.media.file_store import REQUESTER
from runware_mock.media.made_files import write_whole
from runware_mock.protocol.envelope import Reply

# How many images a dataset holds (runware-surface.md §2.12: "a ZIP URL with 10-50 images").
FEWEST_IMAGES, MOST_IMAGES = 10, 50
DATASET = "inputs.dataset"


async def training(task: TrainingRequest, context: Context, services: TaskServices) -> Reply:
    check_served_model("training", task["model"])
    if "importModel" in task:
        _check_import(task["importModel"]["air"], services.settings.air_sources)
    return await submit(task, context, services, training_work(task, services))


def training_work(request: TrainingRequest, services: TaskServices) -> TrainingWork:
    # The key the task runs as (set while its handler runs, and while a restart rebuilds it):
    # the one the trained model is imported for.
    return TrainingWork(request, services.media, services.accounts, services.settings.seed,
                        REQUESTER.get())


def _check_import(air: str, sources: tuple[str, ...]) -> None:
    """The AIR a trained model is imported under, as modelUpload checks its own."""
    parsed = model_catalog.parse_air(air)
    if parsed is None:
        raise ApiRefusal(error("invalidAir", f"Invalid AIR {air[:100]!r}: an AIR is "
                               "source:id@version.", parameter="importModel.air",
                               type="string"))
    if parsed.source not in sources:
        raise ApiRefusal(error(
            "unsupportedAirSource", f"The AIR source {parsed.source!r} does not exist in this "
            f"organization: it owns {', '.join(sources) or 'no source'} (--air-source).",
            parameter="importModel.air", type="string", allowed_values=list(sources)))


def check_dataset_size(images: int) -> None:
    """A dataset of 10 to 50 images, else the task fails naming ``inputs.dataset``."""
    if not FEWEST_IMAGES <= images <= MOST_IMAGES:
        raise WorkFailed(error(
            "invalidDataset", f"{DATASET} holds {images} image{'s' * (images != 1)}: a "
            f"training dataset holds {FEWEST_IMAGES} to {MOST_IMAGES}.", parameter=DATASET,
            type="string", min=FEWEST_IMAGES, max=MOST_IMAGES))


def imported_spec(request: TrainingRequest, url: str) -> dict[str, Any]:
    """The trained model as the key's models keep it (modelUpload's fields)."""
    details = model_catalog.model(request["model"]).family.details
    spec: dict[str, Any] = {"private": True, "category": details.get("category", "lora"),
                            "format": "safetensors", **request["importModel"],
                            "downloadURL": url}
    architecture = details.get("architecture")
    if architecture is not None:
        spec.setdefault("architecture", architecture)
    if "triggerWord" in request:
        spec["positiveTriggerWords"] = request["triggerWord"]
    return spec


def lora_metadata(request: TrainingRequest, images: int) -> dict[str, str]:
    """The safetensors header's ``__metadata__`` (strings only, as the format asks)."""
    metadata = {"format": "pt", "ss_network_module": "networks.lora",
                "ss_base_model": request["model"], "ss_num_images": str(images)}
    for name, key in (("triggerWord", "ss_trigger_word"), ("trainingSteps", "ss_steps"),
                      ("learningRate", "ss_learning_rate")):
        if name in request:
            metadata[key] = str(request[name])  # type: ignore[literal-required]
    return metadata


class TrainingWork:
    """The engine's ``Work`` for one training: the dataset fetched and counted, then the LoRA
    published (and imported, when asked)."""

    def __init__(self, request: TrainingRequest, media: Media, accounts: Accounts, seed: int,
                 owner: str | None) -> None:
        self._request = request
        self._media = media
        self._accounts = accounts
        self._seed = seed
        self._owner = owner
        self._images: int | None = None

    def measured_now(self) -> float | None:
        return None  # the dataset is fetched first (measure)

    async def measure(self) -> float:
        with inputs_fail_the_task():
            path = await self._media.file_input(DATASET, self._request["inputs"]["dataset"])
        try:
            dataset = await asyncio.to_thread(read_dataset, path)
        except DatasetError as exc:
            raise WorkFailed(error("invalidDataset", f"{DATASET} {exc}: a training dataset "
                                   f"is a ZIP of {FEWEST_IMAGES} to {MOST_IMAGES} images.",
                                   parameter=DATASET, type="string")) from exc
        check_dataset_size(dataset.images)
        self._images = dataset.images
        return 0.0

    async def produce(self, generation: Generation, expiry: Expiry) -> Produced:
        assert self._images is not None, "produced before measured"
        request = self._request
        metadata = lora_metadata(request, self._images)
        published = await self._media.publish_result(
            "media", request["taskUUID"], generation.index, "safetensors", expiry,
            lambda: self._lora(metadata, generation.seed))
        fields: dict[str, Any] = {"outputs": {"files": [{"uuid": published.uuid,
                                                         "url": published.url}]}}
        if "importModel" in request:
            fields["air"] = request["importModel"]["air"]
            if self._owner is not None:
                self._accounts.keep_model(self._owner, imported_spec(request, published.url))
        price = model_catalog.model(request["model"]).price
        return Produced(fields, cost=price.of(), file=("media", published.uuid))

    async def _lora(self, metadata: dict[str, str], seed: int) -> Path:
        name = f"lora-{self._request['taskUUID']}-{seed}.safetensors"
        return await self._media.made.file(name, lambda path: write_whole(
            path, lambda: lora_file(metadata, seed)))

    def forget_inline_data(self) -> None:
        self._request["inputs"] = without_inline_data(self._request["inputs"])


TASK_TYPE = TaskType.later("training", training, training_work, schema="request.training")

"""tasks.training: what its schema cannot say (a dataset of 10 to 50 images), the imported
model's fields, the LoRA's metadata."""

from __future__ import annotations

from typing import Any

import pytest

from runware_mock.engine.lifecycle import WorkFailed
from runware_mock.tasks.training import check_dataset_size, imported_spec, lora_metadata

IMPORTED = {"air": "qatests:1@1", "name": "Watercolour", "uniqueIdentifier": "wc",
            "version": "1"}


@pytest.mark.parametrize("images", [10, 30, 50])
def test_a_dataset_of_10_to_50_images_trains(images):
    check_dataset_size(images)  # runware-surface.md §2.12: "10-50 images"


@pytest.mark.parametrize("images", [0, 9, 51])
def test_any_other_count_fails_naming_the_dataset(images):
    with pytest.raises(WorkFailed) as failed:
        check_dataset_size(images)
    problem = failed.value.problem
    assert (problem.code, problem.parameter, problem.min, problem.max) == (
        "invalidDataset", "inputs.dataset", 10, 50)
    assert str(images) in problem.message


def request(**fields: Any) -> dict[str, Any]:
    return {"taskType": "training", "taskUUID": "00000000-0000-4000-8000-000000000001",
            "model": "runware:flux-1-dev@style-lora-training",
            "inputs": {"dataset": "x"}, **fields}


def test_an_imported_model_is_a_private_lora_of_its_base_architecture():
    spec = imported_spec(request(importModel=IMPORTED, triggerWord="wtrclr"),  # type: ignore[arg-type]
                         "http://127.0.0.1/media/x.safetensors")
    assert spec | IMPORTED == spec
    assert (spec["category"], spec["private"], spec["architecture"], spec["format"]) == (
        "lora", True, "flux1d", "safetensors")
    assert (spec["positiveTriggerWords"], spec["downloadURL"]) == (
        "wtrclr", "http://127.0.0.1/media/x.safetensors")


def test_what_the_request_says_wins_and_no_architecture_is_invented():
    sent = request(model="runware:z-image@style-lora-training",
                   importModel={**IMPORTED, "category": "checkpoint", "private": False})
    spec = imported_spec(sent, "u")  # type: ignore[arg-type]
    assert (spec["category"], spec["private"]) == ("checkpoint", False)
    assert "architecture" not in spec  # Z-Image has no modelUpload architecture


def test_the_lora_metadata_holds_strings_only():
    metadata = lora_metadata(request(trainingSteps=800, learningRate=0.0004),  # type: ignore[arg-type]
                             12)
    assert metadata["ss_steps"] == "800" and metadata["ss_learning_rate"] == "0.0004"
    assert metadata["ss_num_images"] == "12" and "ss_trigger_word" not in metadata
    assert all(isinstance(value, str) for value in metadata.values())


def test_exactlys_training_imports_a_checkpoint_imageinference_runs():
    # runware 0.5's README runs the model runware:illustrative@training made as a model.
    for model in ("runware:illustrative@training", "exactly:illustrative@training"):
        spec = imported_spec(request(model=model, importModel=IMPORTED), "u")  # type: ignore[arg-type]
        assert spec["category"] == "checkpoint", model

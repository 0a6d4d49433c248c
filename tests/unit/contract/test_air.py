"""The AIR grammar and the model resolver (contract/model_catalog.py), against
runware-surface.md section 6: `source:id@version`; curated ids and versions may be words
(`runware:controlnet-preprocess@canny`, `klingai:kling-video@3-pro`, `openai:gpt@5.5`); any
`civitai:<modelId>@<versionId>` is a model; a key's uploads are models for that key."""

from __future__ import annotations

import pytest

from runware_mock.contract import model_catalog
from runware_mock.contract.model_catalog import Air, parse_air


@pytest.mark.parametrize(("text", "parts"), [
    ("runware:100@1", ("runware", "100", "1")),
    ("civitai:133005@782002", ("civitai", "133005", "782002")),
    ("runware:controlnet-preprocess@canny", ("runware", "controlnet-preprocess", "canny")),
    ("klingai:kling-video@3-pro", ("klingai", "kling-video", "3-pro")),
    ("openai:gpt@5.5", ("openai", "gpt", "5.5")),
    ("alibaba:qwen@3-tts-1.7b-base", ("alibaba", "qwen", "3-tts-1.7b-base")),
    ("qatests:68487@08629", ("qatests", "68487", "08629")),
    ("runware:exactly-illustrative@my-trained-style",
     ("runware", "exactly-illustrative", "my-trained-style")),
])
def test_an_air_is_source_id_and_version(text: str, parts: tuple[str, str, str]) -> None:
    assert parse_air(text) == Air(*parts)


@pytest.mark.parametrize("text", [
    "runware:100", "100@1", "runware100@1", ":100@1", "runware:@1", "runware:100@",
    "runware:1 00@1", "run ware:100@1", "runware:100@1@2", "runware:100:1@1", "", "runware:100@1\n",
    "x" * 300 + ":1@1", 5, None, ["runware:100@1"],
])
def test_anything_else_is_not_an_air(text: object) -> None:
    assert parse_air(text) is None


def test_any_civitai_model_is_an_open_weights_image_model() -> None:
    found = model_catalog.model_for("civitai:987654@3210")
    assert found is not None and found.air == "civitai:987654@3210"
    assert (found.task_type, found.family.schema) == (
        "imageInference", "request.imageInference.open-weights.sdxl")
    assert model_catalog.model("civitai:1@1").family == found.family
    # CivitAI's ids are numbers: a word names no CivitAI model.
    assert model_catalog.model_for("civitai:juggernaut@1") is None
    # A CivitAI model the catalog lists keeps its family (SDXL).
    assert model_catalog.model("civitai:101055@128078").family.name == "sdxl"
    assert model_catalog.model_for("nowhere:1@1") is None
    with pytest.raises(KeyError):
        model_catalog.model("nowhere:1@1")


def test_a_keys_own_models_are_found_for_that_key_only() -> None:
    upload = model_catalog.Model("acme:7@1", "Acme checkpoint",
                                 model_catalog.model("runware:101@1").family,
                                 model_catalog.Price("per_megapixel", 0.001))

    def uploads(air: str, owner: str) -> model_catalog.Model | None:
        return upload if (air, owner) == ("acme:7@1", "key-a") else None

    model_catalog.add_owner_models(uploads)
    try:
        assert model_catalog.model_for("acme:7@1", "key-a") is upload
        assert model_catalog.model_for("acme:7@1", "key-b") is None
        assert model_catalog.model_for("acme:7@1") is None
        # The catalog comes first: a key cannot shadow a listed model.
        assert model_catalog.model_for("runware:101@1", "key-a") is model_catalog.model(
            "runware:101@1")
    finally:
        model_catalog.remove_owner_models(uploads)
    assert model_catalog.model_for("acme:7@1", "key-a") is None


def test_every_model_the_sdk_readmes_add_names_its_source() -> None:
    data = model_catalog._load()
    readme_models = ["openai:2@3", "google:3@0", "bytedance:1@1", "elevenlabs:1@1",
                     "runware:qwen3-thinking@1", "civitai:133005@782002",
                     "civitai:943001@1055701"]
    docs_models = ["google:2@0", "google:3@1", "sourceful:1@0", "bfl:1@1", "openai:2@2"]
    for air in readme_models:
        assert "README" in data["models"][air]["source"] or "examples/" in data["models"][air][
            "source"], air
    for air in docs_models:
        assert data["models"][air]["source"].startswith("runware.ai/docs/"), air
    assert all(spec.get("source") for spec in data["open"].values())

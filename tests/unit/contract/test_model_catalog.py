"""The model catalog and costs in process (contract/model_catalog.py), against the documented
prices (docs/images.md, docs/text.md, docs/audio-video.md, the seed) and the reference list of
models; read afresh too, as its cached copy was read at import.
(Expected values come from the documentation, never from the code under test;
`python3 dev.py mutate` runs these against its mutants.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from runware_mock.contract import model_catalog

AVATAR = "klingai:avatar@2.0-standard"


# --- catalog and cost (docs/images.md, docs/text.md, docs/audio-video.md, seed) -----------------

@pytest.mark.parametrize(("air", "measures", "cost"), [
    (AVATAR, {"seconds": 12.266}, 0.5397),
    ("klingai:avatar@2.0-pro", {"seconds": 2.0}, 0.174),
    ("runware:400@3", {"megapixels": 1024 * 1024 / 1e6}, 0.00416),
    ("inworld:tts@1.5-max", {"characters": 2000}, 0.1),
    ("alibaba:qwen@3.5-27b", {"tokens": 5000}, 0.01),
    ("pixverse:1@5", {"seconds": 5}, 0.299)])
def test_documented_costs(air: str, measures: dict[str, float], cost: float) -> None:
    assert model_catalog.model(air).price.of(**measures) == cost


def test_a_cost_is_rounded_to_five_decimals() -> None:
    assert model_catalog.Price("per_1k_tokens", 0.002).of(tokens=1) == 0.0
    assert model_catalog.Price("per_1k_tokens", 0.002).of(tokens=7) == 0.00001
    assert model_catalog.Price("per_result", 0.25).of() == 0.25


def test_the_catalog_knows_its_models_families_and_task_types() -> None:
    model = model_catalog.model(AVATAR)
    assert (model.name, model.task_type) == ("KlingAI Avatar 2.0 Standard", "videoInference")
    family = model.family
    assert (family.schema, family.output) == ("request.videoInference.klingai-avatar-2.0",
                                              "video")
    # The seed's avatar inputs: 10 MB portraits of at least 300 px, 2-300 s of 5 MB audio.
    assert family.image == model_catalog.ImageInputLimits(("JPEG", "PNG", "WEBP"), 10_485_760, 300,
                                                    2.5)
    assert (family.audio.min_seconds, family.audio.max_seconds) == (2.0, 300.0)
    assert family.audio.max_bytes == 5_242_880
    assert model_catalog.family_of(AVATAR) is family
    assert model_catalog.family_of("nope") is None and model_catalog.family_of(3) is None
    assert model_catalog.airs("videoInference")[:2] == ("klingai:avatar@2.0-standard",
                                                  "klingai:avatar@2.0-pro")
    assert set(model_catalog.airs()) == set(model_catalog.models())
    assert {"videoInference", "imageInference", "audioInference", "textInference",
            "upscale"} <= set(model_catalog.task_types_with_models())
    with pytest.raises(KeyError):
        model_catalog.model("unknown:0@0")
    # A family's other keys are its details (the text-to-video family: durations 1-20).
    assert model_catalog.model("luma:ray@3.2").family.details["video"]["duration_range"] == [1, 20]
    assert "task_type" not in model_catalog.model("luma:ray@3.2").family.details


def test_a_family_without_typical_seconds_is_refused() -> None:
    with pytest.raises(ValueError, match="has no typical_seconds"):
        model_catalog._family("lost", {"task_type": "x", "schema": "s", "output": "video"})


# --- the catalog and schemas read afresh (their cached copies were read at import) --------------

REFERENCE_MODELS = Path("/work/shared/reference/runware-models.tsv")


def test_the_catalog_read_afresh_holds_the_documented_models_and_prices() -> None:
    from tests import oracle
    fresh = model_catalog.models.__wrapped__()
    for air, model in fresh.items():
        row = oracle.price_for(air, model.task_type)
        assert (model.price.rule, model.price.usd) == (row.rule, row.usd), air
        assert model.air == air and model.name and model.family.typical_seconds > 0
    avatar_family = fresh[AVATAR].family
    assert avatar_family.name == "klingai-avatar-2-0"
    assert avatar_family.task_type == "videoInference"
    assert avatar_family.schema == "request.videoInference.klingai-avatar-2.0"
    assert avatar_family.output == "video" and avatar_family.typical_seconds == 300.0
    assert avatar_family.image == model_catalog.ImageInputLimits(
        ("JPEG", "PNG", "WEBP"), 10_485_760, 300, 2.5)
    assert avatar_family.audio == model_catalog.AudioInputLimits(
        ("mp3", "wav", "mov,mp4,m4a,3gp,3g2,mj2", "aac", "ogg", "flac"), 5_242_880, 2.0, 300.0)
    assert fresh["luma:ray@3.2"].family.image is None
    assert fresh["luma:ray@3.2"].family.details == {
        "typical_seconds": 90, "video": {"duration_range": [1, 20],
                                         "resolutions": ["480p", "720p", "1080p"],
                                         "default_resolution": "720p"}}


def test_the_catalog_serves_the_reference_models_of_their_task_types() -> None:
    fresh = model_catalog.models.__wrapped__()
    listed = dict(line.split("\t")[:2] for line in
                  REFERENCE_MODELS.read_text("utf-8").splitlines()[1:] if line.strip())
    served = {air: listed[air] for air in fresh if air in listed}
    assert len(served) > 280
    for air, task_type in served.items():
        assert fresh[air].task_type == task_type, air


def test_the_catalog_refuses_an_unknown_price_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    original = model_catalog._load.__wrapped__()
    broken = {"families": original["families"],
              "models": {AVATAR: {**original["models"][AVATAR],
                                  "price": {"rule": "per_frame", "usd": 1.0}}}}
    monkeypatch.setattr(model_catalog, "_load", lambda: broken)
    with pytest.raises(ValueError, match=r"unknown price rules: \['per_frame'\]"):
        model_catalog.models.__wrapped__()

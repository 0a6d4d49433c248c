"""The emulator against the oracle table (tests/oracle.toml), written from the documentation.

Every bound is tried at its four edges over REST and over the WebSocket (all of them in one
request and one frame), every catalog price is compared with the documented rate, and the
documented example costs are asked for over the wire. A disagreement between the table and the
schemas or the catalog fails naming both.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from runware_mock.contract import model_catalog, schemas
from runware_mock.contract.schemas import variants
from runware_mock.contract.validation import check_task
from runware_mock.runner import ServerThread
from tests import oracle

KEYWORDS = {"integer": ("minimum", "maximum"), "number": ("minimum", "maximum"),
            "length": ("minLength", "maxLength"), "items": ("minItems", "maxItems")}
# Bounds the schemas hold that no page documents: the emulator's own guards against abuse
# (a model id, a voice name, an emotion word), not limits a client meets in practice.
UNDOCUMENTED = {"model", "speech.voice", "speech.emotion", "settings.temperature",
                "tags[]", "capabilities[]", "retry", "outputType",
                # docs/audio-video.md names these fields, not their bounds.
                "request.audioInference.speech negativePrompt",
                "request.audioInference.music negativePrompt",
                "request.audioInference.sfx negativePrompt",
                "request.audioInference.sfx positivePrompt",
                # runware-surface.md 3.1-3.2 and 4 name these, not their bounds: how many
                # adapters a task may stack, an adapter's AIR, a scheduler's name, and the
                # legacy runware 0.5 extras (Canny thresholds, guideImages, cacheStopStep).
                "lora", "lycoris", "embeddings", "controlNet", "ipAdapters", "lora[].model",
                "lycoris[].model", "embeddings[].model", "controlNet[].model",
                "ipAdapters[].model", "refiner.model", "vae", "scheduler",
                "controlNet[].lowThresholdCanny", "controlNet[].highThresholdCanny",
                "ipAdapters[].guideImages", "ipAdapters[].weightComposition",
                "acceleratorOptions.cacheDistance", "acceleratorOptions.cacheEndStep",
                "acceleratorOptions.cacheStopStep",
                # advancedFeatures members surface 3.2 and 4 name without a bound.
                "advancedFeatures.regionalPrompting.regions",
                "advancedFeatures.fluxKontext.guidanceEndStep",
                "advancedFeatures.fluxKontext.guidanceEndStepPercentage",
                "advancedFeatures.videoCFGScale", "advancedFeatures.audioCFGScale",
                "advancedFeatures.fps", "advancedFeatures.videoNegativePrompt",
                "advancedFeatures.audioNegativePrompt", "advancedFeatures.slgLayer",
                "advancedFeatures.wanAnimate.prevSegCondFrames",
                # providerSettings members surface 3.4 names without a bound: list lengths, a
                # Bria mask's frame, Lightricks' and Sync's times.
                "providerSettings.bria.mask.frameIndex", "providerSettings.bria.mask.keyPoints",
                "providerSettings.elevenlabs.music.compositionPlan.negativeGlobalStyles",
                "providerSettings.elevenlabs.music.compositionPlan.positiveGlobalStyles",
                "providerSettings.elevenlabs.music.compositionPlan.sections",
                "providerSettings.elevenlabs.music.compositionPlan.sections[].lines",
                "providerSettings.elevenlabs.music.compositionPlan.sections[].negativeLocalStyles",
                "providerSettings.elevenlabs.music.compositionPlan.sections[].positiveLocalStyles",
                "providerSettings.ideogram.colorPalette.members",
                "providerSettings.klingai.multiPrompt", "providerSettings.lightricks.duration",
                "providerSettings.lightricks.startTime", "providerSettings.lumaai.concepts",
                "providerSettings.recraft.colors", "providerSettings.sourceful.fontInputs",
                "providerSettings.sync.segments", "providerSettings.sync.segments[].startTime",
                "providerSettings.sync.segments[].endTime",
                "providerSettings.sync.segments[].audioStartTime",
                "providerSettings.sync.segments[].audioEndTime",
                # The image and video settings keys surface 3.1 lists without a bound.
                "settings.colorPalette", "settings.colorPalette[].ratio", "settings.moodboards",
                "settings.moodboards[].strength", "settings.promptEnhance.temperature",
                "settings.promptEnhance.topP", "settings.trueCFGScale", "trueCFGScale",
                # textInference fields surface 5.2 and docs/text.md name, not bound: names and
                # ids of tools and calls, a message's tool calls, the reasoning switches.
                "messages[].id", "messages[].tools", "messages[].tools[].id",
                "messages[].tools[].name", "tools[].name", "tools[].type", "toolChoice.name",
                "settings.tools[].name", "settings.tools[].type", "settings.toolChoice.name",
                "settings.minP", "settings.repetitionPenalty", "settings.thinking",
                "settings.thinkingMode",
                # A dialogue voice's name (docs/audio-video.md: the emulator's bound, no page
                # giving one) and the tone list; modelSearch's sort (named values, surface 5.4).
                "speech.voices[]", "speech.tone", "speech.tone[]", "sort"}
@pytest.fixture(scope="module")
def oracle_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    from runware_mock.settings import Settings
    edges = len(oracle.edge_cases())
    server = ServerThread(Settings(latency="instant", push_results=False,
                                   max_tasks_per_request=edges, max_errors_per_reply=edges,
                                   data_dir=tmp_path_factory.mktemp("oracle"))).start()
    yield server
    server.stop()


# ---------------------------------------------------------------- the table against the code

def _schema_at(schema_name: str, field: str) -> dict[str, Any]:
    node = schemas.inlined(schema_name)
    for part in field.split("."):
        node = node["properties"][part.removesuffix("[]")]
        if part.endswith("[]"):
            node = node["items"]
    return node


def _keyword(node: dict[str, Any], name: str) -> Any:
    """A keyword of the node, or of the one branch of an anyOf holding it."""
    if name in node:
        return node[name]
    found = [branch[name] for branch in node.get("anyOf", ()) if name in branch]
    return found[0] if found else None


def test_the_table_agrees_with_the_schemas() -> None:
    disagreements = []
    for bound in oracle.bounds():
        node = _schema_at(bound.schema, bound.field)
        low_key, high_key = KEYWORDS[bound.kind]
        if bound.catalog:
            continue  # a family's bound: checked against the catalog below
        for key, documented in ((low_key, bound.low), (high_key, bound.high)):
            actual = _keyword(node, key)
            if documented is not None and actual != documented:
                disagreements.append(f"{bound.schema} {bound.field}: oracle.toml says {key} "
                                     f"{documented} ({bound.source}); the schema says {actual}")
    assert not disagreements, "\n".join(disagreements)


def test_the_table_agrees_with_the_catalog_families() -> None:
    for bound in (bound for bound in oracle.bounds() if bound.catalog):
        family = model_catalog.model(bound.model or oracle.bases()[bound.schema]["model"]).family
        section, key = bound.catalog.split(".")
        actual = family.details[section][key]
        assert list(actual) == [bound.low, bound.high], (
            f"{bound.label()}: oracle.toml says {bound.low}-{bound.high} ({bound.source}); the "
            f"catalog's family {family.name} says {section}.{key} = {actual}")


def _bounds_of(node: dict[str, Any]) -> dict[str, Any]:
    found = {key: node[key] for keys in KEYWORDS.values() for key in keys if key in node}
    for branch in node.get("anyOf", ()):
        found.update(_bounds_of(branch))
    return found


# The bounds of a media input, a UUID and a URL (common.json): forms, not documented limits.
FORM_GUARDS = ({"minLength": 1}, {"maxLength": 36}, {"maxLength": 8192})


def _schema_bounds() -> Iterator[tuple[str, str]]:
    """Every (schema, field) of the request schemas that holds a bound."""
    def walk(node: dict[str, Any], path: str) -> Iterator[str]:
        if _bounds_of(node) and _bounds_of(node) not in FORM_GUARDS:
            yield path
        for name, prop in node.get("properties", {}).items():
            yield from walk(prop, f"{path}.{name}" if path else name)
        if isinstance(node.get("items"), dict):
            yield from walk(node["items"], f"{path}[]")

    for name in schemas.names():
        # A variant's bounds are its base's (schemas/variants.toml): documented once.
        if name.startswith("request.") and name not in variants.specs():
            for path in walk(schemas.inlined(name), ""):
                yield name, path


def _shared_once(field: str) -> bool:
    """providerSettings (and the image and video settings) are one definition the schemas
    refer to (inference-parameters.json): a bound of it is documented once, on a schema whose
    models take it, as long as the other schemas hold the same node."""
    return field.startswith(("providerSettings.", "settings."))


def test_every_bound_of_the_schemas_is_in_the_table() -> None:
    documented = {(bound.schema, bound.field) for bound in oracle.bounds()}
    shared = {(bound.field, json.dumps(_schema_at(bound.schema, bound.field), sort_keys=True))
              for bound in oracle.bounds() if _shared_once(bound.field)}
    documented |= {(schema, field) for schema, field in _schema_bounds() if _shared_once(field)
                   and (field, json.dumps(_schema_at(schema, field), sort_keys=True)) in shared}
    missing = [f"{schema} {field}" for schema, field in _schema_bounds()
               if (schema, field) not in documented
               and not {field, f"{schema} {field}"} & UNDOCUMENTED]
    assert not missing, ("bounds in the schemas that oracle.toml does not document:\n"
                         + "\n".join(missing))


def test_the_table_agrees_with_the_catalog_prices() -> None:
    disagreements = []
    for air, model in model_catalog.models().items():
        row = oracle.price_for(air, model.task_type)
        if (model.price.rule, model.price.usd) != (row.rule, row.usd):
            disagreements.append(f"{air}: oracle.toml says {row.rule} ${row.usd} "
                                 f"({row.source}); the catalog says {model.price.rule} "
                                 f"${model.price.usd}")
    assert not disagreements, "\n".join(disagreements)


def test_the_documented_costs_are_what_the_catalog_charges() -> None:
    for row in oracle.prices():
        airs = row.models or tuple(air for air, model in model_catalog.models().items()
                                   if model.task_type in row.task_types
                                   and oracle.price_for(air, model.task_type) is row)
        assert airs, row.source
        for example in row.examples:
            measures = {key: value for key, value in example.items() if key != "cost"}
            for air in airs:
                assert model_catalog.model(air).price.of(**measures) == example["cost"], (
                    air, example, row.source)


# ---------------------------------------------------------------- the edges over the wire

def test_every_schema_bound_at_its_edges_in_process() -> None:
    """The validator alone, one schema per distinct bound (a family's bounds are the task
    modules': over the wire below, with every schema)."""
    distinct = {(edge.bound.field, edge.bound.low, edge.bound.high, edge.name): edge
                for edge in oracle.edge_cases() if not edge.bound.catalog}
    edges = list(distinct.values())
    errors = [problem.to_json() for edge in edges for problem in check_task(edge.task).errors]
    wrong = oracle.verdicts(edges, errors)
    assert not wrong, "\n".join(wrong)


def test_every_bound_at_its_edges_over_rest(oracle_server: ServerThread) -> None:
    edges = oracle.edge_cases()
    answer = httpx.post(f"{oracle_server.base_url}/v1", json=[edge.task for edge in edges],
                        headers={"Authorization": "Bearer oracle-key"}, timeout=60)
    assert answer.status_code in (200, 400), answer.text[:500]
    wrong = oracle.verdicts(edges, answer.json().get("errors", []))
    assert not wrong, "\n".join(wrong)


def test_every_bound_at_its_edges_over_the_websocket(oracle_server: ServerThread) -> None:
    edges = oracle.edge_cases()
    with connect(oracle_server.ws_url, max_size=None, open_timeout=10) as socket_:
        socket_.send(json.dumps([{"taskType": "authentication", "apiKey": "oracle-key"}]))
        assert "errors" not in json.loads(socket_.recv(30))
        socket_.send(json.dumps([edge.task for edge in edges]))
        errors: list[dict[str, Any]] = []
        acks: set[str] = set()
        # Each task gets its answer (an error, or its ack or result): read until all are in.
        pending = {edge.task["taskUUID"] for edge in edges}
        while pending - acks - {problem.get("taskUUID") for problem in errors}:
            reply = json.loads(socket_.recv(60))
            errors += reply.get("errors", [])
            acks |= {item.get("taskUUID") for item in reply.get("data", [])}
    wrong = oracle.verdicts(edges, errors)
    assert not wrong, "\n".join(wrong)


# ---------------------------------------------------------------- costs over the wire

def _run(server: ServerThread, task: dict[str, Any]) -> dict[str, Any]:
    task = {"taskUUID": str(uuid.uuid4()), "includeCost": True, **task}
    answer = httpx.post(f"{server.base_url}/v1", json=[task],
                        headers={"Authorization": "Bearer oracle-key"}, timeout=60)
    assert answer.status_code == 200, answer.text[:500]
    return answer.json()["data"][0]


def _documented(air: str, task_type: str, **measures: float) -> float:
    """The documented rate times the measure, rounded as the service reports a cost."""
    row = oracle.price_for(air, task_type)
    per = {"per_output_second": "seconds", "per_megapixel": "megapixels",
           "per_1k_characters": "characters", "per_1k_tokens": "tokens"}[row.rule]
    scale = 1000 if row.rule.startswith("per_1k") else 1
    return round(row.usd * measures[per] / scale, 5)


def test_an_image_costs_its_documented_price(oracle_server: ServerThread) -> None:
    item = _run(oracle_server, {"taskType": "imageInference", "model": "runware:400@3",
                                "positivePrompt": "a lighthouse", "width": 1024,
                                "height": 1024})
    assert item["cost"] == 0.00416  # platform: FLUX.2 klein 9B Base, $0.00416 at 1024x1024


def test_text_costs_its_documented_price_per_token(oracle_server: ServerThread) -> None:
    item = _run(oracle_server, {"taskType": "textInference", "model": "alibaba:qwen@3.5-27b",
                                "messages": [{"role": "user", "content": "word " * 3000}],
                                "settings": {"maxTokens": 2000}, "includeUsage": True})
    tokens = item["usage"]["totalTokens"]
    assert tokens > 1000
    assert item["cost"] == _documented("alibaba:qwen@3.5-27b", "textInference", tokens=tokens)


def test_speech_costs_its_documented_price_per_character(oracle_server: ServerThread) -> None:
    item = _run(oracle_server, {"taskType": "audioInference", "model": "inworld:tts@1.5-max",
                                "speech": {"text": "a" * 1000, "voice": "Ashley"}})
    assert item["cost"] == 0.05  # platform: TTS-1.5 Max, $0.05 per 1000 characters

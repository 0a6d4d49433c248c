"""The contract's JSON Schemas in process (contract/schemas): loaded, references inlined,
compiled; read afresh too, as their cached copies were read at import.
(Expected values come from the documentation, never from the code under test;
`python3 dev.py mutate` runs these against its mutants.)"""

from __future__ import annotations

from runware_mock.contract import schemas

AVATAR = "klingai:avatar@2.0-standard"


# --- schemas -------------------------------------------------------------------------------------

def test_schemas_are_loaded_inlined_and_compiled() -> None:
    assert "request.ping" in schemas.names() and "common" in schemas.names()
    assert schemas.TASK_SCHEMAS["ping"] == "request.ping"
    assert "videoInference" in schemas.MODEL_TASK_TYPES
    assert "upscale" not in schemas.MODEL_TASK_TYPES  # it has a schema of its own
    assert schemas.MODEL_SCHEMAS[AVATAR] == "request.videoInference.klingai-avatar-2.0"
    inlined = schemas.inlined("request.videoInference.klingai-avatar-2.0")
    assert "$ref" not in str(inlined)
    assert inlined["properties"]["outputQuality"]["minimum"] == 20
    assert schemas.is_valid("request.ping", {"taskType": "ping", "ping": True})
    assert not schemas.is_valid("request.ping", {"taskType": "ping", "ping": "yes"})
    assert not schemas.validator("request.ping").is_valid({"taskType": "ping", "ping": 1})
    assert schemas.resolve({"type": "string"}) == {"type": "string"}
    assert schemas.inline_refs([{"a": 1}, 2]) == [{"a": 1}, 2]


def test_the_schemas_read_afresh() -> None:
    task_schemas = schemas._task_schemas()
    assert task_schemas["getResponse"] == "request.getResponse"
    assert task_schemas["imageUpscale"] == "request.upscale"  # an alias: one schema
    assert "videoInference" not in task_schemas  # its models choose the schema
    names = schemas.names.__wrapped__()
    assert names == tuple(sorted(names)) and "response.webhook" in names
    assert "__init__" not in names
    loaded = schemas.load.__wrapped__("request.ping")
    assert loaded["properties"]["taskType"]["const"] == "ping"
    inlined = schemas.inlined.__wrapped__("request.videoInference.klingai-avatar-2.0")
    assert inlined["properties"]["ttl"]["minimum"] == 60
    assert "$ref" not in str(inlined)
    validator = schemas.validator.__wrapped__("request.ping")
    assert validator.is_valid({"taskType": "ping", "ping": True})
    assert not validator.is_valid({"taskType": "ping", "ping": 1})
    fast = schemas.fast_validator.__wrapped__("request.ping")
    assert fast({"taskType": "ping", "ping": True}) is not None
    resolved = schemas.resolve({"$ref": "common.json#/$defs/uuidV4", "description": "x"})
    assert resolved["maxLength"] == 36 and resolved["description"] == "x"
    registry = schemas.registry.__wrapped__()
    assert registry.get_or_retrieve(schemas.load("common")["$id"]).value.contents[
        "$defs"]["uuidV4"]["maxLength"] == 36


def test_inlined_references_are_their_targets() -> None:
    inlined = schemas.inlined.__wrapped__("request.videoInference.klingai-avatar-2.0")
    assert inlined["properties"]["taskUUID"]["maxLength"] == 36  # common.json's uuidV4
    assert "request.ping" in schemas._task_schemas().values()
    assert "response.pong" not in schemas._task_schemas().values()
    assert "request.videoInference.pixverse" not in schemas._task_schemas().values()

"""Issue 24: the documented parameters of videoInference (runware-surface.md 4), textInference
(5.2), audioInference (5.1), promptEnhance (5.3) and modelSearch (5.4), accepted with their
bounds, and refused where the model does not take them. In-process: the validation both
transports run (the content rule of text messages is the task type's: tests/test_parameters.py)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from runware_mock.contract.validation import check_task

WAN = "alibaba:wan@2.6"  # a model Runware runs: sampler settings
VEO = "google:3@0"  # a provider's model
KLING = "klingai:avatar@2.0-standard"
MUSIC = "elevenlabs:1@1"
GEMMA = "google:gemma@4-31b"


def task(task_type: str, **fields: Any) -> dict[str, Any]:
    return {"taskType": task_type, "taskUUID": str(uuid.uuid4()), **fields}


def video(model: str, **fields: Any) -> dict[str, Any]:
    return task("videoInference", model=model, positivePrompt="waves on a shore", **fields)


def problems(sent: dict[str, Any]) -> list[tuple[str, str]]:
    return [(found.code, str(found.parameter)) for found in check_task(sent).errors]


@pytest.mark.parametrize(("field", "value"), [
    ("lora", [{"model": "civitai:1@1", "weight": -2, "transformer": "high"}]),
    ("acceleratorOptions", {"teaCache": True, "fbCache": True, "fbCacheThreshold": 0.3}),
    ("acceleration", "medium"),
    ("scheduler", "UniPC"),
])
def test_sampler_settings_are_for_models_runware_runs(field: str, value: Any) -> None:
    assert problems(video(WAN, **{field: value})) == []
    assert problems(video(VEO, **{field: value}))[0] == ("unsupportedParameter", field)


@pytest.mark.parametrize(("field", "value"), [
    ("advancedFeatures", {"videoCFGScale": 5, "slgLayer": 9, "wanAnimate": {"mode": "move"}}),
    ("speech", {"voice": "auto", "text": "hello there", "speed": 1.5, "pitch": -50}),
    ("referenceVideos", ["https://example.com/a.mp4"]),
    ("inputAudios", ["https://example.com/a.mp3"]),
    ("settings", {"quality": "high"}),
])
def test_generic_video_fields_are_taken(field: str, value: Any) -> None:
    assert problems(video(WAN, **{field: value})) == []
    assert problems(video(VEO, **{field: value})) == []


@pytest.mark.parametrize(("fields", "expected"), [
    ({"lora": [{"model": "civitai:1@1", "transformer": "middle"}]},
     ("unsupportedTransformer", "lora.0.transformer")),
    ({"lora": [{"model": "civitai:1@1", "weight": 4.5}]}, ("invalidWeight", "lora.0.weight")),
    ({"acceleratorOptions": {"fbCacheThreshold": 1.5}},
     ("invalidFbCacheThreshold", "acceleratorOptions.fbCacheThreshold")),
    ({"speech": {"text": "x" * 201}}, ("invalidText", "speech.text")),
    ({"speech": {"text": "hi", "speed": 2}}, ("invalidSpeed", "speech.speed")),
    ({"CFGScale": 51}, ("invalidCFGScale", "CFGScale")),
])
def test_video_bounds_are_refused(fields: dict[str, Any], expected: tuple[str, str]) -> None:
    assert problems(video(WAN, **fields)) == [expected]


def test_video_provider_settings_are_the_models_own_providers() -> None:
    assert problems(video(VEO, providerSettings={
        "google": {"enhancePrompt": True, "generateAudio": True}})) == []
    assert problems(video(VEO, providerSettings={"klingai": {"sound": True}})) == [
        ("mismatchProviderSettingsProvider", "providerSettings.klingai")]
    assert problems(video("pixverse:1@5", providerSettings={
        "pixverse": {"style": "Anime", "motionMode": "fast"}})) == []
    assert problems(video("pixverse:1@5", providerSettings={
        "pixverse": {"soundEffectContent": "x"}})) == [
        ("invalidSoundEffectContent", "providerSettings.pixverse.soundEffectContent")]


def test_a_video_format_matches_whatever_its_case() -> None:
    checked = check_task(video(WAN, outputFormat="mp4"))
    assert (checked.errors, checked.task["outputFormat"]) == ([], "MP4")


def test_the_avatar_is_unchanged() -> None:
    """Its bounds and its strictness are the seed's: no new field, no null; its outputFormat
    matches in any case, as every video model's does."""
    avatar = task("videoInference", model=KLING, inputs={
        "image": "https://example.com/a.png", "audio": "https://example.com/a.mp3"})
    assert problems(avatar) == []
    assert problems({**avatar, "lora": []}) == [("unsupportedParameter", "lora")]
    checked = check_task({**avatar, "outputFormat": "mp4"})
    assert (checked.errors, checked.task["outputFormat"]) == ([], "MP4")
    assert problems({**avatar, "outputFormat": "mpeg4"}) == [("unsupportedOutputFormat",
                                                               "outputFormat")]
    assert problems({**avatar, "outputType": "url"}) == [("unsupportedOutputType",
                                                          "outputType")]
    assert problems({**avatar, "includeCost": None}) == [("invalidIncludeCost", "includeCost")]


def text(**fields: Any) -> dict[str, Any]:
    return task("textInference", model=GEMMA, **{
        "messages": [{"role": "user", "content": "What is the weather in Paris?"}], **fields})


TOOLS = [{"name": "get_weather", "description": "The weather of a city",
          "schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]


def test_text_takes_tools_and_a_tool_choice() -> None:
    assert problems(text(tools=TOOLS, toolChoice={"type": "tool", "name": "get_weather"})) == []
    checked = check_task(text(tools=TOOLS, toolChoice={"type": "ANY"}))
    assert checked.task["toolChoice"] == {"type": "any"}
    assert problems(text(toolChoice={"type": "some"})) == [
        ("unsupportedType", "toolChoice.type")]
    assert problems(text(tools=[{"description": "no name"}])) == [
        ("missingParameter", "tools.0.name")]


def test_settings_take_tools_as_the_top_level_does() -> None:
    """runware-surface.md 5.2: settings.tools is deprecated, not gone (ComfyUI-Runware's text
    settings node sends tools and toolChoice in settings)."""
    checked = check_task(text(settings={"tools": TOOLS, "toolChoice": {"type": "Auto"}}))
    assert (checked.errors, checked.task["settings"]["toolChoice"]) == ([], {"type": "auto"})
    assert problems(text(tools=TOOLS, settings={"tools": TOOLS})) == []
    assert problems(text(settings={"tools": [{"description": "no name"}]})) == [
        ("missingParameter", "settings.tools.0.name")]
    assert problems(text(settings={"tools": [{"name": "x" * 65}]})) == [
        ("invalidName", "settings.tools.0.name")]
    assert problems(text(settings={"tools": [{"name": "a", "colour": "red"}]})) == [
        ("unsupportedParameter", "settings.tools.0.colour")]
    assert problems(text(settings={"tools": TOOLS * 33})) == [("invalidTools", "settings.tools")]
    assert problems(text(settings={"tools": "get_weather"})) == [
        ("invalidTools", "settings.tools")]
    assert problems(text(settings={"toolChoice": {"type": "some"}})) == [
        ("unsupportedType", "settings.toolChoice.type")]


def test_an_assistant_turn_may_carry_tool_calls_instead_of_content() -> None:
    messages = [{"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "tools": [{"id": "call_1", "name": "get_weather",
                                                 "input": {"city": "Paris"}}]},
                {"role": "user", "id": "call_1", "content": "18 degrees and sunny"}]
    assert problems(text(messages=messages, tools=TOOLS)) == []


def test_text_settings_take_their_documented_bounds() -> None:
    assert problems(text(settings={"maxTokens": 131072, "topK": 100647, "minP": 0.1,
                                   "thinkingLevel": "High", "thinking": True,
                                   "cache": {"scope": "system+history", "ttl": "1h"}})) == []
    assert problems(text(settings={"maxTokens": 131073})) == [
        ("invalidMaxTokens", "settings.maxTokens")]
    assert problems(text(providerSettings={"google": {"search": True}})) == []
    assert problems(text(providerSettings={"openai": {}})) == [
        ("unknownProviderSettingsProvider", "providerSettings.openai")]


def test_audio_takes_its_documented_fields() -> None:
    music = task("audioInference", model=MUSIC, positivePrompt="calm piano", duration=30)
    checked = check_task({**music, "outputFormat": "wav", "providerSettings": {
        "elevenlabs": {"music": {"compositionPlan": {"sections": [
            {"sectionName": "intro", "duration": 10}]}}}}})
    assert (checked.errors, checked.task["outputFormat"]) == ([], "WAV")
    assert problems({**music, "numberResults": 4}) == [("invalidNumberResults", "numberResults")]
    assert problems({**music, "providerSettings": {"mirelo": {"startOffset": 11}}}) == [
        ("invalidStartOffset", "providerSettings.mirelo.startOffset")]


def speech(voices: Any, model: str = "inworld:tts@1.5-max") -> dict[str, Any]:
    return task("audioInference", model=model,
                speech={"text": "Hello there.", "voice": "Dennis", "voices": voices})


@pytest.mark.parametrize("model", ["inworld:tts@1.5-max", "runware:dia2@2b"])
def test_speech_voices_are_names_or_speaker_voice_pairs(model: str) -> None:
    """runware-surface.md 5.1: voices:[string|{speaker, voice}]; runware 0.5.24's IAudioVoice
    has both members, each a string."""
    assert problems(speech(["Dennis", {"speaker": "S1", "voice": "Ashley"}], model)) == []
    assert problems(speech([{"speaker": "S1", "voice": "Ashley"}] * 8, model)) == []


@pytest.mark.parametrize(("voices", "expected"), [
    ([{"speaker": "S1"}], ("missingParameter", "speech.voices.0.voice")),
    ([{"voice": "Ashley"}], ("missingParameter", "speech.voices.0.speaker")),
    ([{"speaker": "S1", "voice": "Ashley", "gender": "f"}],
     ("unsupportedParameter", "speech.voices.0.gender")),
    ([{"speaker": "", "voice": "Ashley"}], ("invalidSpeaker", "speech.voices.0.speaker")),
    ([{"speaker": "S1", "voice": "x" * 101}], ("invalidVoice", "speech.voices.0.voice")),
    ([{"speaker": 1, "voice": "Ashley"}], ("invalidSpeaker", "speech.voices.0.speaker")),
    ([7], ("invalidVoices", "speech.voices.0")),
    ([["S1", "Ashley"]], ("invalidVoices", "speech.voices.0")),
    ([""], ("invalidVoices", "speech.voices.0")),
    ([{"speaker": "S1", "voice": "Ashley"}] * 9, ("invalidVoices", "speech.voices")),
])
def test_speech_voices_of_another_shape_are_refused(voices: Any,
                                                    expected: tuple[str, str]) -> None:
    assert problems(speech(voices)) == [expected]


def test_model_search_takes_any_sort_key_with_a_minus_prefix() -> None:
    for key in ("-downloadCount", "-popularity", "name", "addedUnixTimestamp"):
        assert problems(task("modelSearch", search="flux", sort=key)) == []
    assert problems(task("modelSearch", sort="")) == [("invalidSort", "sort")]
    checked = check_task(task("modelSearch", category="Checkpoint", limit=None))
    assert (checked.errors, checked.task["category"], checked.task["limit"]) == (
        [], "checkpoint", 20)


def test_prompt_enhance_reads_null_as_absent() -> None:
    checked = check_task(task("promptEnhance", prompt="a cat", promptVersions=None))
    assert (checked.errors, checked.task["promptVersions"]) == ([], 1)
    assert problems(task("promptEnhance", prompt="a cat", promptVersions=6)) == [
        ("invalidPromptVersions", "promptVersions")]

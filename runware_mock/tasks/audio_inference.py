"""``audioInference``: speech (TTS), music and sound effects, as placeholder sound that decodes
to the asked length, in the asked format (``media.sound``).

- Speech lasts as long as its text takes to say: 15 characters a second (about 150 words a
  minute), divided by ``speech.speed``, and never under 2 s (so every voice is long enough
  for an avatar, whose audio must last 2-300 s).
- Music and sound effects last ``duration`` seconds.

With a ``seed`` in the request, result ``i`` uses seed ``seed + i``: the same request and seed
give the same bytes. Inputs (``inputs.audio``, reference voices...) are taken as given and not
fetched: the placeholder does not depend on them. Sync by default, async when asked (results
by getResponse, webhook or pushed frame).
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from runware_mock.contract import model_catalog, schemas
from runware_mock.contract.request_types import (
    AudioInferenceInworldTtsRequestSpeech,
    AudioInferenceRequest,
    AudioInferenceSpeechRequestSpeech,
)
from runware_mock.contract.validation import apply_defaults
from runware_mock.engine.lifecycle import Expiry, Generation, Produced
from runware_mock.handling.submission import submit
from runware_mock.handling.task_type import Context, TaskServices, TaskType, bytes_needed_now
from runware_mock.handling.video_plans import result_seed, summarised
from runware_mock.media.facade import Media
from runware_mock.media.sound import Sound
from runware_mock.protocol.envelope import Reply

# What speech asks to be said (the TTS models take more fields).
Speech = AudioInferenceSpeechRequestSpeech | AudioInferenceInworldTtsRequestSpeech

CHARACTERS_PER_SECOND = 15.0
SHORTEST_SPEECH = 2.0


async def audio_inference(task: AudioInferenceRequest, context: Context,
                          services: TaskServices) -> Reply:
    return await submit(task, context, services, audio_work(task, services))


def audio_work(request: AudioInferenceRequest, services: TaskServices) -> AudioWork:
    return AudioWork(request, services.media)


def spoken_seconds(speech: Speech) -> float:
    """How long the placeholder voice takes to say ``speech.text``."""
    seconds = len(speech["text"]) / CHARACTERS_PER_SECOND / speech.get("speed", 1.0)
    return round(max(SHORTEST_SPEECH, seconds), 3)


class AudioWork:
    """The engine's ``Work`` for an audio task: its length is known at once."""

    def __init__(self, request: AudioInferenceRequest, media: Media) -> None:
        self._request = request
        self._media = media
        family = model_catalog.model(request["model"]).family
        self._sound = str(family.details["sound"])
        self._seconds = (spoken_seconds(request["speech"]) if self._sound == "speech"
                         else float(request["duration"]))
        # audioSettings is optional as a whole: its fields' defaults come from the schema.
        settings_schema = schemas.inlined(family.schema)["properties"]["audioSettings"]
        self._settings = apply_defaults(settings_schema, request.get("audioSettings", {}))

    def measured_now(self) -> float:
        return self._seconds

    async def measure(self) -> float:
        return self._seconds

    async def produce(self, generation: Generation, expiry: Expiry) -> Produced:
        request, settings = self._request, self._settings
        seed = result_seed(request, generation)
        # JSON's 44100.0 is an integer to the schema; ffmpeg's arguments want 44100.
        sound = Sound(self._sound, self._seconds, seed, request["outputFormat"],
                      int(settings["sampleRate"]), int(settings["bitrate"]),
                      int(settings["channels"]))
        audio = await self._media.publish_result(
            "audio", request["taskUUID"], generation.index, sound.format.extension, expiry,
            lambda: self._media.sounds.make(sound), needed_now=bytes_needed_now(request))
        fields: dict[str, Any] = {"audioUUID": audio.uuid, "seed": seed}
        if audio.path is None or request["outputType"] == "URL":
            fields["audioURL"] = audio.url
        else:
            data = base64.b64encode(await asyncio.to_thread(audio.path.read_bytes)).decode()
            if request["outputType"] == "base64Data":
                fields["audioBase64Data"] = data
            else:
                fields["audioDataURI"] = f"data:{sound.format.mime};base64,{data}"
        characters = len(request["speech"]["text"]) if "speech" in request else 0
        price = model_catalog.model(request["model"]).price
        return Produced(fields, cost=price.of(seconds=self._seconds, characters=characters),
                        file=("audio", audio.uuid))

    def forget_inline_data(self) -> None:
        self._request.update(summarised(self._request, ("inputs",)))


TASK_TYPE = TaskType.later("audioInference", audio_inference, audio_work)

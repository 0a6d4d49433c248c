"""Hypothesis strategies for Runware avatar clients and for the emulator itself.

    from runware_mock.contract import strategies as rs

    @given(rs.avatar_tasks())                     # valid videoInference tasks
    @given(rs.invalid_avatar_tasks())             # InvalidCase: .task, .parameter, .code
    @given(rs.media_inputs("image", media_host))   # MediaCase: .value (data URI, base64, URL)
    @given(rs.invalid_media_inputs("audio"))      # MediaCase with the .code it must get
    @given(rs.result_sequences())                 # successive getResponse replies of one task

    @given(rs.valid_tasks(name))                  # any request schema of the registry
    @given(rs.invalid_tasks(name))                # InvalidCase, for any request schema

Bounds, enums, arrays, choices and required fields are read from the request schemas
(``schema_strategies``). Hand-written here, because no schema can say them: the formats the
schemas name in ``x-expected`` (fresh UUIDs, URLs on the reserved ``.invalid`` domain), the
errors of taskType and model (they choose the schema: ``dispatch_violations``), the catalog's
models of a family schema, and media inputs (they must decode, at the limits). An invalid
example breaks exactly one documented bound and carries the ``parameter`` and error ``code``
the emulator must answer, synchronously on submit for a task and from ``getResponse`` for a
media input.
"""

from __future__ import annotations

import base64
import math
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from hypothesis import strategies as st

from runware_mock.contract import absent_nulls, image_sizes, model_catalog, schemas
from runware_mock.contract.samples import (
    AUDIO_LIMITS,
    IMAGE_FORMATS,
    IMAGE_LIMITS,
    Sample,
    by_name,
    image_sample,
    invalid_samples,
    tone_sample,
    valid_samples,
)
from runware_mock.contract.schema_strategies import (
    MISSING,
    Overrides,
    Path,
    Violation,
    code_for,
    valid_values,
    violations,
    wrong_types,
)
from runware_mock.fixtures import SEED_ASSET_PREFIX, seed_examples

AVATAR_SCHEMA = "request.videoInference.klingai-avatar-2.0"
# The models this schema validates (the catalog lists many others, of other task types).
MODELS = tuple(air for air, model in model_catalog.models().items()
               if model.family.schema == AVATAR_SCHEMA)
UNDECODABLE = "invalidValueUploadFailed"
Special = dict[Path, list[st.SearchStrategy[Violation]]]


class MediaHost(Protocol):
    """Serves samples over HTTP (``contract.receivers.MediaHost``), for the URL form."""

    def url_for(self, name: str) -> str: ...

    def missing_url(self) -> str: ...


# --- identifiers and URLs -------------------------------------------------------------------

def task_uuids() -> st.SearchStrategy[str]:
    """Fresh UUID v4 strings, as the SDKs make them (lower case).

    Drawn from ``uuid.uuid4`` rather than from Hypothesis: the service refuses a taskUUID it
    has seen (``conflictTaskUUID``), and Hypothesis replays and shrinks by redrawing.
    """
    return st.builds(uuid.uuid4).map(str)


def webhook_urls() -> st.SearchStrategy[str]:
    """URLs on the reserved ``.invalid`` domain: nothing is ever delivered to them."""
    return st.builds("https://hooks.example.invalid/runware/{}?token={}".format,
                     st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True),
                     st.from_regex(r"[A-Za-z0-9_-]{0,16}", fullmatch=True))


def upload_urls() -> st.SearchStrategy[str]:
    """Presigned-looking storage URLs on the reserved ``.invalid`` domain."""
    return st.builds("https://bucket.example.invalid/renders/{}.mp4?X-Amz-Signature={}".format,
                     task_uuids(), st.from_regex(r"[a-f0-9]{8,40}", fullmatch=True))


def seed_inputs() -> st.SearchStrategy[dict[str, str]]:
    """The seed document's input pairs: public URLs the real service can fetch, which the
    emulator serves from its shipped fixtures."""
    return st.sampled_from([dict(example["request"]["inputs"]) for example in seed_examples()])


def unfetchable_inputs() -> dict[str, str]:
    """Inputs a real service cannot fetch (404): a task it wrongly accepts fails on its inputs
    instead of rendering at a cost."""
    missing = f"{SEED_ASSET_PREFIX}00000000-0000-4000-8000-000000000000"
    return {"image": f"{missing}.jpg", "audio": f"{missing}.mp3"}


def _uuid_misses() -> st.SearchStrategy[str]:
    """Strings no UUID pattern takes."""
    mangled = task_uuids().flatmap(lambda text: st.sampled_from(
        [text.replace("-", ""), text[:-1], f"{{{text}}}", text + "0"]))
    return st.one_of(mangled, st.just("not-a-uuid"))


def _uuid_v4_misses() -> st.SearchStrategy[str]:
    other_versions = st.sampled_from([1, 3, 5]).flatmap(lambda v: st.uuids(version=v)).map(str)
    return st.one_of(other_versions, _uuid_misses())


def _url_misses() -> st.SearchStrategy[str]:
    schemes = st.sampled_from(["ftp", "s3", "ws", "file", "gs"]).map(
        "{}://hooks.example.invalid/runware".format)
    return st.one_of(schemes, st.sampled_from([
        "hooks.example.invalid/runware", "https://", "https:// hooks.example.invalid",
        "//hooks.example.invalid/runware", "mailto:ops@example.invalid", "https:/x"]))


def _expected(definition: str) -> str:
    return str(schemas.load("common")["$defs"][definition]["x-expected"])


# Hand-written values and misses of the formats the schemas name (common.json): readable, and
# a taskUUID never seen before.
FORMATS = {_expected("uuidV4"): task_uuids, _expected("uuid"): task_uuids,
           _expected("httpUrl"): webhook_urls}
_PATTERN_MISSES = {_expected("uuidV4"): _uuid_v4_misses, _expected("uuid"): _uuid_misses,
                   _expected("httpUrl"): _url_misses}


# --- any task type, from its request schema ---------------------------------------------------

def valid_tasks(schema_name: str, overrides: Overrides | None = None,
                without: tuple[str, ...] = ()) -> st.SearchStrategy[dict[str, Any]]:
    """Tasks the request schema ``schema_name`` accepts: every optional field present or not,
    within its bounds. ``overrides`` gives the values of some fields (by path); the optional
    fields named in ``without`` are left out. The model of a family's schema is one of the
    catalog's models of that family (the catalog's rule), and a model that makes only the sizes
    its page publishes asks one of them, or none (``contract/image_sizes.py``)."""
    family = _family(schema_name)
    chosen = {("model",): st.sampled_from(family)} if family else {}
    schema = schemas.inlined(schema_name)
    kept = {name: prop for name, prop in schema["properties"].items()
            if name not in without or name in schema.get("required", ())}
    drawn = valid_values({**schema, "properties": kept}, (), {**chosen, **(overrides or {})},
                         FORMATS)
    return drawn.flatmap(_made_size) if _any_sized(family) else drawn


def _family(schema_name: str) -> list[str]:
    return [air for air, schema in schemas.MODEL_SCHEMAS.items() if schema == schema_name]


def _any_sized(airs: list[str]) -> bool:
    return any(image_sizes.sizes_of(air) for air in airs)


# A drawn size stays at most this many pixels where the model makes one that small (a 4K size
# of a list takes a test long to draw): the sizes below it are drawn, the others never.
MOST_DRAWN_PIXELS = 2048 * 2048


def _made_size(task: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """The task as drawn, or, for a model with published sizes, asking one of them or none
    (the model's default)."""
    rule = image_sizes.sizes_of(task.get("model"))
    if rule is None:
        return st.just(task)
    bare = {name: value for name, value in task.items() if name not in ("width", "height")}
    return st.tuples(st.booleans(), published_sizes(rule)).map(
        lambda pair: {**bare, "width": pair[1][0], "height": pair[1][1]} if pair[0] else bare)


def published_sizes(rule: image_sizes.ImageSizes) -> st.SearchStrategy[tuple[int, int]]:
    """A size the model makes, at most ``MOST_DRAWN_PIXELS`` where it makes one that small."""
    if rule.sizes:
        small = [size for size in rule.sizes if size[0] * size[1] <= MOST_DRAWN_PIXELS]
        return st.sampled_from(small or [min(rule.sizes, key=lambda size: size[0] * size[1])])
    top = rule.least + (min(rule.most, 2048) - rule.least) // rule.step * rule.step
    side = st.integers(0, (top - rule.least) // rule.step).map(
        lambda steps: rule.least + steps * rule.step)
    return st.tuples(side, side)


def invalid_tasks(schema_name: str, valid: st.SearchStrategy[dict[str, Any]] | None = None,
                  special: Special | None = None) -> st.SearchStrategy[InvalidCase]:
    """A valid task (``valid_tasks(schema_name)`` unless given) with exactly one field broken,
    and the error the schema's rules give it. taskType and model choose the schema, so their
    errors are hand-written (``dispatch_violations``); ``special`` replaces others."""
    broken = st.one_of(*task_violations(schema_name, special))
    valid = valid if valid is not None else valid_tasks(schema_name)
    return st.tuples(valid, broken).map(lambda pair: _invalid_case(*pair))


def task_violations(schema_name: str, special: Special | None = None,
                    ) -> list[st.SearchStrategy[Violation]]:
    """One strategy per way ``invalid_tasks`` breaks a task of ``schema_name``."""
    task_type = schemas.task_type_names(schema_name)[0]
    rules = {**dispatch_violations(task_type), **_size_types_only(schema_name), **(special or {})}
    schema = schemas.inlined(schema_name)
    found = violations(schema, (), _PATTERN_MISSES, rules)
    if absent_nulls.applies(schema):
        # A null member is an absent one there: no way to break a task.
        return [way.filter(_sets_no_null) for way in found]
    return found


def _size_types_only(schema_name: str) -> Special:
    """Where some models of the schema make only their published sizes, which error an
    out-of-range width or height gets depends on the model (``unsupportedDimensions`` for
    those, the schema's bound for the others): only a wrong type is the same error for all.
    ``strategies_images.invalid_image_tasks`` breaks each model's sizes by its own rule."""
    if not _any_sized(_family(schema_name)):
        return {}
    return {(name,): [wrong_types("integer").map(
        lambda value, name=name: Violation((name,), value, code_for((name,), "invalid")))]
        for name in ("width", "height")}


def _sets_no_null(violation: Violation) -> bool:
    value = violation.value
    return value is not None and not (isinstance(value, dict) and None in value.values())


# --- avatar tasks ---------------------------------------------------------------------------

def avatar_tasks(inputs: st.SearchStrategy[dict[str, str]] | None = None,
                 models: st.SearchStrategy[str] | None = None,
                 webhooks: st.SearchStrategy[str] | None = None,
                 uploads: st.SearchStrategy[str] | None = None,
                 ) -> st.SearchStrategy[dict[str, Any]]:
    """Valid videoInference tasks: every optional field present or not, within its bounds.

    ``inputs`` defaults to the seed document's URLs; pass e.g. ``media_pairs(host)`` for inline
    data. ``webhooks``/``uploads`` default to ``.invalid`` URLs: pass your receiver's URL to
    get deliveries.
    """
    overrides = {
        ("taskUUID",): task_uuids(),
        ("webhookURL",): webhooks or webhook_urls(),
        ("uploadEndpoint",): uploads or upload_urls(),
        ("inputs",): inputs or seed_inputs(),
    }
    if models is not None:
        overrides[("model",)] = models
    return valid_tasks(AVATAR_SCHEMA, overrides)


@dataclass(frozen=True)
class InvalidCase:
    """A task that breaks exactly one bound, and the one error it must get."""

    task: dict[str, Any]
    parameter: str
    code: str
    allowed_values: list[Any] | None = None

    @property
    def task_uuid(self) -> str | None:
        value = self.task.get("taskUUID")
        return value if isinstance(value, str) else None


def invalid_avatar_tasks(valid: st.SearchStrategy[dict[str, Any]] | None = None,
                         ) -> st.SearchStrategy[InvalidCase]:
    """A valid task (``avatar_tasks()`` unless given) with exactly one field broken: absent,
    of the wrong type, out of range, too long or short, off its enum or pattern, or a field
    the model does not take."""
    return invalid_tasks(AVATAR_SCHEMA, valid if valid is not None else avatar_tasks())


def _invalid_case(task: dict[str, Any], violation: Violation) -> InvalidCase:
    return InvalidCase(violation.apply(task), violation.parameter, violation.code,
                       violation.allowed_values)


def dispatch_violations(task_type: str) -> Special:
    """taskType chooses the schema and, for a task type whose schema is its model family's,
    so does model: their errors follow their own rules; for them (only) a null counts as
    absent, as the emulator answers."""
    task_types = list(schemas.TASK_TYPES)
    present = wrong_types("string").filter(lambda value: value is not None)
    other_type = st.one_of(st.text(max_size=16), present).filter(
        lambda value: value not in task_types)
    absent = st.sampled_from([MISSING, None])
    rules: Special = {("taskType",): [
        absent.map(lambda value: Violation(("taskType",), value, "missingParameter")),
        other_type.map(lambda value: Violation(("taskType",), value, "unsupportedTaskType",
                                               task_types))]}
    if task_type in schemas.MODEL_TASK_TYPES:
        served = list(model_catalog.airs(task_type))
        other_model = st.one_of(
            st.sampled_from(["klingai:avatar@2.0", "klingai:avatar@1.0-pro", "runware:101@1",
                             "inworld:tts@2"]),
            st.text(max_size=24), present).filter(lambda value: value not in served)
        rules[("model",)] = [
            absent.map(lambda value: Violation(("model",), value, "missingParameter")),
            other_model.map(lambda value: Violation(("model",), value, "invalidModel", served))]
    return rules


# --- media inputs ---------------------------------------------------------------------------

FORMS = ("data URI", "base64", "URL")


@dataclass(frozen=True)
class MediaCase:
    """A value for ``inputs.image`` or ``inputs.audio``; ``code`` is the error ``getResponse``
    must report for it (``None``: the task must go on)."""

    kind: str
    form: str
    origin: str
    value: str = field(repr=False)
    code: str | None = None

    @property
    def parameter(self) -> str:
        return f"inputs.{self.kind}"

    @property
    def sample(self) -> Sample | None:
        try:
            return by_name(self.origin)
        except KeyError:
            return None


def encoded(sample: Sample, form: str, host: MediaHost | None = None) -> str:
    if form == "data URI":
        return f"data:{sample.mime};base64,{base64.b64encode(sample.content).decode()}"
    if form == "base64":
        return base64.b64encode(sample.content).decode()
    if host is None:
        raise ValueError("the URL form needs a MediaHost")
    return host.url_for(sample.name)


def _forms(host: MediaHost | None) -> list[str]:
    return list(FORMS) if host is not None else list(FORMS[:2])


def _as_cases(samples: st.SearchStrategy[Sample], host: MediaHost | None,
              ) -> st.SearchStrategy[MediaCase]:
    def case(sample: Sample, form: str) -> MediaCase:
        return MediaCase(sample.kind, form, sample.name, encoded(sample, form, host), sample.code)

    return st.builds(case, samples, st.sampled_from(_forms(host)))


def _within(low: int, high: int) -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from([low, high]), st.integers(low, high))


@st.composite
def images(draw: st.DrawFn, valid: bool = True) -> Sample:
    """Generated images: any size within the limits (edges drawn often) in an accepted
    format; or, with ``valid=False``, breaking exactly one of side, aspect ratio or format."""
    side, aspect = IMAGE_LIMITS.min_side, IMAGE_LIMITS.max_aspect
    broken = None if valid else draw(st.sampled_from(["side", "aspect", "format"]))
    # Uncompressed formats (BMP, TIFF) must stay under the size limit: a smaller canvas.
    largest = 800 if broken == "format" else 1000
    width = draw(_within(16, side - 1) if broken == "side" else _within(side, largest))
    tallest = math.floor(width * aspect)
    if broken == "aspect":
        height = draw(_within(tallest + 1, tallest + 400))
    else:
        shortest = math.ceil(width / aspect) if broken == "side" else max(side,
                                                                          math.ceil(width / aspect))
        height = draw(_within(shortest, min(tallest, largest)))
    if draw(st.booleans(), label="landscape"):
        width, height = height, width
    accepted = list(IMAGE_LIMITS.formats)
    formats = [fmt for fmt in IMAGE_FORMATS if fmt not in accepted] if broken == "format" \
        else accepted
    return image_sample(width, height, draw(st.sampled_from(formats), label="format"))


@st.composite
def tones(draw: st.DrawFn, valid: bool = True) -> Sample:
    """Generated WAV tones: any whole number of seconds within the limits, or one frame off
    an edge; with ``valid=False``, too short or too long.

    Measuring a track costs a decode in proportion to its length, and the emulator measures a
    given file once: so lengths lie on a coarse grid, mostly short (log-uniform).
    """
    shortest, longest = AUDIO_LIMITS.min_seconds, AUDIO_LIMITS.max_seconds
    rate = 2000  # the limits are about length: a low rate keeps five minutes at 600 kB
    low, high = math.ceil(shortest * rate), math.floor(longest * rate)
    if valid:
        seconds = st.floats(math.log(shortest), math.log(longest)).map(
            lambda x: min(int(longest), max(math.ceil(shortest), round(math.exp(x)))))
        frames = st.one_of(st.sampled_from([low, high]), seconds.map(lambda s: s * rate))
    elif draw(st.integers(0, 3), label="too long") == 0:
        frames = st.sampled_from([high + 1, high + rate // 2, high + rate, round(1.1 * high)])
    else:
        tenths = st.integers(1, math.ceil(10 * shortest) - 1).map(lambda t: t * rate // 10)
        frames = st.one_of(st.just(low - 1), tenths)
    return tone_sample(draw(frames, label="frames"), rate)


def media_inputs(kind: str, host: MediaHost | None = None) -> st.SearchStrategy[MediaCase]:
    """Valid inputs: the catalog's edge cases and generated media of any size or length within
    the limits, as a data URI, raw base64, or (with a host) a URL."""
    generated = images() if kind == "image" else tones()
    return _as_cases(st.one_of(st.sampled_from(valid_samples(kind)), generated), host)


def media_pairs(host: MediaHost | None = None,
                ) -> st.SearchStrategy[tuple[MediaCase, MediaCase]]:
    return st.tuples(media_inputs("image", host), media_inputs("audio", host))


_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")


def _garbage() -> st.SearchStrategy[str]:
    """Text that is no URL, no upload UUID, no data URI and not base64."""
    return st.text(min_size=1, max_size=24).filter(
        lambda text: not _BASE64.match(text)
        and not text.strip().lower().startswith(("http://", "https://", "data:")))


def invalid_media_inputs(kind: str, host: MediaHost | None = None,
                         ) -> st.SearchStrategy[MediaCase]:
    """Inputs ``getResponse`` must reject: media past a limit or of the wrong type (in every
    form), bad base64, malformed data URIs, unknown upload UUIDs, URLs that answer 404."""
    broken_text = st.one_of(
        _garbage().map(lambda text: MediaCase(kind, "base64", f"text {text!r}", text,
                                              UNDECODABLE)),
        st.sampled_from(["data:image/png,iVBORw0KGgo", "data:;base64", "data:audio/mpeg;base64,@@"])
        .map(lambda text: MediaCase(kind, "data URI", "malformed", text, UNDECODABLE)),
        task_uuids().map(lambda text: MediaCase(kind, "upload UUID", "unknown", text,
                                                UNDECODABLE)))
    generated = images(valid=False) if kind == "image" else tones(valid=False)
    cases = [_as_cases(st.one_of(st.sampled_from(invalid_samples(kind)), generated), host),
             broken_text]
    if host is not None:
        cases.append(st.just(MediaCase(kind, "URL", "404", host.missing_url(), UNDECODABLE)))
    return st.one_of(*cases)


# --- results --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ResultSequence:
    """What successive getResponse polls of one task return, in order."""

    task_uuid: str
    number_results: int
    replies: list[dict[str, Any]]


@dataclass(frozen=True)
class _Outcome:
    progress: list[int]
    final: dict[str, Any]
    failed: bool


@st.composite
def result_sequences(draw: st.DrawFn, model: str = MODELS[0], include_cost: bool | None = None,
                     failures: bool = True) -> ResultSequence:
    """Plausible poll histories: each generation reports processing with rising progress, then
    a success (distinct videoUUID and seed; cost = price x audio seconds) or, with
    ``failures``, an error object with status ``error``."""
    task_uuid = draw(task_uuids())
    count = draw(st.integers(1, 4), label="numberResults")
    seconds = draw(st.floats(2.0, 300.0), label="audio seconds")
    with_cost = draw(st.booleans()) if include_cost is None else include_cost
    seeds = draw(st.lists(st.integers(0, 2**31 - 1), min_size=count, max_size=count,
                          unique=True), label="seeds")
    outcomes = [draw(_outcomes(task_uuid, seed, seconds, with_cost, model, failures))
                for seed in seeds]
    polls = max(len(outcome.progress) for outcome in outcomes) + 1
    return ResultSequence(task_uuid, count, [_reply(outcomes, task_uuid, poll)
                                             for poll in range(polls)])


@st.composite
def _outcomes(draw: st.DrawFn, task_uuid: str, seed: int, seconds: float, include_cost: bool,
              model: str, failures: bool) -> _Outcome:
    progress = sorted(draw(st.lists(st.integers(0, 99), max_size=4)))
    if failures and draw(st.booleans()):
        code = draw(st.sampled_from(["timeoutProvider", UNDECODABLE, "internalServerError"]))
        return _Outcome(progress, {"code": code, "message": f"generation failed: {code}",
                                   "taskType": "videoInference", "taskUUID": task_uuid,
                                   "status": "error"}, failed=True)
    video = str(draw(st.uuids(version=4)))
    final = {"taskType": "videoInference", "taskUUID": task_uuid, "status": "success",
             "videoUUID": video, "videoURL": f"https://vm.example.invalid/video/{video}.mp4",
             "seed": seed}
    if include_cost:
        final["cost"] = model_catalog.model(model).price.of(seconds=seconds)
    return _Outcome(progress, final, failed=False)


def _reply(outcomes: list[_Outcome], task_uuid: str, poll: int) -> dict[str, Any]:
    data, errors = [], []
    for outcome in outcomes:
        if poll < len(outcome.progress):
            data.append({"taskType": "videoInference", "taskUUID": task_uuid,
                         "status": "processing", "progress": outcome.progress[poll]})
        elif outcome.failed:
            errors.append(outcome.final)
        else:
            data.append(outcome.final)
    # As the REST envelope: no empty errors list, no empty data list beside errors.
    body: dict[str, Any] = {"data": data} if data or not errors else {}
    return body | {"errors": errors} if errors else body


def new_task_uuid() -> str:
    return str(uuid.uuid4())


def poll_task(task_uuid: str) -> dict[str, str]:
    return {"taskType": "getResponse", "taskUUID": task_uuid}


def upload_task(media: str, operation: str = "upload") -> dict[str, str]:
    return {"taskType": "mediaStorage", "taskUUID": new_task_uuid(), "operation": operation,
            "media": media}

"""Runware-shaped error objects and the catalog of codes this emulator answers.

The catalog is the single source of the README's error table and of the codes the
Hypothesis strategies promise for invalid payloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Where an error links when its task type has no reference page of its own (or it has no task
# type): Runware's page of errors.
DOCUMENTATION = "https://runware.ai/docs/platform/errors"
_DOCS = "https://runware.ai/docs/"
# Each task type's reference page (runware-surface.md section 7): the /docs/en/ API reference
# pages the service's own error links point into, and for the task types that have none there,
# the current /docs/platform/ page. textInference has neither: its reference is one page per
# model under /docs/models/, which is where its errors link (as runware-sdk 1.8 links an error
# of a model it cannot name).
DOCUMENTATION_PAGES = {
    "imageInference": "en/image-inference/api-reference",
    "videoInference": "en/video-inference/api-reference",
    "audioInference": "en/audio-inference/api-reference",
    "textInference": "models",
    "photoMaker": "en/image-inference/photomaker",
    "imageUpscale": "en/tools/upscale",
    "upscale": "en/tools/upscale",
    "promptEnhance": "en/tools/prompt-enhancer",
    "imageCaption": "en/tools/caption",
    "caption": "en/tools/caption",
    "imageBackgroundRemoval": "en/tools/remove-background",
    "removeBackground": "en/tools/remove-background",
    "imageControlNetPreProcess": "en/tools/controlnet-preprocess",
    "controlNetPreprocess": "en/tools/controlnet-preprocess",
    "imageMasking": "en/tools/image-masking",
    "vectorize": "en/tools/vectorize",
    "modelUpload": "en/image-inference/model-upload",
    "modelSearch": "en/utilities/model-search",
    "accountManagement": "en/utilities/account-management",
    "getResponse": "en/utilities/task-responses",
    "imageUpload": "en/utilities/image-upload",
    "getTaskDetails": "platform/task-details",
    "mediaStorage": "platform/media-storage",
}


def documentation_for(task_type: object, parameter: object = None) -> str:
    """The reference page of the task type, at the parameter's entry
    (``…/video-inference/api-reference#request-duration``: the path in lower case, dots as
    dashes, array positions left out), as the service's own links are."""
    page = DOCUMENTATION_PAGES.get(task_type) if isinstance(task_type, str) else None
    if page is None:
        return DOCUMENTATION
    if not isinstance(parameter, str) or not parameter:
        return _DOCS + page
    path = "-".join(part for part in parameter.lower().split(".") if not part.isdigit())
    return f"{_DOCS}{page}#request-{path}"


@dataclass(frozen=True)
class ApiError:
    code: str
    message: str
    parameter: str | list[str] | None = None
    type: str | None = None
    allowed_values: list[Any] | None = None
    task_type: str | None = None
    task_uuid: str | None = None
    # None: the task type's reference page (``documentation_for``).
    documentation: str | None = None
    status: int = 400
    # "error" on a failed generation reported by getResponse, beside its taskUUID.
    task_status: str | None = None
    # The documented bounds and default of the parameter, where the schema gives them.
    min: float | None = None
    max: float | None = None
    default: Any = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        optional = {
            "parameter": self.parameter,
            "type": self.type,
            "allowedValues": self.allowed_values,
            "min": self.min,
            "max": self.max,
            "default": self.default,
            "documentation": self.documentation or documentation_for(self.task_type,
                                                                     self.parameter),
            "taskType": self.task_type,
            "taskUUID": self.task_uuid,
            "status": self.task_status,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        return body


class ApiRefusal(Exception):
    """A task refused with ``problem``: raised where the refusal is found (a handler, a rule
    of the model, a conflict), answered once by the dispatcher, which names the task."""

    def __init__(self, problem: ApiError) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass(frozen=True)
class CatalogEntry:
    code: str
    status: int
    situation: str


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("invalidApiKey", 401, "no API key, an empty one, or one not in `--api-key`"),
    CatalogEntry("invalidJSON", 400, "the request body is not JSON"),
    CatalogEntry("invalidRequestFormat", 400,
                 "the body (or a WebSocket frame) is not a non-empty JSON array"),
    CatalogEntry("invalidTask", 400, "an element of the array is not a JSON object"),
    CatalogEntry("payloadTooLarge", 413,
                 "the body is over `--max-body-bytes`, or holds more JSON values than "
                 "`--max-json-values` (a WebSocket frame over `--ws-max-bytes` is closed 1009)"),
    CatalogEntry("nestingTooDeep", 400,
                 "arrays and objects nested deeper than `--max-nesting-depth`"),
    CatalogEntry("tooManyTasks", 400,
                 "more tasks in one request or frame than `--max-tasks-per-request`"),
    CatalogEntry("tooManyErrors", 400,
                 "the last error of a reply that found more than `--max-errors-per-reply`: "
                 "it counts those not listed"),
    CatalogEntry("missingParameter", 400, "a required field is absent (`parameter` names it)"),
    CatalogEntry("unsupportedParameter", 400,
                 "a field this task or model does not take (width, height, duration, ...)"),
    CatalogEntry("unsupportedTaskType", 400, "`taskType` is not one the emulator knows"),
    CatalogEntry("invalidModel", 400,
                 "`model` is not an AIR (`source:id@version`: the message says so), or names "
                 "no model of the taskType: none the catalog lists (`allowedValues` names "
                 "them), no `civitai:<id>@<version>` for imageInference (docs/models.md)"),
    CatalogEntry("invalid<Param>", 400,
                 "wrong type, format or range, e.g. `invalidOutputQuality`, `invalidTaskUUID`, "
                 "`invalidTTL`, `invalidNumberResults`, `invalidWebhookURL`"),
    CatalogEntry("invalidPositivePromptLength", 400, "`positivePrompt` outside 1-2500 characters"),
    CatalogEntry("unsupported<Param>", 400,
                 "a value outside an enum, with `allowedValues`, e.g. `unsupportedOutputFormat`, "
                 "`unsupportedDeliveryMethod`, `unsupportedMode`"),
    CatalogEntry("conflictingParameters", 400,
                 "two fields that cannot be used together, e.g. a video's `width`/`height` "
                 "with `resolution`"),
    CatalogEntry("unsupportedDimensions", 400,
                 "a video `width` x `height` its model does not make, with `allowedValues` "
                 "(e.g. PixVerse: its 20 sizes)"),
    CatalogEntry("mismatchProviderSettingsProvider", 400,
                 "`providerSettings` names a provider other than the model's (runware-sdk "
                 "1.8's code; runware-surface.md 3.4)"),
    CatalogEntry("unknownProviderSettingsProvider", 400,
                 "`providerSettings` names no provider the emulator knows (runware-sdk 1.8's "
                 "code)"),
    CatalogEntry("conflictTaskUUID", 409,
                 "the taskUUID was already used for a videoInference task"),
    CatalogEntry("taskNotFound", 404,
                 "getResponse for a taskUUID this API key never submitted (or that expired)"),
    CatalogEntry("mediaNotFound", 404, "mediaStorage delete of an unknown mediaUUID"),
    CatalogEntry("renderBacklogFull", 503,
                 "a download of a file not made yet while `--render-backlog` files are being "
                 "made or wait to be; retry after `Retry-After`"),
    CatalogEntry("renderTimeout", 503,
                 "a download that waited `--render-wait` seconds for its file to be made; it "
                 "is still made: retry after `Retry-After`"),
    CatalogEntry("invalidValueUploadFailed", 400,
                 "a task input could not be fetched or decoded (`parameter`: `inputs.image`, "
                 "`inputs.audio`, `media`, `inputImage`, `inputs.seedImage`...); reported by "
                 "getResponse"),
    CatalogEntry("timeoutProvider", 400,
                 "a generation failed (the default code of `POST /__admin/tasks/{uuid}/fail`); "
                 "reported by getResponse and the webhook"),
    CatalogEntry("invalidAdminRequest", 400,
                 "a bad query parameter or body on `/__admin` (`parameter` names it)"),
    CatalogEntry("invalidAdminToken", 401, "`--admin-token` is set and the admin call lacks it"),
    CatalogEntry("invalidAdminHost", 403,
                 "an admin call whose `Host` is not a loopback name, an IP address, `--host` or "
                 "`--public-url`'s host (a DNS-rebinding page)"),
    CatalogEntry("crossSiteAdminRequest", 403,
                 "an admin call a browser sent from another site (`Origin` or "
                 "`Sec-Fetch-Site`)"),
    CatalogEntry("crossSiteRequest", 403,
                 "a `POST /v1` or WebSocket handshake a browser sent from a page of another "
                 "site (`Origin` or `Sec-Fetch-Site`)"),
    CatalogEntry("unsupportedAdminContentType", 415,
                 "an admin write whose body is not `application/json` (a cross-site form post)"),
    CatalogEntry("taskAlreadyFinished", 409,
                 "`/__admin` complete or fail of a task with no generation still processing"),
    CatalogEntry("journalVerificationFailed", 409,
                 "`/__admin/journal/verify`: the count of matching entries is not the expected"),
    CatalogEntry("invalidImageFormat", 400, "inputs.image is not JPG, PNG or WEBP"),
    CatalogEntry("invalidImageSize", 400, "inputs.image is over 10 MB"),
    CatalogEntry("invalidImageDimensions", 400,
                 "a side of inputs.image under 300 px, or over 64 megapixels (never decoded)"),
    CatalogEntry("invalidImageAspectRatio", 400,
                 "inputs.image aspect ratio outside 1:2.5 to 2.5:1"),
    CatalogEntry("invalidAudioFormat", 400,
                 "inputs.audio is not MP3, WAV, M4A, AAC, OGG or FLAC"),
    CatalogEntry("invalidAudioSize", 400, "inputs.audio is over 5 MB"),
    CatalogEntry("invalidAudioDuration", 400, "inputs.audio shorter than 2 s or longer than 300 s"),
    CatalogEntry("invalidFaultHeader", 400,
                 "the `X-Mock-Fault` header (REST request or WebSocket handshake) is not a "
                 "valid fault rule (`parameter` names the field)"),
    CatalogEntry("faultRuleNotFound", 404, "`DELETE /__admin/faults/{id}` of an unknown rule"),
    CatalogEntry("inferenceError", 400,
                 "a generation failed in the provider (injected: `task_error`, its default code)"),
    CatalogEntry("contentPolicyViolation", 400,
                 "the safety check flagged the content (injected: `task_error`; only when "
                 "`safety.checkContent` is true)"),
    CatalogEntry("insufficientCredits", 402,
                 "the account cannot pay for the task: the API key's balance (`--balance`, "
                 "`PUT /__admin/accounts/{apiKey}/balance`) is spent and the task's model is "
                 "paid (also injected: `task_error`)"),
    CatalogEntry("unsupportedAirSource", 400,
                 "modelUpload under an AIR source the organization does not own "
                 "(`--air-source`; `allowedValues` lists them)"),
    CatalogEntry("conflictModelType", 400,
                 "modelUpload of an AIR already uploaded with another `type`"),
    CatalogEntry("rateLimitExceeded", 429,
                 "too many requests, retry after `Retry-After` (injected: `http_error` 429)"),
    CatalogEntry("badGateway", 502, "the upstream failed (injected: `http_error` 502)"),
    CatalogEntry("serviceUnavailable", 503,
                 "temporarily out of capacity, retry after `Retry-After` (injected: "
                 "`http_error` 503); also a task, upload or download the data dir has no room "
                 "for now: nothing of it was kept, send it again, the same taskUUID included"),
    CatalogEntry("gatewayTimeout", 504,
                 "the request waited too long in the queue (injected: `http_error` 504)"),
    CatalogEntry("notFound", 404, "a URL the emulator does not serve"),
    CatalogEntry("notInCassette", 404,
                 "`serve --replay-strict`: a request the cassette does not hold"),
    CatalogEntry("methodNotAllowed", 405, "a method the URL does not take (e.g. GET /v1)"),
    CatalogEntry("internalServerError", 500, "a bug in the emulator: please report it"),
)

_STATUS = {entry.code: entry.status for entry in CATALOG}


def status_for(code: str) -> int:
    return _STATUS.get(code, 400)


def error(code: str, message: str, **fields: Any) -> ApiError:
    """An ApiError whose HTTP status comes from the catalog."""
    return ApiError(code=code, message=message, status=status_for(code), **fields)


def catalog_table() -> str:
    """The README's error catalog, generated so docs and code agree."""
    rows = ["| code | HTTP status | situation |", "|---|---|---|"]
    rows += [f"| `{e.code}` | {e.status} | {e.situation} |" for e in CATALOG]
    return "\n".join(rows)

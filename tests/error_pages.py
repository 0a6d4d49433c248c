"""Each task type's reference page, where its errors link, as runware-surface.md section 7 lists
them (the /docs/en/ API reference pages of the service's own error links; /docs/platform/ for
task types that have none there; /docs/models for textInference, whose reference is one page
per model), and the page of errors for the rest. Written from the reference, not the code."""

from __future__ import annotations

ERRORS_PAGE = "https://runware.ai/docs/platform/errors"
PAGES = {
    "imageInference": "https://runware.ai/docs/en/image-inference/api-reference",
    "videoInference": "https://runware.ai/docs/en/video-inference/api-reference",
    "audioInference": "https://runware.ai/docs/en/audio-inference/api-reference",
    "textInference": "https://runware.ai/docs/models",
    "imageUpscale": "https://runware.ai/docs/en/tools/upscale",
    "upscale": "https://runware.ai/docs/en/tools/upscale",
    "promptEnhance": "https://runware.ai/docs/en/tools/prompt-enhancer",
    "modelSearch": "https://runware.ai/docs/en/utilities/model-search",
    "getResponse": "https://runware.ai/docs/en/utilities/task-responses",
    "imageUpload": "https://runware.ai/docs/en/utilities/image-upload",
    "mediaStorage": "https://runware.ai/docs/platform/media-storage",
    "getTaskDetails": "https://runware.ai/docs/platform/task-details",
    "photoMaker": "https://runware.ai/docs/en/image-inference/photomaker",
    "modelUpload": "https://runware.ai/docs/en/image-inference/model-upload",
    "accountManagement": "https://runware.ai/docs/en/utilities/account-management",
    "imageCaption": "https://runware.ai/docs/en/tools/caption",
    "caption": "https://runware.ai/docs/en/tools/caption",
    "imageBackgroundRemoval": "https://runware.ai/docs/en/tools/remove-background",
    "removeBackground": "https://runware.ai/docs/en/tools/remove-background",
    "imageControlNetPreProcess": "https://runware.ai/docs/en/tools/controlnet-preprocess",
    "controlNetPreprocess": "https://runware.ai/docs/en/tools/controlnet-preprocess",
    "imageMasking": "https://runware.ai/docs/en/tools/image-masking",
    "vectorize": "https://runware.ai/docs/en/tools/vectorize",
}


def link(task_type: str | None, parameter: str | None = None) -> str:
    """The page, at the parameter's entry: `#request-` and its path in lower case, dots as
    dashes (`…/video-inference/api-reference#request-duration`)."""
    page = PAGES.get(task_type or "")
    if page is None:
        return ERRORS_PAGE
    if not parameter:
        return page
    path = "-".join(part for part in parameter.lower().split(".") if not part.isdigit())
    return f"{page}#request-{path}"

"""Per-model image sizes over REST (issue 24): a provider model makes the sizes its Runware page
publishes, refuses others as the real service does, and Midjourney takes its own settings. One
emulator serves the whole file. Expected sizes are the pages' (runware-surface.md 3.5:
``openai:2@3`` makes 1024x1024, 1792x1024 or 1024x1792; runware.ai/docs/providers/midjourney's
example asks ``midjourney:3@1`` at 1456x816)."""

from __future__ import annotations

from typing import Any

from tests.image_tools import ToolClient, fetched, new_uuid, opened

DALL_E_3 = ["1024x1024", "1792x1024", "1024x1792"]


def task(model: str, **fields: Any) -> dict[str, Any]:
    return {"taskType": "imageInference", "taskUUID": new_uuid(), "model": model,
            "positivePrompt": "a lighthouse at dusk", "outputFormat": "PNG", **fields}


def size_of(item: dict[str, Any]) -> tuple[int, int]:
    return opened(fetched(item["imageURL"])).size


def test_dall_e_3_makes_a_size_of_its_list(tool_client: ToolClient) -> None:
    item = tool_client.only_result(task("openai:2@3", width=1792, height=1024))
    assert size_of(item) == (1792, 1024)


def test_dall_e_3_refuses_a_size_it_does_not_make(tool_client: ToolClient) -> None:
    problem = tool_client.only_error(task("openai:2@3", width=512, height=512))
    assert (problem["code"], problem["parameter"]) == ("unsupportedDimensions", "width")
    assert problem["allowedValues"] == DALL_E_3


def test_without_a_size_dall_e_3_makes_its_first(tool_client: ToolClient) -> None:
    assert size_of(tool_client.only_result(task("openai:2@3"))) == (1024, 1024)


def test_midjourney_takes_its_provider_settings(tool_client: ToolClient) -> None:
    settings = {"midjourney": {"quality": 2, "stylize": 500, "chaos": 25}}
    item = tool_client.only_result(task("midjourney:3@1", width=1456, height=816,
                                        providerSettings=settings))
    assert size_of(item) == (1456, 816)
    problem = tool_client.only_error(task("openai:2@3", providerSettings=settings))
    assert problem["code"] == "mismatchProviderSettingsProvider"

"""``promptEnhance``: ``promptVersions`` enhanced prompts, each within ``promptMaxLength``
characters, all different, the same for the same prompt and emulator ``--seed``.

One result per version (the engine's generations), reported as ``{"taskType":
"promptEnhance", "taskUUID", "status": "success", "text", "cost"?}``: never a ``code`` key,
which runware 0.5 takes for an error. ``deliveryMethod`` sync (the default: sdk-js and
runware 0.5 send none) or async.
"""

from __future__ import annotations

from runware_mock.contract.request_types import PromptEnhanceRequest
from runware_mock.engine.lifecycle import Expiry, Generation, Produced
from runware_mock.engine.randomness import Randomness
from runware_mock.handling.submission import submit
from runware_mock.handling.task_type import Context, TaskServices, TaskType, check_served_model
from runware_mock.handling.text_work import TextWork
from runware_mock.media.text import count_tokens, enhanced_prompt
from runware_mock.protocol.envelope import Reply


async def prompt_enhance(task: PromptEnhanceRequest, context: Context,
                         services: TaskServices) -> Reply:
    check_served_model("promptEnhance", task["model"])
    # One result per version: the engine makes numberResults of them.
    task["numberResults"] = task["promptVersions"]
    return await submit(task, context, services, enhance_work(task, services))


def enhance_work(request: PromptEnhanceRequest, services: TaskServices) -> EnhancedPrompts:
    return EnhancedPrompts(request, Randomness(services.settings.seed))


class EnhancedPrompts(TextWork):
    """The engine's ``Work`` for a promptEnhance task: version N is generation N."""

    async def produce(self, generation: Generation, expiry: Expiry) -> Produced:
        prompt = self._request["prompt"]
        text = enhanced_prompt(self._randomness, prompt, generation.index,
                               self._request["promptMaxLength"])
        return Produced({"text": text},
                        cost=self._price.of(tokens=count_tokens(prompt) + count_tokens(text)))


TASK_TYPE = TaskType.later("promptEnhance", prompt_enhance, enhance_work,
                           schema="request.promptEnhance")

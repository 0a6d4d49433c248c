"""``textInference``: a deterministic text answer to a conversation, with its token usage.

``deliveryMethod`` sync (the default) answers the items once the latency has passed, async
acknowledges at once (getResponse, webhook, pushed frame), and stream sends Server-Sent
Events when the task is alone in a REST request (tasks/text_stream.py); elsewhere (WebSocket,
a REST request of several tasks) stream is answered as sync, one final item per result, as
the SDKs that stream over WebSocket expect.
"""

from __future__ import annotations

from typing import Any

from runware_mock.contract import model_catalog
from runware_mock.contract.errors import error
from runware_mock.engine.lifecycle import Expiry, Generation, Produced
from runware_mock.engine.randomness import Randomness
from runware_mock.handling.submission import accept_kept, submit
from runware_mock.handling.task_type import Context, TaskServices, TaskType, scoped
from runware_mock.handling.text_events import text_events
from runware_mock.media.text import Answer, Conversation, answer, request_seed, tokens
from runware_mock.protocol.envelope import Reply, failed
from runware_mock.tasks.video_inference import video_item


async def text_inference(task: dict[str, Any], context: Context,
                         services: TaskServices) -> Reply:
    if task["messages"][-1]["role"] != "user":
        return failed(scoped(error(
            "invalidMessages", "Invalid value for messages: the last message must have the "
            "role user.", parameter="messages", type="array"), task))
    work = text_work(task, services)
    if task["deliveryMethod"] != "stream" or not context.may_stream:
        return await submit(task, context, services, work)
    accepted = await accept_kept(task, context, services, work)
    if isinstance(accepted, Reply):
        return accepted
    return Reply(events=text_events(accepted, services, work.deltas))


class TextWork:
    """What the text task types' ``Work`` share: no input to fetch or measure, no media."""

    def __init__(self, request: dict[str, Any], randomness: Randomness) -> None:
        self._request = request
        self._randomness = randomness
        self._price = model_catalog.model(request["model"]).price

    def measured_now(self) -> float:
        return 0.0

    async def measure(self) -> float:
        return 0.0

    def forget_inline_data(self) -> None:
        """Text tasks hold no media."""


class TextAnswer(TextWork):
    """The engine's ``Work`` for a textInference task: one answer per result, the same
    whether it is streamed or reported whole."""

    def __init__(self, request: dict[str, Any], randomness: Randomness) -> None:
        super().__init__(request, randomness)
        self._conversation = Conversation.of(request)

    def answer(self, generation: Generation) -> tuple[Answer, int]:
        """The answer and the seed it came from: the request's seed (plus the result's index)
        when one was given, else the result's own seed."""
        asked = request_seed(self._request)
        seed = generation.seed if asked is None else (asked + generation.index) % 2**32
        return answer(self._randomness, self._conversation, seed), seed

    def deltas(self, generation: Generation) -> list[str]:
        return tokens(self.answer(generation)[0].text)

    async def produce(self, generation: Generation, expiry: Expiry) -> Produced:
        found, seed = self.answer(generation)
        usage = found.usage()
        return Produced({"text": found.text, "finishReason": found.finish_reason,
                         "usage": usage, "seed": seed},
                        cost=self._price.of(tokens=usage["totalTokens"]))


def text_work(request: dict[str, Any], services: TaskServices) -> TextAnswer:
    return TextAnswer(request, Randomness(services.settings.seed))


TASK_TYPE = TaskType("textInference", None, text_inference, result_item=video_item,
                     watches_task=True, work=text_work)

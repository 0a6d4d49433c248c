"""``textInference``: a deterministic text answer to a conversation, with its token usage.

``deliveryMethod`` sync (the default) answers the items once the latency has passed, async
acknowledges at once (getResponse, webhook, pushed frame), and stream sends Server-Sent
Events when the task is alone in a REST request (handling/text_events.py); elsewhere (WebSocket,
a REST request of several tasks) stream is answered as sync, one final item per result, as
the SDKs that stream over WebSocket expect.
"""

from __future__ import annotations

from runware_mock.contract.errors import ApiRefusal, error
from runware_mock.contract.request_types import TextInferenceChatRequest
from runware_mock.engine.lifecycle import Expiry, Generation, Produced
from runware_mock.engine.randomness import Randomness
from runware_mock.handling.submission import accept_committed, submit
from runware_mock.handling.task_type import Context, TaskServices, TaskType
from runware_mock.handling.text_events import text_events
from runware_mock.handling.text_work import TextWork
from runware_mock.media.text import Answer, Conversation, answer, request_seed, tokens
from runware_mock.protocol.envelope import Reply


async def text_inference(task: TextInferenceChatRequest, context: Context,
                         services: TaskServices) -> Reply:
    if task["messages"][-1]["role"] != "user":
        raise ApiRefusal(error(
            "invalidMessages", "Invalid value for messages: the last message must have the "
            "role user.", parameter="messages", type="array"))
    _check_contents(task)
    work = text_work(task, services)
    if task["deliveryMethod"] != "stream" or not context.may_stream:
        return await submit(task, context, services, work)
    accepted = await accept_committed(task, context, services, work)
    return Reply(events=text_events(accepted, services, work.deltas))


def _check_contents(task: TextInferenceChatRequest) -> None:
    """Every message has content but an assistant turn that carries tool calls (runware 0.5.19+
    sends such a turn without content: runware-surface.md 5.2)."""
    for index, message in enumerate(task["messages"]):
        called_tools = message["role"] == "assistant" and message.get("tools")
        if "content" not in message and not called_tools:
            raise ApiRefusal(error(
                "missingParameter", f"Missing required parameter: messages.{index}.content "
                "(only an assistant message that carries tools may omit it).",
                parameter=f"messages.{index}.content", type="string"))


class TextAnswer(TextWork):
    """The engine's ``Work`` for a textInference task: one answer per result, the same
    whether it is streamed or reported whole."""

    def __init__(self, request: TextInferenceChatRequest, randomness: Randomness) -> None:
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


def text_work(request: TextInferenceChatRequest, services: TaskServices) -> TextAnswer:
    return TextAnswer(request, Randomness(services.settings.seed))


TASK_TYPE = TaskType.later("textInference", text_inference, text_work)

"""What the task and delivery faults chosen at submit do to a task: kept on the Task, read by
the engine (when a generation is due and whether it fails) and by the delivery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from runware_mock.contract.errors import ApiError, error

_MESSAGES = {
    "timeoutProvider": "The provider did not return a result in time.",
    "inferenceError": "The provider failed while generating this result.",
    "contentPolicyViolation": "The content was flagged by the safety check.",
    "insufficientCredits": "Insufficient credits to run this task.",
}


STREAM_CUT_MESSAGE = "The provider's stream broke off mid-answer."


class Fault(Protocol):
    """A fault that fired (``runware_mock.faults.Fault``), as the engine reads it: faults sit
    above the engine, which only applies what was chosen."""

    @property
    def name(self) -> str: ...

    @property
    def rule_id(self) -> str: ...

    def __getitem__(self, parameter: str) -> Any: ...

    def to_state(self) -> dict[str, Any]:
        """What the store keeps of it (``runware_mock.faults.fault_from_state`` reads it)."""
        ...


@dataclass(frozen=True)
class TaskFaults:
    task: Fault | None = None
    delivery: Fault | None = None

    def to_state(self) -> dict[str, Any] | None:
        if self.task is None and self.delivery is None:
            return None
        return {"task": self.task.to_state() if self.task is not None else None,
                "delivery": self.delivery.to_state() if self.delivery is not None else None}

    def fired(self) -> list[Fault]:
        return [fault for fault in (self.task, self.delivery) if fault is not None]

    @property
    def never_finishes(self) -> bool:
        return self.task is not None and self.task.name == "never_finish"

    def latency(self, drawn: float, time_scale: float) -> float:
        """The generation's latency once a ``slow_task`` fault stretched it."""
        if self.task is None or self.task.name != "slow_task":
            return drawn
        return drawn * float(self.task["factor"]) + float(self.task["seconds"]) * time_scale

    def error_for(self, index: int) -> ApiError | None:
        """The error a ``task_error`` fault gives this generation, if it fails it; or the
        ``stream_cut`` that ends its stream (the task fails so, whenever its stream is cut)."""
        fault = self.task
        if fault is not None and fault.name == "stream_cut":
            return stream_cut_error(fault)
        if fault is None or fault.name != "task_error":
            return None
        if fault["results"] is not None and index not in fault["results"]:
            return None
        code = str(fault["code"])
        message = fault["message"] or _MESSAGES.get(code, "The generation failed.")
        return error(code, f"{message} (fault injected by rule {fault.rule_id})")

    def delivery_named(self, name: str) -> Fault | None:
        fault = self.delivery
        return fault if fault is not None and fault.name == name else None


def stream_cut_error(fault: Fault) -> ApiError:
    message = fault["message"] or STREAM_CUT_MESSAGE
    return error(str(fault["code"]), f"{message} (fault injected by rule {fault.rule_id})")


# Most tasks: frozen, so one instance serves them all.
NO_FAULTS = TaskFaults()

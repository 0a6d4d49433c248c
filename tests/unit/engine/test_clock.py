"""The simulated clock's alarms: order, cancelling, advancing, and a failing callback."""

from __future__ import annotations

import asyncio

from runware_mock.engine.clock import Clock


def run(scenario) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(asyncio.wait_for(scenario(), timeout=10))


def test_alarms_ring_in_deadline_order_and_a_cancelled_one_never_does() -> None:
    async def scenario() -> None:
        clock, rung = Clock(), []
        start = clock.now()
        for name, delay in [("c", 0.06), ("a", 0.02), ("b", 0.04), ("x", 0.03)]:
            alarm = clock.call_at(start + delay, rung.append, name)
        clock.cancel(alarm)
        while "c" not in rung:  # the last deadline: every earlier alarm has had its turn
            await asyncio.sleep(0.01)
        assert rung == ["a", "b", "c"]
    run(scenario)


def test_advance_rings_every_alarm_it_passes_at_once() -> None:
    async def scenario() -> None:
        clock, rung = Clock(), []
        start = clock.now()
        for number in range(1000):
            clock.call_at(start + 3600 + number, rung.append, number)
        clock.advance(3600 + 499.5)
        while len(rung) < 500:  # without a re-armed timer this would wait an hour
            await asyncio.sleep(0.01)
        await clock.sleep_until(clock.now())
        assert rung == list(range(500))
    run(scenario)


def test_a_failing_alarm_does_not_stop_the_others_due_with_it() -> None:
    async def scenario() -> None:
        clock, rung = Clock(), []

        def fail(_: object) -> None:
            raise RuntimeError("boom")

        deadline = clock.now() + 0.01
        clock.call_at(deadline, fail, None)
        clock.call_at(deadline, rung.append, "after")
        await clock.sleep_until(deadline + 0.01)
        assert rung == ["after"]
    run(scenario)

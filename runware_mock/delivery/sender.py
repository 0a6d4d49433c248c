"""Delivery of finished results: the webhook POST and the upload PUT, retried with backoff.

The engine calls ``on_finished`` once per generation at its terminal state. For a success with
an ``uploadEndpoint`` the video is PUT first, then the webhook is POSTed, so a receiver that is
told about a result can already find the uploaded file. Waits between tries run on the
simulated clock (``/__admin/clock/advance`` skips them) and are scaled by ``time_scale``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from runware_mock.delivery.backoff import retry_delay
from runware_mock.delivery.log import (
    DELIVERED,
    GAVE_UP,
    REFUSED,
    RETRYING,
    SKIPPED,
    UPLOAD,
    WEBHOOK,
    Attempt,
    DeliveryLog,
)
from runware_mock.delivery.loop_guard import SelfAddress
from runware_mock.delivery.signing import secret_key, signed_headers
from runware_mock.engine.clock import Clock
from runware_mock.engine.lifecycle import ERROR, SUCCESS, Generation, ResultBody, Task
from runware_mock.engine.randomness import Randomness
from runware_mock.media import outbound
from runware_mock.media.facade import Media
from runware_mock.media.targets import TargetRefused
from runware_mock.settings import Settings
from runware_mock.store.delivery_table import DeliveryTable, Progress

log = logging.getLogger("runware_mock.delivery")

USER_AGENT = "runware-mock delivery"


@dataclass(frozen=True)
class Outbound:
    """One message to deliver: the same bytes on every try, headers made fresh per try."""

    task: Task
    generation: Generation
    kind: str
    method: str
    url: str
    body: bytes
    headers: Callable[[], dict[str, str]]
    digest: str
    # The injected delivery fault acting on this message, named in the delivery log.
    fault: str | None = None


@dataclass(frozen=True)
class Answer:
    status: int | None
    error: str | None
    duration_ms: float


class Delivery:
    def __init__(self, settings: Settings, clock: Clock, randomness: Randomness, media: Media,
                 result_body: ResultBody, table: DeliveryTable) -> None:
        self._settings = settings
        # Tries and ends are kept there, so a restart goes on with what is still owed.
        self._table = table
        # Tries made before a restart, by (taskUUID, generation, kind): the next try counts on.
        self._tried_before: dict[tuple[str, int, str], int] = {}
        self._clock = clock
        self._random = randomness
        self._media = media
        self._result_body = result_body
        self._self_address = SelfAddress(settings, media.lookups, media.targets)
        self._key = secret_key(settings.webhook_secret) if settings.webhook_secret else None
        self._client = outbound.client(media.lookups, media.targets,
                                       timeout=settings.delivery_timeout, follow_redirects=False)
        self._jobs: set[asyncio.Task[None]] = set()
        # One process: generations whose delivery a webhook_reorder fault holds until the task
        # finishes (after a restart, owed deliveries go in their order, unreordered).
        self._held: dict[str, list[Generation]] = {}
        self.log = DeliveryLog()

    def on_finished(self, task: Task, generation: Generation) -> None:
        """The engine's listener: start delivering, in the background, whatever the task asked."""
        if not (task.request.get("webhookURL") or task.request.get("uploadEndpoint")):
            return
        generations = [generation]
        if task.faults.delivery_named("webhook_reorder") is not None:
            held = self._held.setdefault(task.task_uuid, [])
            held.append(generation)
            if not task.finished:
                return
            generations = list(reversed(self._held.pop(task.task_uuid)))
        self._start(task, generations)

    def _start(self, task: Task, generations: list[Generation]) -> None:
        self.log.started(task.task_uuid)
        job = asyncio.get_running_loop().create_task(self._deliver(task, generations))
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)

    def resume(self, tasks: list[Task], progress: Progress) -> int:
        """After a restart: deliver what the store says is still owed (results finished with
        a webhook or an upload whose delivery never ended); returns how many results."""
        owed = 0
        for task in tasks:
            if not (task.request.get("webhookURL") or task.request.get("uploadEndpoint")):
                continue  # nothing to deliver (most tasks): skipped at once
            for generation in task.generations:
                states = {kind: progress.get((task.task_uuid, generation.index, kind), (0, False))
                          for kind in self._kinds(task, generation)}
                if all(ended for _, ended in states.values()):
                    continue
                for kind, (tries, ended) in states.items():
                    self._tried_before[(task.task_uuid, generation.index, kind)] = \
                        -1 if ended else tries
                owed += 1
                self._start(task, [generation])
        return owed

    @staticmethod
    def _kinds(task: Task, generation: Generation) -> list[str]:
        """What a finished result is owed: its upload (a success), then its webhook."""
        if generation.status not in (SUCCESS, ERROR):
            return []
        kinds = [UPLOAD] if task.request.get("uploadEndpoint") and generation.status == SUCCESS \
            else []
        return kinds + ([WEBHOOK] if task.request.get("webhookURL") else [])

    async def reset(self) -> None:
        """Stop every delivery in progress and forget the log."""
        await self._cancel_jobs()
        self._held.clear()
        self.log.clear()

    async def close(self) -> None:
        await self._cancel_jobs()
        await self._client.aclose()

    async def _cancel_jobs(self) -> None:
        jobs = list(self._jobs)
        for job in jobs:
            job.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)

    async def _deliver(self, task: Task, generations: list[Generation]) -> None:
        try:
            for generation in generations:
                upload_url = task.request.get("uploadEndpoint")
                if upload_url and generation.status == SUCCESS:
                    await self._upload(task, generation, upload_url)
                webhook_url = task.request.get("webhookURL")
                if webhook_url:
                    await self._send_webhook(self._webhook(task, generation, webhook_url))
        except Exception:
            log.exception("delivery for task %s failed inside the emulator", task.task_uuid)
        finally:
            self.log.finished(task.task_uuid)

    async def _send_webhook(self, message: Outbound) -> None:
        """Send a webhook as the task's delivery fault, if any, has it: not at all, late, or
        more than once (each copy with its own retries)."""
        fault = message.task.faults.delivery
        if fault is None or fault.name == "upload_fail":
            await self._send(message)
            return
        message = dataclasses.replace(message, fault=fault.name)
        if fault.name == "webhook_skip":
            self._skip(message, f"fault injected by rule {fault.rule_id}: not sent")
            return
        if fault.name == "webhook_delay":
            delay = float(fault["seconds"]) * self._settings.time_scale
            await self._clock.sleep_until(self._clock.now() + delay)
        copies = int(fault["copies"]) if fault.name == "webhook_duplicate" else 1
        for _ in range(copies):
            await self._send(message)

    def _webhook(self, task: Task, generation: Generation, url: str) -> Outbound:
        body = json.dumps(self._result_body(task, generation), separators=(",", ":")).encode()
        message_id = self._message_id(task, generation)

        def headers() -> dict[str, str]:
            plain = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
            if self._key is None:
                return plain
            # The timestamp is the time of each try, as Standard Webhooks receivers expect.
            return plain | signed_headers(self._key, message_id, int(time.time()), body)

        return Outbound(task, generation, WEBHOOK, "POST", url, body, headers,
                        hashlib.sha256(body).hexdigest())

    def _message_id(self, task: Task, generation: Generation) -> str:
        """Stable across retries, so a receiver can drop duplicates (Standard Webhooks)."""
        rng = self._random.stream("webhook-id", task.task_uuid, generation.index)
        return f"msg_{uuid.UUID(int=rng.getrandbits(128), version=4).hex}"

    async def _upload(self, task: Task, generation: Generation, url: str) -> None:
        kind, file_uuid = generation.file or ("", "")
        served = self._media.find(kind, file_uuid, self._clock.now())
        if served is None:
            self._refuse(task, generation, UPLOAD, "PUT", url,
                         "the video expired or was removed before it could be uploaded")
            return
        content, digest = await asyncio.to_thread(_read_with_digest, served.path)
        headers = {"Content-Type": served.content_type, "User-Agent": USER_AGENT}
        fault = task.faults.delivery_named("upload_fail")
        await self._send(Outbound(task, generation, UPLOAD, "PUT", url, content,
                                  lambda: dict(headers), digest,
                                  fault=fault.name if fault is not None else None))

    async def _send(self, message: Outbound) -> None:
        refusal = await self._self_address.refusal(message.url)
        if refusal is not None:
            self._refuse(message.task, message.generation, message.kind, message.method,
                         message.url, f"loop guard: {refusal}; not sent", message.digest,
                         len(message.body))
            return
        rng = self._random.stream("delivery-backoff", message.kind, message.task.task_uuid,
                                  message.generation.index)
        attempts = self._settings.delivery_attempts
        before = self._tried_before.pop(self._key_of(message), 0)
        if before < 0:
            return  # ended before the restart
        for _ in range(before - 1):  # the waits drawn before the restart
            rng.random()
        if before:
            await self._wait_before_retry(before, rng)
        for number in range(before + 1, attempts + 1):
            started, sent_at = time.time(), self._clock.now()
            answer = self._injected_failure(message, number) or await self._try(message)
            delivered = answer.status is not None and 200 <= answer.status < 300
            outcome = DELIVERED if delivered else GAVE_UP if number == attempts else RETRYING
            self._record(message, number, started, answer, outcome)
            if outcome != RETRYING:
                return
            # The wait starts when the try ends, and a clock advance made while the try was
            # in flight counts toward it: a client that advances once its receiver has the
            # request gets the retry, whether or not the answer was back yet.
            await self._wait_before_retry(number, rng, since=sent_at + answer.duration_ms / 1000)

    def _injected_failure(self, message: Outbound, number: int) -> Answer | None:
        """An upload try that an upload_fail fault fails without sending it."""
        fault = message.task.faults.delivery_named("upload_fail")
        if message.kind != UPLOAD or fault is None:
            return None
        if fault["failures"] is not None and number > int(fault["failures"]):
            return None
        return Answer(None, f"fault injected by rule {fault.rule_id}: upload_fail, not sent", 0.0)

    async def _wait_before_retry(self, retry: int, rng: random.Random,
                                 since: float | None = None) -> None:
        """Until ``delay`` simulated seconds after ``since`` (a clock reading; now if None)."""
        settings = self._settings
        delay = retry_delay(retry, settings.delivery_backoff, settings.delivery_backoff_max, rng)
        start = self._clock.now() if since is None else since
        await self._clock.sleep_until(start + delay * settings.time_scale)

    async def _try(self, message: Outbound) -> Answer:
        started = time.perf_counter()
        status, problem = None, None
        timeout = self._settings.delivery_timeout
        try:
            # The whole try, not each read: a receiver answering a byte a second would keep a
            # try going for minutes under the client's own (per read) timeout.
            async with asyncio.timeout(timeout):
                # Streamed and never read: a receiver's answer body does not matter, only its
                # status.
                async with self._client.stream(message.method, message.url,
                                               content=message.body,
                                               headers=message.headers()) as response:
                    status = response.status_code
        except (TimeoutError, httpx.TimeoutException) as exc:
            problem = f"timeout after {timeout:g} s ({type(exc).__name__})"
        except TargetRefused as exc:  # a name that now resolves elsewhere (DNS rebinding)
            problem = f"not sent: {exc}"
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, ValueError,
                UnicodeError) as exc:
            problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return Answer(status, problem, (time.perf_counter() - started) * 1000)

    @staticmethod
    def _key_of(message: Outbound) -> tuple[str, int, str]:
        return message.task.task_uuid, message.generation.index, message.kind

    def _record(self, message: Outbound, number: int, started: float, answer: Answer,
                outcome: str) -> None:
        self._table.save_tries(*self._key_of(message), number, ended=outcome != RETRYING)
        self.log.add(Attempt(
            task_uuid=message.task.task_uuid, generation=message.generation.index,
            kind=message.kind, method=message.method, url=message.url, attempt=number,
            time=started, duration_ms=answer.duration_ms, status=answer.status,
            error=answer.error, outcome=outcome, body_sha256=message.digest,
            body_bytes=len(message.body), fault=message.fault))
        if outcome in (RETRYING, GAVE_UP):
            log.info("%s %s for task %s: try %d %s", message.kind, message.url,
                     message.task.task_uuid, number, answer.error or f"HTTP {answer.status}")

    def _skip(self, message: Outbound, reason: str) -> None:
        self._table.save_tries(*self._key_of(message), 0, ended=True)
        self.log.add(Attempt(
            task_uuid=message.task.task_uuid, generation=message.generation.index,
            kind=message.kind, method=message.method, url=message.url, attempt=1,
            time=time.time(), duration_ms=0.0, status=None, error=reason, outcome=SKIPPED,
            body_sha256=message.digest, body_bytes=len(message.body), fault=message.fault))

    def _refuse(self, task: Task, generation: Generation, kind: str, method: str, url: str,
                reason: str, body_sha256: str = "", body_bytes: int = 0) -> None:
        log.warning("%s to %s for task %s refused: %s", kind, url, task.task_uuid, reason)
        self._table.save_tries(task.task_uuid, generation.index, kind, 0, ended=True)
        self.log.add(Attempt(
            task_uuid=task.task_uuid, generation=generation.index, kind=kind, method=method,
            url=url, attempt=1, time=time.time(), duration_ms=0.0, status=None, error=reason,
            outcome=REFUSED, body_sha256=body_sha256, body_bytes=body_bytes))


def _read_with_digest(path: Path) -> tuple[bytes, str]:
    content = path.read_bytes()
    return content, hashlib.sha256(content).hexdigest()

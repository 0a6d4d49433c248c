"""``GET /metrics``: Prometheus counters and gauges, read from the emulator's state at scrape
time by one custom collector on a registry of this app's own (two emulators in one process,
as in the tests, never share metrics)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from runware_mock.admin.inspected import Counted
from runware_mock.admin.ui.access import authorized
from runware_mock.admin.views import TASK_STATES, task_state
from runware_mock.contract.errors import error
from runware_mock.engine.lifecycle import ERROR, PROCESSING, SUCCESS
from runware_mock.protocol.jsoncodec import JSONResponse


class EmulatorCollector(Collector):
    def __init__(self, services: Counted) -> None:
        self._services = services

    def collect(self) -> Iterator[Metric]:
        yield self._requests()
        yield from self._tasks()
        yield self._deliveries()
        yield from self._faults()
        yield from self._renders()

    def _requests(self) -> Metric:
        family = CounterMetricFamily(
            "runware_mock_requests", "REST requests and WebSocket frames (received: from "
            "clients; sent: pushed by the emulator)", labels=["transport", "kind"])
        for (transport, kind), count in sorted(self._services.journal.totals.items()):
            family.add_metric([transport, kind], count)
        return family

    def _tasks(self) -> Iterator[Metric]:
        tasks = self._services.engine.tasks()
        by_state = Counter(task_state(task) for task in tasks)
        family = GaugeMetricFamily("runware_mock_tasks", "avatar tasks held, by state",
                                   labels=["state"])
        for state in TASK_STATES:
            family.add_metric([state], by_state[state])
        yield family
        by_status = Counter(g.status for task in tasks for g in task.generations)
        generations = GaugeMetricFamily("runware_mock_generations",
                                        "generations (results) of the tasks held, by status",
                                        labels=["status"])
        for status in (PROCESSING, SUCCESS, ERROR):
            generations.add_metric([status], by_status[status])
        yield generations

    def _deliveries(self) -> Metric:
        family = CounterMetricFamily("runware_mock_delivery_attempts",
                                     "webhook and upload tries, by outcome",
                                     labels=["kind", "outcome"])
        for (kind, outcome), count in sorted(self._services.delivery.log.totals.items()):
            family.add_metric([kind, outcome], count)
        return family

    def _faults(self) -> Iterator[Metric]:
        faults = self._services.faults
        fired = CounterMetricFamily("runware_mock_faults_injected", "faults injected",
                                    labels=["kind", "scope", "source"])
        for (kind, scope, source), count in sorted(faults.fired_total.items()):
            fired.add_metric([kind, scope, source], count)
        yield fired
        rules = GaugeMetricFamily("runware_mock_fault_rules", "fault rules in force (admin "
                                  "and profile)", labels=["source"])
        by_source = Counter(rule.source for rule in faults.rules())
        for source in ("admin", "profile"):
            rules.add_metric([source], by_source[source])
        yield rules


    def _renders(self) -> Iterator[Metric]:
        media = self._services.media
        backlog = media.render_backlog()
        queue = GaugeMetricFamily("runware_mock_render_backlog", "files being made on demand "
                                  "(running) or waiting to be (queued); --render-backlog bounds "
                                  "their sum", labels=["state"])
        queue.add_metric(["queued"], backlog.queued)
        queue.add_metric(["running"], backlog.running)
        yield queue
        yield GaugeMetricFamily("runware_mock_files_pending", "task outputs published whose "
                                "file is not made yet (made at its first download)",
                                value=media.pending_files())
        made = CounterMetricFamily("runware_mock_renders_on_demand", "files made on demand, and "
                                   "downloads refused because the backlog was full",
                                   labels=["outcome"])
        made.add_metric(["made"], backlog.made)
        made.add_metric(["refused"], backlog.refused)
        yield made


def registry_for(services: Counted) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EmulatorCollector(services))
    return registry


async def metrics(request: Request) -> Response:
    if not authorized(request):  # --admin-token guards the metrics as the admin API
        problem = error("invalidAdminToken", "/metrics needs the token set with "
                        "--admin-token (generated when bound beyond loopback): send "
                        "'Authorization: Bearer <token>'.")
        return JSONResponse({"errors": [problem.to_json()]}, status_code=problem.status,
                            headers={"WWW-Authenticate": "Bearer"})
    registry: CollectorRegistry = request.app.state.metrics
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

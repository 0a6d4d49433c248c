"""``runware-mock proxy``: serve the proxy app until Ctrl-C, then print the drift report."""

from __future__ import annotations

import socket
import sys

import uvicorn

from runware_mock.app import PromptServer, server_options
from runware_mock.proxy.assembly import create_proxy_app, report_path, upstream_ws_url
from runware_mock.proxy.report import DriftReport
from runware_mock.replay.cassette import MEDIA
from runware_mock.settings import Settings


def check_record_folder(settings: Settings) -> None:
    """ValueError, before serving, for a --record folder that cannot be made."""
    if settings.record is not None:
        try:
            (settings.record / MEDIA).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"cannot record to {settings.record}: "
                             f"{exc.strerror or exc}") from exc


def serve_proxy(settings: Settings, listener: socket.socket) -> DriftReport:
    report = DriftReport(report_path(settings))
    print(f"runware-mock proxy: {settings.base_url}/v1 forwards to {settings.upstream} "
          f"(WebSocket: {upstream_ws_url(settings)})\n"
          f"  drift report: {report.path} and {settings.base_url}/__admin/ui/drift"
          + (f"\n  recording to {settings.record}" if settings.record else "")
          + "\n  Ctrl-C stops the proxy and prints the report", file=sys.stderr, flush=True)
    # The upstream's own Date and Server headers are passed on, not doubled with ours.
    config = uvicorn.Config(create_proxy_app(settings, report), log_level=settings.log_level,
                            **{**server_options(settings), "server_header": False,
                               "date_header": False})
    try:
        PromptServer(config).run(sockets=[listener])
    finally:
        print(report.table(), file=sys.stderr, flush=True)
    return report

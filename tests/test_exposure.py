"""Safe when exposed (issue 27, item 5): bound beyond loopback without ``--admin-token``, a token
is generated, printed once and required by the admin API, the dashboard and ``/metrics``; and
``/v1`` refuses what a web page of another site sends, as the admin API does, while clients
that are not browsers need nothing new.

Nothing here binds a network interface: the bind decision is tested on settings and on the
``serve`` command stopped before it binds; the servers run on 127.0.0.1 with the token the
decision gives, on one worker and on ``--workers 2``."""

from __future__ import annotations

import json
import socket
import uuid
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from runware_mock import cli
from runware_mock.admin.exposure import guarded
from runware_mock.settings import Settings
from tests.conftest import ServerFactory

pytestmark = pytest.mark.workers

PING = [{"taskType": "ping", "ping": True}]
KEY = {"Authorization": "Bearer test-key"}


# --- the decision --------------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "emulator.example"])
def test_a_bind_beyond_loopback_gets_a_token_of_its_own(host: str) -> None:
    first, token = guarded(Settings(host=host))
    _, other = guarded(Settings(host=host))
    assert token and other and token != other
    assert first.admin_token == token and len(token) >= 24


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_a_loopback_bind_stays_open(host: str) -> None:
    assert guarded(Settings(host=host)) == (Settings(host=host), None)


def test_a_chosen_token_is_kept() -> None:
    settings = Settings(host="0.0.0.0", admin_token="mine")
    assert guarded(settings) == (settings, None)


def test_serve_on_all_interfaces_generates_the_token_and_the_banner_says_so(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``serve --host 0.0.0.0``, given an unbound socket where it would bind and stopped where
    it would serve: the settings it would serve carry the token its banner printed."""
    seen: list[Settings] = []

    def stop_before_serving(claim: Any, listener: socket.socket) -> None:
        seen.append(claim.settings)
        listener.close()

    monkeypatch.setattr(cli, "listen_or_fail", lambda settings, **kwargs: socket.socket())
    monkeypatch.setattr(cli, "serve_forever", stop_before_serving)
    result = CliRunner().invoke(cli.cli, ["serve", "--host", "0.0.0.0", "--port", "18787",
                                          "--ephemeral"])
    [settings] = seen
    assert settings.admin_token
    assert settings.admin_token in result.output
    assert "reachable from the network" in result.output


# --- the token, required (loopback servers with the token the decision gives) -------------------

@pytest.fixture
def guarded_server(server_factory: ServerFactory) -> tuple[Any, str]:
    token = guarded(Settings(host="0.0.0.0"))[0].admin_token
    return server_factory(admin_token=token), token


def test_the_admin_api_dashboard_and_metrics_need_the_token_and_v1_does_not(
        guarded_server: tuple[Any, str]) -> None:
    server, token = guarded_server
    base = server.base_url
    with httpx.Client(timeout=30) as http:
        for path in ("/__admin/journal", "/__admin/tasks", "/__admin/ui/api/tasks", "/metrics"):
            assert http.get(base + path).status_code == 401, path
            assert http.get(base + path, headers={"Authorization": "Bearer wrong"}
                            ).status_code == 401, path
            assert http.get(base + path, headers={"Authorization": f"Bearer {token}"}
                            ).status_code == 200, path
        assert http.post(base + "/__admin/reset").status_code == 401
        answer = http.post(base + "/v1", json=PING, headers=KEY)
        assert answer.status_code == 200 and answer.json()["data"][0]["pong"] is True


# --- /v1 and cross-site pages --------------------------------------------------------------------

CROSS_SITE = [{"Origin": "https://attacker.example"}, {"Origin": "null"},
              {"Origin": "http://0.0.0.0:8000"}, {"Sec-Fetch-Site": "cross-site"},
              {"Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"}]
SAME_SITE = [{}, {"Origin": "http://localhost:3000"}, {"Origin": "http://127.0.0.1:5173"},
             {"Sec-Fetch-Site": "same-site"}, {"Sec-Fetch-Site": "none"}]


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_v1_refuses_a_cross_site_page_even_as_a_plain_text_post(
        server_factory: ServerFactory, headers: dict[str, str]) -> None:
    server = server_factory()
    task_uuid = str(uuid.uuid4())
    body = json.dumps([{"taskType": "imageInference", "taskUUID": task_uuid,
                        "model": "runware:101@1", "positivePrompt": "a cat",
                        "width": 512, "height": 512}])
    with httpx.Client(timeout=30) as http:
        answer = http.post(server.url, content=body,
                           headers={**KEY, **headers, "Content-Type": "text/plain"})
        assert answer.status_code == 403, answer.text
        assert [e["code"] for e in answer.json()["errors"]] == ["crossSiteRequest"]
        poll = http.post(server.url, headers=KEY,
                         json=[{"taskType": "getResponse", "taskUUID": task_uuid}])
        assert [e["code"] for e in poll.json()["errors"]] == ["taskNotFound"]  # never made


@pytest.mark.parametrize("headers", SAME_SITE)
def test_v1_answers_clients_and_pages_of_this_machine(server_factory: ServerFactory,
                                                      headers: dict[str, str]) -> None:
    server = server_factory()
    answer = httpx.post(server.url, json=PING, headers={**KEY, **headers}, timeout=30)
    assert answer.status_code == 200, answer.text


def test_a_websocket_from_a_cross_site_page_is_refused(server_factory: ServerFactory) -> None:
    server = server_factory()
    with pytest.raises(InvalidStatus) as refused:
        connect(server.ws_url, origin="https://attacker.example", open_timeout=30)
    assert refused.value.response.status_code == 403
    with connect(server.ws_url, origin="http://localhost:3000", open_timeout=30) as ws:
        ws.send(json.dumps([{"taskType": "authentication", "apiKey": "test-key"}]))
        assert "data" in json.loads(ws.recv(30))

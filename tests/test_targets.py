"""The outbound policy (issue 27, items 3 and 4): input fetches, webhooks and uploads never reach
an admin API (this emulator's, another's, through any spelling or a redirect) nor the leader's
private port, and an emulator bound to a network interface reaches no private address.

End to end on a loopback bind, on one worker and on ``--workers 2`` (only 127.0.0.1 is ever a
target); the decision for a non-loopback bind is tested on addresses, without binding one."""

from __future__ import annotations

import asyncio
import http.server
import ipaddress
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runware_mock.admin.client import AdminClient
from runware_mock.contract.receivers import LocalServer, Receiver
from runware_mock.media import outbound
from runware_mock.media.file_store import MediaStore
from runware_mock.media.inputs import InputError, InputResolver
from runware_mock.media.outbound import Resolver
from runware_mock.media.targets import TargetPolicy, TargetRefused, admin_path, plain
from runware_mock.runner import ServerThread, free_port
from tests.conftest import ServerFactory
from tests.helpers import RestClient, avatar_task

# The end-to-end tests run on one worker and on serve --workers 2.
pytestmark = pytest.mark.workers

# --- the decision, on addresses (no traffic) -----------------------------------------------------

NOT_PUBLIC = ["127.0.0.1", "127.9.9.9", "0.0.0.0", "10.1.2.3", "172.16.0.1", "192.168.1.1",
              "169.254.169.254", "100.100.100.200", "::1", "::", "::ffff:127.0.0.1",
              "::ffff:169.254.169.254", "fd00:ec2::254", "fe80::1", "2002:7f00:1::1",
              "64:ff9b::a9fe:a9fe", "::127.0.0.1", "224.0.0.1"]
PUBLIC = ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"]


def decision(bound_to: str, address: str, allow_private: bool = False) -> str | None:
    parsed = plain(address)
    assert parsed is not None
    return TargetPolicy(bound_to=bound_to, allow_private=allow_private).address_refusal(
        parsed, 80)


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_a_network_bind_refuses_every_address_that_is_not_public(address: str) -> None:
    for bound_to in ("0.0.0.0", "::", "192.0.2.10", "emulator.example"):
        assert decision(bound_to, address) is not None, (bound_to, address)
        assert decision(bound_to, address, allow_private=True) is None


@pytest.mark.parametrize("address", [*NOT_PUBLIC, *PUBLIC])
def test_a_loopback_bind_reaches_loopback_and_private_addresses(address: str) -> None:
    for bound_to in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert decision(bound_to, address) is None


@pytest.mark.parametrize("address", PUBLIC)
def test_a_network_bind_reaches_public_addresses(address: str) -> None:
    assert decision("0.0.0.0", address) is None


@pytest.mark.parametrize("spelling", ["2130706433", "0x7f000001", "0177.0.0.1", "127.1",
                                      "0.0.0.0", "[::1]", "[::ffff:127.0.0.1]", "localhost"])
def test_every_spelling_of_loopback_resolves_to_an_address_the_network_bind_refuses(
        spelling: str) -> None:
    async def addresses() -> list[str]:
        return await Resolver(1).addresses(spelling.strip("[]"), 80)

    found = asyncio.run(addresses())
    policy = TargetPolicy(bound_to="0.0.0.0", allow_private=False)
    with pytest.raises(TargetRefused):
        policy.check(found, 80)


def test_the_private_port_of_this_machine_is_refused_whatever_the_bind() -> None:
    policy = TargetPolicy(bound_to="127.0.0.1", allow_private=True)
    policy.private_ports.add(4321)
    for address in ("127.0.0.1", "127.5.5.5", "0.0.0.0", "::ffff:127.0.0.1"):
        assert policy.address_refusal(ipaddress.ip_address(address), 4321) is not None
        assert policy.address_refusal(ipaddress.ip_address(address), 4322) is None


@pytest.mark.parametrize("path", ["/__admin/reset", "/__admin", "/__ADMIN/reset",
                                  "/%5F%5Fadmin/reset", "/%5f%5fadmin/journal",
                                  "/%255F%255Fadmin/reset", "//__admin/reset",
                                  "/v1/../__admin/reset", "/x/./../__admin/ui",
                                  "\\__admin/reset", "/v1/%2e%2e/__admin/reset"])
def test_every_spelling_of_the_admin_path_is_recognised(path: str) -> None:
    assert admin_path(path)


@pytest.mark.parametrize("path", ["/", "/v1", "/receiver", "/__administrator", "/a/__admin"])
def test_other_paths_are_not_the_admin_api(path: str) -> None:
    assert not admin_path(path)


def test_an_emulator_bound_to_a_network_interface_fetches_nothing_from_loopback(
        tmp_path: Path) -> None:
    """The input resolver of an emulator bound to 0.0.0.0 (nothing is bound here): a fetch of a
    receiver on 127.0.0.1 is refused before connecting, and nothing is stored."""
    async def fetch(url: str) -> str:
        store = MediaStore(tmp_path, "http://203.0.113.5:8787", None)  # type: ignore[arg-type]
        resolver = InputResolver(
            store, url_map=(), fetch_timeout=5, fetch_max_bytes=1 << 20,
            find_upload=lambda uuid: None, make_pending=_never, lookups=Resolver(1),
            targets=TargetPolicy(bound_to="0.0.0.0", allow_private=False))
        with pytest.raises(InputError) as refused:
            await resolver.resolve(url)
        return str(refused.value)

    with Receiver() as receiver:
        for host in ("127.0.0.1", "2130706433", "0x7f000001", "0.0.0.0"):
            message = asyncio.run(fetch(receiver.url.replace("127.0.0.1", host)))
            assert "is not fetched" in message and "not public" in message, message
        assert receiver.requests == []
    assert not [path for path in tmp_path.rglob("*") if path.is_file()]


async def _never(pending: Any) -> Path:
    raise AssertionError("no pending input here")


def test_the_client_checks_the_path_of_every_request() -> None:
    async def get(url: str) -> None:
        policy = TargetPolicy(bound_to="127.0.0.1", allow_private=False)
        async with outbound.client(Resolver(1), policy, timeout=5,
                                   follow_redirects=True) as client:
            await client.get(url)

    with Receiver() as receiver:
        with pytest.raises(TargetRefused):
            asyncio.run(get(f"{receiver.base_url}/%5F%5Fadmin/reset"))
        assert receiver.requests == []


# --- end to end: a loopback bind, one worker and two ---------------------------------------------


class Redirector(LocalServer):
    """Answers every GET with a redirect to ``target``."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target
        self.hits = 0

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits += 1
                self.send_response(302)
                self.send_header("Location", server.target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


ADMIN_SPELLINGS = ["127.0.0.1:{port}/__admin/reset", "2130706433:{port}/__admin/reset",
                   "0x7f000001:{port}/__admin/reset", "0.0.0.0:{port}/__admin/reset",
                   "127.0.0.1:{port}/%5F%5Fadmin/reset", "localhost:{port}//__admin/reset",
                   "127.0.0.1:{port}/v1/../__admin/reset"]


def test_webhooks_never_reach_another_emulators_admin_api(server_factory: ServerFactory,
                                                          tmp_path: Path) -> None:
    server = server_factory()
    with ServerThread(_other(tmp_path)) as other:
        other_client, other_admin = RestClient(other.url), AdminClient(other.base_url)
        kept = avatar_task()
        other_client.run(kept)
        client, admin = RestClient(server.url), AdminClient(server.base_url)
        for spelling in ADMIN_SPELLINGS:
            task = avatar_task(webhookURL="http://" + spelling.format(port=other.settings.port))
            client.run(task)
            attempts = admin.wait_for_deliveries(task["taskUUID"])
            assert [a["outcome"] for a in attempts] == ["refused"], (spelling, attempts)
            assert "admin" in attempts[0]["error"]
        assert [t["taskUUID"] for t in other_admin.tasks()] == [kept["taskUUID"]]  # not reset


def test_webhooks_and_uploads_never_reach_an_admin_path_of_a_receiver(
        server_factory: ServerFactory) -> None:
    server = server_factory()
    client, admin = RestClient(server.url), AdminClient(server.base_url)
    with Receiver() as receiver:
        task = avatar_task(webhookURL=f"{receiver.base_url}/__admin/reset",
                           uploadEndpoint=f"{receiver.base_url}/%5F%5Fadmin/upload")
        client.run(task)
        attempts = admin.wait_for_deliveries(task["taskUUID"])
        assert sorted(a["outcome"] for a in attempts) == ["refused", "refused"], attempts
        plain_task = avatar_task(webhookURL=receiver.url)
        client.run(plain_task)
        assert [r.path for r in receiver.wait_for(1)] == ["/receiver"]  # loopback still served


def test_an_input_redirected_to_an_admin_path_is_not_fetched_nor_kept(
        server_factory: ServerFactory, tmp_path: Path) -> None:
    server = server_factory()
    inputs = server.settings.data_dir / "inputs"
    before = set(inputs.rglob("*")) if inputs.exists() else set()
    with ServerThread(_other(tmp_path)) as other, Receiver() as receiver:
        for target in (f"{other.base_url}/__admin/journal", f"{receiver.base_url}/__admin/x"):
            with Redirector(target) as redirector:
                task = avatar_task(inputs={**avatar_task()["inputs"],
                                           "image": f"{redirector.base_url}/portrait.jpg"})
                problem = RestClient(server.url).run(task)["errors"][0]
                assert problem["parameter"] == "inputs.image"
                assert "is not fetched" in problem["message"], problem
                assert "admin" in problem["message"]
                assert redirector.hits == 1
        assert receiver.requests == []
    after = set(inputs.rglob("*")) if inputs.exists() else set()
    assert after == before


def test_an_upload_of_an_admin_url_stores_nothing_to_serve_again(
        server_factory: ServerFactory, tmp_path: Path) -> None:
    """mediaStorage keeps what it fetches and serves it under /media/: an admin page (another
    emulator's journal, with its clients' API keys) must never become such a file."""
    server = server_factory()
    client = RestClient(server.url)
    with ServerThread(_other(tmp_path)) as other:
        RestClient(other.url).run(avatar_task())  # a journal with an API key in it
        for url in (f"{other.base_url}/__admin/journal",
                    f"http://2130706433:{other.settings.port}/%5F%5Fadmin/journal"):
            answer = client.post([{"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()),
                                   "operation": "upload", "media": url}])
            assert answer.status_code == 400, answer.text
            [problem] = answer.json()["errors"]
            assert problem["code"] == "invalidValueUploadFailed"
            assert "is not fetched" in problem["message"], problem


def test_an_input_error_does_not_tell_whether_a_port_is_open(
        server_factory: ServerFactory) -> None:
    # Under the default --unreachable-inputs stand-in a closed port gets a stand-in instead.
    server = server_factory(unreachable_inputs="error")
    closed = free_port()
    with _talks_garbage() as garbage_port, _hangs_up() as hang_up_port:
        messages = {}
        for name, port in {"closed": closed, "garbage": garbage_port,
                           "hangs up": hang_up_port}.items():
            url = f"http://127.0.0.1:{port}/image.jpg"
            task = avatar_task(inputs={**avatar_task()["inputs"], "image": url})
            problem = RestClient(server.url).run(task)["errors"][0]
            messages[name] = problem["message"].replace(str(port), "PORT")
    assert len(set(messages.values())) == 1, messages


@pytest.mark.parametrize("path", ["/v1", "/__admin/reset"])
def test_the_leaders_private_port_is_never_a_target(server_factory: ServerFactory,
                                                    workers: int, path: str) -> None:
    if workers == 1:
        pytest.skip("one worker has no private port")
    server = server_factory()
    [leader] = server.worker_pids()["leader"]
    [private] = _listening_ports(leader)
    client, admin = RestClient(server.url), AdminClient(server.base_url)
    kept = avatar_task()
    client.run(kept)
    task = avatar_task(webhookURL=f"http://127.0.0.1:{private}{path}")
    client.run(task)
    attempts = admin.wait_for_deliveries(task["taskUUID"])
    assert [a["outcome"] for a in attempts] == ["refused"], attempts
    assert {kept["taskUUID"], task["taskUUID"]} <= {t["taskUUID"] for t in admin.tasks()}
    image = avatar_task(inputs={**avatar_task()["inputs"],
                                "image": f"http://127.0.0.1:{private}/image/x.jpg"})
    problem = client.run(image)["errors"][0]
    assert "is not fetched" in problem["message"] and "private port" in problem["message"]


# --- helpers -------------------------------------------------------------------------------------

def _other(tmp_path: Path) -> Any:
    from runware_mock.settings import Settings

    return Settings(port=free_port(), data_dir=tmp_path / "other", api_keys=("test-key",))


def _listening_ports(pid: int) -> list[int]:
    """The TCP ports process ``pid`` listens on (from /proc: its sockets' inodes)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            link = fd.readlink().name
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = []
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
            ports.append(int(fields[1].split(":")[1], 16))
    return ports


def _one_shot_server(handle: Any) -> Any:
    import contextlib

    @contextlib.contextmanager
    def serving() -> Iterator[int]:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        stop = threading.Event()

        def accept() -> None:
            while not stop.is_set():
                try:
                    connection, _ = listener.accept()
                except OSError:
                    return
                with connection:
                    handle(connection)

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        try:
            yield listener.getsockname()[1]
        finally:
            stop.set()
            # A close alone leaves accept() blocked on Linux: the shutdown wakes it.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
            thread.join(5)

    return serving


def _garbage(connection: socket.socket) -> None:
    connection.recv(65536)
    connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\x00\x01garbage\r\n\r\n")


def _hang_up(connection: socket.socket) -> None:
    connection.recv(65536)


_talks_garbage = _one_shot_server(_garbage)
_hangs_up = _one_shot_server(_hang_up)

"""The Dockerfile, built and run with Debian's podman as a user's CI would run the image.

CI cannot pull images, so the base is made on the spot: mmdebstrap builds a minimal bookworm
root with python3 and its venv module, `podman import` makes it an image, and the build gets it
as its BASE argument. podman runs as root with the runc runtime and cgroupfs, and a
containers.conf (named by CONTAINERS_CONF) without default ulimits: crun and the default ulimits
are refused on hosts like CI's. pip inside the build reaches PyPI with the host's CA bundle (the
one pip's own `cert` setting names), mounted read-only and named by the PIP_CERT build argument.
`python3 dev.py test` installs podman, mmdebstrap and runc when they are missing (as root).

The image is built once per test run; its size is printed (`pytest -s`) and in the report's
properties.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from runware_mock.fixtures import media_path
from tests.helpers import PORTRAIT, VOICE, RestClient, decode, mono_pcm
from tests.no_silent_skips import missing_install

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "localhost/runware-mock:test"
# The base's recipe names its image, so a changed recipe makes a new base.
# Debian's essential packages, python3 with its venv module, and passwd for useradd: what a
# slim Python image has. apt is left out (the build does not need it): a smaller, faster base.
BASE_PACKAGES = ("python3", "python3-venv", "passwd")
MMDEBSTRAP = ["--variant=essential", f"--include={','.join(BASE_PACKAGES)}",
              # merged /usr without the usrmerge package (and the perl it pulls in)
              "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
              # dpkg without fsync: a fifth faster here
              "--hook-dir=/usr/share/mmdebstrap/hooks/eatmydata",
              "--dpkgopt=path-exclude=/usr/share/man/*", "--dpkgopt=path-exclude=/usr/share/doc/*",
              "--dpkgopt=path-exclude=/usr/share/locale/*", "bookworm"]
RECIPE = hashlib.sha256(str(MMDEBSTRAP).encode()).hexdigest()[:12]
BASE = f"localhost/runware-mock-base:bookworm-{RECIPE}"
CONTAINERS_CONF = """\
[containers]
default_ulimits = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""
ADMIN_TOKEN = "container-test-token"
TESTCONTAINERS_HERE = {
    # Testcontainers' reaper container would be pulled from Docker Hub: not here.
    "TESTCONTAINERS_RYUK_DISABLED": "true",
    # The published port is on this host (Testcontainers would look for a gateway when it
    # finds itself in a container, as CI's machine may be).
    "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
    "TESTCONTAINERS_HOST_OVERRIDE": "127.0.0.1",
}
START_TIMEOUT = 120.0


@dataclass(frozen=True)
class Podman:
    env: dict[str, str]

    def __call__(self, *args: str, check: bool = True,
                 timeout: float = 600) -> subprocess.CompletedProcess[str]:
        command = ["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs", *args]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(command[:6])} ... failed ({done.returncode}):\n"
                                 f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Podman:
    missing = [tool for tool in ("podman", "mmdebstrap", "runc", "eatmydata")
               if shutil.which(tool) is None]
    if missing:
        missing_install(f"{', '.join(missing)} missing: `python3 dev.py test` installs them as "
                        "root")
    if os.geteuid() != 0:
        pytest.skip("the container test runs podman as root (rootless podman needs subuids "
                    "and a user session this test does not set up)")
    conf = tmp_path_factory.mktemp("podman") / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    run = Podman({**os.environ, "CONTAINERS_CONF": str(conf)})
    probe = run("info", check=False, timeout=120)
    if probe.returncode != 0:
        pytest.skip(f"podman cannot run here: {probe.stderr.strip()[-500:]}")
    return run


@pytest.fixture(scope="module")
def image(podman: Podman, tmp_path_factory: pytest.TempPathFactory) -> str:
    started = time.monotonic()
    if podman("image", "exists", BASE, check=False).returncode != 0:
        root = tmp_path_factory.mktemp("base") / "bookworm.tar"
        made = subprocess.run(["mmdebstrap", *MMDEBSTRAP, str(root)], capture_output=True,
                              text=True, timeout=900, check=False)
        assert made.returncode == 0, made.stderr[-3000:]
        podman("import", str(root), BASE)
        root.unlink()
    cert = pip_cert()
    mount = ["--volume", f"{cert.parent}:{cert.parent}:ro", "--build-arg",
             f"PIP_CERT={cert}"] if cert else []
    # docker format: the OCI one has no HEALTHCHECK.
    podman("build", "--format", "docker", "--file", str(ROOT / "Dockerfile"), "--tag", IMAGE,
           "--build-arg", f"BASE={BASE}", *mount, str(ROOT), timeout=900)
    size, base = (int(podman("image", "inspect", "--format", "{{.Size}}", name).stdout)
                  for name in (IMAGE, BASE))
    print(f"\nimage {IMAGE}: {size / 1e6:.0f} MB, of which the mmdebstrap base {base / 1e6:.0f} MB "
          f"and runware-mock with its dependencies {(size - base) / 1e6:.0f} MB; base and image "
          f"ready in {time.monotonic() - started:.0f} s")
    return IMAGE


def pip_cert() -> Path | None:
    """The CA bundle pip uses here (PIP_CERT, else pip's own cert setting), if any."""
    named = os.environ.get("PIP_CERT") or subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", "global.cert"], capture_output=True,
        text=True, check=False).stdout.strip()
    return Path(named).resolve() if named and Path(named).is_file() else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Emulator:
    podman: Podman
    image: str
    volume: str
    port: int
    container: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.container = self.podman(
            "run", "--detach", "--publish", f"127.0.0.1:{self.port}:8787",
            "--volume", f"{self.volume}:/data",
            "--env", f"RUNWARE_MOCK_PUBLIC_URL={self.url}",
            "--env", f"RUNWARE_MOCK_ADMIN_TOKEN={ADMIN_TOKEN}",
            self.image, "--latency", "instant").stdout.strip()
        self.wait_until_healthy()

    def wait_until_healthy(self) -> None:
        """Its health endpoint answers, or the container stopped (then its log is the error)."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if httpx.get(f"{self.url}/__admin/health", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            state = self.podman("inspect", "--format", "{{.State.Running}}", self.container)
            if state.stdout.strip() != "true" or time.monotonic() > deadline:
                log = self.podman("logs", self.container, check=False)
                raise AssertionError(f"the container did not serve:\n{log.stderr[-3000:]}")
            time.sleep(0.1)

    def stop(self) -> str:
        """A graceful stop (SIGTERM); its log."""
        self.podman("stop", "--time", "30", self.container)
        log = self.podman("logs", self.container).stderr
        self.podman("rm", self.container)
        self.container = ""
        return log


@pytest.fixture
def emulator(podman: Podman, image: str) -> Iterator[Emulator]:
    volume = f"runware-mock-test-{uuid.uuid4().hex[:12]}"
    podman("volume", "create", volume)
    running = Emulator(podman, image, volume, free_port())
    try:
        yield running
    finally:
        if running.container:
            podman("rm", "--force", running.container, check=False)
        podman("volume", "rm", "--force", volume, check=False)


def test_the_image_serves_a_video_keeps_it_across_restarts_and_runs_as_no_root(
        emulator: Emulator, podman: Podman, tmp_path: Path) -> None:
    emulator.start()
    assert podman("healthcheck", "run", emulator.container).returncode == 0
    uid = re.search(r"^Uid:\s+(\d+)", podman("exec", emulator.container, "cat",
                                             "/proc/1/status").stdout, re.M)
    assert uid is not None and int(uid.group(1)) != 0
    # Settings come from the environment: the admin token given by RUNWARE_MOCK_ADMIN_TOKEN.
    admin = f"{emulator.url}/__admin/tasks"
    assert httpx.get(admin).status_code == 401
    assert httpx.get(admin, headers={"X-Admin-Token": ADMIN_TOKEN}).status_code == 200

    client = RestClient(f"{emulator.url}/v1")
    task_uuid = str(uuid.uuid4())
    ack = client.post([{
        "taskType": "videoInference", "taskUUID": task_uuid,
        "model": "klingai:avatar@2.0-standard",
        "inputs": {"image": f"https://assets.runware.ai/assets/inputs/{PORTRAIT}",
                   "audio": f"https://assets.runware.ai/assets/inputs/{VOICE}"}}])
    assert ack.status_code == 200, ack.text
    result = client.wait(task_uuid)["data"][0]
    assert result["status"] == "success", result
    video = tmp_path / "video.mp4"
    video.write_bytes(httpx.get(result["videoURL"], timeout=120).raise_for_status().content)
    decoded = decode(video)
    voice_seconds = len(mono_pcm(media_path(VOICE)).stdout) / 2 / 48000
    assert decoded["errors"] == 0 and decoded["video_codec"] == "h264" and decoded["frames"] > 0
    # The video is as long as its voice (the seed document), within a frame at 25 fps.
    assert abs(decoded["audio_seconds"] - voice_seconds) < 0.04

    log = emulator.stop()
    assert "Application shutdown complete" in log
    emulator.start()  # a new container on the same volume
    again = client.poll(task_uuid).json()["data"][0]
    assert again["status"] == "success" and again["videoURL"] == result["videoURL"]
    client.http.close()


@pytest.fixture(scope="module")
def docker_api(podman: Podman, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """podman's Docker-compatible API on a Unix socket, for Docker clients (Testcontainers)."""
    socket_path = tmp_path_factory.mktemp("docker-api") / "podman.sock"
    service = subprocess.Popen(
        ["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs", "system", "service",
         "--time", "0", f"unix://{socket_path}"], env=podman.env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    url = f"unix://{socket_path}"
    try:
        transport = httpx.HTTPTransport(uds=str(socket_path))
        with httpx.Client(transport=transport, base_url="http://podman") as api:
            deadline = time.monotonic() + START_TIMEOUT
            while True:  # the socket answers once the service is up (or the service ended)
                try:
                    if api.get("/_ping").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if service.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"podman system service did not start: "
                                         f"{service.communicate()[1][-2000:]}")
                time.sleep(0.05)
        yield url
    finally:
        service.terminate()
        service.wait(timeout=30)


def test_the_testcontainers_python_recipe_runs_the_image(
        podman: Podman, image: str, docker_api: str, tmp_path: Path) -> None:
    """docs/install.md's recipe as written, but for the image's name and, in place of "your
    tests", a ping through the API and a look at the video URLs' base."""
    page = (ROOT / "docs" / "install.md").read_text("utf-8")
    section = page[page.index("### Testcontainers for Python"):]
    recipe = re.search(r"```python\n(.*?)```", section, re.S)
    assert recipe is not None
    your_tests = "    ...  # your tests, against api_url\n"
    assert your_tests in recipe.group(1) and 'DockerContainer("runware-mock")' in recipe.group(1)
    script = recipe.group(1).replace('DockerContainer("runware-mock")',
                                     f'DockerContainer("{image}")').replace(your_tests, """\
    import httpx
    ping = httpx.post(api_url, json=[{"taskType": "ping", "ping": True}])
    print(ping.json()["data"][0], httpx.get(api_url.replace("/v1", "/__admin/health")).json())
""")
    (tmp_path / "recipe.py").write_text(script)
    env = {**podman.env, **TESTCONTAINERS_HERE, "DOCKER_HOST": docker_api}
    done = subprocess.run([sys.executable, str(tmp_path / "recipe.py")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "'pong': True" in done.stdout and "'baseURL': 'http://localhost:" in done.stdout
    left = podman("ps", "--all", "--quiet", "--filter", f"ancestor={image}").stdout.split()
    assert left == [], "the recipe's container was removed at the end of its with block"


def test_the_node_client_example_passes_against_the_image(
        podman: Podman, image: str, docker_api: str) -> None:
    """examples/node-client's global setup runs the image with Testcontainers for Node (the
    docs' recipe) when RUNWARE_MOCK_IMAGE names one; here through podman's Docker API."""
    example = ROOT / "examples" / "node-client"
    npm = shutil.which("npm")
    if npm is None or not (example / "node_modules" / ".bin" / "vitest").exists():
        missing_install("npm or the example's node_modules missing: `python3 dev.py test` runs "
                        "its npm install")
    env = {**podman.env, **TESTCONTAINERS_HERE, "DOCKER_HOST": docker_api,
           "RUNWARE_MOCK_IMAGE": image, "NO_COLOR": "1", "CI": "true"}
    env.pop("RUNWARE_URL", None)
    done = subprocess.run([npm, "test"], cwd=example, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0 and "Tests  2 passed (2)" in output, output[-4000:]
    left = podman("ps", "--all", "--quiet", "--filter", f"ancestor={image}").stdout.split()
    assert left == [], "the global setup removed its container"

"""The load generator and the server compared with, when the machine has them (or can get them):

- wrk (Debian's ``wrk``): a load generator in C, which leaves nearly all of a two-core
  machine to the servers; without it the benchmarks drive load from Python;
- WireMock, the standalone jar the ``wiremock`` npm package ships, run by Java (Debian's
  ``default-jre-headless``).

``python benchmarks/_tools.py`` installs what is missing: the Debian packages when run as root
with apt-get, the jar with npm into ``benchmarks/.cache``.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
WIREMOCK_VERSION = "3.13.2"
WRK_THREADS = 2


def wiremock_jar() -> Path | None:
    found = sorted((CACHE / "node_modules" / "wiremock").glob("**/wiremock-standalone-*.jar"))
    return found[-1] if found else None


def wiremock_command(port: int, root: Path, body: bytes) -> list[str] | None:
    """WireMock answering every ``POST /v1`` with ``body``, as its fastest configuration (no
    request journal, async responses); None without Java or the jar."""
    java, jar = shutil.which("java"), wiremock_jar()
    if java is None or jar is None:
        return None
    (root / "mappings").mkdir(parents=True, exist_ok=True)
    mapping = {"request": {"method": "POST", "url": "/v1"},
               "response": {"status": 200, "body": body.decode(),
                            "headers": {"content-type": "application/json"}}}
    (root / "mappings" / "v1.json").write_text(json.dumps(mapping))
    return [java, "-jar", str(jar), "--port", str(port), "--bind-address", "127.0.0.1",
            "--root-dir", str(root), "--no-request-journal", "--async-response-enabled", "true",
            "--disable-banner"]


def wrk(port: int, body: bytes | None, seconds: float, connections: int,
        api_key: str = "bench", uuid_at: int | None = None) -> float | None:
    """Requests per second of ``POST /v1`` with ``body`` under wrk; None without wrk. With
    ``uuid_at``, the 36 characters at that offset of the body are replaced by a new UUID in
    every request (a submit needs a new taskUUID each time)."""
    binary = shutil.which("wrk")
    if binary is None or body is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(body, api_key, uuid_at))
    try:
        output = subprocess.run(
            [binary, f"-t{WRK_THREADS}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
             "-s", script.name, f"http://127.0.0.1:{port}/v1"],
            capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    non_2xx = [line for line in output.splitlines() if "Non-2xx" in line]
    if non_2xx:
        raise RuntimeError(f"wrk saw errors: {non_2xx[0]}")
    rate = next(line for line in output.splitlines() if line.startswith("Requests/sec"))
    return float(rate.split()[1])


def _lua(body: bytes, api_key: str, uuid_at: int | None) -> str:
    headers = (f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
               f'wrk.headers["Authorization"] = "Bearer {api_key}"\n')
    if uuid_at is None:
        return headers + f"wrk.body = {_lua_string(body)}\n"
    before, after = body[:uuid_at], body[uuid_at + 36:]
    # UUIDs never repeat: each is this run's number, the wrk thread's and a counter.
    return headers + f"""
local before, after = {_lua_string(before)}, {_lua_string(after)}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  prefix = string.format("%04x%04x", {next(_RUNS)}, id)
  counter = 0
end
function request()
  counter = counter + 1
  local uuid = prefix .. "-0000-4000-8000-" .. string.format("%012x", counter)
  return wrk.format(nil, nil, nil, before .. uuid .. after)
end
"""


_RUNS = itertools.count(1)


def _lua_string(data: bytes) -> str:
    return "[==[" + data.decode() + "]==]"


def install() -> None:
    """What is missing, where this machine allows it (argument lists, no shell)."""
    missing = [package for binary, package in (("wrk", "wrk"), ("java", "default-jre-headless"))
               if shutil.which(binary) is None]
    if missing and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *missing],
                       check=True)
    elif missing:
        print(f"missing: {', '.join(missing)} (Debian packages)", file=sys.stderr)
    if wiremock_jar() is None and shutil.which("npm"):
        CACHE.mkdir(exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(CACHE),
                        f"wiremock@{WIREMOCK_VERSION}"], check=True)
    print(f"wrk: {shutil.which('wrk')}, java: {shutil.which('java')}, "
          f"WireMock: {wiremock_jar()}")


if __name__ == "__main__":
    install()

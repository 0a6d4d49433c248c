"""The one home of configuration: defaults, an optional TOML file, env vars, then CLI flags.

Every option is declared once in ``OPTIONS``; the CLI flags (runware_mock.cli), the environment
lookup, the config file's keys and the documented settings table (docs/configuration.md) are all
derived from that list, so they cannot drift apart.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "RUNWARE_MOCK_"


def _parse_keys(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    return tuple(k.strip() for k in value if k and k.strip())


def _parse_url_map(value: Any) -> tuple[tuple[str, str], ...]:
    """``PREFIX=DIR`` pairs (comma separated in env vars, a table in the config file)."""
    if isinstance(value, Mapping):
        pairs = list(value.items())
    else:
        items = value.split(",") if isinstance(value, str) else value
        pairs = [tuple(item.split("=", 1)) for item in items if item]
    return tuple((str(prefix), str(target)) for prefix, target in pairs)


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def _parse_renders(value: Any) -> str:
    text = str(value).strip().lower()
    if text not in ("lazy", "eager"):
        raise ValueError("expected lazy or eager")
    return text


def _parse_unreachable_inputs(value: Any) -> str:
    text = str(value).strip().lower()
    if text not in ("stand-in", "error"):
        raise ValueError("expected stand-in or error")
    return text


def _parse_balance(value: Any) -> float:
    """USD, at least 0, or ``unlimited``."""
    if isinstance(value, str) and value.strip().lower() in ("unlimited", "inf"):
        return float("inf")
    usd = float(value)
    if not usd >= 0:
        raise ValueError("expected a number of USD, at least 0, or unlimited")
    return usd


MOST_WORKERS = 64


def _parse_workers(value: Any) -> int:
    """A count, or ``auto``: one worker per core."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return os.cpu_count() or 1
    return int(value)


def _seed_url_map() -> tuple[str, str]:
    from runware_mock.fixtures import seed_url_map

    return seed_url_map()


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8787
    workers: int = 1
    reused_answers: int = 4096
    api_keys: tuple[str, ...] = ()
    seed: int = 0
    latency: str = "fast"
    time_scale: float = 1.0
    # None: the default for the effective port, resolved by runware_mock.datadir.claim once
    # the port is known (after flags, env and file are merged, and a port 0 is bound).
    data_dir: Path | None = None
    ephemeral: bool = False
    public_url: str = ""
    render_workers: int = 2
    renders: str = "lazy"
    render_backlog: int = 1000
    render_wait: float = 60.0
    max_long_side: int = 720
    max_upscale_pixels: int = 4096 * 4096
    animate: bool = False
    disk_budget_mb: int = 2048
    default_ttl: int = 3600
    task_retention: float = 3600.0
    sweep_interval: float = 30.0
    fetch_timeout: float = 10.0
    fetch_max_bytes: int = 20 * 1024 * 1024
    lookup_threads: int = 4
    unreachable_inputs: str = "stand-in"
    url_map: tuple[tuple[str, str], ...] = field(default_factory=lambda: (_seed_url_map(),))
    log_level: str = "info"
    delivery_attempts: int = 5
    delivery_backoff: float = 2.0
    delivery_backoff_max: float = 300.0
    delivery_timeout: float = 10.0
    sync_timeout: float = 120.0
    dashboard_tick: float = 1.0
    dashboard_history: float = 300.0
    dashboard_max_rows: int = 500
    dashboard_timeline: int = 500
    webhook_secret: str = ""
    journal_limit: int = 10_000
    journal_value_limit: int = 256
    admin_token: str = ""
    idle_timeout: float = 120.0
    session_keep_seconds: float = 120.0
    push_results: bool = True
    ws_max_bytes: int = 16 * 1024 * 1024
    faults: str = ""
    max_body_bytes: int = 16 * 1024 * 1024
    max_json_values: int = 100_000
    max_nesting_depth: int = 32
    max_tasks_per_request: int = 100
    max_errors_per_reply: int = 50
    journal_entry_bytes: int = 4096
    shutdown_timeout: float = 5.0
    allow_private_targets: bool = False
    header_timeout: float = 10.0
    # runware-mock proxy (runware_mock.proxy) and serve --replay: see PROXY_ONLY.
    upstream: str = "https://api.runware.ai/v1"
    upstream_ws: str = ""
    record: Path | None = None
    record_max_mb: int = 500
    drift_report: Path | None = None
    replay: Path | None = None
    replay_strict: bool = False
    # Each API key's credit in USD (accountManagement; inf: unlimited).
    balance: float = float("inf")
    air_sources: tuple[str, ...] = ("qatests",)

    @property
    def base_url(self) -> str:
        """Where clients reach this server; used to build ``videoURL`` and friends."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


@dataclass(frozen=True)
class Option:
    name: str
    help: str
    parse: Callable[[Any], Any]
    flag: str = ""
    repeatable: bool = False
    # How the docs show a default that depends on the machine (a temp dir, an install path).
    shown_default: str = ""
    # The value's placeholder in --help (default: the type's, INTEGER, FLOAT, PATH or TEXT).
    metavar: str = ""

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def negative_flag(self) -> str:
        """``--no-animate`` for a boolean setting, else empty."""
        return "--no-" + self.cli_flag.removeprefix("--") if self.boolean else ""

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def default(self) -> Any:
        return getattr(Settings(), self.name)

    @property
    def boolean(self) -> bool:
        """An on/off setting: ``--flag/--no-flag`` on the command line, true/false elsewhere."""
        return isinstance(self.default, bool)

    def readable_default(self) -> str:
        """The default as --help and the docs show it: no Python reprs."""
        return self.shown_default or readable(self.default)


def readable(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(value, "g")
    if isinstance(value, tuple):
        items = ["=".join(item) if isinstance(item, tuple) else str(item) for item in value]
        return ", ".join(items) or "none"
    return str(value) if value != "" else "empty"


OPTIONS: tuple[Option, ...] = (
    Option("host", "interface to bind", str),
    Option("port", "TCP port to listen on", int),
    Option("workers", "processes serving the port (runware-mock serve only): one leader runs "
           "every task, the others take every connection and hand the leader its requests "
           f"(docs: Several workers); auto = one per core; at most {MOST_WORKERS}",
           _parse_workers, metavar="N|auto"),
    Option("reused_answers", "answers a follower worker keeps to give again, each a getResponse "
           "of finished tasks of at most 8 kB with its request, given again only once the leader "
           "confirms nothing it depends on changed (and journals it); 0 = none", int,
           metavar="N"),
    Option("api_keys", "accepted API key (repeatable; env: comma separated); "
           "none given = any non-empty key", _parse_keys, flag="--api-key", repeatable=True,
           metavar="KEY"),
    Option("seed", "seed of every random choice (result seeds, latencies, faults)", int),
    Option("latency", "latency profile: instant, fast, realistic, fixed:S, uniform:A:B, "
           "lognormal:MEDIAN:SIGMA", str, metavar="PROFILE"),
    Option("time_scale", "multiplies every simulated wait (0.1 = ten times faster)", float),
    Option("data_dir", "where the store of tasks, rendered videos and uploads are kept (a "
           "restart on it finds them again); a server locks its data "
           "dir, and a second one started on it refuses to start; default: a dir per port in "
           "the user's state dir ($XDG_STATE_HOME, else ~/.local/state; ~/Library/Application "
           "Support on macOS)", Path, shown_default="~/.local/state/runware-mock/port-PORT",
           metavar="DIR"),
    Option("ephemeral", "run on a new temporary data dir (in the system temp dir), removed when "
           "the server stops, after Ctrl-C or SIGTERM too (a kill -9 leaves it behind); not "
           "with --data-dir", _parse_bool),
    Option("public_url", "base URL put in videoURL/mediaURL (default http://HOST:PORT)", str),
    Option("render_workers", "ffmpeg processes allowed to run at once", int),
    Option("renders", "when a result's file is made: lazy (at its first download, GET or HEAD "
           "of its URL; at once when the client needs the bytes: base64Data, dataURI, "
           "uploadEndpoint, or its UUID as a later task's input) or eager (before the result "
           "is reported)", _parse_renders, metavar="lazy|eager"),
    Option("render_backlog", "most files waiting to be made or being made on demand; a "
           "download that would queue past it answers 503 renderBacklogFull with Retry-After",
           int),
    Option("render_wait", "seconds a download waits for its file to be made; then 503 "
           "renderTimeout with Retry-After (the file is still made)", float),
    Option("max_long_side", "longest side of rendered avatar video frames, in pixels (a "
           "generated video has the width and height its task asks for)", int),
    Option("max_upscale_pixels", "most pixels of an upscaled image (width x height); a larger "
           "upscale is refused with invalidUpscaleFactor", int),
    Option("animate", "draw the voice track's waveform on every frame, so lip-sync timing is "
           "visible (encodes every frame: slower)", _parse_bool),
    Option("disk_budget_mb", "most megabytes the data dir's media may hold (renders, fetched "
           "and decoded inputs, uploads; not the store of tasks, which task_retention bounds); "
           "files no task or URL needs go first, then the oldest renders, then uploads (a "
           "removed file's URL answers 404 as after its ttl)", int),
    Option("default_ttl", "seconds a videoURL is served when the task sets no ttl", int),
    Option("task_retention", "seconds a finished task stays pollable (longer while a webhook "
           "or upload of it is still being retried, so its delivery log is not cut short)",
           float),
    Option("sweep_interval", "real seconds between the sweeps that forget tasks past "
           "task_retention and delete expired media files (so a task may stay pollable this much "
           "longer; an expired URL answers 404 at once)", float),
    Option("fetch_timeout", "seconds allowed to fetch an http(s) input: the whole fetch, "
           "redirects and a slow body included", float),
    Option("fetch_max_bytes", "largest http(s) input fetched, in bytes", int),
    Option("lookup_threads", "threads looking up the host names of input URLs, webhooks and "
           "uploads (a lookup the DNS server never answers holds one until the system resolver "
           "gives up; the others wait their turn)", int),
    Option("unreachable_inputs", "an input URL whose host cannot be reached (its name does not "
           "resolve, the connection is refused or times out, or the address is one the "
           "emulator does not reach): stand-in (a generated image, audio or video of the kind "
           "the field expects, marked on the task) or error (the task fails with "
           "invalidValueUploadFailed)", _parse_unreachable_inputs, metavar="stand-in|error"),
    Option("url_map", "PREFIX=DIR: serve remote input URLs starting with PREFIX from local "
           "files in DIR (repeatable; replaces the default, which maps the seed document's "
           "asset URLs to the shipped fixtures)", _parse_url_map, repeatable=True,
           shown_default="https://assets.runware.ai/assets/inputs/=<fixtures>/media",
           metavar="PREFIX=DIR"),
    Option("log_level", "uvicorn log level", str),
    Option("delivery_attempts", "tries per webhook or upload before giving up (first one "
           "included)", int),
    Option("delivery_backoff", "simulated seconds before the first retry of a delivery; doubles "
           "each retry, with seeded jitter, times --time-scale", float),
    Option("delivery_backoff_max", "longest wait between two delivery tries, in simulated "
           "seconds (before --time-scale)", float),
    Option("delivery_timeout", "seconds one webhook POST or upload PUT try may take, from "
           "connecting to the answer's status", float),
    Option("dashboard_tick", "seconds between the dashboard's live updates (and its charts' "
           "resolution)", float),
    Option("dashboard_history", "seconds of chart history a dashboard shows on opening", float),
    Option("dashboard_max_rows", "most rows one page of a dashboard list may ask for", int),
    Option("dashboard_timeline", "most journal entries a task's dashboard timeline reads", int),
    Option("sync_timeout", "real seconds a deliveryMethod sync task may hold its request; "
           "then it is answered with a timeoutProvider error and keeps running (poll it)",
           float),
    Option("webhook_secret", "sign webhooks the Standard Webhooks way with this secret "
           "(whsec_<base64> or raw); empty = unsigned, as the real service", str),
    Option("journal_limit", "requests and frames the admin journal keeps (oldest dropped "
           "first)", int),
    Option("journal_value_limit", "characters of any one string value the journal keeps "
           "(base64 media is cut)", int),
    Option("idle_timeout", "seconds a WebSocket may stay silent before the server closes it",
           float),
    Option("session_keep_seconds", "seconds a WebSocket session (connectionSessionUUID) and the "
           "results it missed are kept after its socket closes, for a resume", float),
    Option("ws_max_bytes", "largest WebSocket frame accepted, in bytes (a 10 MB image inline is "
           "about 14 MB of base64; a larger frame is closed 1009)", int),
    Option("push_results", "push each finished result to the WebSocket sessions that submitted "
           "or polled its task", _parse_bool),
    Option("admin_token", "token the /__admin API requires (Authorization: Bearer or "
           "X-Admin-Token), and /metrics too; empty = open on a loopback --host, and generated "
           "(printed once in the banner) on any other", str),
    Option("faults", "fault profile loaded at start: a TOML or JSON file of fault rules, or "
           "the name of a shipped one (flaky-network, overloaded, provider-timeouts, chaos); "
           "empty = none", str, metavar="FILE_OR_NAME"),
    Option("max_body_bytes", "largest REST request body accepted, in bytes (larger: 413 "
           "payloadTooLarge); parsing one such body holds the event loop about 20 ms, so "
           "other clients' latency stays low (a 10 MB image inline is about 14 MB of base64: "
           "send a large voice track by URL or mediaStorage upload)", int),
    Option("max_json_values", "most JSON values one request body or WebSocket frame may hold "
           "(arrays, objects and the strings, numbers, booleans and nulls in them; object keys "
           "are not counted, nor commas or brackets inside strings), so one request's work "
           "stays bounded (more: payloadTooLarge)", int),
    Option("max_nesting_depth", "deepest nesting of arrays and objects accepted in a request "
           "body or frame (a valid task needs 3; deeper: nestingTooDeep)", int),
    Option("max_tasks_per_request", "most tasks in one REST request or WebSocket frame (more: "
           "tooManyTasks)", int),
    Option("max_errors_per_reply", "most errors one reply lists; a last tooManyErrors error "
           "counts the rest", int),
    Option("journal_entry_bytes", "bytes of strings one journal entry keeps, the API key and "
           "object keys included (the rest is cut)", int),
    Option("shutdown_timeout", "seconds shutdown waits for requests still held (faults, slow "
           "clients, waits on renders) before cancelling them", float),
    Option("allow_private_targets", "let input fetches, webhooks and uploads reach loopback, "
           "private, link-local (cloud metadata) and other non-public addresses when bound to "
           "a network interface (on a loopback --host they always may); never the admin API "
           "nor the leader's private port (docs: Outbound requests)", _parse_bool),
    Option("header_timeout", "seconds a connection may take to send a request's head (from "
           "its opening, or from the previous answer); then it is closed, silent or not, so "
           "idle and slow-header connections cannot hold the server's sockets", float),
    Option("upstream", "runware-mock proxy: the service requests are forwarded to (REST and "
           "server-sent events)", str, metavar="URL"),
    Option("upstream_ws", "runware-mock proxy: the WebSocket URL frames are relayed to; empty = "
           "--upstream with ws(s):// (wss://ws-api.runware.ai/v1 for the default)", str,
           metavar="URL"),
    Option("record", "runware-mock proxy: write a cassette of the exchanges to this folder "
           "(keys redacted, result media downloaded) for serve --replay", Path, metavar="DIR",
           shown_default="none"),
    Option("record_max_mb", "runware-mock proxy: most megabytes a cassette may hold, media "
           "included; later exchanges are not recorded (the drift report says how many)", int),
    Option("drift_report", "runware-mock proxy: the drift report's JSON lines file; default: "
           "drift.jsonl in the --record folder, else in the current folder", Path,
           metavar="FILE",
           shown_default="drift.jsonl"),
    Option("replay", "serve: answer the requests a cassette (runware-mock proxy --record) holds "
           "with its recorded answers; the others are emulated", Path, metavar="DIR",
           shown_default="none"),
    Option("replay_strict", "serve --replay: answer a request the cassette does not hold with "
           "a notInCassette error instead of emulating it", _parse_bool),
    Option("balance", "each API key's credit in USD: once its results' costs reach it, a "
           "task of a paid model answers insufficientCredits (HTTP 402); the admin API sets a "
           "key's balance (PUT /__admin/accounts/{apiKey}/balance); unlimited = no limit",
           _parse_balance, metavar="USD|unlimited", shown_default="unlimited"),
    Option("air_sources", "AIR sources the emulated organization owns (repeatable; env: comma "
           "separated): modelUpload takes an AIR under these only; the first is "
           "accountManagement's AIRSource (default: the source of the SDKs' own example)",
           _parse_keys, flag="--air-source", repeatable=True, metavar="SOURCE"),
)
# Settings of `runware-mock proxy` only: `serve` has no flag for them.
PROXY_ONLY = frozenset({"upstream", "upstream_ws", "record", "record_max_mb", "drift_report"})

_OPTION_BY_NAME = {option.name: option for option in OPTIONS}
assert set(_OPTION_BY_NAME) == {f.name for f in fields(Settings)}, "every setting needs an Option"


def load(cli: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
         config_file: Path | None = None) -> Settings:
    """Merge the four sources, later ones winning: defaults, file, environment, CLI."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    if config_file is not None:
        values.update(_read_config_file(config_file))
    for option in OPTIONS:
        if option.env_var in env and env[option.env_var] != "":
            values[option.name] = env[option.env_var]
    for name, value in (cli or {}).items():
        if name in _OPTION_BY_NAME and value is not None:
            values[name] = value
    return from_mapping(values)


def from_mapping(values: Mapping[str, Any], base: Settings | None = None) -> Settings:
    parsed = {}
    for name, raw in values.items():
        option = _OPTION_BY_NAME.get(name)
        if option is None:
            raise ValueError(f"unknown setting {name!r}")
        try:
            parsed[name] = option.parse(raw)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"setting {name}: cannot use {raw!r}: {exc}") from exc
    settings = replace(base or Settings(), **parsed)
    _check(settings)
    return settings


def _read_config_file(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return {key.replace("-", "_"): value for key, value in data.items()}


# Settings whose grammar a stage owns (the latency profile, a fault profile, the webhook
# secret), each with the check that stage registered when imported (``check_with``). Settings
# imports no stage: every module may import it. The commands (runware_mock.cli) import those
# stages before they load settings, and the harness has them loaded (through its admin client),
# so a bad value is refused before anything starts; a stage refuses it again when built.
_STAGE_CHECKS: dict[str, Callable[[Any], object]] = {}


def check_with(name: str, check: Callable[[Any], object]) -> None:
    """Check the setting ``name`` with ``check`` (raising ValueError) whenever settings load."""
    assert name in _OPTION_BY_NAME, f"no setting {name!r}"
    _STAGE_CHECKS[name] = check


def _check(settings: Settings) -> None:
    for name, check in _STAGE_CHECKS.items():
        check(getattr(settings, name))
    if settings.ephemeral and settings.data_dir is not None:
        raise ValueError("ephemeral runs on a temporary data dir of its own: set data_dir or "
                         "ephemeral, not both")
    if not 0 <= settings.port <= 65535:
        raise ValueError("port must be between 0 and 65535 (0: a free port)")
    if not 1 <= settings.workers <= MOST_WORKERS:
        raise ValueError(f"workers must be between 1 and {MOST_WORKERS}, or auto")
    if settings.lookup_threads < 1:
        raise ValueError("lookup_threads must be >= 1")
    if settings.reused_answers < 0:
        raise ValueError("reused_answers must be >= 0")
    if settings.time_scale < 0:
        raise ValueError("time_scale must be >= 0")
    if settings.render_workers < 1:
        raise ValueError("render_workers must be >= 1")
    if settings.render_backlog < 1:
        raise ValueError("render_backlog must be >= 1")
    if not 0 < settings.render_wait <= 3600:
        raise ValueError("render_wait must be between 0 and 3600")
    if settings.max_long_side < 16:
        raise ValueError("max_long_side must be >= 16")
    if not 1024 <= settings.max_upscale_pixels <= 268_435_456:
        raise ValueError("max_upscale_pixels must be between 1024 and 268435456")
    if settings.delivery_attempts < 1:
        raise ValueError("delivery_attempts must be >= 1")
    if min(settings.delivery_backoff, settings.delivery_backoff_max) < 0:
        raise ValueError("delivery_backoff and delivery_backoff_max must be >= 0")
    if settings.delivery_timeout <= 0:
        raise ValueError("delivery_timeout must be > 0")
    if not 0 < settings.sync_timeout <= 3600:
        raise ValueError("sync_timeout must be between 0 and 3600")
    if not 0.05 <= settings.sweep_interval <= 3600:
        raise ValueError("sweep_interval must be between 0.05 and 3600")
    if not 0.05 <= settings.dashboard_tick <= 60 or not 0 <= settings.dashboard_history <= 86400:
        raise ValueError("dashboard_tick must be 0.05-60 and dashboard_history 0-86400 seconds")
    if not 1 <= settings.dashboard_max_rows <= 100_000 or settings.dashboard_timeline < 1:
        raise ValueError("dashboard_max_rows must be 1-100000 and dashboard_timeline >= 1")
    if settings.idle_timeout <= 0 or settings.session_keep_seconds < 0:
        raise ValueError("idle_timeout must be > 0 and session_keep_seconds >= 0")
    if settings.journal_limit < 1 or settings.journal_value_limit < 16:
        raise ValueError("journal_limit must be >= 1 and journal_value_limit >= 16")
    _check_limits(settings)


def _check_limits(settings: Settings) -> None:
    floors = {"max_body_bytes": 1024, "max_json_values": 16, "max_nesting_depth": 3,
              "max_tasks_per_request": 1, "max_errors_per_reply": 1,
              "journal_entry_bytes": 256, "ws_max_bytes": 1024}
    for name, floor in floors.items():
        if getattr(settings, name) < floor:
            raise ValueError(f"{name} must be >= {floor}")
    if not 0 <= settings.shutdown_timeout <= 3600:
        raise ValueError("shutdown_timeout must be between 0 and 3600")
    if not 0 < settings.header_timeout <= 3600:
        raise ValueError("header_timeout must be between 0 and 3600")
    if settings.record_max_mb < 1:
        raise ValueError("record_max_mb must be >= 1")
    if not settings.upstream.startswith(("http://", "https://")) or (
            settings.upstream_ws and not settings.upstream_ws.startswith(("ws://", "wss://"))):
        raise ValueError("upstream must be an http(s):// URL and upstream_ws a ws(s):// one")
    if settings.replay is not None and not (settings.replay / "cassette.jsonl").is_file():
        raise ValueError(f"replay: no cassette.jsonl in {settings.replay} (record one with "
                         "runware-mock proxy --record DIR)")
    if settings.replay is not None and settings.workers > 1:
        raise ValueError("replay runs on one worker: a poll must reach the worker that "
                         "replayed its task")


def option_table(options: Sequence[Option] = OPTIONS) -> str:
    """The documented settings table, generated so docs and code agree."""
    rows = ["| flag | env var and config key | default | meaning |", "|---|---|---|---|"]
    for option in options:
        flags = " ".join(f"`{flag}`" for flag in (option.cli_flag, option.negative_flag) if flag)
        rows.append(f"| {flags} | `{option.env_var}`<br>`{option.name}` | "
                    f"`{option.readable_default()}` | {option.help} |")
    return "\n".join(rows)

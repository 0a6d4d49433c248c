"""The ``runware-mock`` command: ``serve`` starts the emulator, ``run`` makes a video through it.

Built with click (already installed, as uvicorn's own CLI library): the ``serve`` flags are
generated from ``settings.OPTIONS``, the one declaration that also feeds the environment, the
config file and the documented settings table.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import gc
import shlex
import shutil
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import click
from click.core import ParameterSource

from runware_mock import __version__, datadir
from runware_mock import settings as settings_module
from runware_mock.admin import exposure
from runware_mock.media.allocator import keep_freed_memory
from runware_mock.quickrun import avatar_models
from runware_mock.settings import ENV_PREFIX, OPTIONS, PROXY_ONLY, Option, Settings
from runware_mock.store import database

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
EXIT_INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C
EXIT_TERMINATED = 143  # and by SIGTERM
_CLICK_TYPES: dict[Any, click.ParamType] = {int: click.INT, float: click.FLOAT,
                                            Path: click.Path(path_type=Path)}
_TRUE_WORDS = ("1", "true", "yes", "on")
_BOOLEAN_WORDS = (*_TRUE_WORDS, "0", "false", "no", "off")
RUN_URL = "http://127.0.0.1:8787/v1"  # where `runware-mock run` looks by default


@click.group(context_settings=CONTEXT, invoke_without_command=True)
@click.version_option(__version__, "--version", "-V", prog_name="runware-mock",
                      message="%(prog)s %(version)s")
@click.pass_context
def cli(context: click.Context) -> None:
    """Offline emulator of the Runware inference API, with a contract-test harness.

    Start it with `runware-mock serve`, then make a first video with `runware-mock run`
    from another shell.
    """
    if context.invoked_subcommand is None:
        click.echo(context.get_help())


def setting_options(command: Callable[..., Any], skip: frozenset[str] = PROXY_ONLY
                    ) -> Callable[..., Any]:
    """One click option per setting, in the declaration's order (but the ``skip`` ones)."""
    for option in reversed(OPTIONS):
        if option.name not in skip:
            command = click.option(*_declarations(option), **_option_arguments(option))(command)
    return command


def _declarations(option: Option) -> list[str]:
    flags = f"{option.cli_flag}/{option.negative_flag}" if option.boolean else option.cli_flag
    return [option.name, flags]


def _option_arguments(option: Option) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "default": None,
        "help": f"{option.help}  [default: {option.readable_default()}; env: {option.env_var}]",
    }
    if not option.boolean:
        arguments["type"] = _CLICK_TYPES.get(option.parse, click.STRING)
        arguments["multiple"] = option.repeatable
        arguments["metavar"] = option.metavar or None
    return arguments


def load_settings(context: click.Context, values: dict[str, Any],
                  config: Path | None) -> Settings:
    """The command's settings. The stages that own a setting's grammar check it as settings
    load (``settings.check_with``): imported first, so a bad value is refused before anything
    starts."""
    from runware_mock.delivery import signing  # noqa: F401
    from runware_mock.engine import latency  # noqa: F401
    from runware_mock.faults import rules  # noqa: F401

    return settings_module.load(given_on_command_line(context, values), config_file=config)


def given_on_command_line(context: click.Context, values: dict[str, Any]) -> dict[str, Any]:
    """The settings the user typed; the others fall through to env, file and defaults."""
    return {name: value for name, value in values.items()
            if context.get_parameter_source(name) is ParameterSource.COMMANDLINE}


@cli.command(context_settings=CONTEXT, epilog=(
    "Each setting can also come from its environment variable or a key of the --config file; "
    "flags beat the environment, which beats the file, which beats the defaults."))
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False),
              envvar=ENV_PREFIX + "CONFIG", metavar="FILE",
              help=f"TOML file of settings  [env: {ENV_PREFIX}CONFIG]")
@setting_options
@click.pass_context
def serve(context: click.Context, config: Path | None, **values: Any) -> None:
    """Start the emulator (REST and WebSocket on /v1, admin API on /__admin)."""
    try:
        settings = load_settings(context, values, config)
    except (OSError, ValueError) as exc:
        fail(str(exc), code=2)
    settings, generated_token = exposure.guarded(settings)
    listener = None
    if settings.port == 0:  # the default data dir is named after the port: learn it first
        listener = listen_or_fail(settings)
        settings = dataclasses.replace(settings, port=listener.getsockname()[1])
    # Before binding: a data dir in use is then the one thing reported.
    claim = data_dir_or_fail(settings)
    store_or_fail(claim)
    signal.signal(signal.SIGTERM, exit_on_sigterm)  # so an ephemeral dir goes in any case
    serving = False
    try:
        listener = listener or listen_or_fail(claim.settings)
        serving = True
        print_banner(claim.settings, generated_token)
        tune_garbage_collector()
        keep_freed_memory()
        if claim.settings.workers > 1:
            from runware_mock.supervisor import supervise

            try:
                code = supervise(
                    claim, lambda: listen_or_fail(claim.settings, joining=True), listener)
            except datadir.DataDirError as exc:
                fail(str(exc))
            context.exit(code)
        serve_forever(claim, listener)
    except KeyboardInterrupt:
        # uvicorn shut down gracefully, then re-raised the Ctrl-C for us: nothing to report.
        context.exit(EXIT_INTERRUPTED)
    finally:
        # The app released it on shutdown, unless it never started; a start that failed
        # takes away the data dir it made.
        if serving:
            claim.release()
        else:
            claim.abandon()


@cli.command(context_settings=CONTEXT, epilog=(
    "Every serve setting applies to the emulator the exchanges are compared with; see the docs "
    "page \"Check the emulator against the real service\"."))
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False),
              envvar=ENV_PREFIX + "CONFIG", metavar="FILE",
              help=f"TOML file of settings  [env: {ENV_PREFIX}CONFIG]")
@functools.partial(setting_options, skip=frozenset({"replay", "replay_strict", "workers"}))
@click.pass_context
def proxy(context: click.Context, config: Path | None, **values: Any) -> None:
    """Forward the API to the real service (--upstream) with each client's own key, and check
    every exchange against the emulator: a drift report, and with --record a cassette."""
    from runware_mock.proxy.command import check_record_folder, serve_proxy

    try:
        settings = load_settings(context, values, config)
        check_record_folder(settings)
    except (OSError, ValueError) as exc:
        fail(str(exc), code=2, command="proxy")

    signal.signal(signal.SIGTERM, exit_on_sigterm)
    try:
        serve_proxy(settings, listen_or_fail(dataclasses.replace(settings, workers=1)))
    except KeyboardInterrupt:
        context.exit(EXIT_INTERRUPTED)


def listen_or_fail(settings: Settings, *, joining: bool = False) -> socket.socket:
    """Bind before saying anything, so a port in use is the only thing printed. ``joining``:
    one more worker's socket on the port this server's first worker socket is bound to."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        if settings.workers > 1:
            listener = _reusable(listener, settings, joining)
        else:
            listener.bind((settings.host, settings.port))
    except OSError as exc:
        listener.close()
        where = f"{settings.host}:{settings.port}"
        if exc.errno == errno.EADDRINUSE:
            fail(f"cannot listen on {where}: the port is in use (is another runware-mock "
                 f"running?); choose another with --port or {ENV_PREFIX}PORT")
        fail(f"cannot listen on {where}: {exc.strerror or exc}")
    # Not inheritable (Python's default, kept): uvloop's subprocesses (ffmpeg, the store's
    # writer) inherit every inheritable descriptor, and one that outlived a killed server
    # would hold its port against the restart.
    return listener


def _reusable(probe: socket.socket, settings: Settings, joining: bool) -> socket.socket:
    """A socket bound with SO_REUSEPORT, as each worker has one on the port (the kernel spreads
    new connections across them). The first is bound once without it: SO_REUSEPORT alone would
    let this server share a port another server of the same user listens on."""
    port = settings.port
    if not joining:
        probe.bind((settings.host, settings.port))
        port = probe.getsockname()[1]
    probe.close()
    listener = socket.socket(probe.family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind((settings.host, port))
    return listener


def store_or_fail(claim: datadir.Claim) -> None:
    """A store the emulator cannot use (written by a newer version, not a database) is
    reported before serving."""
    assert claim.settings.data_dir is not None
    try:
        database.prepare(claim.settings.data_dir / database.FILENAME)
    except database.StoreError as exc:
        claim.abandon()
        fail(str(exc), code=2)


def data_dir_or_fail(settings: Settings) -> datadir.Claim:
    """Take the data dir for the life of the process: exit 2 when another server holds it."""
    try:
        return datadir.claim(settings)
    except datadir.DataDirInUse as exc:
        fail(str(exc), code=2)
    except datadir.DataDirError as exc:
        fail(str(exc))
    raise AssertionError("fail() exits")


def exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM before or after uvicorn's own handling (which shuts down gracefully, then
    re-raises it): exit through the ``finally`` clauses, with the shell's code for it."""
    sys.exit(EXIT_TERMINATED)


def print_banner(settings: Settings, generated_token: str | None = None) -> None:
    url = settings.base_url
    data = f"{settings.data_dir}{' (ephemeral)' if settings.ephemeral else ''}"
    workers = f", {settings.workers} workers" if settings.workers > 1 else ""
    lines = [f"runware-mock {__version__}: serving {url}/v1 (REST and WebSocket){workers}",
             f"  latency {settings.latency}, seed {settings.seed}, data in {data}, "
             f"admin API {url}/__admin",
             f"  make a video from another shell: {run_command(settings)}; Ctrl-C stops the "
             "server",
             *exposure.banner_lines(settings, generated_token)]
    click.echo("\n".join(lines), err=True)


def run_command(settings: Settings) -> str:
    """``runware-mock run`` as the user can type it where they stand: the command on PATH, else
    ``python3 dev.py run`` in a checkout whose .venv runs this, else the script's full path;
    with ``--url`` when this server is not where ``run`` looks by default."""
    scripts = Path(sys.executable).parent
    on_path = shutil.which("runware-mock")
    checkout = scripts.parent.parent
    if on_path and Path(on_path).parent.absolute() == scripts.absolute():
        command = "runware-mock"
    elif scripts.parent.name == ".venv" and (checkout / "dev.py").is_file():
        here = Path.cwd().absolute() == checkout.absolute()
        command = f"python3 {'dev.py' if here else shlex.quote(str(checkout / 'dev.py'))}"
    elif (scripts / "runware-mock").is_file():
        command = shlex.quote(str(scripts / "runware-mock"))
    else:
        command = f"{shlex.quote(sys.executable)} -m runware_mock"
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    url = f"http://{f'[{host}]' if ':' in host else host}:{settings.port}/v1"
    return f"{command} run{'' if url == RUN_URL else ' --url ' + url}"


def serve_forever(claim: datadir.Claim, listener: socket.socket) -> None:
    import uvicorn

    from runware_mock.app import PromptServer, create_app, server_options

    settings = claim.settings
    config = uvicorn.Config(create_app(settings, claim=claim), log_level=settings.log_level,
                            **server_options(settings))
    PromptServer(config).run(sockets=[listener])


def tune_garbage_collector() -> None:
    """Thousands of pending tasks are long-lived objects that the default thresholds rescan
    constantly (a quarter of the submit cost under load, measured). Done here, in the process
    the server owns, not in create_app: an embedding process keeps its own settings."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


@cli.command(context_settings=CONTEXT)
@click.option("--image", metavar="PATH_OR_URL",
              help="the portrait: a file (uploaded first), a URL, a data URI or an uploaded "
                   "media UUID  [default: the shipped sample portrait]")
@click.option("--audio", metavar="PATH_OR_URL",
              help="the voice, 2 to 300 s, in the same forms  [default: the shipped 12.3 s "
                   "sample voice]")
@click.option("--model", default="klingai:avatar@2.0-standard", show_default=True,
              help="a model that makes a video from a portrait and a voice: "
                   f"{', '.join(avatar_models())}")
@click.option("--prompt", metavar="TEXT", help="positivePrompt, 1 to 2500 characters")
@click.option("--format", "output_format", type=click.Choice(["MP4", "WEBM", "MOV"],
              case_sensitive=False), default="MP4", show_default=True, help="outputFormat")
@click.option("--url", default=RUN_URL, envvar=ENV_PREFIX + "URL",
              show_default=True, show_envvar=True, help="the API's base URL")
@click.option("--api-key", default="any-key", envvar="RUNWARE_API_KEY", show_default=True,
              show_envvar=True, help="API key (the emulator takes any by default)")
@click.option("--output", type=click.Path(path_type=Path), metavar="PATH",
              help="where to save the video: a file or a folder  [default: VIDEO_UUID.mp4 in "
                   "the current folder]")
@click.option("--timeout", type=click.FloatRange(min=0), default=900.0, show_default=True,
              metavar="SECONDS", help="give up when the video is not ready after this long")
@click.option("--poll-every", type=click.FloatRange(min=0.05), default=1.0,
              show_default=True, metavar="SECONDS", help="seconds between two getResponse")
@click.pass_context
def run(context: click.Context, **options: Any) -> None:
    """Make one avatar video through the public HTTP API and save it.

    Uploads the inputs (mediaStorage), submits a videoInference with a fresh taskUUID, polls
    getResponse with a progress bar, downloads the video, and prints its URL, local path,
    duration and cost. Works against any Runware URL; the local emulator by default.
    """
    from runware_mock import quickrun

    try:
        video = quickrun.make_video(quickrun.Job(**options))
    except quickrun.RunFailed as exc:
        fail(str(exc), code=2 if isinstance(exc, quickrun.BadOption) else 1, command="run")
    except KeyboardInterrupt:
        context.exit(EXIT_INTERRUPTED)
    click.echo(quickrun.describe(video))


def fail(message: str, code: int = 1, command: str = "") -> None:
    """Report a problem the user can fix (no traceback) and stop."""
    click.echo(f"runware-mock{' ' + command if command else ''}: {message}", err=True)
    sys.exit(code)


def accept_valued_booleans(args: Sequence[str]) -> list[str]:
    """Take ``--push-results false`` (the form of the first releases, still in scripts and
    in the pytest plugin's subprocess mode) as ``--no-push-results``."""
    booleans = {option.cli_flag: option.negative_flag for option in OPTIONS if option.boolean}
    result: list[str] = []
    index = 0
    while index < len(args):
        token = args[index]
        flag, equals, value = token.partition("=")
        if not equals and index + 1 < len(args):
            value = args[index + 1]
        if flag in booleans and value.lower() in _BOOLEAN_WORDS:
            result.append(flag if value.lower() in _TRUE_WORDS else booleans[flag])
            index += 1 if equals else 2
        else:
            result.append(token)
            index += 1
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = accept_valued_booleans(sys.argv[1:] if argv is None else argv)
    try:
        cli.main(args, prog_name="runware-mock", standalone_mode=True)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

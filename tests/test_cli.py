"""The `runware-mock` command as a user meets it: help, version, flags, errors, Ctrl-C, `run`.

In-process through ``runware_mock.cli.main`` where output is all that matters; as a real
process where exit codes, banners and signals are the point.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import runware_mock
from runware_mock.cli import accept_valued_booleans, main
from runware_mock.fixtures import media_path
from runware_mock.runner import ServerThread, free_port
from runware_mock.settings import OPTIONS, PROXY_ONLY
from tests.cli_settings import load
from tests.conftest import ServerFactory
from tests.ctrl_c import children_take_ctrl_c
from tests.helpers import PORTRAIT, VOICE, decode
from tests.server_process import wait_until_serving

COMMAND = [sys.executable, "-m", "runware_mock"]


def flat(text: str) -> str:
    """Help text with click's line wrapping undone."""
    return " ".join(text.split())


def spaceless(text: str) -> str:
    """Help text without any space: click also wraps inside a long default (a URL)."""
    return "".join(text.split())


def output_of(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- help, version, flags --------------------------------------------------------------------

def test_no_command_prints_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = output_of([], capsys)
    assert code == 0 and err == ""
    assert out.startswith("Usage: runware-mock [OPTIONS] [COMMAND]")
    assert re.search(r"^\s+serve\s", out, re.MULTILINE) and re.search(r"^\s+run\s", out,
                                                                      re.MULTILINE)


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = output_of([flag], capsys)
    assert code == 0 and out == f"runware-mock {runware_mock.__version__}\n"


def test_serve_help_shows_readable_defaults_and_env_vars(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = output_of(["serve", "--help"], capsys)
    assert code == 0
    text = flat(out)
    for option in OPTIONS:
        if option.name in PROXY_ONLY:  # runware-mock proxy's: test_proxy_help_...
            assert f"{option.cli_flag} " not in text
            continue
        assert option.cli_flag in text
        assert spaceless(f"[default: {option.readable_default()}; env: {option.env_var}]") in (
            spaceless(text))
    for repr_shape in ("PosixPath", "()", "((", "None", "True", "False"):
        assert repr_shape not in text, repr_shape
    assert "--animate / --no-animate" in text and "--push-results / --no-push-results" in text
    assert "[default: 8787; env: RUNWARE_MOCK_PORT]" in text
    assert "[default: none; env: RUNWARE_MOCK_API_KEYS]" in text


def test_proxy_help_shows_its_flags_and_not_the_replay(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = output_of(["proxy", "--help"], capsys)
    text = flat(out)
    assert code == 0
    assert "[default: https://api.runware.ai/v1; env: RUNWARE_MOCK_UPSTREAM]" in text
    for name in PROXY_ONLY:
        assert name.replace("_", "-") in text
    assert "--replay DIR" not in text and "--workers N" not in text


def test_proxy_refuses_a_record_folder_it_cannot_make(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("")
    code, _, err = output_of(["proxy", "--port", "0", "--record", str(tmp_path / "file" / "c")],
                             capsys)
    assert code == 2 and "runware-mock proxy: cannot record to" in err


@pytest.mark.parametrize("flags", [["--upstream", "ftp://127.0.0.1/v1"],
                                   ["--upstream-ws", "http://127.0.0.1/v1"]])
def test_proxy_refuses_an_upstream_of_another_scheme(
        flags: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = output_of(["proxy", "--port", "0", *flags], capsys)
    assert code == 2 and "upstream must be an http(s):// URL" in err


def test_run_help_shows_its_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = output_of(["run", "--help"], capsys)
    text = flat(out)
    assert code == 0 and "[default: klingai:avatar@2.0-standard]" in text
    assert "http://127.0.0.1:8787/v1" in text and "RUNWARE_MOCK_URL" in text


def test_boolean_flags_turn_on_and_off(server_factory: ServerFactory) -> None:
    # Through the real command parser: see tests/test_settings.py for every source.
    assert (load([]).animate, load([]).push_results) == (False, True)
    assert load(["--animate", "--no-push-results"]).push_results is False
    assert load(["--animate", "--no-animate"]).animate is False, "the last one wins"


def test_the_older_valued_form_of_a_boolean_is_still_accepted() -> None:
    assert accept_valued_booleans(
        ["serve", "--push-results", "false", "--animate=yes", "--animate", "--port", "9"]) == [
        "serve", "--no-push-results", "--animate", "--animate", "--port", "9"]
    assert accept_valued_booleans(["serve", "--animate=maybe"]) == ["serve", "--animate=maybe"]


def test_a_bad_value_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = output_of(["serve", "--port", "eighty"], capsys)
    assert code == 2 and "'eighty' is not a valid integer" in err and out == ""
    code, _, err = output_of(["serve", "--animate", "maybe"], capsys)
    assert code == 2 and "maybe" in err


# --- errors before the banner, Ctrl-C ------------------------------------------------------

def serve_process(port: int, data: Path, *extra: str) -> subprocess.Popen[str]:
    with children_take_ctrl_c():
        return subprocess.Popen([*COMMAND, "serve", "--port", str(port), "--data-dir", str(data),
                                 "--latency", "instant", *extra],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL)


def test_a_port_in_use_fails_before_any_banner(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = serve_process(port, tmp_path)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert err.strip().splitlines() == [
        f"runware-mock: cannot listen on 127.0.0.1:{port}: the port is in use (is another "
        "runware-mock running?); choose another with --port or RUNWARE_MOCK_PORT"]
    assert out == ""


def test_a_bad_setting_fails_before_any_banner(tmp_path: Path) -> None:
    process = serve_process(free_port(), tmp_path, "--latency", "never")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 2 and "unknown latency profile" in err
    assert "serving" not in err + out and "Traceback" not in err


def test_ctrl_c_stops_the_server_quietly(tmp_path: Path) -> None:
    port = free_port()
    process = serve_process(port, tmp_path)
    wait_until_serving(process, port)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err and "Aborted" not in err
    assert f"serving http://127.0.0.1:{port}/v1" in err and "Finished server process" in err


def test_ctrl_c_stops_run_quietly(server_factory: ServerFactory, tmp_path: Path) -> None:
    server = server_factory(latency="fixed:3600")
    with children_take_ctrl_c():
        process = subprocess.Popen(
            [*COMMAND, "run", "--url", server.url, "--output", str(tmp_path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not server.services.engine.tasks() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.services.engine.tasks(), "run never submitted"
    time.sleep(0.3)  # let it reach its poll loop; either way, Ctrl-C must be quiet
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130 and out == ""
    assert "Traceback" not in err and "KeyboardInterrupt" not in err and "Aborted" not in err


# --- run ---------------------------------------------------------------------------------

def result_of(out: str) -> dict[str, str]:
    return dict(line.split(None, 1) for line in out.strip().splitlines())


def test_run_uploads_files_passes_urls_and_saves_a_video_that_decodes(
        server: ServerThread, file_server: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "clip.mp4"
    code, out, err = output_of(["run", "--url", server.url, "--image", str(media_path(PORTRAIT)),
                                "--audio", f"{file_server}/{VOICE}", "--output", str(target)],
                               capsys)
    assert code == 0, err
    result = result_of(out)
    assert result["saved"] == str(target) and result["cost"] == "$0.5397"
    assert result["video"].startswith(f"{server.base_url}/video/")
    assert re.fullmatch(r"12\.\d\d s \(\d+ frames\)", result["duration"])
    video = decode(target)
    assert video["video_codec"] == "h264" and video["errors"] == 0
    assert abs(video["audio_seconds"] - 12.266) < 0.1
    assert "uploading the image" in err and "uploading the audio" not in err
    sent = [entry.task_types for entry in server.services.journal.entries()]
    assert sent.count(("mediaStorage",)) == 1 and sent.count(("videoInference",)) == 1


def test_run_names_a_refused_task(server: ServerThread, capsys: pytest.CaptureFixture[str],
                                  tmp_path: Path) -> None:
    # positivePrompt takes 1 to 2500 characters (the seed document).
    code, out, err = output_of(["run", "--url", server.url, "--prompt", "x" * 2501,
                                "--output", str(tmp_path)], capsys)
    assert code == 1 and out == ""
    assert ("runware-mock run: videoInference refused: invalidPositivePromptLength "
            "(positivePrompt)") in err


def test_run_names_an_unreachable_url(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    code, out, err = output_of(["run", "--url", url], capsys)
    assert code == 1 and out == ""
    assert f"cannot reach {url}" in err and "runware-mock serve" in err


def test_run_names_a_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = output_of(["run", "--image", "no-such-portrait.jpg"], capsys)
    assert code == 1 and "--image: no such file: no-such-portrait.jpg" in err


def test_run_reports_a_failed_generation(server: ServerThread, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    server.services.faults.add({"kind": "task_error", "code": "timeoutProvider"})
    code, out, err = output_of(["run", "--url", server.url, "--output", str(tmp_path)], capsys)
    assert code == 1 and out == ""
    assert re.search(r"task [0-9a-f-]{36} failed: timeoutProvider", err)

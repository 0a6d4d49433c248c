"""Configuration: defaults < config file < environment < CLI flags, and the CLI itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import click
import httpx
import pytest

from runware_mock import datadir
from runware_mock import settings as settings_module
from runware_mock.runner import free_port
from runware_mock.settings import Settings
from tests.cli_settings import load


def test_documented_defaults() -> None:
    settings = load([])
    assert (settings.host, settings.port, settings.latency, settings.seed) == (
        "127.0.0.1", 8787, "fast", 0)
    assert settings.api_keys == () and settings.time_scale == 1.0
    assert settings.base_url == "http://127.0.0.1:8787"
    assert settings.data_dir is None and settings.ephemeral is False


def test_the_default_data_dir_follows_the_effective_port(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolved once flags, env and file are merged: the port may come from any of them."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    config = tmp_path / "mock.toml"
    config.write_text("port = 9101\n")
    for argv, env, port in [([], {}, 8787), (["--config", str(config)], {}, 9101),
                            (["--config", str(config)], {"RUNWARE_MOCK_PORT": "9102"}, 9102),
                            (["--port", "9103"], {"RUNWARE_MOCK_PORT": "9102"}, 9103)]:
        settings = load(argv, env)
        assert settings.data_dir is None, "resolved by datadir.claim, for the final port"
        claim = datadir.claim(settings)
        claim.release()
        assert claim.settings.data_dir == tmp_path / "state" / "runware-mock" / f"port-{port}"
        assert claim.settings.data_dir == datadir.default_data_dir(port)
    given = load(["--data-dir", str(tmp_path / "mine")], {"RUNWARE_MOCK_PORT": "9104"})
    assert given.data_dir == tmp_path / "mine"


def test_sources_override_in_order(tmp_path: Path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text('port = 9001\nseed = 5\nlatency = "realistic"\napi_keys = ["from-file"]\n'
                      'time-scale = 0.5\n')
    env = {"RUNWARE_MOCK_SEED": "6", "RUNWARE_MOCK_API_KEYS": "env-1, env-2",
           "RUNWARE_MOCK_LATENCY": "instant"}
    settings = load(["--config", str(config), "--latency", "fixed:2", "--api-key", "cli"], env)
    assert settings.port == 9001            # file
    assert settings.time_scale == 0.5       # file, dashed key
    assert settings.seed == 6               # env beats file
    assert settings.latency == "fixed:2"    # CLI beats env
    assert settings.api_keys == ("cli",)    # CLI beats env and file
    assert load([], env).api_keys == ("env-1", "env-2")


def test_config_file_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "mock.toml"
    config.write_text("port = 9100\n")
    monkeypatch.setenv("RUNWARE_MOCK_CONFIG", str(config))
    assert load([]).port == 9100
    monkeypatch.delenv("RUNWARE_MOCK_CONFIG")
    assert load([]).port == 8787


def test_workers_auto_is_one_per_core() -> None:
    assert load(["--workers", "auto"]).workers == (os.cpu_count() or 1)
    assert load(["--workers", "3"]).workers == 3


def test_repeatable_flags() -> None:
    settings = load(["--api-key", "a", "--api-key", "b", "--url-map", "https://x/=/tmp"])
    assert settings.api_keys == ("a", "b")
    assert ("https://x/", "/tmp") in settings.url_map


@pytest.mark.parametrize("argv", [["--latency", "sometimes"], ["--latency", "uniform:5:1"],
                                  ["--time-scale", "-1"], ["--port", "eighty"],
                                  ["--ephemeral", "--data-dir", "/tmp/x"],
                                  ["--workers", "0"], ["--workers", "65"],
                                  ["--workers", "many"], ["--reused-answers", "-1"],
                                  ["--sweep-interval", "0"]])
def test_bad_values_are_refused(argv: list[str]) -> None:
    with pytest.raises((ValueError, click.BadParameter)):
        load(argv)


def test_option_table_lists_every_setting() -> None:
    table = settings_module.option_table()
    for option in settings_module.OPTIONS:
        assert option.cli_flag in table and option.env_var in table
        assert f"`{option.name}`" in table, "the config file's key"
        assert option.negative_flag in table
    assert len(settings_module.OPTIONS) == len(Settings.__dataclass_fields__)
    assert "PosixPath" not in table and "()" not in table and "True" not in table


def test_booleans_are_flags_and_true_false_elsewhere(tmp_path: Path) -> None:
    assert load(["--animate"]).animate is True
    assert load(["--no-push-results"]).push_results is False
    assert load(["--push-results"], {"RUNWARE_MOCK_PUSH_RESULTS": "false"}).push_results is True
    assert load([], {"RUNWARE_MOCK_ANIMATE": "yes"}).animate is True
    config = tmp_path / "mock.toml"
    config.write_text("animate = true\npush-results = false\n")
    from_file = load(["--config", str(config)])
    assert (from_file.animate, from_file.push_results) == (True, False)
    assert load(["--config", str(config), "--no-animate"]).animate is False


def test_console_script_serves_and_reports_bad_flags(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "runware_mock", "serve", "--port", str(port),
               "--latency", "instant", "--data-dir", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        reply = None
        for _ in range(200):
            try:
                reply = httpx.post(f"http://127.0.0.1:{port}/v1",
                                   json=[{"taskType": "ping", "ping": True}])
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert reply is not None and reply.json() == {"data": [{"taskType": "ping", "pong": True}]}
    finally:
        process.terminate()
        process.wait(timeout=10)
    bad = subprocess.run([sys.executable, "-m", "runware_mock", "serve", "--latency", "never"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "unknown latency profile" in bad.stderr

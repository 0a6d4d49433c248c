"""The dashboard at /__admin/ui, driven in a real headless Chromium (Debian's ``chromium``,
through Playwright for Python; ``python3 dev.py test`` installs it when missing).

A failing browser test saves a screenshot of the page under its tmp dir and prints the path.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runware_mock.admin.ui.timeline import shown
from runware_mock.fixtures import seed_examples
from runware_mock.runner import ServerThread
from tests.conftest import ServerFactory
from tests.helpers import RestClient
from tests.sdks import RUNWARE_SDK, ScriptRun, python_sdk_env, runware_sdk_command

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying to reach Google's services,
# which on a closed network is a stream of refused connections.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
VOICE_SECONDS = 12.266
WAIT_MS = 20_000
# python3 dev.py test installs chromium and Playwright: under CI=true a skip here fails.
pytestmark = pytest.mark.installed_by_test_command


# --- the browser, and a screenshot of any failure -----------------------------------------------

class _ScreenshotOnFailure:
    """A pytest hook: when a test using ``page`` fails, the page as it was is saved."""

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: Any) -> Iterator[None]:
        outcome = yield
        report = outcome.get_result()
        page = getattr(item, "funcargs", {}).get("page")
        if report.when != "call" or not report.failed or page is None:
            return
        path = item.funcargs["tmp_path"] / "failure.png"
        try:
            page.screenshot(path=str(path), full_page=True)
        except Exception as exc:  # the page may be what broke
            report.sections.append(("screenshot", f"none: {exc}"))
            return
        print(f"\nscreenshot of the failing page: {path}")
        report.sections.append(("screenshot", str(path)))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (python3 dev.py test installs Debian's chromium "
                    "with apt-get when it can)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed (the test extra)")
    with tempfile.TemporaryDirectory(prefix="dashboard-chromium-") as profile, \
            sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 900})
        context.set_default_timeout(WAIT_MS)
        yield context
        context.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    plugin = _ScreenshotOnFailure()
    request.config.pluginmanager.register(plugin)
    opened = browser.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    request.config.pluginmanager.unregister(plugin)
    opened.close()
    browser.clear_cookies()
    assert not errors, f"the page raised: {errors}"


def ui(server: ServerThread, path: str = "") -> str:
    return f"{server.base_url}/__admin/ui/{path}"


def expect(page: Any, script: str, *args: Any) -> Any:
    """Wait until ``script`` (a JS function body's expression) is truthy; its value."""
    handle = page.wait_for_function(f"(args) => {script}", arg=list(args))
    return handle.json_value()


# --- tasks from an official SDK: appear, progress, finish when the clock advances, play --------

def test_sdk_tasks_appear_progress_finish_on_advance_and_play(
        server_factory: ServerFactory, page: Any, tmp_path: Path) -> None:
    # 40 simulated seconds: long enough to watch, and the clock finishes it.
    server = server_factory(latency="fixed:40")
    page.goto(ui(server))
    page.evaluate("window.notReloaded = true")
    page.wait_for_selector("#live:not(.off)")
    task_uuid = str(uuid.uuid4())
    command = runware_sdk_command(python_sdk_env(RUNWARE_SDK), "rest", server.ws_url,
                                  server.url, task_uuid)
    with ScriptRun(command, tmp_path / "sdk-stderr.txt") as sdk:
        row = f'tr[data-task="{task_uuid}"]'
        page.wait_for_selector(f'{row}[data-state="processing"] .bar-fill', timeout=60_000)
        first = _progress(page, row)
        expect(page, "parseFloat(document.querySelector(args[0] + ' .bar-fill').style.width)"
                     " > args[1]", row, first)
        assert page.locator(f"{row} td.remaining").inner_text().endswith(" s")

        page.fill("#advance-seconds", "60")
        page.click("#advance")
        page.wait_for_selector(f'{row}[data-state="success"]')
        assert _progress(page, row) == 100
        done = sdk.result()
    assert done["videos"][0]["taskUUID"] == task_uuid
    assert page.evaluate("window.notReloaded") is True

    page.click(f"{row} a.uuid")
    page.wait_for_selector(f'main[data-task-page="{task_uuid}"] video')
    media = expect(page, "(v => v && v.readyState >= 3 && "
                         "{duration: v.duration, width: v.videoWidth})"
                         "(document.querySelector('video[data-field=videoURL]'))")
    assert media["duration"] == pytest.approx(VOICE_SECONDS, abs=0.1)
    assert media["width"] > 0
    page.evaluate("(v => { v.muted = true; return v.play(); })(document.querySelector('video'))")
    expect(page, "document.querySelector('video').currentTime > 0.2")
    # The timeline names the submit, the polls and the result.
    timeline = page.locator("#timeline").inner_text()
    assert "videoInference submitted (rest)" in timeline
    assert "getResponse" in timeline and "result 0 ready" in timeline


def _progress(page: Any, row: str) -> float:
    return float(page.evaluate(
        "row => parseFloat(document.querySelector(row + ' .bar-fill').style.width)", row))


# --- faults: a rule from the form fires on the next request ---------------------------------------

def test_a_rule_added_from_the_form_fires_on_the_next_request(server: ServerThread,
                                                              page: Any) -> None:
    page.goto(ui(server, "faults"))
    page.wait_for_selector("#live:not(.off)")
    page.select_option("#fault-kind", "http_error")
    form = page.locator("#fault-form")
    form.locator('fieldset[data-kind="http_error"] input[name="status"]').fill("999")
    form.locator('input[name="times"]').fill("1")
    form.locator('button[type="submit"]').click()
    # The form shows the admin API's own refusal of the same rule.
    refused = httpx.post(f"{server.base_url}/__admin/faults",
                         json={"kind": "http_error", "status": 999, "times": 1}).json()
    problem = refused["errors"][0]
    page.wait_for_selector("#fault-error:not([hidden])")
    assert page.inner_text("#fault-error") == f"{problem['parameter']}: {problem['message']}"

    form.locator('fieldset[data-kind="http_error"] input[name="status"]').fill("503")
    form.locator('button[type="submit"]').click()
    rule = f'tr[data-rule="{page.get_attribute("tr[data-rule]", "data-rule")}"]'
    assert page.inner_text(f'{rule} [data-counter="fired"]') == "0"

    ping = httpx.post(server.url, json=[{"taskType": "ping", "ping": True}],
                      headers={"Authorization": "Bearer test-key"})
    assert ping.status_code == 503
    expect(page, "document.querySelector(args[0] + ' [data-counter=fired]').textContent === '1'",
           rule)
    assert page.inner_text(f'{rule} [data-counter="matched"]') == "1"

    page.select_option('#profile-form select[name="profile"]', "overloaded")
    page.click('#profile-form button[type="submit"]')
    expect(page, "document.querySelectorAll('tr[data-rule]').length > 1")
    rule_id = page.get_attribute(rule, "data-rule")
    page.click(f"{rule} button")
    page.wait_for_selector(rule, state="detached")
    rules = httpx.get(f"{server.base_url}/__admin/faults").json()["rules"]
    assert rules and all(found["id"] != rule_id for found in rules)


# --- the journal and the charts in the browser ----------------------------------------------

def test_journal_filters_and_entries_open_and_charts_draw(server: ServerThread,
                                                          page: Any) -> None:
    _submit(server, 1, "key-browser")
    httpx.post(server.url, json=[{"taskType": "ping", "ping": True}],
               headers={"Authorization": "Bearer other-key"})
    page.goto(ui(server, "journal"))
    page.wait_for_selector("li.entry")
    assert page.locator("li.entry").count() == 2
    page.fill('form.filters input[name="apiKey"]', "key-browser")
    page.click('form.filters button[type="submit"]')
    expect(page, "location.search.includes('apiKey=key-browser') && "
                 "document.querySelectorAll('li.entry').length === 1")
    page.click("li.entry summary")
    assert "videoInference" in page.inner_text("li.entry details[open] pre.json")
    page.select_option('form.filters select[name="transport"]', "websocket")
    expect(page, "location.search.includes('transport=websocket')")
    page.wait_for_selector("li.empty")

    page.click("#reset")  # once arms it, twice resets
    assert httpx.get(f"{server.base_url}/__admin/health").json()["journal"]["kept"] == 2
    page.click("#reset")
    page.wait_for_selector("#notice:not([hidden])")
    assert httpx.get(f"{server.base_url}/__admin/health").json()["journal"]["kept"] == 0

    page.evaluate("window.notReloaded = true")
    page.click('nav a[data-nav="charts"]')
    expect(page, "document.querySelectorAll('.chart .uplot canvas').length === 4")
    # The view changed in place (htmx): the page, and its event stream, stayed.
    assert page.evaluate("window.notReloaded") is True
    assert page.url.endswith("/__admin/ui/charts")
    # A tick may draw the charts between htmx's swap and its load event: the load draws no more.
    page.evaluate("htmx.trigger('#main', 'htmx:load', {elt: document.getElementById('main')})")
    assert page.evaluate("document.querySelectorAll('.chart .uplot canvas').length") == 4


# --- the store's health ---------------------------------------------------------------------

@pytest.mark.one_process
def test_the_store_not_writable_banner_goes_once_the_store_takes_writes_again(
        server_factory: ServerFactory, page: Any) -> None:
    server = server_factory(dashboard_tick=0.2)
    # What a write that found the disk full leaves (tests/test_disk_full.py fills a real one).
    server.services.database.health.failed("cannot write to the data dir: No space left on "
                                           "device", files=True)
    html = page.goto(ui(server)).text()
    banner = html[html.index('id="store-problem"'):]
    assert "hidden" not in banner[:banner.index(">")], "the page shows it"
    assert "store not writable" in banner and "No space left on device" in banner
    # A tick probes the data dir (this one takes writes), and the page hides the banner.
    page.wait_for_selector("#store-problem", state="hidden")
    assert server.services.database.health.writable


# --- the token ------------------------------------------------------------------------------

def test_the_token_prompt_opens_the_dashboard_and_nothing_else_does(
        server_factory: ServerFactory, page: Any) -> None:
    server = server_factory(admin_token="s3cret")
    page.goto(ui(server))
    assert page.url.endswith("/__admin/ui/login")
    page.fill('input[name="token"]', "wrong")
    page.click('#login-form button[type="submit"]')
    page.wait_for_selector("#login-error:not([hidden])")
    assert "token" in page.inner_text("#login-error")
    page.fill('input[name="token"]', "s3cret")
    page.click('#login-form button[type="submit"]')
    page.wait_for_selector("main[data-view=tasks]")
    page.wait_for_selector("#live:not(.off)")
    page.fill("#advance-seconds", "5")
    page.click("#advance")
    page.wait_for_selector("#notice:not([hidden])")
    assert httpx.get(f"{server.base_url}/__admin/clock",
                     headers={"Authorization": "Bearer s3cret"}).json()["now"] > 5

    cookie = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookie == {"runware_mock_admin": "s3cret"}
    anonymous = httpx.Client(base_url=server.base_url)
    assert anonymous.get("/__admin/ui/").status_code == 303
    assert anonymous.get("/__admin/ui/events").status_code == 401
    assert anonymous.post("/__admin/ui/api/reset", json={}).status_code == 401
    signed = httpx.Client(base_url=server.base_url, cookies=cookie)
    assert signed.post("/__admin/ui/api/clock/advance", json={"seconds": 1}).status_code == 200
    # A page elsewhere cannot drive it, cookie or not: the admin guard refuses it.
    cross = signed.post("/__admin/ui/api/reset", json={},
                        headers={"Origin": "http://attacker.example"})
    assert cross.status_code == 403
    assert cross.json()["errors"][0]["code"] == "crossSiteAdminRequest"
    form = signed.post("/__admin/ui/api/reset", content=b"x=1",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.json()["errors"][0]["code"] == "unsupportedAdminContentType"


# --- without a browser: paging, filters, relative links, results by their keys ------------------

def _submit(server: ServerThread, count: int, api_key: str) -> list[str]:
    """``count`` avatar tasks with URL inputs (the shipped copies), 100 to a request."""
    url = f"http://127.0.0.1:{server.settings.port}/v1"
    template = seed_examples()[0]["request"]
    uuids = []
    for start in range(0, count, 100):
        batch = [dict(template, taskUUID=str(uuid.uuid4()))
                 for _ in range(min(100, count - start))]
        reply = httpx.post(url, json=batch, timeout=60,
                           headers={"Authorization": f"Bearer {api_key}"})
        assert reply.status_code == 200, reply.text
        uuids.extend(task["taskUUID"] for task in batch)
    return uuids


def test_the_task_list_pages_and_filters_on_the_server(server_factory: ServerFactory) -> None:
    server = server_factory(latency="fixed:3600")
    first = _submit(server, 120, "key-a")
    second = _submit(server, 30, "key-b")
    http = httpx.Client(base_url=f"{server.base_url}/__admin/ui/")
    page_one = http.get("").text
    assert "1\N{EN DASH}50 of 150" in page_one
    assert _rows(page_one) == list(reversed(second)) + list(reversed(first))[:20]
    page_three = http.get("", params={"page": 3}).text
    assert _rows(page_three) == list(reversed(first))[70:]
    only_b = http.get("", params={"apiKey": "key-b"}).text
    assert _rows(only_b) == list(reversed(second))
    assert _rows(http.get("", params={"q": first[7][:13]}).text) == [first[7]]
    assert _rows(http.get("", params={"state": "success"}).text) == []
    fragment = http.get("", headers={"HX-Request": "true", "HX-Target": "task-table"}).text
    assert fragment.lstrip().startswith('<section id="task-table"')
    bad = http.get("", params={"state": "sleeping"})
    assert bad.status_code == 400 and "state must be one of" in bad.text


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr class="task[^"]*" data-task="([^"]+)"', html)


def test_every_link_is_relative_so_a_proxy_prefix_keeps_working(
        server_factory: ServerFactory) -> None:
    # As behind a proxy that serves the emulator at http://localhost:8080/emulator/.
    # Its result links are the public URLs a client is given; every other link is relative.
    public_url = "http://localhost:8080/emulator"
    server = server_factory(public_url=public_url)
    task_uuid = _submit(server, 1, "key")[0]
    body = RestClient(f"http://127.0.0.1:{server.settings.port}/v1", "key").wait(task_uuid)
    video_url = body["data"][0]["videoURL"]
    assert video_url.startswith(f"{public_url}/")
    http = httpx.Client(base_url=f"http://127.0.0.1:{server.settings.port}/__admin/ui/")
    for path in ("", "journal", "deliveries", "faults", "charts", f"tasks/{task_uuid}"):
        html = http.get(path).text
        links = re.findall(r'(?:href|src|action)="([^"]*)"', html)
        navigation = [link for link in links if link != video_url]
        assert navigation and all(not link.startswith(("/", "http")) for link in navigation), path
        if path.startswith("tasks/"):
            assert video_url in links
    folder = httpx.get(f"http://127.0.0.1:{server.settings.port}/__admin/ui")
    assert folder.status_code == 307 and folder.headers["location"] == "ui/"


def test_journal_filters_and_pages(server: ServerThread) -> None:
    _submit(server, 2, "key-j")
    http = httpx.Client(base_url=f"{server.base_url}/__admin/ui/")
    assert http.get("journal", params={"apiKey": "key-j"}).text.count('class="entry') == 1
    assert http.get("journal", params={"transport": "websocket"}).text.count(
        'class="entry') == 0
    refused = http.get("journal", params={"transport": "pigeon"})
    assert refused.status_code == 400 and "transport must be one of" in refused.text


def test_results_show_by_their_keys() -> None:
    item = {"taskType": "x", "imageURL": "http://h/image/a.png", "text": "hello there",
            "audioURL": "http://h/audio/b.mp3", "videoURL": "http://h/video/c.mp4",
            "seed": 3, "imageDataURI": "data:image/png;base64,AAAA"}
    kinds = {field.key: field.kind for field in shown(item)}
    assert kinds == {"videoURL": "video", "audioURL": "audio", "imageURL": "image",
                     "imageDataURI": "image", "text": "text", "taskType": "value",
                     "seed": "value"}
    assert [field.kind for field in shown(item)][:2] == ["video", "audio"]
    assert shown({"imageURL": "javascript:alert(1)"})[0].kind == "value"


def test_the_event_stream_ticks_with_the_services_counters(server: ServerThread) -> None:
    with httpx.stream("GET", f"{server.base_url}/__admin/ui/events", timeout=10) as stream:
        events = _events(stream.iter_lines())
        hello = next(events)
        assert hello["tick"]["requests"] == {"rest": 0, "websocket": 0}
        _submit(server, 1, "key")
        tick = next(events)
        assert tick["requests"]["rest"] == 1 and tick["tasks"] == 1


def _events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    for line in lines:
        if line.startswith("data: "):
            yield json.loads(line[6:])


def test_deliveries_and_the_timeline_show_every_webhook_try(server: ServerThread) -> None:
    # Nothing listens on port 9 (discard) here: every try is refused, and retried.
    task = dict(seed_examples()[0]["request"], taskUUID=str(uuid.uuid4()),
                webhookURL="http://127.0.0.1:9/hook")
    url = f"http://127.0.0.1:{server.settings.port}"
    httpx.post(f"{url}/v1", json=[task], headers={"Authorization": "Bearer k"}).raise_for_status()
    httpx.post(f"{url}/__admin/tasks/{task['taskUUID']}/complete", timeout=60)
    for _ in range(600):  # the first try runs as soon as the result is in
        if server.services.delivery.log.attempts(task["taskUUID"]):
            break
        time.sleep(0.05)
    deliveries = httpx.get(f"{url}/__admin/ui/deliveries",
                           params={"taskUUID": task["taskUUID"]}).text
    assert "POST http://127.0.0.1:9/hook" in deliveries
    assert re.search(r'class="pill (retrying|gave-up)"', deliveries)
    timeline = httpx.get(f"{url}/__admin/ui/tasks/{task['taskUUID']}").text
    assert "webhook try 1:" in timeline and "result 0 ready" in timeline


def test_an_open_event_stream_ends_when_the_server_stops(server_factory: ServerFactory,
                                                         caplog: pytest.LogCaptureFixture
                                                         ) -> None:
    server = server_factory()
    lines: list[str] = []
    with httpx.stream("GET", f"{server.base_url}/__admin/ui/events", timeout=30) as stream:
        reading = stream.iter_lines()
        lines.append(next(reading))  # the hello: the stream is open
        server.stop()
        lines.extend(reading)  # ends: the server closed it rather than cancel it
    assert lines[0] == "event: hello"
    assert not [record for record in caplog.records if "graceful shutdown" in record.message]


def test_dev_py_installs_chromium_only_when_missing_and_it_can(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("dev", Path(__file__).parent.parent / "dev.py")
    assert spec is not None and spec.loader is not None
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    calls: list[list[str]] = []
    monkeypatch.setattr(dev, "call", lambda command: calls.append(command) or 0)
    monkeypatch.setattr(dev.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(dev, "CHROMIUM", tmp_path / "chromium")
    monkeypatch.setattr(dev.os, "geteuid", lambda: 1000)
    dev.ensure_chromium()
    assert calls == []  # not root: nothing to do but say so
    monkeypatch.setattr(dev.os, "geteuid", lambda: 0)
    dev.ensure_chromium()
    assert [command[-2:] for command in calls] == [["/usr/bin/apt-get", "update"],
                                                   ["-y", "chromium"]]
    (tmp_path / "chromium").touch()
    dev.ensure_chromium()
    assert len(calls) == 2

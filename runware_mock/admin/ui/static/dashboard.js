/* runware-mock dashboard: one server-sent event stream, regions re-read when the server says
 * they changed (at most once a second each), progress bars and countdowns animated here from
 * each task's due time and the simulated clock, and writes sent to the admin API as JSON. */
(function () {
  "use strict";

  const BASE = new URL(document.body.dataset.root || "./", location.href);
  const REFRESH_GAP_MS = 1000;
  const ANIMATE_MS = 500;
  const CHART_POINTS = 300;

  // --- the simulated clock, as last told by the server -----------------------------------
  const clock = {
    sim: parseFloat(document.body.dataset.clock) || 0,
    wall: parseFloat(document.body.dataset.wall) || Date.now() / 1000,
    advanced: 0,
    at: performance.now(),
  };
  function simNow() { return clock.sim + (performance.now() - clock.at) / 1000; }
  function setClock(sim, wall, advanced) {
    clock.sim = sim; clock.wall = wall; clock.at = performance.now();
    if (advanced !== undefined) clock.advanced = advanced;
    showClock();
  }
  function showClock() {
    const out = document.getElementById("clock-now");
    if (!out) return;
    const elapsed = (performance.now() - clock.at) / 1000;
    const shown = new Date((clock.wall + clock.advanced + elapsed) * 1000);
    const ahead = clock.advanced >= 0.5 ? ` (+${formatSeconds(clock.advanced)})` : "";
    out.textContent = shown.toLocaleTimeString([], {hour12: false}) + ahead;
    out.title = `simulated seconds: ${simNow().toFixed(1)}; advanced by ${clock.advanced.toFixed(1)} s`;
  }
  function formatSeconds(s) {
    if (s < 90) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
    if (s < 5400) return `${(s / 60).toFixed(1)} min`;
    return `${(s / 3600).toFixed(1)} h`;
  }

  // --- progress bars and countdowns, computed here between server refreshes --------------
  function animate() {
    const now = simNow();
    let due = false;
    document.querySelectorAll("[data-ready][data-submitted]").forEach((holder) => {
      const ready = parseFloat(holder.dataset.ready);
      const submitted = parseFloat(holder.dataset.submitted);
      if (Number.isNaN(ready) || holder.dataset.state !== "processing") return;
      const span = ready - submitted;
      const estimate = span <= 0 ? 99 : Math.min(99, Math.floor(100 * (now - submitted) / span));
      holder.querySelectorAll(".bar-fill[data-status=processing]").forEach((bar) => {
        const current = parseFloat(bar.style.width) || 0;
        if (estimate > current) {
          bar.style.width = `${estimate}%`;
          bar.nextElementSibling.textContent = `${estimate}%`;
        }
      });
      const left = Math.max(0, ready - now);
      holder.querySelectorAll(".remaining").forEach((cell) => {
        cell.textContent = `${left.toFixed(1)} s`;
      });
      if (left <= 0) due = true;
    });
    document.querySelectorAll("tr[data-submitted] td.age").forEach((cell) => {
      cell.textContent = `${Math.max(0, now - parseFloat(cell.parentElement.dataset.submitted)).toFixed(0)} s`;
    });
    if (due) refreshView();
    showClock();
  }

  // --- re-reading a region of the page -----------------------------------------------------
  const regions = {};
  function refresh(id) {
    if (!document.getElementById(id)) return;
    const state = regions[id] || (regions[id] = {busy: false, last: 0, again: false});
    if (state.busy) { state.again = true; return; }
    state.busy = true;
    const wait = Math.max(0, state.last + REFRESH_GAP_MS - performance.now());
    setTimeout(async () => {
      try {
        const response = await fetch(location.href, {headers: {"HX-Request": "true", "HX-Target": id}});
        if (response.status === 401) { location.href = new URL("login", BASE).href; return; }
        if (!response.ok) return;
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById(id);
        const current = document.getElementById(id);
        if (fresh && current && !holdsAttention(current)) {
          current.replaceWith(fresh);
          htmx.process(fresh);
          animate();
        }
      } catch (error) {
        console.debug("refresh failed", error);
      } finally {
        state.busy = false;
        state.last = performance.now();
        if (state.again) { state.again = false; refresh(id); }
      }
    }, wait);
  }
  // A region someone is reading (an entry opened) or playing is not replaced under them.
  function holdsAttention(element) {
    if (element.querySelector("details[open]")) return true;
    return [...element.querySelectorAll("video, audio")].some((media) => !media.paused);
  }
  function view() {
    const main = document.getElementById("main");
    return main ? main.dataset.view : "";
  }
  function refreshView() {
    const regionOf = {tasks: "task-table", journal: "journal-table", deliveries: "delivery-table",
                      faults: "rule-table", task: "main"};
    if (regionOf[view()]) refresh(regionOf[view()]);
  }

  // --- what a tick changes -------------------------------------------------------------------
  function showStoreProblem(problem) {
    const banner = document.getElementById("store-problem");
    if (!banner) return;
    banner.hidden = !problem;
    document.getElementById("store-problem-reason").textContent = problem || "";
  }

  let last = null;
  function onTick(tick) {
    setClock(tick.clock, tick.time, tick.advanced);
    showStoreProblem(tick.storeProblem);
    chartTick(tick);
    const before = last;
    last = tick;
    if (!before) return;
    const finished = tick.finished.length > 0;
    switch (view()) {
      case "tasks":
        if (finished || tick.tasks !== before.tasks) refresh("task-table");
        break;
      case "task": {
        const uuid = document.getElementById("main").dataset.taskPage;
        if (tick.finished.includes(uuid) || tick.tasks < before.tasks) refresh("main");
        else if (tick.journal !== before.journal || tick.deliveries !== before.deliveries) refresh("timeline");
        break;
      }
      case "journal": {
        const follow = document.getElementById("journal-live");
        if (tick.journal !== before.journal && follow && follow.checked) refresh("journal-table");
        break;
      }
      case "deliveries":
        if (tick.deliveries !== before.deliveries || tick.deliveriesPending !== before.deliveriesPending) refresh("delivery-table");
        break;
      case "faults":
        showRuleCounters(tick.rules, before.rules);
        bump(document.getElementById("faults-fired"), tick.faultsFired);
        break;
    }
  }
  function showRuleCounters(rules, previous) {
    const ids = rules.map((rule) => rule[0]).join(" ");
    if (ids !== previous.map((rule) => rule[0]).join(" ")) { refresh("rule-table"); return; }
    rules.forEach(([id, matched, fired]) => {
      const row = document.querySelector(`tr[data-rule="${CSS.escape(id)}"]`);
      if (!row) return;
      bump(row.querySelector("[data-counter=matched]"), matched);
      bump(row.querySelector("[data-counter=fired]"), fired);
    });
  }
  function bump(cell, value) {
    if (!cell || cell.textContent === String(value)) return;
    cell.textContent = String(value);
    cell.classList.remove("bumped");
    void cell.offsetWidth;  // restart the highlight
    cell.classList.add("bumped");
  }

  // --- the live connection ----------------------------------------------------------------------
  function connect() {
    const source = new EventSource(new URL("events", BASE).href);
    const live = document.getElementById("live");
    source.onopen = () => live && live.classList.remove("off");
    source.onerror = () => live && live.classList.add("off");
    source.addEventListener("hello", (event) => {
      const hello = JSON.parse(event.data);
      chartHistory(hello.history);
      last = null;
      onTick(hello.tick);
    });
    source.addEventListener("tick", (event) => onTick(JSON.parse(event.data)));
  }

  // --- writes: every one is an admin API call -------------------------------------------------
  async function api(path, method, body) {
    const response = await fetch(new URL(`api/${path}`, BASE).href, {
      method,
      headers: {"Content-Type": "application/json"},
      body: method === "GET" ? undefined : JSON.stringify(body || {}),
    });
    let answer = null;
    try { answer = await response.json(); } catch (error) { answer = null; }
    const problem = answer && answer.errors && answer.errors[0];
    return {ok: response.ok, status: response.status, body: answer, problem};
  }
  function notify(text, bad) {
    const notice = document.getElementById("notice");
    notice.textContent = text;
    notice.classList.toggle("bad", !!bad);
    notice.hidden = false;
    clearTimeout(notify.timer);
    notify.timer = setTimeout(() => { notice.hidden = true; }, 4000);
  }
  function showProblem(box, form, problem) {
    form.querySelectorAll(".invalid").forEach((input) => input.classList.remove("invalid"));
    if (!problem) { box.hidden = true; return; }
    box.textContent = problem.parameter ? `${problem.parameter}: ${problem.message}` : problem.message;
    box.hidden = false;
    const field = problem.parameter && form.querySelector(`[name="${CSS.escape(problem.parameter)}"]:not([disabled])`);
    if (field) { field.classList.add("invalid"); field.focus(); }
  }
  // A field's text as the API wants it: numbers, booleans and JSON arrays typed, else text
  // (as the X-Mock-Fault header's compact form reads values).
  function typed(text) {
    const value = text.trim();
    if (value === "") return undefined;
    if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value) || value === "true" || value === "false" || /^[[{]/.test(value)) {
      try { return JSON.parse(value); } catch (error) { return value; }
    }
    return value;
  }

  function setUpForms(scope) {
    const kind = scope.querySelector("#fault-kind");
    if (kind) {
      const showKind = () => scope.querySelectorAll(".kind-params").forEach((set) => {
        const shown = set.dataset.kind === kind.value;
        set.hidden = !shown;
        set.disabled = !shown;
      });
      kind.addEventListener("change", showKind);
      showKind();
    }
    scope.querySelectorAll("#fault-form").forEach((form) => form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const rule = {};
      form.querySelectorAll("input, select").forEach((input) => {
        if (input.disabled || input.closest("fieldset:disabled")) return;
        const value = input.name === "kind" ? input.value : typed(input.value);
        if (value !== undefined) rule[input.name] = value;
      });
      const answer = await api("faults", "POST", rule);
      showProblem(form.querySelector("#fault-error"), form, answer.problem);
      if (answer.ok) { notify(`${answer.body.id} added: ${answer.body.kind}`); refresh("rule-table"); }
    }));
    scope.querySelectorAll("#profile-form").forEach((form) => form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const response = await fetch(new URL("profiles", BASE).href, {
        method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({profile: form.elements.profile.value})});
      const body = await response.json();
      showProblem(form.querySelector("#profile-error"), form, body.errors && body.errors[0]);
      if (response.ok) { notify(`${body.added.length} rules of ${body.profile} added`); refresh("rule-table"); }
    }));
    scope.querySelectorAll("#login-form").forEach((form) => form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const response = await fetch(new URL("login", BASE).href, {
        method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({token: form.elements.token.value})});
      if (response.ok) { location.href = BASE.href; return; }
      const body = await response.json();
      showProblem(form.querySelector("#login-error"), form, body.errors && body.errors[0]);
    }));
    scope.querySelectorAll("form.filters").forEach((form) => form.addEventListener("change", (event) => {
      if (event.target.tagName === "SELECT") form.requestSubmit();
    }));
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button.action[data-api]");
    if (!button) return;
    event.preventDefault();
    const answer = await api(button.dataset.api, button.dataset.method || "POST");
    if (!answer.ok) { notify(answer.problem ? answer.problem.message : `HTTP ${answer.status}`, true); return; }
    notify(`${button.textContent.trim()}: done`);
    refreshView();
  });

  function setUpClock() {
    const form = document.getElementById("clock-form");
    if (!form) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const seconds = typed(document.getElementById("advance-seconds").value);
      const answer = await api("clock/advance", "POST", {seconds});
      if (!answer.ok) { notify(answer.problem.message, true); return; }
      clock.advanced += answer.body.advancedBy;
      setClock(answer.body.now, clock.wall + (performance.now() - clock.at) / 1000);
      notify(`clock advanced by ${formatSeconds(answer.body.advancedBy)}`);
      animate();
      refreshView();
    });
    const reset = document.getElementById("reset");
    reset.addEventListener("click", async () => {
      if (reset.dataset.armed !== "yes") {  // a second click within 3 s confirms
        reset.dataset.armed = "yes";
        reset.textContent = "Reset? click again";
        setTimeout(() => { reset.dataset.armed = ""; reset.textContent = "Reset"; }, 3000);
        return;
      }
      reset.dataset.armed = ""; reset.textContent = "Reset";
      const answer = await api("reset", "POST");
      notify(answer.ok ? "every task, delivery and the journal forgotten" : answer.problem.message, !answer.ok);
      refreshView();
    });
    const logout = document.getElementById("logout");
    if (logout) logout.addEventListener("click", async (event) => {
      event.preventDefault();
      await fetch(new URL("logout", BASE).href, {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"});
      location.href = new URL("login", BASE).href;
    });
  }

  // --- charts -------------------------------------------------------------------------------
  const series = {time: [], rest: [], websocket: [], faults: [], renders: []};
  let previousPoint = null;
  let latencies = [];
  const charts = {};
  function addPoint(point) {
    if (previousPoint) {
      const dt = Math.max(0.001, point.time - previousPoint.time);
      series.time.push(point.time);
      series.rest.push((point.requests.rest - previousPoint.requests.rest) / dt);
      series.websocket.push((point.requests.websocket - previousPoint.requests.websocket) / dt);
      series.faults.push(Math.max(0, point.faultsFired - previousPoint.faultsFired) / dt);
      series.renders.push(point.renders / dt);
      Object.values(series).forEach((values) => { if (values.length > CHART_POINTS) values.shift(); });
    }
    latencies.push(...point.latencies);
    previousPoint = point;
  }
  function chartHistory(history) {
    Object.values(series).forEach((values) => { values.length = 0; });
    previousPoint = null;
    history.forEach(addPoint);
  }
  function chartTick(tick) {
    addPoint(tick);
    drawCharts();
  }
  function histogram(values) {
    if (!values.length) return [[0], [0]];
    const low = Math.min(...values), high = Math.max(...values);
    const bins = 20, width = (high - low) / bins || 1;
    const counts = new Array(bins).fill(0);
    values.forEach((value) => { counts[Math.min(bins - 1, Math.floor((value - low) / width))] += 1; });
    return [counts.map((_, i) => low + (i + 0.5) * width), counts];
  }
  function makeChart(id, lines, options) {
    const holder = document.getElementById(id);
    if (!holder) return null;
    const opts = {
      width: Math.max(280, holder.clientWidth), height: 200,
      legend: {live: false},
      scales: Object.assign({y: {range: (chart, low, high) => [0, Math.max(1, high * 1.1)]}},
                            options && options.scales),
      series: [{}, ...lines],
      axes: [{stroke: "#8b93a7", grid: {stroke: "#232838"}}, {stroke: "#8b93a7", grid: {stroke: "#232838"}}],
    };
    return new uPlot(opts, [[], ...lines.map(() => [])], holder);
  }
  function drawCharts() {
    if (view() !== "charts" || typeof uPlot === "undefined") return;
    // Made once per visit to the view: a tick can come between htmx's swap and its load event.
    if (!charts.requests || !document.body.contains(charts.requests.root)) {
      Object.values(charts).forEach((chart) => chart && chart.destroy());
      const embedded = document.getElementById("latencies");
      if (embedded) latencies = JSON.parse(embedded.textContent);
      const line = (label, stroke) => ({label, stroke, width: 2, fill: stroke + "22", points: {show: false}});
      charts.requests = makeChart("chart-requests", [line("REST", "#5b9cff"), line("WebSocket", "#b68cff")]);
      charts.faults = makeChart("chart-faults", [line("faults", "#ff6b6b")]);
      charts.renders = makeChart("chart-renders", [line("renders", "#3ecf8e")]);
      charts.latency = makeChart("chart-latency", [{label: "tasks", stroke: "#f5a524", fill: "#f5a52466",
        paths: uPlot.paths.bars({size: [0.9, 60]})}], {scales: {x: {time: false}}});
    }
    const t = series.time;
    charts.requests && charts.requests.setData([t, series.rest, series.websocket]);
    charts.faults && charts.faults.setData([t, series.faults]);
    charts.renders && charts.renders.setData([t, series.renders]);
    charts.latency && charts.latency.setData(histogram(latencies));
  }

  // --- start ---------------------------------------------------------------------------------------
  function markNav() {
    document.querySelectorAll("[data-nav]").forEach((link) => {
      const name = link.dataset.nav;
      link.href = new URL(name === "tasks" ? "./" : name, BASE).href;
      link.classList.toggle("active", name === view() || (name === "tasks" && view() === "task"));
    });
  }
  htmx.onLoad((element) => {
    setUpForms(element);
    markNav();
    drawCharts();
    animate();
  });
  setUpClock();
  setInterval(animate, ANIMATE_MS);
  if (view() !== "login") connect();
})();

// The dashboard's only script (bundled with htmx and uPlot; served from 'self', so it runs under
// CSP script-src 'self'). Data arrives in <script type="application/json"> blocks, never as
// inline code; everything here re-runs on every HTMX swap through htmx.onLoad. The server renders
// every state; this file only draws (graph, map), names countries and reports loading and errors.
import htmx from "htmx.org";
import uPlot from "uplot";

// The colour theme the viewer chose (light, dark) or none (the system's), remembered per browser
// in a cookie, so the server sets data-theme on <html> and the first paint is already in it
// (CSP forbids the inline script that would read local storage before paint).
const THEMES = ["system", "light", "dark"];
const THEME_MARKS = { system: "◐", light: "☀", dark: "☾" };

function storedTheme() {
  return document.documentElement.dataset.theme || "system";
}

function applyTheme(theme) {
  if (theme === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  const name = `${theme[0].toUpperCase()}${theme.slice(1)} theme`;
  for (const button of document.querySelectorAll("[data-theme-button]")) {
    button.hidden = false;
    button.textContent = THEME_MARKS[theme];
    button.title = `${name} (click to change)`;
    button.setAttribute("aria-label", `${name}: change the colour theme`);
  }
}
applyTheme(storedTheme());
document.addEventListener("click", (event) => {
  if (!event.target.closest("[data-theme-button]")) return;
  const next = THEMES[(THEMES.indexOf(storedTheme()) + 1) % THEMES.length];
  document.cookie = `a941_theme=${next};path=/;max-age=31536000;samesite=lax`;
  applyTheme(next);
  // Colours are read once when drawn: draw the graphs again.
  for (const el of document.querySelectorAll("[data-chart]")) renderChart(el);
});

const numberFormat = new Intl.NumberFormat("en");
const regionNames = typeof Intl.DisplayNames === "function" ? new Intl.DisplayNames(["en"], { type: "region" }) : null;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function readJson(id) {
  const el = id && document.getElementById(id);
  return el ? JSON.parse(el.textContent) : null;
}

function duration(seconds) {
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  if (h) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  if (m) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

function formatValue(metric, v) {
  if (v == null) return "—";
  if (metric === "bounce_rate") return `${v}%`;
  if (metric === "visit_duration") return duration(v);
  if (metric === "views_per_visit") return Number(v).toFixed(2);
  return numberFormat.format(v);
}

// Labels are site-local "YYYY-MM-DD" or "YYYY-MM-DD HH:00:00": shown as written, so the
// browser's own timezone never shifts a bucket.
function shortLabel(label, interval) {
  const [day, time] = label.split(" ");
  const [y, m, d] = day.split("-").map(Number);
  if (interval === "hour") return time.slice(0, 5);
  if (interval === "month") return `${MONTHS[m - 1]} ${y}`;
  return `${d} ${MONTHS[m - 1]}`;
}

function longLabel(label, interval) {
  if (!label) return "";
  const [day, time] = label.split(" ");
  const [y, m, d] = day.split("-").map(Number);
  const date = `${d} ${MONTHS[m - 1]} ${y}`;
  if (interval === "hour") return `${date}, ${time.slice(0, 5)}`;
  if (interval === "month") return `${MONTHS[m - 1]} ${y}`;
  if (interval === "week") return `Week of ${date}`;
  return date;
}

// The graph's inner size: uPlot draws its canvas at this size, and it must be the size shown,
// or the cursor and its markers drift from the lines (the element's padding is not drawn on).
function plotSize(el) {
  const style = getComputedStyle(el);
  const px = (name) => parseFloat(style[name]) || 0;
  return {
    width: Math.max(0, el.clientWidth - px("paddingLeft") - px("paddingRight")),
    height: Math.max(120, (el.clientHeight || 280) - px("paddingTop") - px("paddingBottom")),
  };
}

function tooltipLines(data, metric, interval, i) {
  const lines = [[longLabel(data.labels[i], interval), formatValue(metric, data.series[metric][i])]];
  if (data.compare) {
    lines.push([longLabel(data.compare_labels[i], interval), formatValue(metric, data.compare[metric][i])]);
  }
  return lines;
}

function renderChart(el) {
  const data = readJson(el.dataset.chart);
  if (!data) return;
  const metric = el.dataset.metric || "visitors";
  const interval = el.dataset.interval || "day";
  const readout = el.closest(".card").querySelector("[data-chart-readout]");
  const xs = data.labels.map((_, i) => i);
  const values = data.series[metric] || [];
  const previous = data.compare ? data.compare[metric] : null;
  const accent = cssVar("--accent");
  const muted = cssVar("--muted");
  const font = `12px ${cssVar("--font")}`;
  const tooltip = document.createElement("div");
  tooltip.className = "chart-tooltip";
  tooltip.setAttribute("aria-hidden", "true");  // the readout above says the same, politely
  tooltip.hidden = true;
  const show = (u, i) => {
    if (i == null) {
      tooltip.hidden = true;
      if (readout) readout.textContent = "";
      return;
    }
    const lines = tooltipLines(data, metric, interval, i);
    if (readout) readout.textContent = lines.map(([when, value]) => `${when}: ${value}`).join(" · ");
    tooltip.replaceChildren(...lines.map(([when, value], n) => {
      const row = document.createElement("div");
      row.className = n ? "chart-tooltip-compare" : "chart-tooltip-main";
      const label = document.createElement("span");
      label.textContent = when;
      const number = document.createElement("strong");
      number.textContent = value;
      row.append(label, number);
      return row;
    }));
    tooltip.hidden = false;
    const x = u.valToPos(i, "x");
    const y = u.valToPos(values[i] ?? previous?.[i] ?? 0, "y");
    // Beside the point, on whichever side has room.
    const flip = x + tooltip.offsetWidth + 16 > u.over.clientWidth;
    tooltip.style.left = `${flip ? x - tooltip.offsetWidth - 12 : x + 12}px`;
    tooltip.style.top = `${Math.max(0, Math.min(y - tooltip.offsetHeight / 2, u.over.clientHeight - tooltip.offsetHeight))}px`;
  };
  const series = [
    {},
    { label: data.metrics[metric], stroke: accent, width: 2, fill: cssVar("--accent-fill"),
      points: { show: xs.length <= 31, size: 5, fill: accent } },
  ];
  const rows = [xs, values];
  if (previous) {
    series.push({ label: "Comparison", stroke: muted, width: 1.5, dash: [6, 4], points: { show: false } });
    rows.push(previous);
  }
  const opts = {
    ...plotSize(el),
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { size: 9, fill: accent } },
    scales: {
      x: { time: false, range: xs.length < 2 ? [-0.5, 0.5] : [0, xs.length - 1] },
      y: { range: (_u, _min, max) => [0, Math.max(metric === "views_per_visit" ? 2 : 4, Math.ceil((max || 0) * 1.15))] },
    },
    axes: [
      {
        stroke: muted, font, grid: { show: false }, ticks: { show: false }, space: 64,
        incrs: [1, 2, 3, 4, 6, 7, 12, 14, 24, 28, 30, 60, 91, 182, 365],
        values: (_u, splits) => splits.map((s) => (Number.isInteger(s) && data.labels[s] ? shortLabel(data.labels[s], interval) : "")),
      },
      {
        stroke: muted, font, size: 56, ticks: { show: false },
        grid: { stroke: cssVar("--grid"), width: 1 },
        values: (_u, splits) => splits.map((v) => formatValue(metric, v)),
      },
    ],
    series,
    hooks: { setCursor: [(u) => show(u, u.cursor.idx)] },
  };
  // Drawn again (a theme change): the previous plot, its observer and listeners go first.
  if (el.releaseChart) el.releaseChart();
  el.replaceChildren();
  const plot = new uPlot(opts, rows, el);
  plot.over.append(tooltip);
  const listening = new AbortController();
  const signal = listening.signal;
  // The keyboard's way to the values: the chart is focusable and the arrow keys walk the buckets.
  let at = null;
  el.tabIndex = 0;
  el.addEventListener("keydown", (event) => {
    const step = { ArrowLeft: -1, ArrowRight: 1, Home: -Infinity, End: Infinity }[event.key];
    if (step === undefined) return;
    event.preventDefault();
    at = Math.max(0, Math.min(xs.length - 1, (at ?? (step > 0 ? -1 : xs.length)) + step));
    plot.setCursor({ left: plot.valToPos(at, "x"), top: plot.valToPos(values[at] ?? 0, "y") });
  }, { signal });
  el.addEventListener("blur", () => { at = null; plot.setCursor({ left: -10, top: -10 }); }, { signal });
  const observer = new ResizeObserver(() => {
    // Swapped out by HTMX: release the chart with its element.
    if (!el.isConnected) { el.releaseChart(); return; }
    plot.setSize(plotSize(el));
  });
  observer.observe(el);
  el.releaseChart = () => { observer.disconnect(); listening.abort(); plot.destroy(); el.releaseChart = null; };
}

const SVG = "http://www.w3.org/2000/svg";
let worldPromise = null;

// The world outlines (~12 KB gzip) are the largest asset after the bundle, and the map sits below
// the fold on most screens: fetch them only once the map scrolls into view.
function whenVisible(el, callback) {
  if (!("IntersectionObserver" in window)) return callback();
  const observer = new IntersectionObserver((entries) => {
    if (!entries.some((entry) => entry.isIntersecting)) return;
    observer.disconnect();
    callback();
  }, { rootMargin: "200px" });
  observer.observe(el);
}

async function renderMap(el) {
  const data = readJson(el.dataset.map);
  if (!data || !el.dataset.src) return;
  worldPromise = worldPromise || fetch(el.dataset.src).then((r) => r.json());
  const world = await worldPromise;
  const max = Math.max(1, ...Object.values(data.values));
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", world.viewBox);
  svg.setAttribute("class", "map-svg");
  for (const [code, d] of Object.entries(world.paths)) {
    const count = data.values[code] || 0;
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    const title = document.createElementNS(SVG, "title");
    const name = (regionNames && regionNames.of(code)) || code;
    title.textContent = `${name}: ${numberFormat.format(count)} visitor${count === 1 ? "" : "s"}`;
    path.append(title);
    // Colour by share of the busiest country, on a square-root scale so small ones still show.
    const level = count ? ` level-${Math.min(5, 1 + Math.floor(Math.sqrt(count / max) * 5))}` : "";
    path.setAttribute("class", `land${level}`);
    if (count) path.dataset.code = code;
    svg.append(path);
  }
  // Not links: the map is one image to assistive technology (the table below holds the
  // countries' links); a pointer's click on a country filters by it all the same.
  svg.addEventListener("click", (event) => {
    const country = event.target.closest("[data-code]");
    if (!country) return;
    const url = data.filter.replace("__VALUE__", encodeURIComponent(country.dataset.code));
    htmx.ajax("GET", url, { target: "#dashboard", swap: "outerHTML" })
      .then(() => history.pushState({ htmx: true }, "", url));
  });
  el.replaceChildren(svg);
}

function nameCountries(root) {
  if (!regionNames) return;
  for (const el of root.querySelectorAll("[data-country]")) {
    const code = el.dataset.country;
    let name = null;
    try { name = /^[A-Z]{2}$/.test(code) ? regionNames.of(code) : null; } catch { name = null; }
    if (name && name !== code) { el.textContent = name; el.title = `${el.title} (${code})`; }
  }
}

// The filter builder's value box suggests the chosen dimension's values containing what is typed.
function filterBuilder(form) {
  const dimension = form.querySelector("[data-filter-dimension]");
  const input = form.querySelector("[data-filter-value]");
  const list = document.getElementById(input.getAttribute("list"));
  let timer = null;
  let asked = "";
  const suggest = async () => {
    // The view's state, less the filters on this dimension: values that would match the rest.
    const state = new URLSearchParams();
    for (const field of form.querySelectorAll("input[type=hidden]")) {
      if (field.name !== "f" || field.value.split(",")[1] !== dimension.value) state.append(field.name, field.value);
    }
    state.set("q", input.value.trim());
    const ask = `${form.dataset.suggest}${dimension.selectedOptions[0].dataset.report}?${state}`;
    if (ask === asked) return;
    asked = ask;
    const response = await fetch(ask, { headers: { Accept: "application/json" } });
    if (!response.ok || ask !== asked) return;
    const { values } = await response.json();
    list.replaceChildren(...values.map((value) => {
      const option = document.createElement("option");
      option.value = value;
      return option;
    }));
  };
  const later = () => { clearTimeout(timer); timer = setTimeout(() => suggest().catch(() => {}), 150); };
  input.addEventListener("input", later);
  input.addEventListener("focus", later);
  dimension.addEventListener("change", () => { input.value = ""; later(); });
  const menu = form.closest("details");
  menu.addEventListener("toggle", () => { if (menu.open) dimension.focus(); });
  if (menu.open) dimension.focus();  // it just arrived, fetched by the opening
}

// A table wider than its box (the details on a phone) says that it scrolls; the edge shadows
// (CSS) show on which side more columns are.
function markScrolling(root) {
  for (const box of root.querySelectorAll("[data-scrolls]")) {
    const hint = box.parentElement.querySelector("[data-scroll-hint]");
    const check = () => {
      const more = box.scrollWidth > box.clientWidth + 1;
      if (hint) hint.hidden = !more;
      box.toggleAttribute("tabindex", more);  // a scrolling region is reachable by keyboard
      if (more) { box.tabIndex = 0; box.setAttribute("aria-label", "Table, scrolls sideways"); }
    };
    check();
    new ResizeObserver(check).observe(box);
  }
}

function closeMenus(except) {
  for (const menu of document.querySelectorAll("details[data-menu][open]")) {
    if (menu !== except) menu.open = false;
  }
}

function toast(message) {
  let box = document.getElementById("toast");
  if (!box) {
    box = document.createElement("div");
    box.id = "toast";
    box.className = "toast";
    box.setAttribute("role", "alert");
    document.body.append(box);
  }
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 6000);
}

function errorMessage(xhr) {
  const type = xhr.getResponseHeader("content-type") || "";
  try {
    if (type.includes("json")) return JSON.parse(xhr.responseText).message;
    const doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
    const text = doc.querySelector(".error-card p");
    if (text) return text.textContent;
  } catch { /* fall through */ }
  return `The server answered ${xhr.status}.`;
}

function init(root) {
  // Bar widths are set through the CSSOM: CSP forbids style="" attributes in the markup.
  for (const bar of root.querySelectorAll("[data-pct]")) {
    bar.style.width = `${Math.max(0, Math.min(100, Number(bar.dataset.pct) || 0))}%`;
  }
  for (const el of root.querySelectorAll("[data-chart]")) renderChart(el);
  for (const el of root.querySelectorAll("[data-map]")) whenVisible(el, () => renderMap(el).catch(() => el.classList.add("map-failed")));
  nameCountries(root);
  markScrolling(root);
  for (const button of root.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      await navigator.clipboard.writeText(source.textContent);
      button.textContent = "Copied";
    });
  }
  if (root.matches?.("[data-filter-builder] form")) filterBuilder(root);
  for (const form of root.querySelectorAll("[data-filter-builder] form")) filterBuilder(form);
  for (const menu of root.querySelectorAll("details[data-menu]")) {
    menu.addEventListener("toggle", () => { if (menu.open) closeMenus(menu); });
  }
}

// Keyboard shortcuts in Plausible's manner (listed in the ? dialog, _shortcuts.html). Each one
// clicks the control it stands for, so it does exactly what the control does.
function typing(target) {
  return target.closest("input, select, textarea, [contenteditable], [data-chart]") !== null;
}

// The dialog's list is fetched the first time it opens.
function openShortcuts() {
  const dialog = document.getElementById("shortcuts");
  if (!dialog) return false;
  if (!dialog.firstElementChild) {
    // Fetched on this first opening: once it is in, focus its Close button, as for a dialog
    // that had its content already.
    dialog.addEventListener("htmx:afterSettle", () => dialog.querySelector("button")?.focus(), { once: true });
    htmx.trigger(dialog, "shortcuts-open");
  }
  dialog.showModal();
  return true;
}

function shortcut(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return false;
  if (document.querySelector("dialog[open]")) return false;
  const view = document.querySelector("#dashboard.dashboard");
  if (!view) return false;
  const click = (selector) => {
    const el = view.querySelector(selector);
    if (el) el.click();
    return el !== null;
  };
  if (event.key === "ArrowLeft") return click("[data-period-previous]");
  if (event.key === "ArrowRight") return click("[data-period-next]");
  if (event.key === "Escape") return click("[data-clear-filters]");
  if (event.key === "?") return openShortcuts();
  const key = event.key.length === 1 ? event.key.toLowerCase() : "";
  if (!key || event.shiftKey) return false;
  const field = view.querySelector(`[data-shortcut-focus="${key}"]`);
  if (field) {
    field.closest("details").open = true;
    field.focus();
    return true;
  }
  return click(`[data-shortcut="${key}"]`);
}

document.addEventListener("keydown", (event) => {
  const open = event.key === "Escape" && document.querySelector("details[data-menu][open]");
  if (open) { open.open = false; open.querySelector("summary").focus(); return; }
  if (shortcut(event)) event.preventDefault();
});
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-shortcuts-open]")) openShortcuts();
});
document.addEventListener("click", (event) => {
  if (!event.target.closest("details[data-menu]")) closeMenus(null);
});
// A raw export shows its progress: export-progress.js, fetched at the first click (never with
// the page; the build names it, relative to this script, in a variable so esbuild leaves the
// import alone). A modified click, or a module that does not load, downloads as without script.
const progressModule = EXPORT_PROGRESS_JS;
document.addEventListener("click", (event) => {
  const link = event.target.closest("[data-progress]");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  import(progressModule).then((m) => m.start(link), () => { location.href = link.href; });
});
document.addEventListener("htmx:beforeRequest", () => document.documentElement.classList.add("is-loading"));
document.addEventListener("htmx:afterRequest", () => document.documentElement.classList.remove("is-loading"));
document.addEventListener("htmx:responseError", (event) => toast(`Could not update: ${errorMessage(event.detail.xhr)}`));
document.addEventListener("htmx:sendError", () => toast("Could not reach the server. Check the connection and try again."));
// A swap replaces the focused control. Focus the control that took its place (same kind, same
// words, in the same region: the tab, stat or arrow just used), else the view's heading, so
// keyboard users keep their place and see where they are.
let focused = null;
document.addEventListener("htmx:beforeSwap", () => {
  const el = document.activeElement;
  focused = el && el !== document.body
    ? { tag: el.tagName, text: el.textContent.trim(), region: el.closest("[id]")?.id }
    : null;
});
document.addEventListener("htmx:afterSettle", (event) => {
  if (document.activeElement && document.activeElement !== document.body && document.activeElement.isConnected) return;
  const was = focused;
  focused = null;
  // Another swap settling first (a panel loading) may have taken the record: a swap that
  // replaced the view still hands focus to its heading.
  const target = event.detail.target;
  if (!was) return (target?.id === "dashboard" || target?.querySelector?.("#dashboard h1")) && headingFocus();
  const region = (was.region && document.getElementById(was.region)) || document.getElementById("dashboard");
  if (!region) return;
  const same = [...region.querySelectorAll(was.tag)].find((el) => el.textContent.trim() === was.text && el.offsetParent !== null);
  if (same) same.focus({ preventScroll: true });
  else headingFocus();
});

function headingFocus() {
  const heading = document.querySelector("#dashboard h1");
  if (!heading) return;
  heading.tabIndex = -1;
  heading.focus({ preventScroll: true });
}

htmx.onLoad(init);

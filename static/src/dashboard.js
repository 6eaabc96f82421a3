// The dashboard's script (bundled with htmx, uPlot and chart.js/map.js into one file; served from
// 'self', so it runs under CSP script-src 'self'). Data arrives in <script type="application/json">
// blocks, never as inline code; everything here re-runs on every HTMX swap through htmx.onLoad.
// The server renders every state; the scripts only draw (graph, map), name countries and report
// loading and errors.
import htmx from "htmx.org";
import { renderChart } from "./chart.js";
import { nameCountries, renderMap, whenVisible } from "./map.js";

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
      if (more) {
        box.tabIndex = 0;
        if (!box.hasAttribute("aria-label")) box.setAttribute("aria-label", "Table, scrolls sideways");
      }
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

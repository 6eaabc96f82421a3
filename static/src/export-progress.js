// A raw export's progress in the dashboard (docs/exports.md). Loaded by dashboard.js on the first
// click of an export link, never with the page: without script the link downloads as usual.
//
// The CSV is fetched as a stream; its rows are counted as they arrive against the total the
// server sends before the first row (X-Export-Rows; an indeterminate bar without it). Where the
// browser can save a stream to a file (showSaveFilePicker) the bytes go straight to disk, so
// memory stays flat however long the export; elsewhere they are kept and saved as one Blob.
// One region per export, fixed at the bottom of the window so an HTMX swap of the view (a new
// period) leaves it alone; Cancel aborts the request.
import css from "./export-progress.css";

const HEADER = "X-Export-Rows";
const numbers = new Intl.NumberFormat("en");
let styled = false;

// CSP allows no <style> element: the rules go in through the CSSOM.
function addStyles() {
  if (styled) return;
  styled = true;
  if ("adoptedStyleSheets" in document && "replaceSync" in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    return;
  }
  // Older browsers: rule by rule (split where the braces close) into the dashboard's own sheet.
  const sheet = [...document.styleSheets].find((s) => s.href && new URL(s.href).origin === location.origin);
  let depth = 0;
  let from = 0;
  const text = css.replace(/\/\*[^]*?\*\//g, "");
  for (let i = 0; sheet && i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) {
      try { sheet.insertRule(text.slice(from, i + 1), sheet.cssRules.length); } catch { /* unknown to it */ }
      from = i + 1;
    }
  }
}

// Rows in CSV bytes: line feeds outside quoted cells (a cell may hold a line break). The state
// carries an open quote from one chunk to the next.
export function countRows(bytes, state) {
  let at = 0;
  let quote = -2;  // the next quote's index (-1: none left in this chunk)
  while (at < bytes.length) {
    if (state.quoted) {
      const end = bytes.indexOf(34, at);
      if (end < 0) return;
      state.quoted = false;
      at = end + 1;
      continue;
    }
    if (quote !== -1 && quote < at) quote = bytes.indexOf(34, at);
    const line = bytes.indexOf(10, at);
    if (line >= 0 && (quote < 0 || line < quote)) {
      state.lines++;
      at = line + 1;
    } else if (quote >= 0) {
      state.quoted = true;
      at = quote + 1;
    } else {
      return;
    }
  }
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text) el.textContent = text;
  return el;
}

// The server's reason for a refusal: the error page's message, or a JSON error's.
async function reason(response) {
  const text = await response.text().catch(() => "");
  try {
    if ((response.headers.get("content-type") || "").includes("json")) {
      const body = JSON.parse(text);
      return body.message || body.error;
    }
    const found = new DOMParser().parseFromString(text, "text/html").querySelector(".error-card p");
    if (found) return found.textContent.trim();
  } catch { /* fall through */ }
  return `The server answered ${response.status}.`;
}

function filenameOf(response, fallback) {
  const match = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "");
  return match ? match[1] : fallback;
}

function tray() {
  let box = document.getElementById("export-progress");
  if (!box) {
    box = element("div", "export-tray");
    box.id = "export-progress";
    document.body.append(box);
  }
  return box;
}

// The region: title, bar, a polite status line, an alert line for errors, buttons.
function region(label) {
  const root = element("section", "export-progress card");
  root.setAttribute("aria-label", `Export of ${label}`);
  const title = element("p", "export-title", `Exporting ${label}`);
  const bar = element("div", "export-bar");
  bar.setAttribute("role", "progressbar");
  bar.setAttribute("aria-label", `${label} rows received`);
  bar.setAttribute("aria-valuemin", "0");
  const fill = element("div", "export-fill");
  bar.append(fill);
  const status = element("p", "export-status muted", "Counting rows…");
  status.setAttribute("role", "status");
  const error = element("p", "export-error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  const actions = element("div", "export-actions");
  const cancel = element("button", "button", "Cancel");
  cancel.type = "button";
  actions.append(cancel);
  root.append(title, bar, status, error, actions);
  tray().append(root);
  return { root, title, bar, fill, status, error, actions, cancel };
}

// Where the bytes go: a file the viewer picks (streamed), or chunks kept for one Blob.
async function destination(name) {
  if (typeof window.showSaveFilePicker === "function") {
    try {
      const handle = await window.showSaveFilePicker({
        suggestedName: name, types: [{ description: "CSV file", accept: { "text/csv": [".csv"] } }],
      });
      return { file: await handle.createWritable() };
    } catch (error) {
      if (error?.name === "AbortError") return null;  // the viewer closed the picker
      // No user activation left (a slow first load), or saving refused: keep it in memory.
    }
  }
  return { chunks: [] };
}

/**
 * Export the CSV `link` points to, showing its progress. Resolves once it is saved, cancelled
 * or failed (the region says which).
 */
export async function start(link) {
  const label = `${link.textContent.trim().toLowerCase()}.csv`;
  const site = new URL(link.href).pathname.split("/").slice(-3, -2)[0] || "export";
  const target = await destination(`${decodeURIComponent(site)}-${label}`);
  if (!target) return;
  addStyles();
  link.closest("details")?.removeAttribute("open");  // the menu: focus moves to the region
  const ui = region(label);
  const controller = new AbortController();
  const state = { lines: 0, quoted: false };
  let total = null;
  let shown = 0;
  const show = (final) => {
    const rows = Math.max(0, state.lines - 1);  // the first line is the header
    const text = total === null
      ? `${numbers.format(rows)} rows received`
      : `${numbers.format(Math.min(rows, total))} of ${numbers.format(total)} rows received`;
    // Without a total the bar is indeterminate (no aria-valuenow); its text still counts.
    if (total !== null) ui.bar.setAttribute("aria-valuenow", String(Math.min(rows, total)));
    ui.bar.setAttribute("aria-valuetext", text);
    ui.fill.style.width = total ? `${Math.min(100, (100 * rows) / total)}%` : total === 0 ? "100%" : "";
    const now = Date.now();
    // The status line is read out: at most once a second, and at the end.
    if (!final && now - shown < 1000) return;
    shown = now;
    ui.status.textContent = text;
  };
  const finish = (title, tone) => {
    ui.root.dataset.state = tone;
    ui.title.textContent = title;
    const close = element("button", "button", "Close");
    close.type = "button";
    close.addEventListener("click", () => ui.root.remove());
    ui.actions.replaceChildren(close);
    close.focus();
  };
  ui.cancel.addEventListener("click", () => controller.abort());
  ui.root.dataset.state = "running";
  ui.cancel.focus();
  try {
    const response = await fetch(link.href, { credentials: "same-origin", signal: controller.signal });
    // An expired login is answered with the login page (a redirect fetch follows), not a CSV.
    const csv = (response.headers.get("content-type") || "").startsWith("text/csv");
    if (!response.ok || !csv) {
      ui.error.textContent = response.ok
        ? "The export failed: the server sent a page, not the CSV file. Reload the dashboard (log in again) and retry."
        : `The export failed: ${await reason(response)}`;
      ui.error.hidden = false;
      ui.status.textContent = "";
      ui.bar.hidden = true;
      await target.file?.abort();
      return finish(`Could not export ${label}`, "failed");
    }
    const header = response.headers.get(HEADER);
    total = header !== null && /^\d+$/.test(header) ? Number(header) : null;
    if (total !== null) ui.bar.setAttribute("aria-valuemax", String(total));
    else ui.bar.classList.add("indeterminate");
    show(true);
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      countRows(value, state);
      if (target.file) await target.file.write(value);
      else target.chunks.push(value);
      show(false);
    }
    total = Math.max(0, state.lines - 1);  // done: what came is the whole
    ui.bar.classList.remove("indeterminate");
    ui.bar.setAttribute("aria-valuemax", String(total));
    show(true);
    const name = filenameOf(response, label);
    if (target.file) {
      await target.file.close();
    } else {
      const url = URL.createObjectURL(new Blob(target.chunks, { type: "text/csv" }));
      const save = element("a");
      save.href = url;
      save.download = name;
      save.hidden = true;
      document.body.append(save);
      save.click();
      save.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    }
    ui.status.textContent = `${numbers.format(total)} rows saved${target.file ? "" : ` as ${name}`}.`;
    finish(`Exported ${label}`, "done");
  } catch (error) {
    await target.file?.abort().catch(() => {});
    if (controller.signal.aborted) {
      ui.status.textContent = `Cancelled after ${numbers.format(Math.max(0, state.lines - 1))} rows; nothing was saved.`;
      return finish(`Export of ${label} cancelled`, "cancelled");
    }
    ui.error.textContent = `The export stopped: ${error?.message || "the connection failed"}. Nothing was saved.`;
    ui.error.hidden = false;
    finish(`Could not export ${label}`, "failed");
  }
}

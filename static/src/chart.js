// The graph (uPlot): the metric over time, with the comparison period, a tooltip and keyboard
// steps through the points.
import uPlot from "uplot";
import { numberFormat, readJson } from "./page-data.js";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
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

export function renderChart(el) {
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

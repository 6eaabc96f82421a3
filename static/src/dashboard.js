// The dashboard's only script (bundled with htmx and uPlot; served from 'self', so it runs under
// CSP script-src 'self'). Data arrives in <script type="application/json"> blocks, never as
// inline code; everything here re-runs on every HTMX swap through htmx.onLoad.
import htmx from "htmx.org";
import uPlot from "uplot";

const numberFormat = new Intl.NumberFormat("en");
const dayFormat = new Intl.DateTimeFormat("en", {
  weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC",
});

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function readJson(id) {
  const el = id && document.getElementById(id);
  return el ? JSON.parse(el.textContent) : null;
}

// Labels are the site-local days "YYYY-MM-DD"; plot them at UTC midnight and format them in UTC
// so the browser's own timezone never shifts a day.
function dayToSeconds(label) {
  const [y, m, d] = label.split("-").map(Number);
  return Date.UTC(y, m - 1, d) / 1000;
}

function renderChart(el) {
  const data = readJson(el.dataset.chart);
  if (!data) return;
  const readout = el.parentElement.querySelector("[data-chart-readout]");
  const xs = data.labels.map(dayToSeconds);
  const accent = cssVar("--accent");
  const muted = cssVar("--muted");
  const font = `12px ${cssVar("--font")}`;
  const size = () => ({ width: el.clientWidth, height: el.clientHeight || 260 });
  const showDay = (i) => {
    if (!readout) return;
    if (i == null) { readout.textContent = ""; return; }
    const n = data.visitors[i];
    readout.textContent = `${dayFormat.format(xs[i] * 1000)}: ${numberFormat.format(n)} visitor${n === 1 ? "" : "s"}`;
  };
  const opts = {
    ...size(),
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { size: 9, fill: accent } },
    // A single day (period "day") would otherwise get an axis spanning years: pad it to one day.
    scales: {
      x: xs.length < 2 ? { time: true, auto: false, range: [xs[0] - 43200, xs[0] + 43200] } : { time: true },
      y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] },
    },
    axes: [
      {
        stroke: muted, font, grid: { show: false }, ticks: { show: false }, space: 60,
        ...(xs.length < 2
          ? { splits: () => xs, values: (_u, splits) => splits.map((s) => dayFormat.format(s * 1000)) }
          : {}),
      },
      {
        stroke: muted, font, size: 48, ticks: { show: false },
        grid: { stroke: cssVar("--grid"), width: 1 },
        incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 50000, 100000],
        values: (_u, splits) => splits.map((v) => numberFormat.format(v)),
      },
    ],
    series: [
      {},
      {
        label: "Visitors",
        stroke: accent,
        width: 2,
        fill: cssVar("--accent-fill"),
        points: { show: xs.length <= 31, size: 5, fill: accent },
      },
    ],
    hooks: { setCursor: [(u) => showDay(u.cursor.idx)] },
  };
  el.replaceChildren();
  const plot = new uPlot(opts, [xs, data.visitors], el);
  const observer = new ResizeObserver(() => {
    // Swapped out by HTMX: release the chart with its element.
    if (!el.isConnected) { observer.disconnect(); plot.destroy(); return; }
    plot.setSize(size());
  });
  observer.observe(el);
}

function init(root) {
  // Bar widths are set through the CSSOM: CSP forbids style="" attributes in the markup.
  for (const bar of root.querySelectorAll("[data-pct]")) {
    bar.style.width = `${Math.max(0, Math.min(100, Number(bar.dataset.pct) || 0))}%`;
  }
  for (const el of root.querySelectorAll("[data-chart]")) renderChart(el);
  for (const button of root.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      await navigator.clipboard.writeText(source.textContent);
      button.textContent = "Copied";
    });
  }
}

htmx.onLoad(init);

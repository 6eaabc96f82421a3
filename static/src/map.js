// The countries map (fetched when it scrolls into view) and country names in the tables.
import htmx from "htmx.org";
import { numberFormat, readJson } from "./page-data.js";

const regionNames = typeof Intl.DisplayNames === "function" ? new Intl.DisplayNames(["en"], { type: "region" }) : null;
const SVG = "http://www.w3.org/2000/svg";
let worldPromise = null;

// The world outlines (~12 KB gzip) are the largest asset after the bundle, and the map sits below
// the fold on most screens: fetch them only once the map scrolls into view.
export function whenVisible(el, callback) {
  if (!("IntersectionObserver" in window)) return callback();
  const observer = new IntersectionObserver((entries) => {
    if (!entries.some((entry) => entry.isIntersecting)) return;
    observer.disconnect();
    callback();
  }, { rootMargin: "200px" });
  observer.observe(el);
}

export async function renderMap(el) {
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

export function nameCountries(root) {
  if (!regionNames) return;
  for (const el of root.querySelectorAll("[data-country]")) {
    const code = el.dataset.country;
    let name = null;
    try { name = /^[A-Z]{2}$/.test(code) ? regionNames.of(code) : null; } catch { name = null; }
    if (name && name !== code) { el.textContent = name; el.title = `${el.title} (${code})`; }
  }
}

// The Locations panel's Globe tab: countries shaded by visitors (the map's data block) on a
// sphere drawn with three.js. A module of its own (esbuild entry "globe.js"), referenced only by
// the Globe tab's markup, so neither a first load nor the 2D map ever fetches it. A module runs
// once per page however often HTMX inserts its <script>; each new globe is found through the
// htmx:load event. Drag or the arrow keys turn it; it turns by itself only when the viewer
// allows motion. Only the classes below are imported, so esbuild leaves the rest of three out.
// On the realtime page (data-live names the live country list realtime.js keeps current) the
// globe reads that list instead and marks each country in it with a point.
import {
  CanvasTexture, Mesh, MeshBasicMaterial, PerspectiveCamera, Raycaster, Scene, SphereGeometry,
  SRGBColorSpace, Vector2, WebGLRenderer,
} from "three";
import { HEIGHT, WIDTH, centres, countryIds, paint, palette } from "./globe-map.js";
import { pointsLayer } from "./globe-points.js";

const SPIN = 0.08;            // radians a second when turning by itself
const KEY_STEP = Math.PI / 12;
const MAX_TILT = 1.2;
const numberFormat = new Intl.NumberFormat("en");
const regionNames = typeof Intl.DisplayNames === "function" ? new Intl.DisplayNames(["en"], { type: "region" }) : null;
const motion = matchMedia("(prefers-reduced-motion: reduce)");
const dark = matchMedia("(prefers-color-scheme: dark)");
const worlds = new Map();
const live = new Set();

function countryName(code) {
  try { return (regionNames && regionNames.of(code)) || code; } catch { return code; }
}

function visitors(count) {
  return `${numberFormat.format(count)} visitor${count === 1 ? "" : "s"}`;
}

/** The world's outlines and where each country lies, fetched and worked out once per URL. */
function world(src) {
  if (!worlds.has(src)) {
    worlds.set(src, fetch(src).then((r) => r.json()).then((outlines) => {
      const { ids, codes } = countryIds(outlines);
      return { ids, codes, centres: centres(ids, codes) };
    }));
  }
  return worlds.get(src);
}

/** Rotation that turns [lon, lat] (degrees) towards the viewer, tilted a little less than the
 *  latitude so the pole does not fill the view. */
function facing([lon, lat]) {
  // three's sphere puts the texture's left edge (-180°) at -x and turns eastward towards -z.
  return { yaw: -Math.PI / 2 - (lon * Math.PI) / 180, tilt: (lat * Math.PI) / 180 * 0.6 };
}

/** Country code → count, from a realtime list (<li><span class="name" title="US">…</span><span class="value">3</span>). */
function listValues(list) {
  const values = {};
  for (const item of list.querySelectorAll("li")) {
    const code = item.querySelector(".name")?.title;
    const count = Number((item.querySelector(".value")?.textContent || "").replace(/\D/g, ""));
    if (code && /^[A-Z]{2}$/.test(code) && count) values[code] = count;
  }
  return values;
}

const ranking = (values) => Object.entries(values).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);

async function draw(el) {
  const list = el.dataset.live ? document.querySelector(`[data-realtime-list="${el.dataset.live}"]`) : null;
  const { ids, codes, centres: centre } = await world(el.dataset.src);
  if (!el.isConnected) return;
  // Read once the outlines are in: realtime.js may have filled the list meanwhile.
  const data = list ? { values: listValues(list), filter: "" } : JSON.parse(document.getElementById(el.dataset.globe).textContent);
  let values = data.values;
  const ranked = ranking(values);

  const canvas = document.createElement("canvas");
  canvas.tabIndex = 0;
  canvas.setAttribute("role", "img");
  const describe = () => {
    const all = ranking(values);
    const top = all.slice(0, 5).map(([code, n]) => `${countryName(code)} ${list ? numberFormat.format(n) : visitors(n)}`).join(", ");
    const what = list ? "Globe of the last 5 minutes' pageviews by country" : "Globe of visitors by country";
    const none = list ? ", none yet" : ", none in this period";
    canvas.setAttribute("aria-label", `${what}${top ? `: ${top}${all.length > 5 ? " and more" : ""}` : none}. Drag or use the arrow keys to turn it.`);
  };
  describe();
  canvas.style.display = "block";
  canvas.style.touchAction = "pan-y";  // a vertical swipe still scrolls the page on a phone
  canvas.style.cursor = "grab";
  const tip = document.createElement("div");
  tip.className = "chart-tooltip";
  tip.setAttribute("aria-hidden", "true");
  tip.hidden = true;
  el.style.position = "relative";
  el.replaceChildren(canvas, tip);

  const renderer = new WebGLRenderer({ canvas, antialias: true, alpha: true });
  renderer.setPixelRatio(Math.min(2, devicePixelRatio || 1));
  const scene = new Scene();
  const camera = new PerspectiveCamera(30, 1, 0.1, 10);
  camera.position.z = 1.04 / Math.sin((15 * Math.PI) / 180);
  const surface = document.createElement("canvas");
  surface.width = WIDTH;
  surface.height = HEIGHT;
  const ctx = surface.getContext("2d");
  const image = ctx.createImageData(WIDTH, HEIGHT);
  const texture = new CanvasTexture(surface);
  texture.colorSpace = SRGBColorSpace;
  texture.anisotropy = renderer.capabilities.getMaxAnisotropy();
  const material = new MeshBasicMaterial({ map: texture });
  const geometry = new SphereGeometry(1, 96, 64);
  const globe = new Mesh(geometry, material);
  scene.add(globe);
  const recolour = () => {
    paint(image, ids, codes, values, palette());
    ctx.putImageData(image, 0, 0);
    texture.needsUpdate = true;
    render();
  };

  // Facing the busiest country, or the Atlantic when there is none.
  let { yaw, tilt } = facing((ranked[0] && centre[ranked[0][0]]) || [-30, 20]);
  let frame = 0, last = 0, held = false, hovered = false, touched = false, shown = true;
  const spinning = () => shown && !motion.matches && !held && !hovered && document.activeElement !== canvas;
  function render() {
    globe.rotation.set(tilt, yaw, 0, "XYZ");
    renderer.render(scene, camera);
  }
  function tick(now) {
    frame = 0;
    if (!el.isConnected) return release();
    if (last) yaw += (SPIN * Math.min(100, now - last)) / 1000;
    last = now;
    render();
    if (spinning()) frame = requestAnimationFrame(tick);
  }
  const wake = () => { if (!frame && spinning()) { last = 0; frame = requestAnimationFrame(tick); } };

  function resize() {
    if (!el.isConnected) return release();
    // The canvas fills the box inside its padding (drawn at any other width, the sphere would
    // be shown squeezed into an ellipse).
    const style = getComputedStyle(el);
    const width = Math.floor(el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight));
    if (width <= 0) return;
    const height = Math.round(Math.min(width, 360));
    renderer.setSize(width, height, false);
    canvas.style.width = "100%";
    canvas.style.height = `${height}px`;
    camera.aspect = width / height;
    camera.updateProjectionMatrix();
    render();
  }

  // Which country is under a point of the canvas (null: the sea, space or an unknown one).
  const ray = new Raycaster();
  const pointer = new Vector2();
  function countryAt(event) {
    const box = canvas.getBoundingClientRect();
    pointer.set(((event.clientX - box.left) / box.width) * 2 - 1, -((event.clientY - box.top) / box.height) * 2 + 1);
    ray.setFromCamera(pointer, camera);
    const hit = ray.intersectObject(globe)[0];
    if (!hit || !hit.uv) return null;
    const i = Math.min(WIDTH - 1, Math.floor(hit.uv.x * WIDTH));
    const j = Math.min(HEIGHT - 1, Math.floor((1 - hit.uv.y) * HEIGHT));
    return codes[ids[j * WIDTH + i] - 1] || null;
  }
  function showTip(event) {
    const code = countryAt(event);
    tip.hidden = !code;
    canvas.style.cursor = code && values[code] ? "pointer" : "grab";
    if (!code) return;
    const count = values[code] || 0;
    tip.textContent = `${countryName(code)}: ${list ? `${numberFormat.format(count)} pageview${count === 1 ? "" : "s"}` : visitors(count)}`;
    const box = el.getBoundingClientRect();
    const x = event.clientX - box.left, y = event.clientY - box.top;
    const flip = x + tip.offsetWidth + 16 > el.clientWidth;
    tip.style.left = `${flip ? x - tip.offsetWidth - 12 : x + 12}px`;
    tip.style.top = `${Math.max(0, y - tip.offsetHeight - 8)}px`;
  }

  const listening = new AbortController();
  const signal = listening.signal;
  let drag = null;
  canvas.addEventListener("pointerdown", (event) => {
    drag = { x: event.clientX, y: event.clientY, yaw, tilt, moved: false };
    touched = true;
    held = true;
    canvas.setPointerCapture(event.pointerId);
  }, { signal });
  canvas.addEventListener("pointermove", (event) => {
    if (!drag) return showTip(event);
    const dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    drag.moved = drag.moved || Math.hypot(dx, dy) > 4;
    const perPixel = 2.4 / canvas.clientHeight;  // a drag across the globe turns it about 140°
    yaw = drag.yaw + dx * perPixel;
    tilt = Math.max(-MAX_TILT, Math.min(MAX_TILT, drag.tilt + dy * perPixel));
    tip.hidden = true;
    render();
  }, { signal });
  const drop = (event) => {
    const was = drag;
    drag = null;
    held = false;
    // A click (no drag) on a country with visitors filters by it, as the map's click does.
    const code = was && !was.moved && event.type === "pointerup" ? countryAt(event) : null;
    if (code && values[code] && data.filter) {
      const link = el.closest(".panel")?.querySelector(`a[data-country="${code}"]`);
      if (link) link.click();
      else location.assign(data.filter.replace("__VALUE__", encodeURIComponent(code)));
    }
    wake();
  };
  canvas.addEventListener("pointerup", drop, { signal });
  canvas.addEventListener("pointercancel", drop, { signal });
  canvas.addEventListener("pointerenter", () => { hovered = true; }, { signal });
  canvas.addEventListener("pointerleave", () => { hovered = false; tip.hidden = true; wake(); }, { signal });
  canvas.addEventListener("blur", wake, { signal });
  canvas.addEventListener("keydown", (event) => {
    const turn = { ArrowLeft: [-KEY_STEP, 0], ArrowRight: [KEY_STEP, 0], ArrowUp: [0, -KEY_STEP], ArrowDown: [0, KEY_STEP] }[event.key];
    if (!turn) return;
    event.preventDefault();
    touched = true;
    // The arrow says which way the surface moves, as a drag does.
    yaw += turn[0];
    tilt = Math.max(-MAX_TILT, Math.min(MAX_TILT, tilt + turn[1]));
    render();
  }, { signal });
  // The theme: the viewer's choice is data-theme on <html>; "system" follows the media query.
  const themes = new MutationObserver(recolour);
  themes.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  dark.addEventListener("change", recolour, { signal });
  motion.addEventListener("change", wake, { signal });
  const observer = new ResizeObserver(resize);
  observer.observe(el);
  // Scrolled out of view, it stops turning (no frames drawn for nobody).
  const sight = new IntersectionObserver((entries) => { shown = entries.some((e) => e.isIntersecting); wake(); });
  sight.observe(el);

  function release() {
    if (frame) cancelAnimationFrame(frame);
    frame = 0;
    observer.disconnect();
    sight.disconnect();
    themes.disconnect();
    if (watching) watching.disconnect();
    if (points) points.dispose();
    listening.abort();
    texture.dispose();
    material.dispose();
    geometry.dispose();
    renderer.dispose();
    renderer.forceContextLoss();
    live.delete(el);
  }
  el.globeRelease = release;
  live.add(el);
  // Live: points at the countries of the list, and its changes followed as realtime.js makes them.
  const points = list ? pointsLayer(globe, centre) : null;
  const watching = list ? new MutationObserver(() => {
    if (!el.isConnected) return release();
    const first = !ranking(values).length;
    values = listValues(list);
    describe();
    // The first figures of a live globe nobody has turned yet: face the busiest country.
    const busiest = ranking(values)[0];
    if (first && busiest && centre[busiest[0]] && !touched) ({ yaw, tilt } = facing(centre[busiest[0]]));
    points.update(values);
    recolour();
  }) : null;
  if (list) {
    watching.observe(list, { childList: true, subtree: true, characterData: true });
    points.update(values);
  }
  recolour();
  resize();
  wake();
}

function start(root) {
  for (const el of root.querySelectorAll("[data-globe]")) {
    if (el.globeStarted) continue;
    el.globeStarted = true;
    draw(el).catch(() => {
      el.textContent = "The globe could not be drawn: this browser has WebGL turned off. The map tab shows the same figures.";
    });
  }
  // Globes swapped out by HTMX let go of their WebGL context (a page has only a few).
  for (const el of live) if (!el.isConnected) el.globeRelease();
}

start(document);
document.addEventListener("htmx:load", (event) => start(event.target));

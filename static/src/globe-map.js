// The globe's surface: which country is where, in the equirectangular layout a sphere's texture
// uses, and the picture painted from it. Made in the browser from the world map's outlines
// (world.json, already fetched for the 2D map and cached): scripts/build-map.mjs projected them
// with Equal Earth, so each texel's longitude and latitude are projected forward here (closed
// form) and looked up in the outlines drawn once on a canvas. No second outline file ships.

// Equal Earth, as in scripts/build-map.mjs: the two must agree.
const A1 = 1.340264, A2 = -0.081106, A3 = 0.000893, A4 = 0.003796, M = Math.sqrt(3) / 2;
const SCALE = 160;
const HALF_W = Math.PI / (M * A1) * SCALE;  // x of longitude 180 on the equator
const HALF_H = (Math.PI / 3) * (A1 + A2 * (Math.PI / 3) ** 2 + (Math.PI / 3) ** 6 * (A3 + A4 * (Math.PI / 3) ** 2)) * SCALE;

/** Texture size: 0.18° a texel, finer than the outlines (about 0.4°). */
export const WIDTH = 2048;
export const HEIGHT = 1024;
const DRAW_SCALE = 3;  // outline canvas pixels per world.json unit
const EDGE = 255;      // a texel on an antialiased edge: drawn as a border

// Country i is drawn in red i + 1 with a check value in green, so an edge pixel blending two
// countries (or a country and the sea) is recognised instead of read as a third country.
const check = (id) => (id * 67 + 13) & 255;

/**
 * Which country covers each texel.
 * @param {{paths: Record<string, string>}} world the map's outlines
 * @returns {{ids: Uint8Array, codes: string[]}} ids: WIDTH × HEIGHT, 0 sea, EDGE an edge,
 *   else 1 + the index in codes
 */
export function countryIds(world) {
  const codes = Object.keys(world.paths).slice(0, 254);
  const w = Math.ceil(2 * HALF_W * DRAW_SCALE), h = Math.ceil(2 * HALF_H * DRAW_SCALE);
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.setTransform(DRAW_SCALE, 0, 0, DRAW_SCALE, w / 2, h / 2);
  codes.forEach((code, i) => {
    ctx.fillStyle = `rgb(${i + 1},${check(i + 1)},0)`;
    ctx.fill(new Path2D(world.paths[code]));
  });
  const px = ctx.getImageData(0, 0, w, h).data;
  const ids = new Uint8Array(WIDTH * HEIGHT);
  for (let j = 0; j < HEIGHT; j++) {
    const lat = (90 - ((j + 0.5) * 180) / HEIGHT) * (Math.PI / 180);
    const t = Math.asin(M * Math.sin(lat)), t2 = t * t, t6 = t2 * t2 * t2;
    const fx = (Math.cos(t) / (M * (A1 + 3 * A2 * t2 + t6 * (7 * A3 + 9 * A4 * t2)))) * SCALE * DRAW_SCALE;
    const y = Math.floor(h / 2 - t * (A1 + A2 * t2 + t6 * (A3 + A4 * t2)) * SCALE * DRAW_SCALE);
    if (y < 0 || y >= h) continue;
    for (let i = 0; i < WIDTH; i++) {
      const lon = (-180 + ((i + 0.5) * 360) / WIDTH) * (Math.PI / 180);
      const x = Math.min(w - 1, Math.max(0, Math.floor(w / 2 + lon * fx)));
      const p = (y * w + x) * 4;
      const alpha = px[p + 3];
      if (alpha < 96) continue;
      const id = px[p];
      ids[j * WIDTH + i] = alpha > 250 && id > 0 && id <= codes.length && px[p + 1] === check(id) ? id : EDGE;
    }
  }
  return { ids, codes };
}

/**
 * Each country's centre, as longitude and latitude in degrees: the mean direction of its texels
 * (so a country across the antimeridian is centred on it, not on the other side of the world).
 */
export function centres(ids, codes) {
  const sum = codes.map(() => [0, 0, 0, 0]);
  for (let j = 0; j < HEIGHT; j++) {
    const lat = (90 - ((j + 0.5) * 180) / HEIGHT) * (Math.PI / 180);
    const cosLat = Math.cos(lat);
    for (let i = 0; i < WIDTH; i++) {
      const id = ids[j * WIDTH + i];
      if (id === 0 || id === EDGE) continue;
      const lon = (-180 + ((i + 0.5) * 360) / WIDTH) * (Math.PI / 180);
      const s = sum[id - 1];
      // Weighted by the texel's area on the sphere.
      s[0] += cosLat * cosLat * Math.cos(lon); s[1] += cosLat * cosLat * Math.sin(lon); s[2] += cosLat * Math.sin(lat); s[3] += cosLat;
    }
  }
  const out = {};
  codes.forEach((code, i) => {
    const [x, y, z, n] = sum[i];
    if (!n) return;
    out[code] = [(Math.atan2(y, x) * 180) / Math.PI, (Math.atan2(z, Math.hypot(x, y)) * 180) / Math.PI];
  });
  return out;
}

/** "#rrggbb" or "rgb(r, g, b)" → [r, g, b]. */
function rgb(colour) {
  const hex = /^#([0-9a-f]{6})$/i.exec(colour.trim());
  if (hex) return [0, 2, 4].map((k) => parseInt(hex[1].slice(k, k + 2), 16));
  const parts = colour.match(/\d+(\.\d+)?/g) || [0, 0, 0];
  return parts.slice(0, 3).map(Number);
}

// The map's .level-N fill-opacity (dashboard-controls.css), quietest first.
const LEVELS = [0.3, 0.45, 0.6, 0.8, 1];
const mix = (a, b, t) => a.map((v, k) => Math.round(v + (b[k] - v) * t));

/**
 * The theme's colours for the globe, read from the page's custom properties: the sea a tint of
 * the accent, land without visitors a step from the card, borders the card itself, and visited
 * countries in five shades of the accent over the card (the map's .level-N fill-opacity).
 */
export function palette() {
  const style = getComputedStyle(document.documentElement);
  const card = rgb(style.getPropertyValue("--card"));
  const text = rgb(style.getPropertyValue("--text"));
  const accent = rgb(style.getPropertyValue("--accent"));
  return {
    sea: mix(card, accent, 0.14),
    land: mix(card, text, 0.1),
    border: card,
    levels: LEVELS.map((t) => mix(card, accent, t)),
  };
}

/**
 * Paints the texture: each country by its share of the busiest one, on the map's square-root
 * scale, with a border where two meet or land meets an edge.
 * @param {ImageData} image WIDTH × HEIGHT, painted in place
 */
export function paint(image, ids, codes, values, colours) {
  const max = Math.max(1, ...Object.values(values));
  const fill = [colours.sea, ...codes.map((code) => {
    const count = values[code] || 0;
    return count ? colours.levels[Math.min(4, Math.floor(Math.sqrt(count / max) * 5))] : colours.land;
  })];
  const out = image.data;
  for (let p = 0; p < ids.length; p++) {
    const id = ids[p];
    const right = (p + 1) % WIDTH === 0 ? id : ids[p + 1];
    const below = p + WIDTH < ids.length ? ids[p + WIDTH] : id;
    const c = id === EDGE || (id !== 0 && (right !== id || below !== id)) ? colours.border : fill[id];
    out[p * 4] = c[0]; out[p * 4 + 1] = c[1]; out[p * 4 + 2] = c[2]; out[p * 4 + 3] = 255;
  }
}

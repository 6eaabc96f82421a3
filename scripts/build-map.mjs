// Builds the world map the Locations panel draws: country outlines from world-atlas (Natural
// Earth 1:110m, ISC) projected once, here, with the Equal Earth projection, keyed by ISO 3166-1
// alpha-2 code (i18n-iso-countries, MIT, maps the atlas's numeric ids). The browser only colours
// paths, so it ships no projection code and no TopoJSON decoder.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { feature } from "topojson-client";

const require = createRequire(import.meta.url);
const countries = require("i18n-iso-countries");

const A1 = 1.340264, A2 = -0.081106, A3 = 0.000893, A4 = 0.003796, M = Math.sqrt(3) / 2;
const SCALE = 160;

/** Equal Earth (Šavrič, Patterson, Jenny 2018): [lon, lat] degrees -> [x, y] map units. */
function project([lon, lat]) {
  const l = (lon * Math.PI) / 180;
  const theta = Math.asin(M * Math.sin((lat * Math.PI) / 180));
  const t2 = theta * theta, t6 = t2 * t2 * t2;
  const x = (l * Math.cos(theta)) / (M * (A1 + 3 * A2 * t2 + t6 * (7 * A3 + 9 * A4 * t2)));
  const y = theta * (A1 + A2 * t2 + t6 * (A3 + A4 * t2));
  return [x * SCALE, -y * SCALE];
}

/** One ring as relative path commands on a 1-unit grid; a jump across the antimeridian starts
 *  a new subpath instead of drawing a line around the world. */
function ringPath(ring) {
  let out = "";
  let prev = null;
  let prevLon = null;
  for (const point of ring) {
    const [x, y] = project(point).map(Math.round);
    if (prev === null || Math.abs(point[0] - prevLon) > 180) {
      out += `M${x} ${y}`;
    } else if (x !== prev[0] || y !== prev[1]) {
      out += `l${x - prev[0]} ${y - prev[1]}`;
    }
    prev = [x, y];
    prevLon = point[0];
  }
  return out + "z";
}

/**
 * @param {string} root the repository root
 * @returns {Promise<{viewBox: string, paths: Record<string, string>}>}
 */
export async function buildMap(root) {
  const topo = JSON.parse(await readFile(`${root}/node_modules/world-atlas/countries-110m.json`, "utf8"));
  const geo = feature(topo, topo.objects.countries);
  const paths = {};
  for (const f of geo.features) {
    const code = f.id && countries.numericToAlpha2(f.id);
    // Antarctica has no visitors and would take a fifth of the height.
    if (!code || code === "AQ" || !f.geometry) continue;
    const polygons = f.geometry.type === "Polygon" ? [f.geometry.coordinates] : f.geometry.coordinates;
    paths[code] = polygons.map((rings) => rings.map(ringPath).join("")).join("");
  }
  const [left] = project([-180, 0]);
  const [, top] = project([0, 84]);
  const [, bottom] = project([0, -58]);
  const viewBox = `${Math.floor(left)} ${Math.floor(top)} ${Math.ceil(-2 * left)} ${Math.ceil(bottom - top)}`;
  return { viewBox, paths };
}

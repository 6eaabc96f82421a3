/**
 * Geo from Cloudflare's `request.cf`. Missing values stay null: Cloudflare's "XX" (unknown) and
 * "T1" (Tor) are not countries and would pollute the map.
 */
import { isLoopbackHost } from "../realtime/token";

/** The geo columns of an event (and `region_code`, which only its visit keeps). */
export interface GeoInfo {
  country: string | null;
  region: string | null;
  city: string | null;
  timezone: string | null;
  /** ISO 3166-2 (`DE-BE`): the country and Cloudflare's `regionCode`, Plausible's `visit:region`. */
  region_code: string | null;
}

// Cloudflare's regionCode is the part after the country's dash: one to three letters or digits.
const REGION_CODE = /^[A-Z0-9]{1,3}$/;

/** Reads country / region / city / timezone / region code from `request.cf`, null when absent or
 * unknown. */
export function geoFromCf(cf: Record<string, unknown> | undefined): GeoInfo {
  const text = (value: unknown): string | null => (typeof value === "string" && value.trim() !== "" ? value.trim() : null);
  const raw = text(cf?.country)?.toUpperCase() ?? null;
  const country = raw === "XX" || raw === "T1" ? null : raw;
  const code = text(cf?.regionCode)?.toUpperCase() ?? null;
  return {
    country,
    region: text(cf?.region),
    city: text(cf?.city),
    timezone: text(cf?.timezone),
    region_code: country !== null && code !== null && REGION_CODE.test(code) ? `${country}-${code}` : null,
  };
}

/** The header a local demo sends each visitor's made-up location in (scripts/demo_traffic.py). */
export const SIMULATED_GEO_HEADER = "X-941-Simulated-Geo";

/**
 * The geo fields of a request: `request.cf`, except in local development. `wrangler dev` gives
 * every request one placeholder location, so a development collector (the var `SIMULATED_GEO`
 * set to "on", which only scripts/devstack.py passes to `wrangler dev`; wrangler.toml leaves it
 * out) called on a loopback host takes them from the `X-941-Simulated-Geo` header instead, as
 * `country=JP&region=Tokyo&regionCode=13&city=Tokyo&timezone=Asia%2FTokyo`. Anywhere else the
 * header is ignored.
 */
export function requestGeoFields(request: Request, env: { SIMULATED_GEO?: string }): Record<string, unknown> | undefined {
  const simulated = env.SIMULATED_GEO === "on" && isLoopbackHost(new URL(request.url).hostname)
    ? request.headers.get(SIMULATED_GEO_HEADER)
    : null;
  if (simulated === null) return request.cf as Record<string, unknown> | undefined;
  return Object.fromEntries(new URLSearchParams(simulated));
}

/**
 * Geo from Cloudflare's `request.cf`. Missing values stay null: Cloudflare's "XX" (unknown) and
 * "T1" (Tor) are not countries and would pollute the map.
 */

/** The geo columns of an event. */
export interface GeoInfo {
  country: string | null;
  region: string | null;
  city: string | null;
  timezone: string | null;
}

/** Reads country / region / city / timezone from `request.cf`, null when absent or unknown. */
export function geoFromCf(cf: Record<string, unknown> | undefined): GeoInfo {
  const text = (value: unknown): string | null => (typeof value === "string" && value.trim() !== "" ? value.trim() : null);
  const country = text(cf?.country)?.toUpperCase() ?? null;
  return {
    country: country === "XX" || country === "T1" ? null : country,
    region: text(cf?.region),
    city: text(cf?.city),
    timezone: text(cf?.timezone),
  };
}

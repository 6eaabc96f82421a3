/** Reading wrangler.toml [vars], which arrive as strings. */

/**
 * Reads a numeric var, falling back when it is missing or not a finite number: a typo in
 * wrangler.toml should degrade to the default, not break ingestion.
 */
export function numberVar(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return value !== undefined && value !== "" && Number.isFinite(parsed) ? parsed : fallback;
}

/**
 * How many of the values ?1..?N a statement of the rollup JSON files binds: its highest ?N (D1
 * refuses more values than a statement has parameters). The twin of `bound_params` in
 * src/analytics_941/rollups/arms.py.
 */
export function boundParams(sql: string): number {
  return Math.max(0, ...[...sql.matchAll(/\?(\d+)/g)].map((m) => Number(m[1])));
}

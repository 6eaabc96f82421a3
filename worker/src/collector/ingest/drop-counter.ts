/**
 * Counts drops per (site, UTC day, reason, category) in the isolate and writes them to D1's
 * `ingest_drops` in batched upserts, at most once per DROP_FLUSH_DELAY_MS per isolate. A flood of
 * junk requests thus costs a counter increment each and one D1 batch per second, not one write
 * per request. A failed write puts the counts back and is retried a few times with backoff
 * within the same waitUntil; after the last retry the counts wait for the next drop's flush.
 */
import { utcDay } from "../../site-do/visitor-hash";
import type { Drop } from "./drop";

/** Rows per upsert statement: 5 bound parameters each, within D1's 100. */
const ROWS_PER_STATEMENT = 20;

interface Counter {
  site_id: string;
  day: string;
  reason: string;
  category: string;
  count: number;
}

const pending = new Map<string, Counter>();
let scheduled: Promise<void> | null = null;

/** Adds one drop to the isolate's pending counts. `siteId` is "" when the site is not known. */
export function countDrop(siteId: string, dropped: Drop, ts = Date.now()): void {
  add({ site_id: siteId, day: utcDay(ts), reason: dropped.reason, category: dropped.category, count: 1 });
}

/** The counts not yet written to D1 (for tests and the fuzz test's bookkeeping). */
export function pendingDrops(): Counter[] {
  return [...pending.values()].map((counter) => ({ ...counter }));
}

/** Retries of a failed drop flush. */
export const DROP_FLUSH_RETRIES = 3;
/**
 * Longest wait before a retry. With the retries this keeps a flush well inside the ~30 s a
 * Worker may keep working after its response (waitUntil), whatever DROP_FLUSH_DELAY_MS is.
 */
export const MAX_DROP_RETRY_DELAY_MS = 5000;

/**
 * Makes sure a flush is scheduled `delayMs` from now, kept alive by `ctx.waitUntil`. Later drops
 * in the same isolate ride on the same flush. A failed flush is retried up to `retries` times,
 * waiting twice as long each time (capped at MAX_DROP_RETRY_DELAY_MS): without it, counts of a
 * failed write would sit in memory until the next drop, and be lost if the isolate goes first.
 */
export function scheduleDropFlush(
  db: D1Database,
  ctx: Pick<ExecutionContext, "waitUntil">,
  delayMs: number,
  retries = DROP_FLUSH_RETRIES,
): void {
  if (scheduled || pending.size === 0) return;
  const flush = (async () => {
    for (let attempt = 0; ; attempt++) {
      const wait = attempt === 0 ? delayMs : Math.min(delayMs * 2 ** attempt, MAX_DROP_RETRY_DELAY_MS);
      await new Promise((resolve) => setTimeout(resolve, wait));
      try {
        await flushDropCounts(db);
        return;
      } catch (error) {
        const last = attempt >= retries;
        console.error(`drop counter flush failed (attempt ${attempt + 1}); counts kept, ${last ? "left for the next drop" : "retrying"}`, error);
        if (last) return;
      }
    }
  })().finally(() => {
    scheduled = null;
  });
  scheduled = flush;
  ctx.waitUntil(flush);
}

/**
 * Writes every pending count to D1 in one batch and clears them; on failure the counts go back
 * into the pending map and the error is rethrown. Returns the number of counter rows written.
 */
export async function flushDropCounts(db: D1Database): Promise<number> {
  if (pending.size === 0) return 0;
  const counters = [...pending.values()];
  pending.clear();
  const statements: D1PreparedStatement[] = [];
  for (let start = 0; start < counters.length; start += ROWS_PER_STATEMENT) {
    const chunk = counters.slice(start, start + ROWS_PER_STATEMENT);
    statements.push(
      db
        .prepare(
          `INSERT INTO ingest_drops (site_id, day, reason, category, count) VALUES ${chunk.map(() => "(?, ?, ?, ?, ?)").join(", ")}
           ON CONFLICT (site_id, day, reason, category) DO UPDATE SET count = count + excluded.count`,
        )
        .bind(...chunk.flatMap((c) => [c.site_id, c.day, c.reason, c.category, c.count])),
    );
  }
  try {
    await db.batch(statements);
  } catch (error) {
    for (const counter of counters) add(counter);
    throw error;
  }
  return counters.length;
}

function add(counter: Counter): void {
  const key = `${counter.site_id}\0${counter.day}\0${counter.reason}\0${counter.category}`;
  const existing = pending.get(key);
  if (existing) existing.count += counter.count;
  else pending.set(key, { ...counter });
}

/**
 * Bounded rebuilds of raw tables into a new layout (src/analytics_941/rebuilds.py, whose twin
 * `rebuild_tables` this is): a step a call, each moving at most COPY_ROWS or RETIRE_ROWS rows, so
 * D1 answers readers and ingest flushes between them.
 */
import { HAS_REBUILDS_SQL, PENDING_SQL, REBUILDS, STEPS_PER_RUN, COPY_ROWS, RETIRE_ROWS, type RebuildParam } from "./rebuild-statements";

interface Pending {
  name: string;
  phase: "copy" | "retire";
  cursor: number;
}

/** The step to run: move rows while some are left, else end the phase. */
export function nextStep(phase: Pending["phase"], more: boolean): "copy" | "swap" | "retire" | "finish" {
  if (phase === "copy") return more ? "copy" : "swap";
  return more ? "retire" : "finish";
}

/** Runs up to `maxSteps` steps of the pending rebuilds in `db`; returns the steps run. */
export async function rebuildTables(db: D1Database, nowMs: number, maxSteps = STEPS_PER_RUN): Promise<number> {
  const has = await db.prepare(HAS_REBUILDS_SQL).first<{ n: number }>();
  let steps = 0;
  while (has?.n && steps < maxSteps) {
    const pending = await db.prepare(PENDING_SQL).first<Pending>();
    const rebuild = pending ? REBUILDS[pending.name] : undefined;
    if (!pending || !rebuild) break;
    const values: Record<RebuildParam, number> = {
      cursor: pending.cursor,
      rows: pending.phase === "copy" ? COPY_ROWS : RETIRE_ROWS,
      now: nowMs,
    };
    const moreSql = db.prepare(rebuild.more[pending.phase]);
    const more = await (pending.phase === "copy" ? moreSql.bind(pending.cursor) : moreSql).first<{ more: number }>();
    const step = rebuild.steps[nextStep(pending.phase, Boolean(more?.more))];
    // A step is one batch, one transaction: the swap is seen whole or not at all.
    await db.batch(step.map((s) => db.prepare(s.sql).bind(...s.params.map((p) => values[p]))));
    steps++;
  }
  return steps;
}

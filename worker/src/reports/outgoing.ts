/**
 * What the cron sends out after the rollups, in one call from rollup/cron.ts: the due email
 * reports (job.ts), then the webhooks' safety net (webhooks/events.ts `requeueStale`). A failure
 * of either is rethrown after both ran, so the run shows as failed and the next one retries.
 */
import type { Env } from "../env";
import { requeueStale } from "../webhooks/events";
import { sendDueReports, type ReportRun } from "./job";

export async function sendOutgoing(
  env: Env, home: D1Database, data: (binding: string) => D1Database, homeRaw: D1Database, nowMs: number,
): Promise<{ reports: ReportRun; requeued: number }> {
  const failures: unknown[] = [];
  const reports = await sendDueReports(env, home, data, homeRaw, nowMs).catch((error: unknown) => {
    failures.push(error);
    return { sent: 0, failed: 0, waiting: 0 };
  });
  const requeued = await requeueStale(env, home, nowMs).catch((error: unknown) => {
    failures.push(error);
    return 0;
  });
  if (failures.length > 0) throw failures[0];
  return { reports, requeued };
}

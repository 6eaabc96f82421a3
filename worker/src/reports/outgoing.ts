/**
 * What the cron sends out after the rollups, in one call from rollup/cron.ts: the due email
 * reports (job.ts), the webhooks' safety net (webhooks/events.ts `requeueStale`), the alerts
 * (alerts/job.ts), the alert mails due for another try (alerts/retry.ts) and the commerce
 * webhook events (alerts/commerce.ts), in that order: what is
 * already promised first, should the run's D1 budget end early. A failure of one is rethrown
 * after all ran, so the run shows as failed and the next one retries.
 */
import type { Env } from "../env";
import { emitCommerceEvents, type CommerceRun } from "../alerts/commerce";
import { alertMail } from "../alerts/deliver";
import { runAlerts, type AlertRun } from "../alerts/job";
import { retryAlertMails, type RetryRun } from "../alerts/retry";
import { BudgetSpent } from "../rollup/budget";
import { requeueStale } from "../webhooks/events";
import { sendDueReports, type ReportRun } from "./job";

export async function sendOutgoing(
  env: Env, home: D1Database, data: (binding: string) => D1Database, homeRaw: D1Database, nowMs: number,
): Promise<{ reports: ReportRun; requeued: number; alerts: AlertRun; alertRetries: RetryRun; commerce: CommerceRun }> {
  const failures: unknown[] = [];
  const reports = await sendDueReports(env, home, data, homeRaw, nowMs).catch((error: unknown) => {
    failures.push(error);
    return { sent: 0, failed: 0, waiting: 0 };
  });
  const requeued = await requeueStale(env, home, nowMs).catch((error: unknown) => {
    failures.push(error);
    return 0;
  });
  const alerts = await runAlerts(env, home, data, nowMs).catch((error: unknown) => {
    failures.push(error);
    return { checked: 0, fired: 0, stopped: true };
  });
  const mail = alertMail(env);
  const alertRetries = mail ? await retryAlertMails(home, mail.mailer, nowMs).catch((error: unknown) => {
    if (!(error instanceof BudgetSpent)) failures.push(error); // the rows wait for the next run
    return { sent: 0, failed: 0 };
  }) : { sent: 0, failed: 0 };
  const commerce = await emitCommerceEvents(env, home, data, nowMs).catch((error: unknown) => {
    if (!(error instanceof BudgetSpent)) failures.push(error); // the cursors wait for the next run
    return { sites: 0, conversions: 0, carts: 0 };
  });
  if (failures.length > 0) throw failures[0];
  return { reports, requeued, alerts, alertRetries, commerce };
}

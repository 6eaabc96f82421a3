/**
 * The cron's second chance for alert mails (reports/outgoing.ts, after the alerts): each mail a
 * provider refused for a while (deliver.ts queued it in alert_mail_retries, as built, with the
 * same Message-ID) is sent again once its backoff is over, RETRY_BASE_MS × 2^(attempt-1), at
 * most ALERT_MAIL_ATTEMPTS sends in all, as the reports are retried. A 5xx refusal is final.
 *
 * Once: a run claims a row by moving its due time (a conditional update only one of two runs
 * wins) before sending, deletes it when sent, and otherwise sets the next try. A run that dies
 * mid-send leaves the claim, which comes due again after CLAIM_MS. After each try the alert's log
 * row says what is left (`mail`, `mail_error`), which the site's settings show.
 */
import type { Mailer } from "../mail/mailer";
import type { MailMessage } from "../mail/message";
import { ALERT_MAIL_ATTEMPTS, failureText, nextAttempt } from "./deliver";

/** Retries one run sends at most. */
export const RETRIES_PER_RUN = 20;
/** How long a claimed retry waits before another run may take it (a run that died mid-send). */
export const CLAIM_MS = 60 * 60_000;

const DUE_SQL = "SELECT id, log_id, message, next_attempt_at FROM alert_mail_retries WHERE next_attempt_at > 0 AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?";
const CLAIM_SQL = "UPDATE alert_mail_retries SET next_attempt_at = ?3, attempts = attempts + 1 WHERE id = ?1 AND next_attempt_at = ?2 RETURNING attempts";
const SENT_SQL = "DELETE FROM alert_mail_retries WHERE id = ?";
const FAILED_SQL = "UPDATE alert_mail_retries SET next_attempt_at = ?2, last_error = ?3 WHERE id = ?1";
// The log row from what is still queued for it: sent once nothing is.
const LOG_SQL = "UPDATE alert_log SET "
  + "mail = CASE WHEN EXISTS (SELECT 1 FROM alert_mail_retries WHERE log_id = ?1) THEN 'failed' ELSE 'sent' END, "
  + "mail_error = (SELECT substr(group_concat(email || ': ' || coalesce(last_error, '') || CASE WHEN next_attempt_at > 0 THEN ' (retrying)' ELSE ' (gave up)' END, '; '), 1, 300) "
  + "FROM alert_mail_retries WHERE log_id = ?1) WHERE id = ?1";

interface DueRow {
  id: string;
  log_id: string;
  message: string;
  next_attempt_at: number;
}

/** What a run did: mails sent again, and those that failed again. */
export interface RetryRun {
  sent: number;
  failed: number;
}

/** Sends the due alert mails again through `mailer` (the configured one), on `home`. */
export async function retryAlertMails(home: D1Database, mailer: Mailer, nowMs: number, limit = RETRIES_PER_RUN): Promise<RetryRun> {
  const run: RetryRun = { sent: 0, failed: 0 };
  const due = (await home.prepare(DUE_SQL).bind(nowMs, limit).all<DueRow>()).results;
  for (const row of due) {
    const claimed = await home.prepare(CLAIM_SQL).bind(row.id, row.next_attempt_at, nowMs + CLAIM_MS).first<{ attempts: number }>();
    if (!claimed) continue; // another run has it
    try {
      await mailer.send(JSON.parse(row.message) as MailMessage);
      await home.batch([home.prepare(SENT_SQL).bind(row.id), home.prepare(LOG_SQL).bind(row.log_id)]);
      run.sent++;
    } catch (error) {
      const next = nextAttempt(error, Number(claimed.attempts), nowMs, ALERT_MAIL_ATTEMPTS);
      await home.batch([home.prepare(FAILED_SQL).bind(row.id, next, failureText(error)), home.prepare(LOG_SQL).bind(row.log_id)]);
      run.failed++;
    }
  }
  return run;
}

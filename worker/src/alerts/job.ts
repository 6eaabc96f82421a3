/**
 * The cron's alert step (reports/outgoing.ts, after the reports and the webhooks' safety net):
 * measures the rules checked longest ago, at most ALERTS_PER_RUN, each with one statement on its
 * site's data database (rules.ts), and delivers those that fire (deliver.ts).
 *
 * The cooldown is claimed before anything is sent: a conditional update of `last_fired_at` that
 * only one of two concurrent runs wins, so a rule pages once per cooldown. All reads and writes
 * go through the cron's budgeted databases; a spent budget (rollup/budget.ts) ends the step
 * quietly. Rules are taken in `checked_at` order and marked when taken, so every rule gets its
 * turn even when the budget or ALERTS_PER_RUN cuts runs short.
 */
import type { Env } from "../env";
import { BudgetSpent } from "../rollup/budget";
import { numberVar } from "../vars";
import { alertMail, deliverAlert, type AlertMail } from "./deliver";
import { measure, type Rule } from "./rules";

export const ALERTS_PER_RUN = 50;
/** A rule is measured at most this often (the cron runs every 15 minutes). */
export const RECHECK_MS = 10 * 60_000;

const RULES_SQL = "SELECT r.id AS id, r.site_id AS site_id, r.kind AS kind, r.goal AS goal, r.threshold AS threshold, r.window_hours AS window_hours, r.min_volume AS min_volume, r.cooldown_minutes AS cooldown_minutes, r.last_fired_at AS last_fired_at, "
  + "s.domain AS domain, s.timezone AS timezone, s.database AS database, s.created_at AS site_created_at, COALESCE(a.recipients, '[]') AS recipients "
  + "FROM alert_rules AS r JOIN sites AS s ON s.id = r.site_id LEFT JOIN alert_settings AS a ON a.site_id = r.site_id "
  + "WHERE r.checked_at <= ? ORDER BY r.checked_at, r.id LIMIT ?";
const CLAIM_SQL = "UPDATE alert_rules SET last_fired_at = ?2 WHERE id = ?1 AND last_fired_at <= ?2 - cooldown_minutes * 60000 RETURNING id";
const CHECKED_SQL = "UPDATE alert_rules SET checked_at = ?1 WHERE id IN (SELECT value FROM json_each(?2))";

export interface RuleRow extends Rule {
  domain: string;
  timezone: string;
  database: string;
  site_created_at: number;
  recipients: string;
}

/** What a run did: rules measured, alerts fired, and whether the budget ended it. */
export interface AlertRun {
  checked: number;
  fired: number;
  stopped: boolean;
}

export function recipientsOf(row: { recipients: string }): string[] {
  try {
    const list: unknown = JSON.parse(row.recipients);
    return Array.isArray(list) ? list.filter((e): e is string => typeof e === "string").slice(0, 10) : [];
  } catch {
    return [];
  }
}

/** Measures one rule and, when it fires and wins its cooldown claim, delivers it. */
async function checkRule(env: Env, home: D1Database, data: (binding: string) => D1Database, mail: AlertMail | null, rule: RuleRow, nowMs: number): Promise<boolean> {
  const site = { id: rule.site_id, domain: rule.domain, timezone: rule.timezone, created_at: Number(rule.site_created_at) };
  const finding = await measure(rule, site, home, data(rule.database), nowMs);
  if (!finding?.fires) return false;
  if (!(await home.prepare(CLAIM_SQL).bind(rule.id, nowMs).first())) return false; // another run fired it
  await deliverAlert(env, home, mail, recipientsOf(rule), site, rule, finding, nowMs);
  return true;
}

/**
 * Measures and delivers the due rules. `home` and `data` (by binding name) are the cron's
 * budgeted databases; `mail` overrides the configured mailer (tests).
 */
export async function runAlerts(
  env: Env, home: D1Database, data: (binding: string) => D1Database, nowMs: number, mail: AlertMail | null = alertMail(env),
): Promise<AlertRun> {
  const run: AlertRun = { checked: 0, fired: 0, stopped: false };
  const failures: unknown[] = [];
  const limit = Math.max(1, Math.floor(numberVar(env.ALERTS_PER_RUN, ALERTS_PER_RUN)));
  try {
    const rules = (await home.prepare(RULES_SQL).bind(nowMs - RECHECK_MS, limit).all<RuleRow>()).results;
    if (rules.length === 0) return run;
    // Marked first, in one statement: should the budget end this run, the rules it did not
    // reach are not the first again next time, so no rule starves behind the others.
    await home.prepare(CHECKED_SQL).bind(nowMs, JSON.stringify(rules.map((r) => r.id))).run();
    for (const rule of rules) {
      if (rule.last_fired_at > nowMs - rule.cooldown_minutes * 60_000) continue; // in cooldown
      try {
        if (await checkRule(env, home, data, mail, rule, nowMs)) run.fired++;
        run.checked++;
      } catch (error) {
        if (error instanceof BudgetSpent) throw error;
        // One site's unbound database or bad row must not silence the others' alerts.
        console.error(`alerts: rule ${rule.id} of site ${rule.site_id} failed`, error);
        failures.push(error);
      }
    }
  } catch (error) {
    if (!(error instanceof BudgetSpent)) throw error;
    run.stopped = true;
  }
  if (failures.length > 0) throw failures[0];
  return run;
}

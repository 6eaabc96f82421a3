/**
 * "Send a test alert" from the site's settings (docs/alerts.md), signed like the report and
 * webhook routes (a control token for the site's id):
 *
 * `POST /api/alerts/:site/test` `{"rule": <id>}` → `{reason, fires, mail, mail_error, deliveries}`:
 * the rule measured now and delivered as a test (mail subject `[Test]`, webhook `"test": true`)
 * whether it would fire or not, without touching its cooldown.
 *
 * 401 bad token, 404 unknown rule (or its goal is gone), 503 a weak secret outside loopback.
 */
import type { Env } from "../env";
import { errorResponse, json } from "../http";
import { databaseNamed } from "../databases";
import { secretProblem } from "../collector/realtime/token";
import { verifyControlToken } from "../reports/tokens";
import { alertMail, deliverAlert } from "./deliver";
import { recipientsOf, type RuleRow } from "./job";
import { measure } from "./rules";

export const ALERTS_PATH = /^\/api\/alerts\/([^/]+)\/test$/;

const RULE_SQL = "SELECT r.id AS id, r.site_id AS site_id, r.kind AS kind, r.goal AS goal, r.threshold AS threshold, r.window_hours AS window_hours, r.min_volume AS min_volume, r.cooldown_minutes AS cooldown_minutes, r.last_fired_at AS last_fired_at, "
  + "s.domain AS domain, s.timezone AS timezone, s.database AS database, s.created_at AS site_created_at, COALESCE(a.recipients, '[]') AS recipients "
  + "FROM alert_rules AS r JOIN sites AS s ON s.id = r.site_id LEFT JOIN alert_settings AS a ON a.site_id = r.site_id WHERE r.site_id = ? AND r.id = ?";

/** POST /api/alerts/:site/test. */
export async function postAlertTest(request: Request, env: Env): Promise<Response> {
  const url = new URL(request.url);
  const [, rawSite = ""] = ALERTS_PATH.exec(url.pathname) ?? [];
  let siteId: string;
  try {
    siteId = decodeURIComponent(rawSite);
  } catch {
    return errorResponse(400, "bad_request", "the site in the path is not valid percent-encoding");
  }
  const secret = env.REALTIME_SECRET;
  const weak = secret ? secretProblem(secret, url.hostname) : "REALTIME_SECRET is not set";
  if (!secret || weak) return errorResponse(503, "alerts_misconfigured", weak ?? "REALTIME_SECRET is not set");
  const auth = request.headers.get("Authorization") ?? "";
  const check = await verifyControlToken(auth.startsWith("Bearer ") ? auth.slice(7) : null, secret, siteId);
  if (!check.ok) return errorResponse(401, "unauthorized", check.reason);
  let ruleId = "";
  try {
    const parsed: unknown = JSON.parse(await request.text());
    if (parsed && typeof parsed === "object" && typeof (parsed as { rule?: unknown }).rule === "string") ruleId = (parsed as { rule: string }).rule;
  } catch {
    return errorResponse(400, "bad_request", "the body is not JSON");
  }
  const rule = await env.DB.prepare(RULE_SQL).bind(siteId, ruleId).first<RuleRow>();
  if (!rule) return errorResponse(404, "rule_not_found", "no such alert rule for this site");
  const nowMs = Date.now();
  const site = { id: rule.site_id, domain: rule.domain, timezone: rule.timezone, created_at: Number(rule.site_created_at) };
  const finding = await measure(rule, site, env.DB, databaseNamed(env, rule.database), nowMs);
  if (!finding) return errorResponse(404, "goal_not_found", `the goal ${JSON.stringify(rule.goal)} no longer exists`);
  const done = await deliverAlert(env, env.DB, alertMail(env), recipientsOf(rule), site, rule, finding, nowMs, true);
  return json({ reason: finding.reason, fires: finding.fires, mail: done.mail, mail_error: done.mailError, deliveries: done.deliveries });
}

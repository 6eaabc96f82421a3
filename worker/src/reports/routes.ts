/**
 * What the dashboard asks of the reports (docs/reports.md), so its preview is the mail itself:
 *
 * - `POST /api/reports/:site/preview` `{"kind": "weekly"|"monthly"}` → `{subject, html, text,
 *   first, last, ready}`: the next report as it would be sent now (the last closed period; `ready`
 *   false while the rollups have not caught up with it yet).
 * - `POST /api/reports/:site/test` `{"kind", "email"}` → `{sent: true}`: that report now, marked
 *   [Test], to a recipient already subscribed to the site (never an arbitrary address).
 *
 * `:site` is the site's id; `Authorization: Bearer <control token>` (tokens.ts). 401 for a
 * missing or bad token, 404 unknown site, 400 a bad body, 503 reports not configured (and a
 * weak secret outside loopback), 502 the mail provider refused (its reason in `message`).
 */
import { databaseNamed } from "../databases";
import type { Env } from "../env";
import { errorResponse, json } from "../http";
import { secretProblem } from "../collector/realtime/token";
import { MailError } from "../mail/mailer";
import { checkAddress } from "../mail/message";
import { periodReady, readReport, type SiteRow } from "./data";
import { reportConfig, reportMessage } from "./job";
import { lastClosedPeriod, type ReportKind } from "./periods";
import { renderReport, dashboardLink } from "./render";
import { verifyControlToken } from "./tokens";

export const REPORTS_PATH = /^\/api\/reports\/([^/]+)\/(preview|test)$/;

const SITE_SQL = "SELECT id, domain, name, timezone, database FROM sites WHERE id = ?";
const SUBSCRIBED_SQL = "SELECT 1 AS ok FROM report_subscriptions WHERE site_id = ? AND email = ?";

async function body(request: Request): Promise<Record<string, unknown> | null> {
  try {
    const value: unknown = JSON.parse(await request.text());
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** POST /api/reports/:site/(preview|test). */
export async function postReports(request: Request, env: Env): Promise<Response> {
  const url = new URL(request.url);
  const [, rawSite = "", action] = REPORTS_PATH.exec(url.pathname) ?? [];
  let siteId: string;
  try {
    siteId = decodeURIComponent(rawSite);
  } catch {
    return errorResponse(400, "bad_request", "the site in the path is not valid percent-encoding");
  }
  const secret = env.REALTIME_SECRET;
  if (!secret) return errorResponse(503, "reports_misconfigured", "REALTIME_SECRET is not set");
  const weak = secretProblem(secret, url.hostname);
  if (weak) return errorResponse(503, "reports_misconfigured", weak);
  const auth = request.headers.get("Authorization") ?? "";
  const check = await verifyControlToken(auth.startsWith("Bearer ") ? auth.slice(7) : null, secret, siteId);
  if (!check.ok) return errorResponse(401, "unauthorized", check.reason);
  const input = await body(request);
  const kind = input?.kind;
  if (kind !== "weekly" && kind !== "monthly") return errorResponse(400, "bad_request", "kind must be weekly or monthly");
  const site = await env.DB.prepare(SITE_SQL).bind(siteId).first<SiteRow>();
  if (!site) return errorResponse(404, "site_not_found", "no such site");
  const configured = reportConfig(env);
  const period = lastClosedPeriod(kind as ReportKind, Date.now(), site.timezone);
  const data = databaseNamed(env, site.database);
  const report = await readReport(env.DB, data, site, period);
  if (action === "preview") {
    const base = configured.ok ? configured.config.dashboardUrl : env.REPORTS_DASHBOARD_URL || "http://dashboard.invalid";
    // Each recipient's mail carries its own signed unsubscribe link; the preview shows the path.
    const rendered = renderReport(report, { dashboard: dashboardLink(base, report), unsubscribe: `${base.replace(/\/+$/, "")}/reports/unsubscribe` });
    return json({
      subject: rendered.subject, html: rendered.html, text: rendered.text, first: period.current.first, last: period.current.last,
      ready: await periodReady(data, site.id, period), configured: configured.ok, problem: configured.ok ? null : configured.reason,
    });
  }
  if (!configured.ok) return errorResponse(503, "reports_misconfigured", configured.reason);
  const email = checkAddress(typeof input?.email === "string" ? input.email : "");
  if (!email || !(await env.DB.prepare(SUBSCRIBED_SQL).bind(site.id, email).first())) {
    return errorResponse(400, "not_subscribed", "test reports go to the site's subscribed recipients only");
  }
  try {
    await configured.config.mailer.send(await reportMessage(configured.config, report, email, true));
  } catch (error) {
    const reason = error instanceof MailError ? error.message : "the mailer failed";
    return errorResponse(502, "mail_failed", reason);
  }
  return json({ sent: true });
}

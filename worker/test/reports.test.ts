// Email reports: the MIME message (headers that cannot be injected, escaped hostile paths), the
// cron's exactly-once sends over real rollups of seeded D1 (twice-run, fail halfway and retry,
// backoff), the SMTP driver's refusals, and the dashboard's preview route.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MailError, type Mailer } from "../src/mail/mailer";
import { buildMime, type MailMessage } from "../src/mail/message";
import { mailerFromEnv } from "../src/mail/config";
import { dotStuff, SmtpMailer } from "../src/mail/smtp";
import type { Env } from "../src/env";
import { refreshRollups } from "../src/rollup/cron";
import { budgeted, QueryBudget } from "../src/rollup/budget";
import { MAX_ATTEMPTS, reportConfig, RETRY_BASE_MS, sendDueReports, STALE_CLAIM_MS, type ReportConfig } from "../src/reports/job";
import { lastClosedPeriod } from "../src/reports/periods";
import contract from "../../tests/fixtures/contracts/report_tokens.json";
import { CONTROL_CONTEXT, derivedKey, signControlToken, UNSUBSCRIBE_CONTEXT, unsubscribeToken } from "../src/reports/tokens";

const SECRET = env.REALTIME_SECRET as string;
// Monday 12 January 2026, 06:00 UTC: the week of 5–11 January has closed, December too.
const NOW = Date.UTC(2026, 0, 12, 6);
const HOSTILE_PATH = "/<script>alert(1)</script>\"onmouseover='x'";
const HOSTILE_SOURCE = "Evil\r\nBcc: victim@example.com\u0007";

/** A provider stand-in: records what it accepted, refuses the addresses in `failing`. */
class RecordingMailer implements Mailer {
  readonly driver = "recording";
  readonly sent: MailMessage[] = [];
  readonly failing = new Set<string>();
  async send(message: MailMessage): Promise<void> {
    buildMime(message); // what a real driver would hand over, so it must build
    if (this.failing.has(message.to)) throw new MailError("SMTP RCPT TO: 450 mailbox busy");
    this.sent.push(message);
  }
}

function config(mailer: Mailer): ReportConfig {
  return { mailer, from: "reports@941.test", fromName: "941 Analytics", dashboardUrl: "https://dash.test/admin/analytics", secret: SECRET };
}

async function seedSite(id: string): Promise<void> {
  await env.DB.prepare("INSERT INTO sites (id, domain, name, timezone, created_at) VALUES (?1, ?1 || '.test', ?1, 'Europe/Berlin', 0)").bind(id).run();
  const event = `INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, pathname, source, channel, country)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'x.test', ?7, ?8, 'Referral', ?9)`;
  const session = `INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, hostname, entry_page, exit_page,
    pageviews, events, duration_ms, is_bounce, source, country) VALUES (?1, ?2, ?3, ?4, ?4, 'x.test', ?5, ?5, ?6, ?6, 0, 1, ?7, ?8)`;
  const day = (d: number, h = 12) => Date.UTC(2026, 0, d, h);
  const rows: D1PreparedStatement[] = [];
  // The week (5–11 January): three visitors, four pageviews, one signup; the week before: one.
  const visits: [string, number, string[], string | null, string | null][] = [
    ["a", day(6), ["/", HOSTILE_PATH], HOSTILE_SOURCE, "DE"],
    ["b", day(8), ["/pricing"], "News", "FR"],
    ["c", day(10), ["/"], null, "DE"],
    ["z", Date.UTC(2026, 0, 2, 12), ["/"], "News", "DE"],
  ];
  for (const [v, at, paths, source, country] of visits) {
    paths.forEach((path, i) => rows.push(env.DB.prepare(event).bind(`${id}-${v}${i}`, id, at + i * 1000, "pageview", `${id}-${v}`, `${id}-s${v}`, path, source, country)));
    rows.push(env.DB.prepare(session).bind(`${id}-s${v}`, id, `${id}-${v}`, at, paths[0], paths.length, source, country));
  }
  rows.push(env.DB.prepare(event).bind(`${id}-sig`, id, day(8) + 5000, "Signup", `${id}-b`, `${id}-sb`, "/pricing", "News", "FR"));
  rows.push(env.DB.prepare("INSERT INTO goals (id, site_id, name, kind, target, created_at) VALUES (?1 || '-g1', ?1, 'Signed up', 'event', 'Signup', 0), (?1 || '-g2', ?1, 'Pricing <b>', 'page', '/pricing', 0)").bind(id));
  await env.DB.batch(rows);
  while ((await refreshRollups(env.DB, NOW, 50)).length > 0);
}

async function subscribe(siteId: string, email: string, weekly = 1, monthly = 0): Promise<void> {
  await env.DB.prepare("INSERT INTO report_subscriptions (site_id, email, weekly, monthly, created_at) VALUES (?, ?, ?, ?, 0)").bind(siteId, email, weekly, monthly).run();
}

function decodeParts(mime: string): { headers: string; text: string; html: string } {
  const [headers = "", ...rest] = mime.split("\r\n\r\n");
  const body = rest.join("\r\n\r\n");
  const part = (type: string) => {
    const match = new RegExp(`Content-Type: ${type}; charset=utf-8\\r\\nContent-Transfer-Encoding: base64\\r\\n\\r\\n([A-Za-z0-9+/=\\r\\n]+)`).exec(body);
    const bytes = Uint8Array.from(atob((match?.[1] ?? "").replace(/\r\n/g, "")), (c) => c.charCodeAt(0));
    return new TextDecoder().decode(bytes);
  };
  return { headers, text: part("text/plain"), html: part("text/html") };
}

describe("the MIME message", () => {
  const message: MailMessage = {
    from: "reports@941.test", fromName: "Reports \"941\"\r\nX-Evil: 1", to: "Owner@Example.com",
    subject: "x.test: weekly report\r\nBcc: victim@example.com", text: "plain ✓", html: "<p>html ✓</p>",
    messageId: "report.1@941.test>\r\nX-Evil: 2", headers: { "List-Unsubscribe": "<https://dash.test/u?t=1>\r\nX-Evil: 3" },
  };

  it("keeps every header on its line: no injected header survives", () => {
    const { headers, text, html } = decodeParts(buildMime(message, NOW));
    const names = headers.split("\r\n").filter((l) => !l.startsWith(" ")).map((l) => l.split(":")[0]);
    expect(names).toEqual(["From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "List-Unsubscribe", "Content-Type"]);
    expect(headers).toContain("To: owner@example.com");
    expect(headers).toContain("Date: Mon, 12 Jan 2026 06:00:00 +0000");
    expect(text).toBe("plain ✓");
    expect(html).toBe("<p>html ✓</p>");
  });

  it("encodes a non-ASCII subject and refuses an address that is not a plain mailbox", () => {
    expect(buildMime({ ...message, subject: "Bericht für März" })).toMatch(/Subject: =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=/);
    expect(() => buildMime({ ...message, to: "a@b.test>, c@d.test" })).toThrow(/invalid/);
  });

  it("dot-stuffs the body for SMTP DATA", () => {
    expect(dotStuff("a\r\n.b\r\n..c\r\n")).toBe("a\r\n..b\r\n...c\r\n.\r\n");
  });
});

describe("the SMTP driver's refusals", () => {
  const base = { MAIL_DRIVER: "smtp", MAIL_FROM: "reports@941.test" } as unknown as Env;
  const problem = (vars: Record<string, string>) => {
    const choice = mailerFromEnv({ ...base, ...vars } as Env);
    return choice.ok ? null : choice.reason;
  };

  it("refuses port 25, private and loopback hosts, and plain SMTP outside MAIL_DEV", () => {
    expect(problem({ SMTP_HOST: "smtp.example.com", SMTP_PORT: "25" })).toMatch(/port 25/);
    for (const host of ["127.0.0.1", "10.1.2.3", "192.168.0.5", "172.20.0.1", "localhost", "[::1]", "fd00::1", "2130706433", "mail.internal"]) {
      expect(problem({ SMTP_HOST: host }), host).toMatch(/private|loopback/);
    }
    expect(problem({ SMTP_HOST: "smtp.example.com", SMTP_SECURITY: "none" })).toMatch(/MAIL_DEV/);
    expect(problem({ SMTP_HOST: "smtp.example.com" })).toBeNull();
    expect(problem({ SMTP_HOST: "127.0.0.1", SMTP_PORT: "2525", SMTP_SECURITY: "none", MAIL_DEV: "1" })).toBeNull();
  });

  it("refuses an HTTP API endpoint that is not public https, and a missing key", () => {
    const resend = { MAIL_DRIVER: "resend" };
    expect(problem({ ...resend })).toMatch(/RESEND_API_KEY/);
    expect(problem({ ...resend, RESEND_API_KEY: "re_x" })).toBeNull();
    expect(problem({ ...resend, RESEND_API_KEY: "re_x", MAIL_API_URL: "http://mail.example.com/emails" })).toMatch(/https/);
    expect(problem({ ...resend, RESEND_API_KEY: "re_x", MAIL_API_URL: "https://10.0.0.8/emails" })).toMatch(/private/);
    expect(problem({ ...resend, RESEND_API_KEY: "re_x", MAIL_API_URL: "http://127.0.0.1:9/emails", MAIL_DEV: "1" })).toBeNull();
    expect(problem({ MAIL_DRIVER: "carrier-pigeon" })).toMatch(/none of send_email, smtp, resend/);
  });

  it("refuses to sign unsubscribe links with the development secret outside MAIL_DEV", () => {
    const vars = { MAIL_DRIVER: "smtp", MAIL_FROM: "r@941.test", SMTP_HOST: "smtp.example.com", REPORTS_DASHBOARD_URL: "https://d.example.com/a" };
    const check = (more: Record<string, string>) => {
      const result = reportConfig({ ...vars, ...more } as unknown as Env);
      return result.ok ? null : result.reason;
    };
    expect(check({ REALTIME_SECRET: "dev-insecure-941-secret-change-me" })).toMatch(/development value/);
    expect(check({ REALTIME_SECRET: "short" })).toMatch(/shorter than 32 bytes/);
    expect(check({ REALTIME_SECRET: SECRET })).toBeNull();
    expect(check({ REALTIME_SECRET: "dev-insecure-941-secret-change-me", MAIL_DEV: "1", SMTP_HOST: "127.0.0.1", SMTP_SECURITY: "none" })).toBeNull();
  });

  it("fails a send to a port where nothing listens with a transient error", async () => {
    const smtp = new SmtpMailer({ host: "127.0.0.1", port: 9, security: "none", dev: true, timeoutMs: 5000 });
    const error = await smtp.send({ from: "a@941.test", to: "b@941.test", subject: "s", text: "t", html: "h", messageId: "m@941.test" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailError);
    expect((error as MailError).permanent).toBe(false);
  });
});

describe("the cron's reports", () => {
  it("sends the closed week once, from the rollups, with hostile strings escaped", async () => {
    await seedSite("rep1");
    await subscribe("rep1", "owner@example.com", 1, 1);
    const mailer = new RecordingMailer();
    const first = await sendDueReports(env, env.DB, () => env.DB, env.DB, NOW, config(mailer));
    expect(first).toEqual({ sent: 2, failed: 0, waiting: 0 });
    // Twice-run: nothing more.
    expect(await sendDueReports(env, env.DB, () => env.DB, env.DB, NOW + 60_000, config(mailer))).toEqual({ sent: 0, failed: 0, waiting: 0 });
    expect(mailer.sent.map((m) => m.subject)).toEqual(["rep1.test: monthly report, December 2025", "rep1.test: weekly report, 5 Jan – 11 Jan 2026"]);
    const weekly = mailer.sent[1] as MailMessage;
    expect(weekly.text).toContain("Visitors   3 (+200 % vs previous week)");
    expect(weekly.text).toContain("Pageviews  4 (+300 % vs previous week)");
    const sources = /Top sources\n((?: .*\n)+)/.exec(weekly.text)?.[1]?.split("\n").filter(Boolean).sort();
    expect(sources).toEqual(["        1  Direct / None", "        1  Evil Bcc: victim@example.com", "        1  News"]);
    expect(weekly.text).toMatch(/Top pages\n {8}2 {2}\/\n/);
    expect(weekly.text).toMatch(/Top countries\n {8}2 {2}Germany\n {8}1 {2}France\n/);
    expect(weekly.text).toMatch(/Goal conversions \(visitors \/ conversions\)\n {8}1 \/ 1 {2}Pricing <b>\n {8}1 \/ 1 {2}Signed up/);
    expect(weekly.text).toContain("https://dash.test/admin/analytics/rep1.test?period=custom&from=2026-01-05&to=2026-01-11");
    expect(weekly.html).not.toContain("<script>");
    expect(weekly.html).toContain("/&lt;script&gt;alert(1)&lt;/script&gt;&quot;onmouseover=&#39;x&#39;");
    expect(weekly.html).toContain("Pricing &lt;b&gt;");
    expect(weekly.html).not.toMatch(/<img|src=|<style|<script/);
    expect(weekly.text).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    expect(weekly.headers?.["List-Unsubscribe"]).toMatch(/^<https:\/\/dash\.test\/admin\/analytics\/reports\/unsubscribe\?t=[\w-]+\.[\w-]+>$/);
    // RFC 8058: the provider may unsubscribe in one click, by a POST to that https link.
    expect(weekly.headers?.["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    expect(buildMime(weekly)).toMatch(/\r\nList-Unsubscribe: <https:[^>]+>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n/);
    const rows = await env.DB.prepare("SELECT kind, period_start, status, attempts FROM report_sends WHERE site_id = 'rep1' ORDER BY kind").all();
    expect(rows.results).toEqual([
      { kind: "monthly", period_start: "2025-12-01", status: "sent", attempts: 1 },
      { kind: "weekly", period_start: "2026-01-05", status: "sent", attempts: 1 },
    ]);
  });

  it("sends the rest after a run that failed halfway, retries the failure after its backoff, and sends each once", async () => {
    await seedSite("rep2");
    for (const who of ["a", "b", "c"]) await subscribe("rep2", `${who}@example.com`);
    const mailer = new RecordingMailer();
    mailer.failing.add("b@example.com");
    expect(await sendDueReports(env, env.DB, () => env.DB, env.DB, NOW, config(mailer))).toEqual({ sent: 2, failed: 1, waiting: 0 });
    const failed = await env.DB.prepare("SELECT status, attempts, next_attempt_at, last_error FROM report_sends WHERE site_id = 'rep2' AND email = 'b@example.com'").first();
    expect(failed).toEqual({ status: "failed", attempts: 1, next_attempt_at: NOW + RETRY_BASE_MS, last_error: "SMTP RCPT TO: 450 mailbox busy" });
    // Before the backoff is over: nothing; after it, the provider answers again: b only.
    mailer.failing.clear();
    expect((await sendDueReports(env, env.DB, () => env.DB, env.DB, NOW + RETRY_BASE_MS - 1, config(mailer))).sent).toBe(0);
    expect((await sendDueReports(env, env.DB, () => env.DB, env.DB, NOW + RETRY_BASE_MS, config(mailer))).sent).toBe(1);
    expect((await sendDueReports(env, env.DB, () => env.DB, env.DB, NOW + 2 * RETRY_BASE_MS, config(mailer))).sent).toBe(0);
    expect(mailer.sent.map((m) => m.to).sort()).toEqual(["a@example.com", "b@example.com", "c@example.com"]);
    // Every attempt of one report carries the same Message-ID.
    expect(new Set(mailer.sent.map((m) => m.messageId)).size).toBe(3);
  });

  it("stops retrying after MAX_ATTEMPTS and takes over a claim abandoned mid-send", async () => {
    await seedSite("rep3");
    await subscribe("rep3", "x@example.com");
    await subscribe("rep3", "y@example.com");
    const mailer = new RecordingMailer();
    mailer.failing.add("x@example.com");
    // A run that claimed y and died before marking it: its claim is taken over once stale.
    await env.DB.prepare("INSERT INTO report_sends (site_id, email, kind, period_start, status, attempts, claimed_at) VALUES ('rep3', 'y@example.com', 'weekly', '2026-01-05', 'sending', 1, ?)").bind(NOW).run();
    let at = NOW;
    for (let i = 0; i < MAX_ATTEMPTS + 2; i++) {
      await sendDueReports(env, env.DB, () => env.DB, env.DB, at, config(mailer));
      at += RETRY_BASE_MS * 2 ** i;
    }
    const rows = (await env.DB.prepare("SELECT email, status, attempts, next_attempt_at FROM report_sends WHERE site_id = 'rep3' ORDER BY email").all()).results;
    expect(rows).toEqual([
      { email: "x@example.com", status: "failed", attempts: MAX_ATTEMPTS, next_attempt_at: 0 },
      { email: "y@example.com", status: "sent", attempts: 2, next_attempt_at: 0 },
    ]);
    expect(at - NOW).toBeGreaterThan(STALE_CLAIM_MS);
    expect(mailer.sent.map((m) => m.to)).toEqual(["y@example.com"]);
  });

  it("waits while a day of the period is not rolled up, and skips periods closed before the subscription", async () => {
    await seedSite("rep4");
    await subscribe("rep4", "w@example.com");
    await env.DB.prepare("INSERT INTO report_subscriptions (site_id, email, weekly, monthly, created_at) VALUES ('rep4', 'late@example.com', 1, 0, ?)").bind(NOW - 3_600_000).run();
    await env.DB.prepare("INSERT INTO rollup_dirty (site_id, slot) VALUES ('rep4', ?)").bind(Math.floor(Date.UTC(2026, 0, 9) / 900_000)).run();
    const mailer = new RecordingMailer();
    expect(await sendDueReports(env, env.DB, () => env.DB, env.DB, NOW, config(mailer))).toEqual({ sent: 0, failed: 0, waiting: 1 });
    while ((await refreshRollups(env.DB, NOW, 50)).length > 0);
    expect((await sendDueReports(env, env.DB, () => env.DB, env.DB, NOW, config(mailer))).sent).toBe(1);
    expect(mailer.sent.map((m) => m.to)).toEqual(["w@example.com"]);
  });

  it("tells the site's webhooks of each report sent (report.sent)", async () => {
    await seedSite("rep6");
    await subscribe("rep6", "o@example.com");
    await env.DB.prepare("INSERT INTO webhook_endpoints (id, site_id, url, events, secret, created_at) VALUES ('rep6-ep', 'rep6', 'https://hooks.example.com/x', '[\"report.sent\"]', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 0)").run();
    await sendDueReports(env, env.DB, () => env.DB, env.DB, NOW, config(new RecordingMailer()));
    const rows = (await env.DB.prepare("SELECT event, payload FROM webhook_deliveries WHERE site_id = 'rep6'").all<{ event: string; payload: string }>()).results;
    expect(rows.map((r) => [r.event, JSON.parse(r.payload).data])).toEqual([
      ["report.sent", { site: "rep6.test", kind: "weekly", from: "2026-01-05", to: "2026-01-11", recipient: "o@example.com" }],
    ]);
  });

  it("costs the cron two reads, three per site with a report due and one per recipient; a mail stays small", async () => {
    await env.DB.prepare("DELETE FROM report_subscriptions").run();
    for (const id of ["rep7", "rep8"]) {
      await seedSite(id);
      for (const who of ["a", "b", "c"]) await subscribe(id, `${who}@example.com`);
    }
    const budget = new QueryBudget(1000);
    const db = budgeted(env.DB, budget);
    const mailer = new RecordingMailer();
    expect((await sendDueReports(env, db, () => db, env.DB, NOW, config(mailer))).sent).toBe(6);
    expect(budget.spent).toBe(2 + 2 * 3 + 6);
    const bytes = buildMime(mailer.sent[0] as MailMessage).length;
    console.log(`report: ${budget.spent} budgeted D1 calls for 6 mails to 2 sites; one mail ${bytes} bytes of MIME`);
    expect(bytes).toBeLessThan(20_000);
    // A budget that runs out ends the run quietly between two calls: nothing claimed is left unsent.
    await env.DB.prepare("DELETE FROM report_sends WHERE site_id IN ('rep7', 'rep8')").run();
    const small = budgeted(env.DB, new QueryBudget(5));
    const cut = sendDueReports(env, small, () => small, env.DB, NOW, config(new RecordingMailer()));
    await expect(cut).rejects.toThrow(/budget/);
    const claimed = await env.DB.prepare("SELECT COUNT(*) AS n FROM report_sends WHERE site_id IN ('rep7', 'rep8') AND status = 'sending'").first<{ n: number }>();
    expect(claimed?.n).toBe(0);
  });

  it("computes periods in the site's timezone", () => {
    const week = lastClosedPeriod("weekly", Date.UTC(2026, 0, 11, 23, 30), "Europe/Berlin");
    expect([week.current.first, week.current.last, week.previous.first]).toEqual(["2026-01-05", "2026-01-11", "2025-12-29"]);
    expect(week.current.endMs).toBe(Date.UTC(2026, 0, 11, 23));
    const month = lastClosedPeriod("monthly", Date.UTC(2026, 2, 1, 0, 30), "America/New_York");
    expect([month.current.first, month.current.last, month.previous.first]).toEqual(["2026-01-01", "2026-01-31", "2025-12-01"]);
  });
});

describe("the preview route", () => {
  it("answers the signed dashboard with the report, and refuses a bad token", async () => {
    await seedSite("rep5");
    const url = "https://collector.test/api/reports/rep5/preview";
    const token = await signControlToken(SECRET, "rep5", Math.floor(Date.now() / 1000) + 60);
    const ok = await exports.default.fetch(url, { method: "POST", headers: { Authorization: `Bearer ${token}` }, body: JSON.stringify({ kind: "weekly" }) });
    expect(ok.status).toBe(200);
    const body = await ok.json<{ subject: string; html: string; configured: boolean }>();
    expect(body.subject).toMatch(/^rep5\.test: weekly report/);
    expect(body.html).toContain("Open the dashboard for this week");
    expect(body.configured).toBe(false);
    const other = await signControlToken(SECRET, "rep1", Math.floor(Date.now() / 1000) + 60);
    for (const auth of ["", "Bearer nope", `Bearer ${other}`]) {
      const refused = await exports.default.fetch(url, { method: "POST", headers: { Authorization: auth }, body: JSON.stringify({ kind: "weekly" }) });
      expect(refused.status).toBe(401);
    }
    const test = await exports.default.fetch("https://collector.test/api/reports/rep5/test", { method: "POST", headers: { Authorization: `Bearer ${token}` }, body: JSON.stringify({ kind: "weekly", email: "a@b.test" }) });
    expect(test.status).toBe(503);
  });
});

describe("the report tokens' contract with the dashboard", () => {
  it("makes the unsubscribe tokens of the shared table, with the same derived keys", async () => {
    expect(await derivedKey(contract.secret, UNSUBSCRIBE_CONTEXT)).toBe(contract.keys.unsubscribe);
    expect(await derivedKey(contract.secret, CONTROL_CONTEXT)).toBe(contract.keys.control);
    for (const item of contract.tokens) {
      const list = "list" in item && item.list === "alerts" ? "alerts" : "reports";
      expect(await unsubscribeToken(contract.secret, item.site, item.email, list)).toBe(item.token);
    }
  });
});

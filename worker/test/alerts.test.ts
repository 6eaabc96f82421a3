// Alerts over seeded D1: a spike against the same hours of four earlier weeks fires and says why,
// a normal week and a quiet site stay quiet, the cooldown holds a rule back, no_events fires on a
// silent tracker (not on a dormant site), the cron's D1 budget ends the step without failing it;
// and the commerce webhook events: conversion.completed and cart.abandoned emitted once each,
// with the documented payload and never a visitor id.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { emitCommerceEvents } from "../src/alerts/commerce";
import type { AlertMail } from "../src/alerts/deliver";
import { runAlerts } from "../src/alerts/job";
import { HOUR_MS, median, trafficFinding, WEEK_MS } from "../src/alerts/rules";
import type { Mailer, MailMessage } from "../src/mail/mailer";
import { buildMime } from "../src/mail/message";
import { budgeted, QueryBudget } from "../src/rollup/budget";
import type { Env } from "../src/env";
import { signControlToken } from "../src/reports/tokens";
import { databaseNamed } from "../src/databases";

// Monday 12 January 2026, 03:07 UTC: the hour a quiet site must not page its owner.
const NOW = Date.UTC(2026, 0, 12, 3, 7);
const data = () => env.DB;
const testEnv = { ...env, REPORTS_DASHBOARD_URL: "https://dash.test/admin/analytics" } as unknown as Env;

class RecordingMailer implements Mailer {
  readonly driver = "recording";
  readonly sent: MailMessage[] = [];
  async send(message: MailMessage): Promise<void> {
    buildMime(message);
    this.sent.push(message);
  }
}

function mail(): { mail: AlertMail; sent: MailMessage[] } {
  const mailer = new RecordingMailer();
  return { mail: { mailer, from: "alerts@941.test", fromName: "941 Analytics" }, sent: mailer.sent };
}

async function site(id: string, recipients: string[] = ["owner@example.com"]): Promise<void> {
  await env.DB.prepare("INSERT INTO sites (id, domain, name, timezone, created_at) VALUES (?1, ?1 || '.test', ?1, 'UTC', 0)").bind(id).run();
  await env.DB.prepare("INSERT INTO alert_settings (site_id, recipients) VALUES (?, ?)").bind(id, JSON.stringify(recipients)).run();
}

async function rule(siteId: string, id: string, kind: string, fields: Record<string, number | string> = {}): Promise<void> {
  const r = { goal: "", threshold: 100, window_hours: 1, min_volume: 50, cooldown_minutes: 360, ...fields };
  await env.DB.prepare("INSERT INTO alert_rules (id, site_id, kind, goal, threshold, window_hours, min_volume, cooldown_minutes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)")
    .bind(id, siteId, kind, r.goal, r.threshold, r.window_hours, r.min_volume, r.cooldown_minutes).run();
}

/** `count` events named `name` spread over the hour before `end` (one INSERT). */
async function events(siteId: string, end: number, count: number, name = "pageview", tag = "p"): Promise<void> {
  if (count === 0) return;
  await env.DB.prepare(`INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, pathname)
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?3)
    SELECT ?4 || '-' || ?1 || '-' || ?2 || '-' || i, ?1, ?2 - 1 - i * (3000000 / ?3), ?5, 'v' || i, 's' || i, 'x.test', '/' FROM n`)
    .bind(siteId, end, count, tag, name).run();
}

/** Pageviews in the hour before NOW (`current`) and the same hour of the four weeks before. */
async function weeks(siteId: string, current: number, before: number[]): Promise<void> {
  await events(siteId, NOW, current);
  for (const [k, n] of before.entries()) await events(siteId, NOW - (k + 1) * WEEK_MS, n, "pageview", `w${k}`);
}

describe("the spike / drop statistic", () => {
  it("is the median of the earlier weeks, with a minimum volume", () => {
    expect(median([20, 80, 22, 18])).toBe(21);
    const spike = { kind: "spike" as const, threshold: 100, min_volume: 50, window_hours: 1 };
    expect(trafficFinding(spike, 100, [20, 80, 22, 18], 0, HOUR_MS).fires).toBe(true);
    expect(trafficFinding(spike, 40, [20, 80, 22, 18], 0, HOUR_MS).fires).toBe(false); // under the minimum
    expect(trafficFinding(spike, 100, [], 0, HOUR_MS).fires).toBe(false); // no history yet
    const drop = { kind: "drop" as const, threshold: 50, min_volume: 50, window_hours: 1 };
    expect(trafficFinding(drop, 30, [80, 90, 70, 100], 0, HOUR_MS).fires).toBe(true);
    expect(trafficFinding(drop, 0, [4, 3, 5, 2], 0, HOUR_MS).fires).toBe(false); // a quiet site's night
  });
});

describe("alerts in the cron", () => {
  it("fire on a seeded spike, say why with the numbers and link to the view; stay quiet on a normal week", async () => {
    await site("sp");
    await rule("sp", "sp-spike", "spike");
    await weeks("sp", 120, [20, 25, 22, 18]);
    // A line older than the log keeps is pruned when the next one is written.
    await env.DB.prepare("INSERT INTO alert_log (id, site_id, rule_id, fired_at, summary, mail) VALUES ('old', 'sp', 'sp-spike', ?, 'long ago', 'sent')").bind(NOW - 91 * 24 * HOUR_MS).run();
    await site("nw");
    await rule("nw", "nw-spike", "spike");
    await rule("nw", "nw-drop", "drop", { threshold: 50 });
    await weeks("nw", 60, [55, 62, 58, 64]);
    await site("qs");
    await rule("qs", "qs-spike", "spike");
    await weeks("qs", 12, [1, 0, 2, 1]); // a quiet site: 12× its median, yet under 50 pageviews
    const { mail: m, sent } = mail();
    const run = await runAlerts(testEnv, env.DB, data, NOW, m);
    expect(run).toEqual({ checked: 4, fired: 1, stopped: false }); // the file's first rules
    expect(sent).toHaveLength(1);
    expect(sent[0]!.to).toBe("owner@example.com");
    expect(sent[0]!.subject).toBe("sp.test: traffic spike");
    expect(sent[0]!.text).toContain("120 pageviews in the last 1 h against a median of 21 in the same hours of the 4 week(s) before (+471.4 %)");
    expect(sent[0]!.text).toContain("https://dash.test/admin/analytics/sp.test?period=custom&from=2026-01-12&to=2026-01-12");
    expect(sent[0]!.html).toContain("(+471.4 %); a spike is 100 % above, with at least 50 pageviews.</p>");
    const log = await env.DB.prepare("SELECT rule_id, mail, test, summary FROM alert_log WHERE site_id = 'sp'").all();
    expect(log.results).toEqual([{ rule_id: "sp-spike", mail: "sent", test: 0, summary: expect.stringContaining("120 pageviews") }]);
  });

  it("hold a rule back for its cooldown, then fire again", async () => {
    await site("cd");
    await rule("cd", "cd-spike", "spike", { cooldown_minutes: 120 });
    await weeks("cd", 120, [20, 20, 20, 20]);
    const { mail: m, sent } = mail();
    expect((await runAlerts(testEnv, env.DB, data, NOW, m)).fired).toBe(1);
    expect((await runAlerts(testEnv, env.DB, data, NOW + 15 * 60_000, m)).fired).toBe(0);
    expect((await runAlerts(testEnv, env.DB, data, NOW + 100 * 60_000, m)).fired).toBe(0);
    // Two hours on, the spike hour has moved; seed the next one as high.
    await events("cd", NOW + 120 * 60_000, 150, "pageview", "later");
    expect((await runAlerts(testEnv, env.DB, data, NOW + 120 * 60_000, m)).fired).toBe(1);
    expect(sent).toHaveLength(2);
  });

  it("no_events fires when the tracker fell off, not on a dormant site", async () => {
    await site("ne");
    await rule("ne", "ne-rule", "no_events", { window_hours: 3 });
    await events("ne", NOW - 5 * HOUR_MS, 10);
    await site("dm");
    await rule("dm", "dm-rule", "no_events", { window_hours: 3 });
    await events("dm", NOW - 9 * 24 * HOUR_MS, 10);
    const { mail: m, sent } = mail();
    expect((await runAlerts(testEnv, env.DB, data, NOW, m)).fired).toBe(1);
    expect(sent.map((s) => s.subject)).toEqual(["ne.test: no events"]);
    expect(sent[0]!.text).toMatch(/no event for 5(\.\d)? h/);
  });

  it("error_rate and goal rules measure their own numbers", async () => {
    await site("er");
    await rule("er", "er-rate", "error_rate", { threshold: 5, min_volume: 50 });
    await events("er", NOW, 100);
    await events("er", NOW, 8, "JS error", "err");
    await env.DB.prepare("INSERT INTO goals (id, site_id, name, kind, target, created_at) VALUES ('er-g', 'er', 'Signup', 'event', 'Signup', 0)").run();
    await rule("er", "er-below", "goal_below", { goal: "Signup", threshold: 1, window_hours: 2 });
    await rule("er", "er-gone", "goal_above", { goal: "Deleted goal", threshold: 0 });
    const { mail: m, sent } = mail();
    expect(await runAlerts(testEnv, env.DB, data, NOW, m)).toEqual({ checked: 3, fired: 2, stopped: false });
    expect(sent.map((s) => s.subject).sort()).toEqual(["er.test: JS error rate", "er.test: goal conversions below threshold (Signup)"]);
    expect(sent.find((s) => s.subject.includes("JS error"))!.text).toContain("8 JS errors per 100 pageviews in the last 1 h: 8 per 100");
    expect(sent.find((s) => s.subject.includes("JS error"))!.text).toContain("/er.test/errors?period=custom");
  });

  it("go on past a rule whose site cannot be read, and report that failure after the others", async () => {
    await site("ub");
    await env.DB.prepare("UPDATE sites SET database = 'DB_9' WHERE id = 'ub'").run(); // no such binding
    await rule("ub", "aa-ub-rule", "no_events", { window_hours: 3 }); // first in the run's order
    await site("ok");
    await rule("ok", "ok-rule", "no_events", { window_hours: 3 });
    await events("ok", NOW - 5 * HOUR_MS, 5);
    const { mail: m, sent } = mail();
    await expect(runAlerts(testEnv, env.DB, (name) => databaseNamed(env, name), NOW + 30 * 60_000, m)).rejects.toThrow();
    expect(sent.map((s) => s.subject)).toContain("ok.test: no events");
  });

  it("stop quietly when the cron's D1 budget is spent, and take up the rest next run", async () => {
    await site("bg");
    for (let i = 0; i < 6; i++) await rule("bg", `bg-${i}`, "no_events", { window_hours: 1 });
    const budget = new QueryBudget(4);
    const db = budgeted(env.DB, budget);
    const { mail: m } = mail();
    const first = await runAlerts(testEnv, db, () => db, NOW, m);
    expect(first.stopped).toBe(true);
    expect(first.checked).toBe(2); // the rules' read, their marking, two measures
    expect(budget.spent).toBe(4);
    const second = await runAlerts(testEnv, env.DB, data, NOW + 15 * 60_000, m);
    expect(second.stopped).toBe(false);
    const taken = await env.DB.prepare("SELECT COUNT(*) AS n FROM alert_rules WHERE site_id = 'bg' AND checked_at = ?").bind(NOW + 15 * 60_000).first<{ n: number }>();
    expect(taken?.n).toBe(6);
  });
});

describe("the test-alert route", () => {
  it("measures the rule now and logs a test, without its cooldown; refuses bad tokens and unknown rules", async () => {
    await site("tr");
    await rule("tr", "tr-rule", "no_events", { window_hours: 3 });
    const url = "https://collector.test/api/alerts/tr/test";
    const token = await signControlToken(env.REALTIME_SECRET as string, "tr", Math.floor(Date.now() / 1000) + 60);
    const post = (body: unknown, auth = `Bearer ${token}`) => exports.default.fetch(url, { method: "POST", headers: { Authorization: auth }, body: JSON.stringify(body) });
    const ok = await post({ rule: "tr-rule" });
    expect(ok.status).toBe(200);
    // No MAIL_DRIVER in the test Worker: the test is logged with the reason it was not mailed.
    expect(await ok.json()).toMatchObject({ fires: false, mail: "none", mail_error: "no mailer is configured (MAIL_DRIVER)", deliveries: [] });
    expect(await env.DB.prepare("SELECT test, mail FROM alert_log WHERE site_id = 'tr'").all().then((r) => r.results)).toEqual([{ test: 1, mail: "none" }]);
    expect(await env.DB.prepare("SELECT last_fired_at FROM alert_rules WHERE id = 'tr-rule'").first("last_fired_at")).toBe(0);
    expect((await post({ rule: "other" })).status).toBe(404);
    expect((await post({ rule: "tr-rule" }, "Bearer nope")).status).toBe(401);
  });
});

describe("commerce webhook events", () => {
  it("emit conversion.completed and cart.abandoned once each, with goal, page, source and revenue, never a visitor id", async () => {
    const id = "cm";
    await env.DB.prepare("INSERT INTO sites (id, domain, name, timezone, created_at) VALUES (?1, ?1 || '.test', ?1, 'UTC', 0)").bind(id).run();
    await env.DB.prepare("INSERT INTO webhook_endpoints (id, site_id, url, events, secret, created_at) VALUES ('cm-ep', 'cm', 'https://hooks.example.com/in', ?, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 0)")
      .bind(JSON.stringify(["conversion.completed", "cart.abandoned"])).run();
    await env.DB.prepare("INSERT INTO goals (id, site_id, name, kind, target, created_at) VALUES ('cm-g1', 'cm', 'Add to cart', 'event', 'add_to_cart', 0), ('cm-g2', 'cm', 'Purchase', 'event', 'purchase', 0)").run();
    const t0 = NOW;
    expect(await emitCommerceEvents(env, env.DB, data, t0)).toEqual({ sites: 1, conversions: 0, carts: 0 }); // the cursors start now
    const visit = async (v: string, at: number, names: string[], revenue: number | null) => {
      const rows = names.map((name, i) => env.DB.prepare("INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, pathname, source, revenue, revenue_currency) VALUES (?, 'cm', ?, ?, ?, ?, 'cm.test', ?, 'Newsletter', ?, ?)")
        .bind(`cm-${v}-${i}`, at + i * 1000, name, `visitor-${v}`, `session-${v}`, name === "pageview" ? "/shop" : "/cart", name === "purchase" ? revenue : null, name === "purchase" ? "EUR" : null));
      rows.push(env.DB.prepare("INSERT INTO sessions (id, site_id, visitor_id, started_at, ended_at, hostname, entry_page, exit_page, source) VALUES (?, 'cm', ?, ?, ?, 'cm.test', '/shop', '/cart', 'Newsletter')")
        .bind(`session-${v}`, `visitor-${v}`, at, at + (names.length - 1) * 1000));
      await env.DB.batch(rows);
    };
    await visit("a", t0 + 60_000, ["pageview", "add_to_cart"], null); // abandoned
    await visit("b", t0 + 120_000, ["pageview", "add_to_cart", "purchase"], 42.5); // bought
    // Five minutes on: the conversions are in, the visits have not ended yet.
    expect(await emitCommerceEvents(env, env.DB, data, t0 + 5 * 60_000)).toEqual({ sites: 1, conversions: 3, carts: 0 });
    expect(await emitCommerceEvents(env, env.DB, data, t0 + 45 * 60_000)).toEqual({ sites: 1, conversions: 0, carts: 1 });
    expect(await emitCommerceEvents(env, env.DB, data, t0 + 90 * 60_000)).toEqual({ sites: 1, conversions: 0, carts: 0 });
    const rows = (await env.DB.prepare("SELECT event, payload FROM webhook_deliveries WHERE site_id = 'cm' ORDER BY event, payload").all<{ event: string; payload: string }>()).results;
    expect(rows.map((r) => r.event)).toEqual(["cart.abandoned", "conversion.completed", "conversion.completed", "conversion.completed"]);
    for (const r of rows) expect(r.payload).not.toMatch(/visitor|session-/);
    expect(JSON.parse(rows[0]!.payload).data).toEqual({
      site: "cm.test", goal: "Add to cart", page: "/cart", exit_page: "/cart", source: "Newsletter", revenue: null, currency: null,
      started_at: new Date(t0 + 60_000).toISOString(), ended_at: new Date(t0 + 61_000).toISOString(),
    });
    const purchase = rows.map((r) => JSON.parse(r.payload)).find((p) => p.data.goal === "Purchase");
    expect(purchase).toEqual({ type: "conversion.completed", timestamp: new Date(t0 + 5 * 60_000).toISOString(), data: {
      site: "cm.test", goal: "Purchase", page: "/cart", hostname: "cm.test", source: "Newsletter", revenue: 42.5, currency: "EUR", timestamp: new Date(t0 + 122_000).toISOString(),
    } });
  });
  it("match a goal's property on well-formed props and read a row of malformed props as having none", async () => {
    const id = "cm-bad";
    await env.DB.prepare("INSERT INTO sites (id, domain, name, timezone, created_at) VALUES (?1, ?1 || '.test', ?1, 'UTC', 0)").bind(id).run();
    await env.DB.prepare("INSERT INTO webhook_endpoints (id, site_id, url, events, secret, created_at) VALUES ('cmb-ep', 'cm-bad', 'https://hooks.example.com/in', ?, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 0)")
      .bind(JSON.stringify(["conversion.completed"])).run();
    await env.DB.prepare("INSERT INTO goals (id, site_id, name, kind, target, prop_key, prop_value, created_at) VALUES ('cmb-g', 'cm-bad', 'Pro purchase', 'event', 'purchase', 'plan', 'pro', 0)").run();
    const t0 = NOW;
    await emitCommerceEvents(env, env.DB, data, t0); // the cursors start now
    // Written by something other than the collector: props that are not JSON at all.
    const props = ['{"plan":"pro"}', '{"plan":"pro', `{"plan":"pro${String.fromCharCode(27)}"}`];
    await env.DB.batch(props.map((p, i) => env.DB.prepare("INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, pathname, props) VALUES (?, 'cm-bad', ?, 'purchase', 'v', 's', 'cm-bad.test', '/buy', ?)")
      .bind(`cmb-${i}`, t0 + 60_000 + i, p)));
    expect(await emitCommerceEvents(env, env.DB, data, t0 + 5 * 60_000)).toMatchObject({ conversions: 1 });
  });
});

/**
 * Emitting a webhook event: one delivery row per endpoint of the site subscribed to the event
 * (written to D1 first, the log), then the jobs handed to the site's WebhookDO, which delivers
 * them at least once. The payload is `{"type", "timestamp", "data"}`; `data` never holds a
 * visitor id. Event types: `report.sent` (an email report went out), `threshold.exceeded` (an
 * alert fired, alerts/deliver.ts), `conversion.completed` and `cart.abandoned` (found by the cron,
 * alerts/commerce.ts) and `webhook.test` (the settings' "send a test event").
 */
import type { Env } from "../env";
import { timeOrderedId } from "../ids";
import type { WebhookJob } from "./webhook-do";

export const EVENT_TYPES = ["report.sent", "threshold.exceeded", "conversion.completed", "cart.abandoned"] as const;
export type EventType = (typeof EVENT_TYPES)[number] | "webhook.test";

interface Endpoint {
  id: string;
  url: string;
  secret: string;
  events: string;
}

const ENDPOINTS_SQL = "SELECT id, url, secret, events FROM webhook_endpoints WHERE site_id = ? ORDER BY id LIMIT 20";
const INSERT_SQL = "INSERT INTO webhook_deliveries (id, site_id, endpoint_id, event, payload, status, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)";

/** The message id of a delivery (`webhook-id`): `msg_` and a time-ordered id. */
export function messageId(): string {
  return `msg_${timeOrderedId(Date.now())}`;
}

function subscribed(endpoint: Endpoint, type: EventType): boolean {
  if (type === "webhook.test") return true;
  try {
    const events: unknown = JSON.parse(endpoint.events);
    return Array.isArray(events) && events.includes(type);
  } catch {
    return false;
  }
}

/**
 * Emits `type` with `data` for the site `siteId` to its subscribed endpoints (or to the one
 * endpoint `only`); returns the delivery ids. `db` is the home database.
 */
export async function emitEvent(env: Env, db: D1Database, siteId: string, type: EventType, data: Record<string, unknown>, nowMs = Date.now(), only?: string): Promise<string[]> {
  return emitEvents(env, db, siteId, [{ type, data }], nowMs, only);
}

/**
 * Emits several events of one site at once: one read of its endpoints, one batch of log rows and
 * one hand-over to its WebhookDO, however many events (the cron's commerce scan emits pages).
 */
export async function emitEvents(env: Env, db: D1Database, siteId: string, events: { type: EventType; data: Record<string, unknown> }[], nowMs = Date.now(), only?: string): Promise<string[]> {
  if (events.length === 0 || !env.WEBHOOK_DO) return [];
  const endpoints = (await db.prepare(ENDPOINTS_SQL).bind(siteId).all<Endpoint>()).results;
  const jobs: WebhookJob[] = [];
  const rows: D1PreparedStatement[] = [];
  for (const { type, data } of events) {
    const body = JSON.stringify({ type, timestamp: new Date(nowMs).toISOString(), data });
    for (const e of endpoints.filter((e) => (only === undefined ? subscribed(e, type) : e.id === only))) {
      const job = { id: messageId(), url: e.url, secret: e.secret, body };
      jobs.push(job);
      rows.push(db.prepare(INSERT_SQL).bind(job.id, siteId, e.id, type, body, nowMs, nowMs));
    }
  }
  if (jobs.length === 0) return [];
  await db.batch(rows);
  await env.WEBHOOK_DO.get(env.WEBHOOK_DO.idFromName(siteId)).enqueue(jobs, nowMs);
  return jobs.map((j) => j.id);
}

/** Hands a logged delivery to the site's WebhookDO again, from its first attempt. */
export async function redeliver(env: Env, db: D1Database, siteId: string, deliveryId: string, nowMs = Date.now()): Promise<boolean> {
  const row = await db.prepare("SELECT d.id AS id, d.payload AS body, e.url AS url, e.secret AS secret FROM webhook_deliveries AS d JOIN webhook_endpoints AS e ON e.id = d.endpoint_id WHERE d.site_id = ? AND d.id = ?")
    .bind(siteId, deliveryId).first<WebhookJob>();
  if (!row || !env.WEBHOOK_DO) return false;
  await db.prepare("UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ? WHERE id = ?").bind(nowMs, row.id).run();
  await env.WEBHOOK_DO.get(env.WEBHOOK_DO.idFromName(siteId)).enqueue([row], nowMs);
  return true;
}

/** Pending deliveries more than STALE_MS past their next try are handed to their WebhookDO again. */
export const STALE_MS = 3_600_000;
const STALE_SQL = "SELECT d.id AS id, d.site_id AS site_id, d.payload AS body, e.url AS url, e.secret AS secret FROM webhook_deliveries AS d JOIN webhook_endpoints AS e ON e.id = d.endpoint_id WHERE d.status = 'pending' AND d.next_attempt_at < ? ORDER BY d.next_attempt_at LIMIT 50";

/**
 * The cron's safety net for at-least-once: a delivery logged as pending whose next try passed
 * an hour ago lost its job (the hand-over to the WebhookDO failed after the row was written, or
 * the object's storage was reset), so it is enqueued again, attempts from the start. Returns how
 * many. One D1 call, and one call per site with such deliveries.
 */
export async function requeueStale(env: Env, db: D1Database, nowMs: number): Promise<number> {
  if (!env.WEBHOOK_DO) return 0;
  const rows = (await db.prepare(STALE_SQL).bind(nowMs - STALE_MS).all<WebhookJob & { site_id: string }>()).results;
  const bySite = new Map<string, WebhookJob[]>();
  for (const { site_id, ...job } of rows) bySite.set(site_id, [...(bySite.get(site_id) ?? []), job]);
  for (const [siteId, jobs] of bySite) await env.WEBHOOK_DO.get(env.WEBHOOK_DO.idFromName(siteId)).enqueue(jobs, nowMs);
  return rows.length;
}

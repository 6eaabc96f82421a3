/**
 * The bulk request body: `{"events": [...]}`, 1 to MAX_BULK_EVENTS events. The envelope is
 * checked here (a malformed one is a 400 for the whole request); each event is checked on its
 * own (a bad one is an `invalid` result for that event alone). An event's name, url, domain,
 * props and revenue go through the browser path's parsePayload, so they are read exactly as
 * /api/event reads them (and `user_id` with `traits`, identify() for a site with identity on); the
 * fields only a server sends (timestamp, ip, user_agent, idempotency_key) are checked here.
 */
import { type Drop, drop, isDrop } from "../ingest/drop";
import { ENGAGEMENT, type EventPayload, parsePayload } from "../ingest/payload";
import { WEB_VITALS } from "../ingest/vitals";
import { forwardedFor } from "../ingest/pipeline";
import { wellFormed } from "../ingest/well-formed";

/** Most events in one request. */
export const MAX_BULK_EVENTS = 1000;
/** Largest request body, in bytes (1,000 events with long URLs and props). */
export const MAX_BULK_BYTES = 4 * 1024 * 1024;
/** Longest idempotency key and user agent, in characters. */
export const MAX_KEY_LENGTH = 200;
export const MAX_USER_AGENT_LENGTH = 1000;

/** One checked bulk event. */
export interface BulkEvent {
  payload: EventPayload;
  domain: string;
  ts: number;
  ip: string;
  userAgent: string;
  key: string | null;
}

type Json = Record<string, unknown>;

/** The events array of a body, or the reason the request is malformed (a 400). */
export function parseEnvelope(text: string): unknown[] | string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return "body is not valid JSON";
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "body must be a JSON object";
  const events = (body as Json).events;
  if (!Array.isArray(events)) return "events must be an array";
  if (events.length === 0) return "events must not be empty";
  if (events.length > MAX_BULK_EVENTS) return `events holds more than ${MAX_BULK_EVENTS} events`;
  return events;
}

/** One event of the array, checked; an `invalid` drop naming the field otherwise. */
export function parseBulkEvent(value: unknown): BulkEvent | Drop {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return drop("invalid", "an event must be a JSON object");
  const fields = value as Json;
  const ts = fields.timestamp;
  if (typeof ts !== "number" || !Number.isSafeInteger(ts) || ts <= 0) return drop("invalid", "timestamp must be Unix milliseconds (an integer)");
  const ip = typeof fields.ip === "string" ? forwardedFor(fields.ip) : null;
  if (ip === null) return drop("invalid", "ip must be the visitor's IPv4 or IPv6 address");
  const ua = fields.user_agent;
  if (typeof ua !== "string" || ua.length > MAX_USER_AGENT_LENGTH) {
    return drop("invalid", `user_agent must be a string of at most ${MAX_USER_AGENT_LENGTH} characters`);
  }
  const key = fields.idempotency_key;
  if (key !== undefined && key !== null && (typeof key !== "string" || key === "" || key.length > MAX_KEY_LENGTH)) {
    return drop("invalid", `idempotency_key must be a string of 1 to ${MAX_KEY_LENGTH} characters`);
  }
  if (typeof fields.domain !== "string" || fields.domain.includes(",")) return drop("invalid", "domain must name one site");
  // Reports about a page view in a browser: a server has no page view to attach them to.
  const name = typeof fields.name === "string" ? fields.name.trim() : "";
  if (name === ENGAGEMENT || name === WEB_VITALS) return drop("invalid", `name ${JSON.stringify(name)} is reserved for the tracker`);
  const payload = parsePayload(
    JSON.stringify({
      name: fields.name,
      url: fields.url,
      domain: fields.domain,
      props: fields.props,
      revenue: fields.revenue,
      interactive: fields.interactive,
      // identify() from a server: judged per site by ingest/identity.ts, as from a browser.
      user_id: fields.user_id,
      traits: fields.traits,
    }),
  );
  if (isDrop(payload)) return payload;
  return {
    payload,
    domain: payload.domains[0] as string,
    ts,
    ip,
    userAgent: wellFormed(ua),
    key: typeof key === "string" ? wellFormed(key) : null,
  };
}

// Shared test helpers: site rows, event requests, a D1 dump, and a D1 wrapper that fails.
import { env, exports } from "cloudflare:workers";

/** Inserts a site and returns its id. Use a unique domain per test (the site cache is per isolate). */
export async function createSite(domain: string, id = `site-${domain}`): Promise<string> {
  await env.DB.prepare("INSERT INTO sites (id, domain, name, domains, timezone, created_at) VALUES (?, ?, ?, ?, 'UTC', 0)")
    .bind(id, domain, domain, JSON.stringify([domain]))
    .run();
  return id;
}

export const CHROME_UA =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/** POSTs an event body to the Worker as the tracker would (text/plain JSON). */
export function postEvent(body: unknown, headers: Record<string, string> = {}, cf?: Record<string, unknown>): Promise<Response> {
  return exports.default.fetch("https://collector.test/api/event", {
    method: "POST",
    cf,
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "Content-Type": "text/plain", "User-Agent": CHROME_UA, "CF-Connecting-IP": "203.0.113.7", ...headers },
  });
}

/** The SiteDO stub of a site, as the Worker addresses it. */
export function siteStub(siteId: string) {
  return env.SITE_DO.get(env.SITE_DO.idFromName(siteId));
}

/** Rows of a D1 table for one site, oldest first. */
export async function rows<T = Record<string, unknown>>(table: "events" | "sessions", siteId: string): Promise<T[]> {
  const order = table === "events" ? "ts, id" : "started_at, id";
  const result = await env.DB.prepare(`SELECT * FROM ${table} WHERE site_id = ? ORDER BY ${order}`).bind(siteId).all<T>();
  return result.results;
}

/**
 * A D1Database whose batch() fails the first `failures` calls, then delegates to `db`. With
 * `commitThenFail`, the batch is committed and the error thrown afterwards: the "D1 wrote it but
 * the answer was lost" case that makes flushes replay.
 */
export function flakyD1(db: D1Database, failures: number, { commitThenFail = false } = {}) {
  const calls = { batch: 0, failed: 0 };
  const wrapper = new Proxy(db, {
    get(target, property) {
      if (property === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          calls.batch++;
          if (calls.failed < failures) {
            calls.failed++;
            if (commitThenFail) await target.batch(statements);
            throw new Error("D1_ERROR: simulated outage");
          }
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db: wrapper, calls };
}

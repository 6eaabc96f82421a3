// Webhooks: Standard Webhooks signatures (the scheme's own test vector), destinations refused,
// and the WebhookDO's at-least-once delivery: a 500 retried after its backoff with the same
// webhook-id and a fresh signature, attempts over more than 24 hours before giving up, private
// destinations never fetched, deliveries of deleted endpoints dropped, the log rows in D1.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { destinationProblem } from "../src/webhooks/destination";
import { emitEvent, redeliver, requeueStale, STALE_MS } from "../src/webhooks/events";
import { signWebhook } from "../src/webhooks/sign";
import { ATTEMPT_DELAYS_MS, type WebhookDO } from "../src/webhooks/webhook-do";

const NOW = Date.UTC(2026, 0, 12, 6);
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/** The receiving endpoint: answers `statuses` in turn (then 200) and keeps what it was sent. */
function receiver(statuses: number[] = []): { fetcher: typeof fetch; calls: { url: string; headers: Headers; body: string }[] } {
  const calls: { url: string; headers: Headers; body: string }[] = [];
  const fetcher = (async (url: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(url), headers: new Headers(init?.headers), body: String(init?.body) });
    return new Response("ok", { status: statuses.shift() ?? 200 });
  }) as typeof fetch;
  return { fetcher, calls };
}

async function site(id: string, url: string, events: string[] = ["report.sent"]): Promise<string> {
  await env.DB.prepare("INSERT INTO sites (id, domain, name, created_at) VALUES (?1, ?1 || '.test', ?1, 0)").bind(id).run();
  await env.DB.prepare("INSERT INTO webhook_endpoints (id, site_id, url, events, secret, created_at) VALUES (?1 || '-ep', ?1, ?2, ?3, ?4, 0)")
    .bind(id, url, JSON.stringify(events), SECRET).run();
  return `${id}-ep`;
}

function stub(siteId: string) {
  return env.WEBHOOK_DO!.get(env.WEBHOOK_DO!.idFromName(siteId));
}

async function deliveries(siteId: string) {
  return (await env.DB.prepare("SELECT event, status, attempts, last_status, last_error, next_attempt_at FROM webhook_deliveries WHERE site_id = ? ORDER BY created_at, id").bind(siteId).all()).results;
}

describe("webhook signatures", () => {
  it("match the Standard Webhooks test vector", async () => {
    expect(await signWebhook(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}')).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("refuse private, loopback and plain-http destinations outside WEBHOOK_DEV", () => {
    for (const url of ["http://hooks.example.com/x", "https://10.0.0.8/x", "https://127.0.0.1/x", "https://[::1]/x", "https://localhost/x", "https://192.168.1.2/x", "ftp://a.example/x", "https://u:p@hooks.example.com/"]) {
      expect(destinationProblem(url, false), url).not.toBeNull();
    }
    expect(destinationProblem("https://hooks.example.com/x", false)).toBeNull();
    expect(destinationProblem("http://127.0.0.1:9999/x", true)).toBeNull();
  });
});

describe("the WebhookDO", () => {
  it("retries a 500 after its backoff, signed afresh with the same id, and logs each attempt", async () => {
    await site("wh1", "https://hooks.example.com/in");
    const [id] = await emitEvent(env, env.DB, "wh1", "report.sent", { site: "wh1.test", kind: "weekly" }, NOW);
    expect(id).toMatch(/^msg_/);
    const { fetcher, calls } = receiver([500]);
    await runInDurableObject(stub("wh1"), async (instance: WebhookDO) => {
      expect(await instance.deliverDue(NOW, fetcher)).toBe(1);
    });
    expect(await deliveries("wh1")).toEqual([{ event: "report.sent", status: "pending", attempts: 1, last_status: 500, last_error: "answered 500", next_attempt_at: NOW + ATTEMPT_DELAYS_MS[1]! }]);
    await runInDurableObject(stub("wh1"), async (instance: WebhookDO) => {
      expect(await instance.deliverDue(NOW + ATTEMPT_DELAYS_MS[1]! - 1, fetcher)).toBe(0);
      expect(await instance.deliverDue(NOW + ATTEMPT_DELAYS_MS[1]!, fetcher)).toBe(1);
      expect(instance.pending()).toBe(0);
    });
    expect((await deliveries("wh1"))[0]).toMatchObject({ status: "delivered", attempts: 2, last_status: 200, last_error: null });
    expect(calls.map((c) => c.headers.get("webhook-id"))).toEqual([id, id]);
    for (const [i, call] of calls.entries()) {
      const ts = Number(call.headers.get("webhook-timestamp"));
      expect(ts).toBe(Math.floor((NOW + (i === 0 ? 0 : ATTEMPT_DELAYS_MS[1]!)) / 1000));
      expect(call.headers.get("webhook-signature")).toBe(await signWebhook(SECRET, id!, ts, call.body));
      expect(JSON.parse(call.body)).toEqual({ type: "report.sent", timestamp: new Date(NOW).toISOString(), data: { site: "wh1.test", kind: "weekly" } });
    }
  });

  it("gives up after the last attempt, more than 24 hours on", async () => {
    await site("wh2", "https://hooks.example.com/down");
    await emitEvent(env, env.DB, "wh2", "report.sent", {}, NOW);
    const { fetcher, calls } = receiver(Array(20).fill(503));
    let at = NOW;
    await runInDurableObject(stub("wh2"), async (instance: WebhookDO) => {
      for (let i = 0; i < ATTEMPT_DELAYS_MS.length; i++) {
        at = NOW + ATTEMPT_DELAYS_MS.slice(0, i + 1).reduce((a, b) => a + b, 0);
        expect(await instance.deliverDue(at, fetcher)).toBe(1);
      }
      expect(instance.pending()).toBe(0);
    });
    expect(calls).toHaveLength(ATTEMPT_DELAYS_MS.length);
    expect(at - NOW).toBeGreaterThan(24 * 3_600_000);
    expect((await deliveries("wh2"))[0]).toMatchObject({ status: "failed", attempts: ATTEMPT_DELAYS_MS.length, last_status: 503, next_attempt_at: 0 });
    // Manual redelivery starts the attempts over, with the same message.
    const [row] = (await env.DB.prepare("SELECT id FROM webhook_deliveries WHERE site_id = 'wh2'").all<{ id: string }>()).results;
    expect(await redeliver(env, env.DB, "wh2", row!.id, at)).toBe(true);
    await runInDurableObject(stub("wh2"), async (instance: WebhookDO) => {
      expect(await instance.deliverDue(at, receiver().fetcher)).toBe(1);
    });
    expect((await deliveries("wh2"))[0]).toMatchObject({ status: "delivered", attempts: 1, last_status: 200 });
  });

  it("never fetches a private destination, and drops deliveries whose row is gone", async () => {
    await site("wh3", "http://10.0.0.8/hook");
    await emitEvent(env, env.DB, "wh3", "report.sent", {}, NOW);
    const { fetcher, calls } = receiver();
    await runInDurableObject(stub("wh3"), async (instance: WebhookDO) => {
      await instance.deliverDue(NOW, fetcher);
    });
    expect(calls).toHaveLength(0);
    expect((await deliveries("wh3"))[0]).toMatchObject({ status: "pending", attempts: 1, last_status: null, last_error: "refused: webhooks go to https URLs only" });
    await env.DB.prepare("DELETE FROM webhook_deliveries WHERE site_id = 'wh3'").run();
    await runInDurableObject(stub("wh3"), async (instance: WebhookDO) => {
      expect(await instance.deliverDue(NOW + 10 * 3_600_000, fetcher)).toBe(0);
      expect(instance.pending()).toBe(0);
    });
  });

  it("hands a pending delivery whose job was lost to the WebhookDO again (the cron's safety net)", async () => {
    await site("wh5", "https://hooks.example.com/lost");
    // Logged, but never enqueued (the hand-over failed after the row was written).
    await env.DB.prepare("INSERT INTO webhook_deliveries (id, site_id, endpoint_id, event, payload, status, created_at, next_attempt_at) VALUES ('msg_lost', 'wh5', 'wh5-ep', 'report.sent', '{}', 'pending', ?1, ?1)").bind(NOW).run();
    expect(await requeueStale(env, env.DB, NOW + STALE_MS - 1)).toBe(0);
    expect(await requeueStale(env, env.DB, NOW + STALE_MS + 1)).toBe(1);
    const { fetcher, calls } = receiver();
    await runInDurableObject(stub("wh5"), async (instance: WebhookDO) => {
      expect(await instance.deliverDue(NOW + STALE_MS + 1, fetcher)).toBe(1);
    });
    expect(calls.map((c) => c.headers.get("webhook-id"))).toEqual(["msg_lost"]);
    expect((await deliveries("wh5"))[0]).toMatchObject({ status: "delivered", attempts: 1 });
  });

  it("sends an event only to the endpoints subscribed to it", async () => {
    await site("wh4", "https://hooks.example.com/other", ["conversion.completed"]);
    expect(await emitEvent(env, env.DB, "wh4", "report.sent", {}, NOW)).toEqual([]);
    expect(await emitEvent(env, env.DB, "wh4", "webhook.test", {}, NOW, "wh4-ep")).toHaveLength(1);
  });
});

// Realtime: token checks, the hibernatable WebSocket, pushes after ingest, state in storage.
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ClientInfo, CollectedEvent } from "../src/contract";
import { readSnapshot } from "../src/site-do/realtime/state";
import { getRealtime } from "../src/collector/realtime/routes";
import { REAUTH_LEAD_MS } from "../src/site-do/realtime/sockets";
import { DEV_SECRET, isLoopbackHost, signToken, verifyToken } from "../src/collector/realtime/token";
import type { SiteDO } from "../src/site-do/site-do";
import { CHROME_UA, collectedEvent, createSite, ingestOk, siteStub } from "./helpers";

const SECRET = env.REALTIME_SECRET as string;
const CLIENT: ClientInfo = { ip: "198.51.100.23", userAgent: CHROME_UA };
const nowS = () => Math.floor(Date.now() / 1000);

function event(siteId: string, pathname: string, extra: Partial<CollectedEvent> = {}): CollectedEvent {
  return collectedEvent({
    site_id: siteId, hostname: "rt.test", pathname, source: "news.example", channel: "Referral",
    country: "NL", device: "desktop", browser: "Chrome", browser_version: "131",
    os: "Windows", os_version: "10", screen: "desktop", ...extra,
  });
}

async function openSocket(domain: string, token: string) {
  const response = await exports.default.fetch(`https://collector.test/api/realtime/${domain}?token=${encodeURIComponent(token)}`, {
    headers: { Upgrade: "websocket" },
  });
  expect(response.status).toBe(101);
  const ws = response.webSocket as WebSocket;
  const messages: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason })),
  );
  ws.addEventListener("message", (e) => {
    if (typeof e.data === "string" && e.data.startsWith("{")) messages.push(JSON.parse(e.data));
    waiters.splice(0).forEach((wake) => wake());
  });
  ws.accept();
  /** Resolves with the first message (from index `from`) that satisfies `test`. */
  async function next(test: (m: Record<string, unknown>) => boolean, from = 0, timeoutMs = 2000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = messages.slice(from).find(test);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching message; got ${JSON.stringify(messages)}`);
      await Promise.race([new Promise<void>((r) => waiters.push(r)), new Promise((r) => setTimeout(r, 50))]);
    }
  }
  return { ws, messages, next, closed };
}

describe("realtime tokens", () => {
  it("accepts a good token and refuses bad signature, expiry, other site, long life", async () => {
    const good = await signToken(SECRET, "a.test", nowS() + 60);
    expect(await verifyToken(good, SECRET, "a.test")).toMatchObject({ ok: true, site: "a.test" });
    expect(await verifyToken(good, "other-secret", "a.test")).toEqual({ ok: false, reason: "bad token signature" });
    expect(await verifyToken(good, SECRET, "b.test")).toEqual({ ok: false, reason: "token is for another site" });
    expect(await verifyToken(await signToken(SECRET, "a.test", nowS() - 1), SECRET, "a.test")).toEqual({ ok: false, reason: "token expired" });
    expect(await verifyToken(await signToken(SECRET, "a.test", nowS() + 3600), SECRET, "a.test")).toMatchObject({ ok: false, reason: "token lifetime too long" });
    const [payload, signature] = good.split(".");
    const forged = `${btoa(JSON.stringify({ site: "b.test", exp: nowS() + 60 })).replace(/=+$/, "")}.${signature}`;
    expect(await verifyToken(forged, SECRET, "b.test")).toMatchObject({ ok: false });
    expect(await verifyToken(`${payload}`, SECRET, "a.test")).toEqual({ ok: false, reason: "malformed token" });
    expect(await verifyToken(null, SECRET, "a.test")).toEqual({ ok: false, reason: "missing token" });
    expect(await verifyToken(good, "", "a.test")).toMatchObject({ ok: false });
  });

  it("a refused socket is closed with 1008 and the reason", async () => {
    await createSite("refused.test");
    const cases: [string, string][] = [
      [await signToken("wrong-secret", "refused.test", nowS() + 60), "bad token signature"],
      [await signToken(SECRET, "refused.test", nowS() - 5), "token expired"],
      [await signToken(SECRET, "other.test", nowS() + 60), "token is for another site"],
      ["garbage", "malformed token"],
    ];
    for (const [token, reason] of cases) {
      const { closed } = await openSocket("refused.test", token);
      expect(await closed).toEqual({ code: 1008, reason });
    }
  });

  it("the snapshot endpoint answers 401/403/404 and the state", async () => {
    const siteId = await createSite("snap.test");
    const get = (domain: string, token: string) => exports.default.fetch(`https://collector.test/api/realtime/${domain}/snapshot?token=${token}`);
    expect((await get("snap.test", await signToken("nope", "snap.test", nowS() + 60))).status).toBe(401);
    expect((await get("snap.test", await signToken(SECRET, "snap.test", nowS() - 1))).status).toBe(401);
    expect((await get("snap.test", await signToken(SECRET, "x.test", nowS() + 60))).status).toBe(403);
    expect((await get("nosite.test", await signToken(SECRET, "nosite.test", nowS() + 60))).status).toBe(404);

    const ids = await ingestOk(siteStub(siteId), event(siteId, "/pricing"), CLIENT);
    const response = await get("snap.test", await signToken(SECRET, "snap.test", nowS() + 60));
    expect(response.status).toBe(200);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("*");
    const body = (await response.json()) as ReturnType<typeof readSnapshot>;
    expect(body.visitors).toBe(1);
    expect(body.minutes).toHaveLength(30);
    expect(body.minutes.at(-1)).toBe(1);
    expect(body.top.page).toEqual([["/pricing", 1]]);
    expect(body.events).toEqual([{ name: "pageview", path: "/pricing", country: "NL", ts: expect.any(Number) }]);
    const text = JSON.stringify(body);
    expect(text).not.toMatch(/198\.51|visitor_id|session/);
    for (const id of Object.values(ids)) expect(text).not.toContain(id);
  });

  it("a malformed percent-escape in the site answers 400, on both routes", async () => {
    const token = encodeURIComponent(await signToken(SECRET, "x.test", nowS() + 60));
    for (const [path, headers] of [["/api/realtime/%ZZ/snapshot", {}], ["/api/realtime/%ZZ", { Upgrade: "websocket" }], ["/api/realtime/a%E0%A4", { Upgrade: "websocket" }]] as const) {
      const response = await exports.default.fetch(`https://collector.test${path}?token=${token}`, { headers });
      expect(response.status, path).toBe(400);
      expect(await response.json()).toMatchObject({ code: "bad_request", message: expect.stringContaining("percent-encoding") });
    }
  });

  it("refuses the development secret and short secrets outside loopback, with a reason", async () => {
    const siteId = await createSite("weak.test");
    await ingestOk(siteStub(siteId), event(siteId, "/"), CLIENT);
    const call = async (origin: string, secret: string, socket = false) => {
      const token = encodeURIComponent(await signToken(secret, "weak.test", nowS() + 60));
      const path = socket ? "/api/realtime/weak.test" : "/api/realtime/weak.test/snapshot";
      const request = new Request(`${origin}${path}?token=${token}`, { headers: socket ? { Upgrade: "websocket" } : {} });
      return getRealtime(request, { ...env, REALTIME_SECRET: secret });
    };
    for (const secret of [DEV_SECRET, "short-but-not-empty"]) {
      const refused = await call("https://collector.example", secret);
      expect(refused.status).toBe(503);
      expect(await refused.json()).toMatchObject({ code: "realtime_misconfigured", message: expect.stringContaining("REALTIME_SECRET") });
      const socket = (await call("https://collector.example", secret, true)).webSocket as WebSocket;
      const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason })));
      socket.accept();
      expect(await closed).toEqual({ code: 1011, reason: secret === DEV_SECRET ? "REALTIME_SECRET is the public development value" : "REALTIME_SECRET is shorter than 32 bytes" });
      // Local development (wrangler dev, the demo) keeps working.
      for (const origin of ["http://localhost:8787", "http://127.0.0.1:8787", "http://127.3.2.1", "http://[::1]:8787"]) {
        expect((await call(origin, secret)).status, origin).toBe(200);
      }
    }
    expect((await call("https://collector.example", SECRET)).status).toBe(200);
    expect(SECRET).not.toBe(DEV_SECRET);
    expect(["localhost", "127.0.0.1", "[::1]", "LOCALHOST"].every(isLoopbackHost)).toBe(true);
    expect(["localhost.example", "127.0.0.1.example", "128.0.0.1", "[::2]", "0.0.0.0", "example.com"].some(isLoopbackHost)).toBe(false);
  });

  it("the socket route without an upgrade answers 426", async () => {
    const response = await exports.default.fetch("https://collector.test/api/realtime/snap.test?token=x");
    expect(response.status).toBe(426);
  });
});

describe("realtime socket", () => {
  it("sends a snapshot on connect and a coalesced delta after ingest", async () => {
    const siteId = await createSite("live.test");
    const stub = siteStub(siteId);
    const socket = await openSocket("live.test", await signToken(SECRET, "live.test", nowS() + 60));
    const first = await socket.next((m) => m.type === "snapshot");
    expect(first).toMatchObject({ visitors: 0, events: [] });

    const before = socket.messages.length;
    await Promise.all([
      ingestOk(stub, event(siteId, "/a"), CLIENT),
      ingestOk(stub, event(siteId, "/b", { country: "FR" }), { ...CLIENT, ip: "198.51.100.99" }),
      ingestOk(stub, event(siteId, "/a", { name: "Signup" }), CLIENT),
    ]);
    const delta = await socket.next((m) => m.type === "delta" && (m.events as unknown[]).length === 3, before);
    expect(delta).toMatchObject({ visitors: 2, top: { page: [["/a", 1], ["/b", 1]] } });
    // One burst, one message (coalesced), newest first.
    expect(socket.messages.slice(before).filter((m) => m.type === "delta")).toHaveLength(1);
    expect((delta.events as { name: string }[]).map((e) => e.name)).toContain("Signup");

    // The attachment survives with the socket; ping is answered by the auto-response.
    await runInDurableObject(stub, (instance: SiteDO, state) => {
      const [ws] = state.getWebSockets();
      expect(ws?.deserializeAttachment()).toMatchObject({ site: "live.test", exp: expect.any(Number) });
      expect(state.getWebSocketAutoResponse()).not.toBeNull();
    });
    const pong = new Promise((resolve) => socket.ws.addEventListener("message", (e) => e.data === "pong" && resolve(e.data)));
    socket.ws.send("ping");
    await expect(Promise.race([pong, new Promise((r) => setTimeout(() => r("timeout"), 2000))])).resolves.toBe("pong");
    socket.ws.close(1000, "done");
  });

  it("keeps the realtime state across DO eviction", async () => {
    const siteId = await createSite("rt-evict.test");
    const stub = siteStub(siteId);
    await ingestOk(stub, event(siteId, "/kept"), CLIENT);
    await evictDurableObject(stub);
    const state = await runInDurableObject(stub, (_instance: SiteDO, s) => readSnapshot(s.storage.sql, Date.now()));
    expect(state.visitors).toBe(1);
    expect(state.top.page).toEqual([["/kept", 1]]);
    expect(state.events.map((e) => e.path)).toEqual(["/kept"]);
  });

  it("keeps only the last 20 feed items and drops stale windows", async () => {
    const siteId = await createSite("rt-window.test");
    const stub = siteStub(siteId);
    const old = Date.now() - 40 * 60_000;
    await ingestOk(stub, event(siteId, "/old", { ts: old }), { ...CLIENT, ip: "198.51.100.1" });
    for (let i = 0; i < 25; i++) await ingestOk(stub, event(siteId, `/p${i}`), CLIENT);
    const state = await runInDurableObject(stub, (_instance: SiteDO, s) => readSnapshot(s.storage.sql, Date.now()));
    expect(state.events).toHaveLength(20);
    expect(state.events[0]?.path).toBe("/p24");
    expect(state.visitors).toBe(1); // the visitor of 40 minutes ago is not "now"
    expect(state.minutes.reduce((a, b) => a + b, 0)).toBe(25);
  });

  it("sums a burst sharing one group commit", async () => {
    const siteId = await createSite("rt-burst.test");
    const stub = siteStub(siteId);
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        ingestOk(stub, event(siteId, i % 2 ? "/odd" : "/even"), { ...CLIENT, ip: `198.51.100.${i}` }),
      ),
    );
    const state = await runInDurableObject(stub, (_instance: SiteDO, s) => readSnapshot(s.storage.sql, Date.now()));
    expect(state.visitors).toBe(30);
    expect(state.top.page).toEqual([["/even", 15], ["/odd", 15]]);
    expect(state.top.source).toEqual([["news.example", 30]]);
    expect(state.events).toHaveLength(20);
    expect(state.minutes.reduce((a, b) => a + b, 0)).toBe(30);
  });
});

describe("realtime socket token expiry", () => {
  /** Moves the DO's clock (the time token expiry is judged by) and returns its pending alarm. */
  const setClock = (stub: ReturnType<typeof siteStub>, at: number | null) =>
    runInDurableObject(stub, async (instance: SiteDO, state) => {
      if (at !== null) instance.clock = () => at;
      return state.storage.getAlarm();
    });

  it("sends reauth 30 s before the token expires, keeps pushing, then closes the socket at the expiry", async () => {
    const siteId = await createSite("expiry.test");
    const stub = siteStub(siteId);
    const exp = nowS() + 120;
    const token = await signToken(SECRET, "expiry.test", exp);
    const socket = await openSocket("expiry.test", token);
    await socket.next((m) => m.type === "snapshot");
    // The alarm is set for the reauth message.
    expect(await setClock(stub, exp * 1000 - REAUTH_LEAD_MS)).toBe(exp * 1000 - REAUTH_LEAD_MS);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await socket.next((m) => m.type === "reauth")).toEqual({ type: "reauth", exp });

    // Until the expiry the socket still gets deltas (the page renews meanwhile, without a gap).
    const before = socket.messages.length;
    await ingestOk(stub, event(siteId, "/after-reauth"), CLIENT);
    await socket.next((m) => m.type === "delta", before);
    await runDurableObjectAlarm(stub); // the flush (unless it already ran by itself)
    const alarm = await runInDurableObject(stub, async (_instance: SiteDO, state) => {
      expect(state.getWebSockets()[0]?.deserializeAttachment()).toMatchObject({ exp, reauthSent: true });
      return state.storage.getAlarm();
    });
    expect(alarm).toBe(exp * 1000);
    expect(socket.messages.filter((m) => m.type === "reauth")).toHaveLength(1);

    // At the expiry the socket is closed, renewed or not: revoked access ends with the token.
    await setClock(stub, exp * 1000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await socket.closed).toEqual({ code: 1008, reason: "token expired" });
    expect(await setClock(stub, null)).toBeGreaterThan(exp * 1000); // the salt expiry, not the socket
  });

  it("a push closes an expired socket instead of sending it the delta", async () => {
    const siteId = await createSite("expiry-push.test");
    const stub = siteStub(siteId);
    const exp = nowS() + 60;
    const socket = await openSocket("expiry-push.test", await signToken(SECRET, "expiry-push.test", exp));
    await socket.next((m) => m.type === "snapshot");
    await setClock(stub, exp * 1000 + 1);
    await ingestOk(stub, event(siteId, "/late"), CLIENT);
    expect(await socket.closed).toEqual({ code: 1008, reason: "token expired" });
    expect(socket.messages.map((m) => m.type)).toEqual(["snapshot"]);
  });

  it("one alarm serves the flush and the sockets, at the earlier of them", async () => {
    const siteId = await createSite("expiry-alarm.test");
    const stub = siteStub(siteId);
    const late = nowS() + 280;
    const soon = nowS() + 100;
    const sockets = [
      await openSocket("expiry-alarm.test", await signToken(SECRET, "expiry-alarm.test", late)),
      await openSocket("expiry-alarm.test", await signToken(SECRET, "expiry-alarm.test", soon)),
    ];
    await Promise.all(sockets.map((s) => s.next((m) => m.type === "snapshot")));
    expect(await setClock(stub, null)).toBe(soon * 1000 - REAUTH_LEAD_MS);

    // An event's flush is due sooner: the alarm moves forward, and after the flush goes back to
    // the sockets' next moment.
    await ingestOk(stub, event(siteId, "/x"), CLIENT);
    expect(await setClock(stub, null)).toBeLessThan(soon * 1000 - REAUTH_LEAD_MS);
    await runDurableObjectAlarm(stub);
    expect(await setClock(stub, null)).toBe(soon * 1000 - REAUTH_LEAD_MS);

    // Only the socket due is told; the other one's moment is next.
    await setClock(stub, soon * 1000 - REAUTH_LEAD_MS);
    await runDurableObjectAlarm(stub);
    await sockets[1]?.next((m) => m.type === "reauth");
    expect(sockets[0]?.messages.some((m) => m.type === "reauth")).toBe(false);
    expect(await setClock(stub, null)).toBe(soon * 1000);
    await setClock(stub, soon * 1000);
    await runDurableObjectAlarm(stub);
    expect(await sockets[1]?.closed).toEqual({ code: 1008, reason: "token expired" });
    expect(await setClock(stub, null)).toBe(late * 1000 - REAUTH_LEAD_MS);
    sockets[0]?.ws.close(1000, "done");
  });
});

// Drives static/src/realtime.js (the dashboard badge's connection) with fake WebSocket, fetch and
// timers, in a vm context: a `reauth` message makes the page fetch a new token and open a second
// socket, which replaces the first only once it is live, so the figures never stop; when a token
// cannot be renewed (access revoked), the socket closed at expiry ends in a reconnect that fails.
// Run by tests/test_realtime.py; exits non-zero on the first failed assertion.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import vm from "node:vm";

const source = readFileSync(new URL("../../static/src/realtime.js", import.meta.url), "utf8");
const flush = () => new Promise((resolve) => setImmediate(resolve));

function harness() {
  const sockets = [];
  const fetches = [];
  const timers = [];
  const world = { tokens: 0, revoked: false };
  class FakeSocket {
    static OPEN = 1;
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.listeners = {};
      this.closedWith = null;
      sockets.push(this);
    }
    addEventListener(type, listener) {
      (this.listeners[type] ??= []).push(listener);
    }
    emit(type, event) {
      for (const listener of this.listeners[type] ?? []) listener(event);
    }
    open() {
      this.readyState = 1;
      this.emit("open", {});
    }
    message(body) {
      this.emit("message", { data: JSON.stringify(body) });
    }
    send() {}
    close(code, reason) {
      if (this.readyState === 3) return;
      this.closedWith = { code, reason };
      this.readyState = 3;
      this.emit("close", { code, reason });
    }
  }
  const count = { textContent: "" };
  const badge = { dataset: { tokenUrl: "/admin/analytics/s.test/realtime/token" } };
  const document = {
    readyState: "complete",
    body: { addEventListener() {} },
    addEventListener() {},
    querySelector(selector) {
      if (selector === "[data-realtime-badge]") return badge;
      if (selector === "[data-realtime-badge] [data-realtime-count]") return count;
      return null;
    },
  };
  async function fetch(url) {
    fetches.push(url);
    if (url.includes("/realtime/token")) {
      if (world.revoked) return { ok: false, status: 404, json: async () => ({}) };
      world.tokens += 1;
      const body = { token: `tok${world.tokens}`, ttl: 120, socket_url: "wss://c.test/api/realtime/s.test", snapshot_url: "https://c.test/api/realtime/s.test/snapshot" };
      return { ok: true, status: 200, json: async () => body };
    }
    return { ok: false, status: 503, json: async () => ({}) };
  }
  const context = vm.createContext({
    document, fetch, WebSocket: FakeSocket, Intl, Math, JSON, Date, Promise, encodeURIComponent,
    setTimeout: (fn, ms) => timers.push({ fn, ms }),
    clearTimeout() {},
    setInterval: () => 0,
    clearInterval() {},
  });
  vm.runInContext(source, context);
  return { sockets, fetches, timers, world, count };
}

const state = (visitors, type = "snapshot") => ({ type, now: 0, visitors, minutes: [], top: {}, events: [] });

// Renewal without a gap.
{
  const { sockets, fetches, timers, count } = harness();
  await flush();
  assert.equal(sockets.length, 1);
  assert.match(sockets[0].url, /token=tok1$/);
  sockets[0].open();
  sockets[0].message(state(3));
  assert.equal(count.textContent, "3");

  sockets[0].message({ type: "reauth", exp: 1 });
  await flush();
  assert.equal(sockets.length, 2, "reauth opens a second socket");
  assert.match(sockets[1].url, /token=tok2$/, "with a fresh token");
  // The old socket still counts until the new one is live.
  sockets[0].message(state(4, "delta"));
  assert.equal(count.textContent, "4");
  assert.equal(sockets[0].closedWith, null);

  sockets[1].open();
  sockets[1].message(state(5));
  assert.equal(count.textContent, "5");
  assert.deepEqual(sockets[0].closedWith, { code: 1000, reason: "renewed" }, "the old socket goes once the new one is live");
  // Closing the replaced socket schedules nothing: no reconnect, no polling.
  assert.equal(timers.length, 0);
  assert.equal(fetches.filter((url) => url.includes("/snapshot")).length, 0);
  sockets[1].message(state(6, "delta"));
  assert.equal(count.textContent, "6");

  // A server close at expiry (no renewal happened) reconnects with a new token.
  sockets[1].close(1008, "token expired");
  assert.equal(timers.length, 1, "one reconnect scheduled");
  await flush();
  timers.shift().fn();
  await flush();
  assert.equal(sockets.length, 3);
  assert.doesNotMatch(sockets[2].url, /tok[12]$/);
}

// Access revoked: the renewal cannot get a token, the old socket lives to its expiry, then the
// reconnect fails too and the page shows no more live figures.
{
  const { sockets, timers, world, count } = harness();
  await flush();
  sockets[0].open();
  sockets[0].message(state(7));
  world.revoked = true;
  sockets[0].message({ type: "reauth", exp: 1 });
  await flush();
  assert.equal(sockets.length, 1, "no token, no second socket");
  sockets[0].message(state(8, "delta"));
  assert.equal(count.textContent, "8");
  sockets[0].close(1008, "token expired");
  await flush();
  // Reconnects and polls, a few rounds of each (polling re-arms itself for ever).
  for (let round = 0; round < 10 && timers.length > 0; round++) {
    timers.shift().fn();
    await flush();
  }
  assert.equal(sockets.length, 1, "no socket opens without a token");
}

console.log("realtime renewal: ok");

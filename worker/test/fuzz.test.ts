// Fuzz: 10,000+ random and hostile requests through the Worker's fetch handler in workerd. None
// may answer 5xx; where a case has a known outcome it must get it; and the books must balance:
// every 202 `{ok: true}` is one row in D1 and every other answer one count in ingest_drops; and
// no stored text holds a lone surrogate's bytes.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { flushDropCounts } from "../src/collector/ingest/drop-counter";
import { CHROME_UA, createSite, drainOutbox, siteStub, surrogateColumns } from "./helpers";

const REQUESTS = 10_240;
const BATCH = 64;
const DOMAIN = "fuzz.test";

/** Mulberry32: a small seeded PRNG, so a failure can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE_STRINGS = [
  "'; DROP TABLE events; --", "\" OR 1=1 --", "<script>alert(1)</script>", "${7*7}", "{{7*7}}", "../../etc/passwd",
  "\u0000", "\uD800", "\uFEFF", "😀".repeat(50), "ä".repeat(3000), "x".repeat(121), "__proto__", "constructor",
  "%00", "\r\nSet-Cookie: a=b", "=cmd|' /C calc'!A0", "", " ", "null", "NaN", "-1", "1e309",
  // Lone surrogates alone, at the start and at the end (both halves), and a reversed pair.
  "\uDC00", "\uDBFFx", "\uDE00start", "end\uD83D", "end\uDFFF", "\uDE00\uD83D", "%ED%A0%80",
  // Control characters and escape sequences, a far date, a huge number as text, a long value.
  "\u0001\u0008\u001b[31mred\u007f\u009b", "\u202Eevil", "10000-01-01T00:00:00Z", "253402300800000", "9".repeat(400),
  "y".repeat(20_000),
];
const SHORT_STRINGS = HOSTILE_STRINGS.filter((text) => text.length < 200);
const HOSTILE_VALUES: unknown[] = [
  null, true, false, 0, -1, 1e308, -1e308, 2 ** 53 + 1, 0.1, [], [1, 2], {}, { a: { b: { c: {} } } }, ...HOSTILE_STRINGS,
];
const BOT_UAS = ["Googlebot/2.1 (+http://www.google.com/bot.html)", "curl/8.5.0", "", "python-requests/2.32"];

type Expect = "accepted" | "invalid" | "too_large" | "unknown_site" | "wrong_origin" | "bot" | null;

interface Case {
  body: BodyInit | null;
  headers: Record<string, string>;
  expect: Expect;
}

/** A case whose body is over 8 KB can only be too_large, whatever else is wrong with it. */
function makeCase(random: () => number, index: number): Case {
  const made = makeAnyCase(random, index);
  const size = typeof made.body === "string" ? new TextEncoder().encode(made.body).byteLength : 0;
  return size > 8 * 1024 ? { ...made, expect: "too_large" } : made;
}

function makeAnyCase(random: () => number, index: number): Case {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const headers: Record<string, string> = {
    "Content-Type": pick(["text/plain", "application/json", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded"]),
    "User-Agent": CHROME_UA,
    // A /64 of its own per request: the IP bucket counts a /64 as one address.
    "CF-Connecting-IP": `2001:db8:${index.toString(16)}::1`,
  };
  const valid = () => ({
    n: pick(["pageview", "pageview", "Signup", "Download", "ünïcødé 🎉"]),
    // Raw (the URL parser encodes it) or as a query value (lone surrogates and all).
    u: `https://${DOMAIN}/${pick(SHORT_STRINGS)}?q=${index}&utm_source=${pick(SHORT_STRINGS)}`,
    d: DOMAIN,
    r: pick([null, "https://www.google.com/", "not a url", "https://fuzz.test/self", `https://ref.example/${pick(SHORT_STRINGS)}`]),
    w: pick([390, 1280, 0]),
  });
  const json = (value: unknown, expect: Expect): Case => ({ body: JSON.stringify(value), headers, expect });
  switch (Math.floor(random() * 12)) {
    case 0:
      return json(valid(), "accepted");
    case 1: {
      // A random field gets a hostile value: accepted or invalid, never anything else.
      const event: Record<string, unknown> = valid();
      // "ts" and "timestamp" are not read (the Worker stamps the time): a far date there changes nothing.
      event[pick(["n", "u", "d", "r", "w", "p", "$", "i", "h", "e", "s", "props", "revenue", "name", "ts", "timestamp"])] = pick(HOSTILE_VALUES);
      return json(event, null);
    }
    case 2: {
      const text = JSON.stringify(valid());
      return { body: text.slice(0, Math.floor(random() * text.length)), headers, expect: "invalid" }; // truncated
    }
    case 3:
      return json(pick([null, [], [valid()], "pageview", 42, true]), "invalid");
    case 4: {
      const props: Record<string, unknown> = {};
      const count = Math.floor(random() * 40);
      for (let i = 0; i < count; i++) props[`${pick(HOSTILE_STRINGS).slice(0, 20)}${i}`] = pick(HOSTILE_VALUES);
      return json({ ...valid(), p: props, $: pick(HOSTILE_VALUES) }, null);
    }
    case 5:
      return json({ ...valid(), p: { pad: "x".repeat(9000) } }, "too_large");
    case 6:
      return json({ ...valid(), d: `nobody-${index}.test`, u: `https://nobody-${index}.test/` }, "unknown_site");
    case 7:
      return json({ ...valid(), u: `https://evil-${index % 7}.test/` }, "wrong_origin");
    case 8:
      return { ...json(valid(), "bot"), headers: { ...headers, "User-Agent": pick(BOT_UAS) } };
    case 9: {
      const bytes = new Uint8Array(Math.floor(random() * 300));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
      return { body: bytes, headers, expect: bytes.length === 0 ? "invalid" : null };
    }
    case 10: {
      let nested: unknown = valid();
      for (let depth = Math.floor(random() * 2000); depth > 0; depth--) nested = { x: nested };
      return json(nested, "invalid");
    }
    default:
      return json({ ...valid(), n: "engagement", e: pick([0, 1500, 1e12, -5, "x"]), s: pick([0, 50, 100, 1e9, -1]) }, null);
  }
}

/** True when a request body is an engagement report (the long key wins, as in payload.ts). */
function isEngagement(body: BodyInit | null | undefined): boolean {
  if (typeof body !== "string") return false;
  const parsed = JSON.parse(body) as { name?: unknown; n?: unknown };
  const name = parsed.name !== undefined ? parsed.name : parsed.n;
  return typeof name === "string" && name.trim() === "engagement";
}

describe("fuzz", () => {
  it(`answers ${REQUESTS} random and hostile requests without a 5xx, and counts every outcome`, { timeout: 120_000 }, async () => {
    const siteId = await createSite(DOMAIN, undefined, { rate_limit_visitor: 0 });
    const random = prng(941);
    const outcomes: Record<string, number> = {};
    let acceptedRows = 0; // accepted answers that add an event row (engagement reports update one)
    const mismatches: string[] = [];
    for (let start = 0; start < REQUESTS; start += BATCH) {
      const cases = Array.from({ length: BATCH }, (_, i) => makeCase(random, start + i));
      const responses = await Promise.all(
        cases.map((c) => exports.default.fetch("https://collector.test/api/event", { method: "POST", body: c.body, headers: c.headers })),
      );
      for (const [i, response] of responses.entries()) {
        expect(response.status, `case ${start + i}`).toBeLessThan(500);
        const body = await response.json<{ ok?: true; code?: string }>();
        const outcome = body.ok ? "accepted" : (body.code as string);
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        if (outcome === "accepted" && !isEngagement(cases[i]?.body)) acceptedRows++;
        const expected = cases[i]?.expect;
        if (expected && expected !== outcome) mismatches.push(`case ${start + i}: expected ${expected}, got ${outcome}`);
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
    console.log(`fuzz outcomes: ${JSON.stringify(outcomes)}`);

    // Accepted events and engagement reports reach D1 once the outbox drains.
    const stub = siteStub(siteId);
    expect(await drainOutbox(stub)).toBe(true);
    const stored = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE site_id = ?").bind(siteId).first<{ n: number }>();
    expect(stored?.n).toBe(acceptedRows);
    expect(acceptedRows).toBeGreaterThan(500);
    // No stored text is invalid UTF-8 (a lone surrogate's bytes would make every read of its row fail).
    expect(await surrogateColumns(siteId)).toEqual({});
    await flushDropCounts(env.DB);
    const counted = await env.DB.prepare("SELECT reason, sum(count) AS n FROM ingest_drops GROUP BY reason").all<{ reason: string; n: number }>();
    const drops = Object.fromEntries(counted.results.map((row) => [row.reason, row.n]));
    const { accepted: _accepted, ...dropResponses } = outcomes;
    expect(drops).toEqual(dropResponses);
    expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(REQUESTS);
  });
});

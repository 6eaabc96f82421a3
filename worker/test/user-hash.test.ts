// The identified user's stored id (site-do/user-hash.ts) and the route that hands it to the
// dashboard's erasure and access requests (collector/user-hash-route.ts): its token's scope,
// unknown sites, refused ids, and that it answers exactly what the site's DO would store.
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { archiveTokenKey } from "../src/collector/archive-routes";
import { signToken } from "../src/collector/realtime/token";
import { USER_HASH_CONTEXT } from "../src/collector/user-hash-route";
import { CONTROL_CONTEXT, derivedKey } from "../src/reports/tokens";
import { MAX_USER_ID_LENGTH, userHash, userIdProblem, userSecret } from "../src/site-do/user-hash";
import { createSite, siteStub } from "./helpers";

const SECRET = env.REALTIME_SECRET as string;

async function token(siteId: string, key?: string): Promise<string> {
  return signToken(key ?? (await derivedKey(SECRET, USER_HASH_CONTEXT)), siteId, Math.floor(Date.now() / 1000) + 60);
}

function ask(siteId: string, body: unknown, bearer: string | null): Promise<Response> {
  return exports.default.fetch(`https://collector.test/api/users/${encodeURIComponent(siteId)}/hash`, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: bearer === null ? {} : { Authorization: `Bearer ${bearer}` },
  });
}

/** What the site's DO stores for `id`: its own secret, the module's function. */
function stored(siteId: string, id: string): Promise<string> {
  return runInDurableObject(siteStub(siteId), (_instance, state) => userHash(userSecret(state.storage.sql), id));
}

describe("userHash", () => {
  it("is HMAC-SHA256 of the id's UTF-8 under the hex secret, as 64 hex characters", async () => {
    // Computed independently: Python's hmac.new(bytes.fromhex(secret), id.encode(), sha256).
    const secret = "00112233445566778899aabbccddeeff".repeat(2);
    expect(await userHash(secret, "user-42 ✓")).toBe("b9fe5b639e98daf8c655688b8a6937516a35653b85bca2cd63507d86cb5aeabe");
    expect(await userHash(secret, "user-42 ✓ ")).not.toBe(await userHash(secret, "user-42 ✓"));
    expect(await userHash("ff".repeat(32), "user-42 ✓")).not.toBe(await userHash(secret, "user-42 ✓"));
  });

  it("refuses ids that could not be stored faithfully, with a reason", () => {
    expect(userIdProblem("user-42")).toBeNull();
    expect(userIdProblem("émoji 🙂 id")).toBeNull();
    expect(userIdProblem("x".repeat(MAX_USER_ID_LENGTH))).toBeNull();
    expect(userIdProblem("x".repeat(MAX_USER_ID_LENGTH + 1))).toMatch(/longer than 256/);
    expect(userIdProblem("")).toMatch(/empty/);
    expect(userIdProblem(42)).toMatch(/string/);
    expect(userIdProblem(null)).toMatch(/string/);
    expect(userIdProblem("a\ud800b")).toMatch(/lone surrogate/);
    expect(userIdProblem("a\udc00")).toMatch(/lone surrogate/);
    expect(userIdProblem("\udfff\ud83d")).toMatch(/lone surrogate/);
    expect(userIdProblem("line\nbreak")).toMatch(/control character/);
    expect(userIdProblem("nul\u0000")).toMatch(/control character/);
    expect(userIdProblem("esc\u001b[31m")).toMatch(/control character/);
    expect(userIdProblem("c1\u0085")).toMatch(/control character/);
  });
});

describe("POST /api/users/:site/hash", () => {
  it("answers the hash the site's DO stores, the same every time, another on another site", async () => {
    const a = await createSite("users-a.test");
    const b = await createSite("users-b.test");
    const res = await ask(a, { id: "customer-7" }, await token(a));
    expect(res.status).toBe(200);
    const { user_id } = (await res.json()) as { user_id: string };
    expect(user_id).toMatch(/^[0-9a-f]{64}$/);
    expect(user_id).toBe(await stored(a, "customer-7"));
    const again = (await (await ask(a, { id: "customer-7" }, await token(a))).json()) as { user_id: string };
    expect(again.user_id).toBe(user_id);
    const other = (await (await ask(b, { id: "customer-7" }, await token(b))).json()) as { user_id: string };
    expect(other.user_id).not.toBe(user_id);
    expect(other.user_id).toBe(await stored(b, "customer-7"));
  });

  it("takes only its own kind of token, for its own site", async () => {
    const a = await createSite("users-scope.test");
    const b = await createSite("users-scope-b.test");
    const refused = async (bearer: string | null, status: number) => {
      const res = await ask(a, { id: "x" }, bearer);
      expect(res.status).toBe(status);
      expect(((await res.json()) as { code: string }).code).toBe(status === 403 ? "forbidden" : "unauthorized");
    };
    await refused(null, 401);
    await refused("not-a-token", 401);
    await refused(await token(a, SECRET), 401); // a realtime token
    await refused(await token(a, await archiveTokenKey(SECRET)), 401);
    await refused(await token(a, await derivedKey(SECRET, CONTROL_CONTEXT)), 401); // a reports token
    await refused(await signToken(await derivedKey(SECRET, USER_HASH_CONTEXT), a, Math.floor(Date.now() / 1000) - 5), 401); // expired
    await refused(await token(b), 403);
  });

  it("answers 404 for an unknown site and 400 for an id the collector would refuse", async () => {
    const res = await ask("no-such-site", { id: "x" }, await token("no-such-site"));
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe("unknown_site");
    const a = await createSite("users-bad.test");
    for (const [body, pattern] of [
      [{ id: "a\ud800" }, /lone surrogate/],
      [{ id: "tab\there" }, /control character/],
      [{ id: "x".repeat(300) }, /longer than/],
      [{ id: 7 }, /string/],
      [{}, /string/],
      ["not json", /JSON/],
    ] as const) {
      const bad = await ask(a, body, await token(a));
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { message: string }).message).toMatch(pattern);
    }
    const huge = await ask(a, JSON.stringify({ id: "x".repeat(10_000) }), await token(a));
    expect(huge.status).toBe(413);
  });
});

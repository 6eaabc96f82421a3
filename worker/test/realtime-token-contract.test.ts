// The realtime token contract (tests/fixtures/contracts/realtime_tokens.json): tokens the
// dashboard's Python signs (tests/test_contract_realtime_tokens.py proves they are its output)
// must verify with the collector's code, for their site and lifetime only.
import { describe, expect, it } from "vitest";
import contract from "../../tests/fixtures/contracts/realtime_tokens.json";
import { verifyToken } from "../src/collector/realtime/token";

describe("the collector verifies the dashboard's tokens", () => {
  it.each(contract.cases.map((c) => [c.site, c] as const))("%s", async (_site, c) => {
    const exp = c.now + c.ttl;
    expect(await verifyToken(c.token, contract.secret, c.site, c.now)).toEqual({ ok: true, site: c.site, exp });
    expect((await verifyToken(c.token, contract.secret, c.site, exp)).ok).toBe(false);
    expect((await verifyToken(c.token, contract.secret, `x${c.site}`, c.now)).ok).toBe(false);
    expect((await verifyToken(c.token, `${contract.secret}x`, c.site, c.now)).ok).toBe(false);
  });
});

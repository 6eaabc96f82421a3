// The API token hash contract (tests/fixtures/contracts/api_token_hashes.json): the hashes the
// dashboard stores (tests/test_contract_api_token_hashes.py proves they are its output) must be
// what the collector computes from the bearer secret, or no token would ever be found.
import { describe, expect, it } from "vitest";
import contract from "../../tests/fixtures/contracts/api_token_hashes.json";
import { hashToken } from "../src/collector/bulk/token";

describe("the collector hashes tokens as the dashboard stores them", () => {
  it.each(contract.cases.map((c) => [c.secret, c] as const))("%s", async (_secret, c) => {
    expect(await hashToken(c.secret)).toBe(c.hash);
    expect(await hashToken(`${c.secret}x`)).not.toBe(c.hash);
  });
});

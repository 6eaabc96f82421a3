// rows.ts against the migrated D1 schema: the outbox writes tuples in these column orders, so a
// column added, dropped or moved by a migration must show up here first.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ATTRIBUTION_COLUMNS, EVENT_COLUMNS, SESSION_COLUMNS } from "../src/rows";

async function schemaColumns(table: string): Promise<string[]> {
  const { results } = await env.DB.prepare(`PRAGMA table_info(${table})`).all<{ cid: number; name: string }>();
  return results.sort((a, b) => a.cid - b.cid).map((column) => column.name);
}

describe("rows", () => {
  it("lists the events columns of the schema, in order", async () => {
    expect([...EVENT_COLUMNS]).toEqual(await schemaColumns("events"));
  });

  it("lists the sessions columns of the schema, in order", async () => {
    expect([...SESSION_COLUMNS]).toEqual(await schemaColumns("sessions"));
  });

  it("has the attribution columns in both tables, in their order", () => {
    for (const columns of [EVENT_COLUMNS, SESSION_COLUMNS]) {
      expect(columns.filter((column) => (ATTRIBUTION_COLUMNS as readonly string[]).includes(column))).toEqual([...ATTRIBUTION_COLUMNS]);
    }
  });
});

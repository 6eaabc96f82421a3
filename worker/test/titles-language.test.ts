// Page titles and the browser's language (migration 0026): parsed leniently, a title kept once
// per path in page_titles (the latest wins, scrubbed like paths), the language once per visit.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_TITLE_LENGTH, parsePayload } from "../src/collector/ingest/payload";
import { createSite, drainOutbox, postEvent, rows, siteStub } from "./helpers";

const parse = (body: unknown) => parsePayload(JSON.stringify(body));
const base = { u: "https://a.test/", d: "a.test" };

async function titles(siteId: string) {
  const result = await env.DB.prepare("SELECT path, title FROM page_titles WHERE site = ? ORDER BY path").bind(siteId).all();
  return result.results;
}

describe("title and language in the payload", () => {
  it("collapses whitespace, caps the title and keeps it for pageviews only", () => {
    expect(parse({ ...base, n: "pageview", t: "  Docs \n\t — Site  " })).toMatchObject({ title: "Docs — Site" });
    expect(parse({ ...base, n: "pageview", title: "😀".repeat(400) })).toMatchObject({ title: "😀".repeat(MAX_TITLE_LENGTH) });
    expect(parse({ ...base, n: "Signup", t: "Docs" })).toMatchObject({ title: null });
    for (const t of ["   ", 42, null, { a: 1 }]) expect(parse({ ...base, n: "pageview", t })).toMatchObject({ name: "pageview", title: null });
  });

  it("canonicalises the language and reads anything else as none, never dropping the event", () => {
    expect(parse({ ...base, n: "pageview", l: "en-us" })).toMatchObject({ language: "en-US" });
    expect(parse({ ...base, n: "x", language: "DE" })).toMatchObject({ language: "de" });
    for (const l of ["not a tag!", "x".repeat(40), 7, ""]) expect(parse({ ...base, n: "pageview", l })).toMatchObject({ name: "pageview", language: null });
  });
});

describe("titles and language in D1", () => {
  it("keeps the latest title per path, scrubbed, and the visit's first language on its session", async () => {
    const siteId = await createSite("titles.test");
    const send = (body: Record<string, unknown>) => postEvent({ d: "titles.test", ...body });
    expect((await send({ n: "pageview", u: "https://titles.test/", t: "Home", l: "fr-fr" })).status).toBe(202);
    expect((await send({ n: "pageview", u: "https://titles.test/docs", t: "Old docs", l: "de" })).status).toBe(202);
    expect((await send({ n: "pageview", u: "https://titles.test/docs", t: "Docs for bob@mail.test" })).status).toBe(202);
    // A custom event's title is ignored: it is no view of the page.
    expect((await send({ n: "Signup", u: "https://titles.test/", t: "Not a page title" })).status).toBe(202);
    expect(await drainOutbox(siteStub(siteId))).toBe(true);

    expect(await titles(siteId)).toEqual([
      { path: "/", title: "Home" },
      { path: "/docs", title: "Docs for [email]" },
    ]);
    const sessions = await rows<{ language: string | null }>("sessions", siteId);
    expect(sessions.map((s) => s.language)).toEqual(["fr-FR"]);
    // Nothing per event: the events table has no title or language column.
    const columns = await env.DB.prepare("SELECT name FROM pragma_table_info('events')").all<{ name: string }>();
    expect(columns.results.map((c) => c.name)).not.toContain("language");
    expect(columns.results.map((c) => c.name)).not.toContain("title");
  });

  it("removes a deleted site's titles with it", async () => {
    const siteId = await createSite("titles-gone.test");
    expect((await postEvent({ n: "pageview", u: "https://titles-gone.test/a", d: "titles-gone.test", t: "A" })).status).toBe(202);
    expect(await drainOutbox(siteStub(siteId))).toBe(true);
    expect(await titles(siteId)).toHaveLength(1);
    await env.DB.prepare("DELETE FROM sites WHERE id = ?").bind(siteId).run();
    expect(await titles(siteId)).toHaveLength(0);
  });
});

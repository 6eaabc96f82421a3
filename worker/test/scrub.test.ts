// scrub_pii: e-mail addresses and long digit runs in paths, query values, referrers and prop
// values never reach D1, and query parameters other than UTM tags and the site's keep-list are
// dropped from what is stored.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { keptQuery, scrubPath, scrubText, scrubUrl } from "../src/collector/ingest/scrub";
import { createSite, drainOutbox, postEvent, rows, siteStub } from "./helpers";

const NONE = new Set<string>();

describe("scrubText", () => {
  it("replaces e-mail addresses, also percent-encoded, with [email]", () => {
    expect(scrubText("/welcome/jane.doe+news@example.co.uk/next")).toBe("/welcome/[email]/next");
    expect(scrubText("jane.doe%40example.com")).toBe("[email]");
    expect(scrubText("mail JANE@EXAMPLE.COM or bob_1@mail-x.example.org")).toBe("mail [email] or [email]");
  });

  it("replaces runs of 9 or more digits, with single spaces, + or hyphens between them", () => {
    expect(scrubText("/orders/123456789")).toBe("/orders/[number]");
    expect(scrubText("call +49 170 1234567 or 0170-1234567")).toBe("call +[number] or [number]");
    expect(scrubText("card 4111 1111 1111 1111.")).toBe("card [number].");
    expect(scrubText("4111%201111%201111%201111")).toBe("[number]");
    // Shorter runs stay: years, dates, prices, short ids.
    expect(scrubText("/2024/12/04/post-12345678 costs 1999")).toBe("/2024/12/04/post-12345678 costs 1999");
    expect(scrubText("2024-12-04")).toBe("2024-12-04");
    // The hex digits of a percent escape are not part of a number.
    expect(scrubText("%2012345678")).toBe("%2012345678");
    expect(scrubText("%20123456789")).toBe("%20[number]");
  });
});

describe("query parameters", () => {
  it("keeps UTM tags and the site's parameters only, their values scrubbed", () => {
    expect(keptQuery("?q=shoes&utm_source=news&token=abc&utm_term=jane%40example.com", NONE)).toBe(
      "?utm_source=news&utm_term=[email]",
    );
    expect(keptQuery("?page=2&lang=de&sid=1", new Set(["page", "lang"]))).toBe("?page=2&lang=de");
    expect(keptQuery("?token=abc", NONE)).toBe("");
    expect(keptQuery("", NONE)).toBe("");
  });

  it("cuts referrers to origin, scrubbed path and kept query; no credentials, no fragment", () => {
    expect(scrubUrl("https://user:pw@mail.example.org/inbox/987654321?user=bob@example.net&utm_medium=email#top", NONE)).toBe(
      "https://mail.example.org/inbox/[number]?utm_medium=email",
    );
    // A referrer cut to its length may not parse: everything from its query on goes.
    expect(scrubUrl("https://[bad/jane@example.com?x=1", NONE)).toBe("https://[bad/[email]");
  });

  it("cuts a hash route's query in hash mode", () => {
    expect(scrubPath("/app#/search?q=jane@example.com&page=2", new Set(["page"]))).toBe("/app#/search?page=2");
    expect(scrubPath("/users/123456789/edit", NONE)).toBe("/users/[number]/edit");
  });
});

// Strings that must not be found anywhere in D1 once the events below are stored (long enough
// that no random id or timestamp holds one by chance).
const SECRETS = [
  "jane.doe", "bob@", "bob%40", "example.net", "123456789012", "170 1234567", "0170-1234567", "4111111111111111",
  "s3cr3t", "987654321", "sessionid",
];

async function everythingInD1(): Promise<string> {
  const tables = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'").all<{ name: string }>();
  const dump: unknown[] = [];
  for (const { name } of tables.results) dump.push(name, (await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results);
  return JSON.stringify(dump);
}

describe("scrub_pii in the pipeline", () => {
  it("stores no e-mail address, long number or dropped query parameter in any D1 table", async () => {
    const siteId = await createSite("scrub.test");
    await env.DB.prepare("UPDATE sites SET keep_query_params = ? WHERE id = ?").bind(JSON.stringify(["page"]), siteId).run();
    const page = "https://scrub.test/users/jane.doe@example.com/orders/123456789012";
    const sent = [
      {
        n: "pageview",
        u: `${page}?email=jane.doe%40example.com&token=s3cr3t&page=2&utm_campaign=spring-4111111111111111`,
        d: "scrub.test",
        r: "https://mail.example.org/inbox/987654321?user=bob@example.net&sessionid=abc&utm_medium=email",
      },
      {
        n: "Signup",
        u: page,
        d: "scrub.test",
        p: {
          email: "bob@example.net",
          phone: "+49 170 1234567",
          note: "call 0170-1234567 now",
          url: "https://partner.example/x/987654321?token=s3cr3t&utm_source=news&page=3#sessionid=1",
          // Text that starts with a URL is text: scrubbed, not cut like a URL.
          message: "https://api.example/v1 failed for jane.doe@example.com",
        },
      },
      // No referrer: the source comes from the `ref` parameter.
      { n: "pageview", u: "https://scrub.test/?ref=bob%40example.net", d: "scrub.test" },
      // Hash mode: the route is part of the path, its own query too.
      { n: "pageview", u: "https://scrub.test/app#/search?q=jane.doe@example.com&page=4", d: "scrub.test", h: true },
    ];
    for (const body of sent) expect((await postEvent(body, { "CF-Connecting-IP": `203.0.113.${sent.indexOf(body) + 20}` })).status).toBe(202);
    expect(await drainOutbox(siteStub(siteId))).toBe(true);

    const stored = await everythingInD1();
    for (const secret of SECRETS) expect(stored, secret).not.toContain(secret);

    const events = await rows<Record<string, string | null>>("events", siteId);
    expect(events.map((e) => e.pathname).sort()).toEqual([
      "/",
      "/app#/search?page=4",
      "/users/[email]/orders/[number]",
      "/users/[email]/orders/[number]",
    ]);
    const landing = events.find((e) => e.referrer !== null);
    expect(landing?.referrer).toBe("https://mail.example.org/inbox/[number]?utm_medium=email");
    expect(landing?.utm_campaign).toBe("spring-[number]");
    expect(events.find((e) => e.pathname === "/")?.source).toBe("[email]");
    expect(JSON.parse(events.find((e) => e.name === "Signup")?.props ?? "{}")).toEqual({
      email: "[email]",
      phone: "+[number]",
      note: "call [number] now",
      url: "https://partner.example/x/[number]?utm_source=news&page=3",
      message: "https://api.example/v1 failed for [email]",
    });
  });
});

// Simulated geo of the local demo: the X-941-Simulated-Geo header sets a visitor's location only
// in a development collector (SIMULATED_GEO = "on", passed by scripts/devstack.py) reached on a
// loopback host. The deployed configuration (wrangler.toml, which these tests run with) ignores it.
import { createExecutionContext, runDurableObjectAlarm, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import type { Env } from "../src/env";
import { CHROME_UA, createSite, postEvent, rows, siteStub } from "./helpers";

const TOKYO = "country=JP&region=Tokyo&city=Tokyo&timezone=Asia%2FTokyo";
const AUSTIN = { country: "US", region: "Texas", city: "Austin", timezone: "America/Chicago" };

function pageview(domain: string) {
  return JSON.stringify({ n: "pageview", u: `https://${domain}/`, d: domain });
}

/** POSTs to the Worker with `vars` over the test configuration's, at `url`. */
async function postWith(vars: Partial<Env>, url: string, body: string, ip: string): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request(url, {
    method: "POST",
    body,
    cf: AUSTIN,
    headers: { "Content-Type": "text/plain", "User-Agent": CHROME_UA, "CF-Connecting-IP": ip, "X-941-Simulated-Geo": TOKYO },
  });
  // Only the geo fields of request.cf matter here.
  const response = await worker.fetch(request as unknown as Request<unknown, IncomingRequestCfProperties>, { ...(env as unknown as Env), ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

async function storedGeo(siteId: string) {
  await runDurableObjectAlarm(siteStub(siteId));
  return (await rows("events", siteId)).map((e) => [e.country, e.region, e.city, e.timezone]);
}

describe("simulated geo", () => {
  it("is ignored by the deployed configuration: the location is request.cf's", async () => {
    expect((env as unknown as Env).SIMULATED_GEO).toBeUndefined();
    const siteId = await createSite("geo-prod.test");
    const response = await postEvent(pageview("geo-prod.test"), { "X-941-Simulated-Geo": TOKYO }, AUSTIN);
    expect(response.status).toBe(202);
    // Also on a loopback host: without the var, nothing reads the header.
    expect((await postWith({}, "http://127.0.0.1/api/event", pageview("geo-prod.test"), "203.0.113.8")).status).toBe(202);
    expect(await storedGeo(siteId)).toEqual([
      ["US", "Texas", "Austin", "America/Chicago"],
      ["US", "Texas", "Austin", "America/Chicago"],
    ]);
  });

  it("sets the location in a development collector called on a loopback host", async () => {
    const siteId = await createSite("geo-dev.test");
    const response = await postWith({ SIMULATED_GEO: "on" }, "http://127.0.0.1:8787/api/event", pageview("geo-dev.test"), "203.0.113.9");
    expect(response.status).toBe(202);
    expect(await storedGeo(siteId)).toEqual([["JP", "Tokyo", "Tokyo", "Asia/Tokyo"]]);
  });

  it("is ignored by a development configuration reached under a public host name", async () => {
    const siteId = await createSite("geo-public.test");
    const response = await postWith({ SIMULATED_GEO: "on" }, "https://collector.test/api/event", pageview("geo-public.test"), "203.0.113.10");
    expect(response.status).toBe(202);
    expect(await storedGeo(siteId)).toEqual([["US", "Texas", "Austin", "America/Chicago"]]);
  });
});

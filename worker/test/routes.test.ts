// Routing: health, unknown routes and wrong methods, all answered as JSON with CORS.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const fetchPath = (path: string, init?: RequestInit) => exports.default.fetch(`https://collector.test${path}`, init);

describe("routes", () => {
  it("GET /health answers ok", async () => {
    const response = await fetchPath("/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });

  it("an unknown path is a JSON 404", async () => {
    const response = await fetchPath("/nope");
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: "not_found" });
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("*");
  });

  it("a wrong method is a JSON 405 with Allow", async () => {
    const response = await fetchPath("/api/event");
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("POST, OPTIONS");
    expect(await response.json()).toMatchObject({ code: "method_not_allowed" });
    expect((await fetchPath("/health", { method: "DELETE" })).status).toBe(405);
  });
});

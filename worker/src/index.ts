/**
 * The 941 Analytics collector Worker: serves the tracker, ingests events into each site's
 * SiteDO, and answers health checks. See routes.ts for the routes.
 */
import type { Env } from "./env";
import { errorResponse } from "./http";
import { route } from "./routes";

export { SiteDO } from "./site-do";

export default {
  /** Every request; an unexpected error becomes a logged 500 JSON, never an HTML error page. */
  async fetch(request, env): Promise<Response> {
    try {
      return await route(request, env);
    } catch (error) {
      console.error("unhandled collector error", error);
      return errorResponse(500, "internal", "internal error");
    }
  },
} satisfies ExportedHandler<Env>;

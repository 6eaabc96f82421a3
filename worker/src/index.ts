/**
 * The 941 Analytics collector Worker: serves the tracker, ingests events into each site's
 * SiteDO, and answers health checks. See collector/routes.ts for the routes.
 */
import { CRON_D1_QUERIES } from "./rollup/budget";
import type { Env } from "./env";
import { numberVar } from "./vars";
import { errorResponse } from "./http";
import { MAX_DAYS_PER_RUN, runCronEverywhere } from "./rollup/cron";
import { FREQUENT_MIN_VISITS } from "./rollup/statements";
import { route } from "./collector/routes";

export { SiteDO } from "./site-do/site-do";
export { WebhookDO } from "./webhooks/webhook-do";

export default {
  /** Every request; an unexpected error becomes a logged 500 JSON, never an HTML error page. */
  async fetch(request, env, ctx): Promise<Response> {
    try {
      return await route(request, env, ctx);
    } catch (error) {
      console.error("unhandled collector error", error);
      return errorResponse(500, "internal", "internal error");
    }
  },
  /** The cron (wrangler.toml [triggers]): in each database, rollups of closed days, then the retention purge (rollup/cron.ts). */
  async scheduled(controller, env, ctx): Promise<void> {
    const days = Math.max(1, Math.floor(numberVar(env.ROLLUP_DAYS_PER_RUN, MAX_DAYS_PER_RUN)));
    const minVisits = Math.max(1, Math.floor(numberVar(env.ROLLUP_FREQUENT_MIN_VISITS, FREQUENT_MIN_VISITS)));
    const queries = Math.max(1, Math.floor(numberVar(env.CRON_D1_QUERIES, CRON_D1_QUERIES)));
    ctx.waitUntil(runCronEverywhere(env, controller.scheduledTime, days, minVisits, queries));
  },
} satisfies ExportedHandler<Env>;

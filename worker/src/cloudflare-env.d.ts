/**
 * Merges the collector's Env into `Cloudflare.Env`, so `env` and `exports` from
 * "cloudflare:workers" (tests included) are typed. Kept apart from env.ts: it names the entry
 * module, which imports env.ts.
 */
import type { Env as CollectorEnv } from "./env";

declare global {
  namespace Cloudflare {
    interface Env extends CollectorEnv {}
    // Types `ctx.exports` / `exports` from "cloudflare:workers" (used by tests as the Worker).
    interface GlobalProps {
      mainModule: typeof import("./index");
      durableNamespaces: "SiteDO" | "WebhookDO";
    }
  }
}


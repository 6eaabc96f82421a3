// Worker tests run inside workerd via @cloudflare/vitest-plugin, against the real wrangler.toml
// bindings (D1 + SiteDO). Migrations are read here (Node) and applied in a setup file (workerd).
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { buildTracker } from "./scripts/build-tracker.mjs";

export default defineConfig(async () => {
  // The Worker imports the generated tracker module; build it so `npx vitest run` works alone.
  await buildTracker({ quiet: true });
  const migrations = await readD1Migrations("./migrations");
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        // A strong REALTIME_SECRET: the development value of wrangler.toml is refused outside
        // loopback (worker/src/collector/realtime/token.ts), and tests call the collector as collector.test.
        miniflare: { bindings: { TEST_MIGRATIONS: migrations, REALTIME_SECRET: "test-only-realtime-secret-0123456789abcdef" } },
      }),
    ],
    test: {
      include: ["worker/test/**/*.test.ts"],
      setupFiles: ["./worker/test/apply-migrations.ts"],
    },
  };
});

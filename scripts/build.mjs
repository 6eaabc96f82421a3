// Builds every generated asset: the tracker script served by the Worker (gitignored output,
// rebuilt by each make target that runs the Worker) and the dashboard's static bundle shipped
// in the wheel (committed in static/dist/, so installing the package needs no Node).
//
//   node scripts/build.mjs                       both (`make build`)
//   node scripts/build.mjs tracker [--if-stale]  only the Worker's generated modules and tracker
//                                                files (--if-stale: unless the last build had these inputs)
//   node scripts/build.mjs assets [--outdir D]   only the dashboard bundle, into D (default static/dist)
import { parseArgs } from "node:util";
import { buildTracker } from "./build-tracker.mjs";
import { buildAssets } from "./build-assets.mjs";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { outdir: { type: "string" }, "if-stale": { type: "boolean" } },
});
const [what = "all", ...extra] = positionals;
if (!["all", "tracker", "assets"].includes(what) || extra.length > 0) {
  throw new Error(`usage: node scripts/build.mjs [all|tracker|assets] [--outdir DIR], not ${positionals.join(" ")}`);
}
if (values.outdir !== undefined && what !== "assets") {
  throw new Error("--outdir applies to `assets` only");
}
if (values["if-stale"] && what !== "tracker") throw new Error("--if-stale applies to `tracker` only");
if (what !== "assets") await buildTracker({ ifStale: values["if-stale"] });
if (what !== "tracker") await buildAssets({ outdir: values.outdir });

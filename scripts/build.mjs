// Builds every generated asset: the tracker script served by the Worker (gitignored output,
// rebuilt by each make target that runs the Worker) and the dashboard's static bundle shipped
// in the wheel (committed in static/dist/, so installing the package needs no Node).
//
//   node scripts/build.mjs                       both (`make build`)
//   node scripts/build.mjs tracker               only the Worker's generated modules
//   node scripts/build.mjs assets [--outdir D]   only the dashboard bundle, into D (default static/dist)
import { parseArgs } from "node:util";
import { buildTracker } from "./build-tracker.mjs";
import { buildAssets } from "./build-assets.mjs";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { outdir: { type: "string" } },
});
const [what = "all", ...extra] = positionals;
if (!["all", "tracker", "assets"].includes(what) || extra.length > 0) {
  throw new Error(`usage: node scripts/build.mjs [all|tracker|assets] [--outdir DIR], not ${positionals.join(" ")}`);
}
if (values.outdir !== undefined && what !== "assets") {
  throw new Error("--outdir applies to `assets` only");
}
if (what !== "assets") await buildTracker();
if (what !== "tracker") await buildAssets({ outdir: values.outdir });

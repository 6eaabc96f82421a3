// Builds every generated asset: the tracker script served by the Worker and the dashboard's
// static bundle shipped in the wheel. Run by `make build` (and so by `make test` / `make demo`).
import { buildTracker } from "./build-tracker.mjs";
import { buildAssets } from "./build-assets.mjs";

await buildTracker();
await buildAssets();

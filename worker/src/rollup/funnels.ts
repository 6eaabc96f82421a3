/**
 * The funnel rollups, the twin of `refresh_funnel_rollups` in src/analytics_941/rollups/funnels.py,
 * running the same SQL (funnel-statements.json, written from that module): drop the rows of
 * removed funnels, then per site placed in this database with saved funnels (read from the home
 * database, with the goals their steps name) redo the funnel-days the todo statement finds,
 * newest first, at most maxDaysPerRun per site across its funnels (an even share each first,
 * then what is left); each funnel-day ONE batch
 * (a transaction), so a reader sees the old day or the new one. Runs after the days.
 */
import { boundParams } from "./bind";
import statements from "./funnel-statements.json";

/** A site's funnel-day whose rows were redone. */
export interface FunnelDay {
  siteId: string;
  funnelId: string;
  day: string;
}

/** A goal as a funnel's goal step reads it (GOALS below). */
export interface FunnelGoal {
  name: string;
  kind: string;
  target: string;
  prop_key: string | null;
  prop_value: string | null;
}

const GOALS = "SELECT site_id, name, kind, target, prop_key, prop_value FROM goals";

/**
 * One stored step as `parse_step` reads it: `{"page": P}` / `{"goal": NAME}`, or the text forms
 * (`page:P`, `goal:NAME`, a bare `/…` page, a bare goal name). The stored steps were checked
 * when saved (funnels.py); only their shape is checked again here.
 */
function parseStep(item: unknown): { kind: "page" | "goal"; target: string } | null {
  let text: string;
  if (typeof item === "string") text = item;
  else if (item !== null && typeof item === "object" && !Array.isArray(item)) {
    const entries = Object.entries(item);
    const [kind, target] = entries[0] ?? [];
    if (entries.length !== 1 || (kind !== "page" && kind !== "goal") || typeof target !== "string") return null;
    text = `${kind}:${target}`;
  } else return null;
  text = text.trim();
  let step: { kind: "page" | "goal"; target: string };
  if (text.startsWith("page:")) step = { kind: "page", target: text.slice(5).trim() };
  else if (text.startsWith("goal:")) step = { kind: "goal", target: text.slice(5).trim() };
  else step = { kind: text.startsWith("/") ? "page" : "goal", target: text };
  if (step.target === "" || (step.kind === "page" && !step.target.startsWith("/"))) return null;
  return step;
}

/**
 * A funnel's stored steps (the `funnels.steps` JSON text) as the statements' steps parameter
 * (`steps_param`): `[kind, target, prop_key, prop_value]` per step in order, a page step a page
 * goal of its pattern, a goal step the site's goal of that name. Null when a step names a goal
 * the site lacks or is not a step (the funnel is skipped). tests/fixtures/contracts/funnel_steps.json.
 */
export function funnelStepsParam(steps: string, goals: readonly FunnelGoal[]): string | null {
  let items: unknown;
  try {
    items = JSON.parse(steps);
  } catch {
    return null;
  }
  if (!Array.isArray(items)) return null;
  const byName = new Map(goals.map((g) => [g.name, g]));
  const rows: string[][] = [];
  for (const item of items) {
    const step = parseStep(item);
    if (step === null) return null;
    if (step.kind === "page") {
      rows.push(["page", step.target, "", ""]);
      continue;
    }
    const goal = byName.get(step.target);
    if (goal === undefined) return null;
    rows.push([goal.kind, goal.target, goal.prop_key ?? "", goal.prop_value ?? ""]);
  }
  return JSON.stringify(rows);
}

/** Rows grouped by site, in their order. */
function bySiteOf<T extends { site_id: string }>(rows: readonly T[]): Map<string, T[]> {
  const grouped = new Map<string, T[]>();
  for (const row of rows) {
    const list = grouped.get(row.site_id);
    if (list) list.push(row);
    else grouped.set(row.site_id, [row]);
  }
  return grouped;
}

/** Drops removed funnels' rows and redoes the funnel-days the todo statement names; returns those. */
export async function refreshFunnelRollups(home: D1Database, db: D1Database): Promise<FunnelDay[]> {
  // 2: the funnels (0020) and funnel rollup (0034) tables are there.
  if (((await db.prepare(statements.ready).first<number>("n")) ?? 0) < 2) return [];
  // Only the sites placed in this database (a data database holds copies of theirs).
  const here = new Set((await db.prepare("SELECT id FROM sites").all<{ id: string }>()).results.map((r) => r.id));
  const funnelRows = (await home.prepare(statements.funnels).all<{ site_id: string; id: string; steps: string }>()).results;
  // Removed funnels (a site's last one included): their rows, then their listing.
  const saved = new Set(funnelRows.map((f) => JSON.stringify([f.site_id, f.id])));
  const listed = (await db.prepare(statements.listed).all<{ site_id: string; funnel_id: string }>()).results;
  for (const row of listed) {
    if (!here.has(row.site_id) || saved.has(JSON.stringify([row.site_id, row.funnel_id]))) continue;
    for (const sql of statements.drop) await db.prepare(sql).bind(row.site_id, row.funnel_id).run();
  }
  const bySite = bySiteOf(funnelRows.filter((f) => here.has(f.site_id)));
  if (bySite.size === 0) return [];
  const goals = bySiteOf((await home.prepare(GOALS).all<FunnelGoal & { site_id: string }>()).results);
  const done: FunnelDay[] = [];
  // FUNNELS_SQL orders by site id, as the Python job's sorted sites.
  for (const [siteId, funnels] of bySite) {
    const resolved: { id: string; steps: string }[] = [];
    for (const funnel of funnels) {
      const steps = funnelStepsParam(funnel.steps, goals.get(siteId) ?? []);
      if (steps !== null) resolved.push({ id: funnel.id, steps });
    }
    let budget = statements.maxDaysPerRun;
    // Two passes, as the Python job's `_turns`: an even share each, then what is left, in order.
    const turns = resolved.length === 0 ? [] : [Math.ceil(statements.maxDaysPerRun / resolved.length), statements.maxDaysPerRun];
    for (const limit of turns) {
      for (const funnel of resolved) {
        if (budget <= 0) break;
        const todo = await db.prepare(statements.todo).bind(siteId, funnel.id, funnel.steps, Math.min(limit, budget)).all<{ day: string; tz: string }>();
        for (const row of todo.results) {
          const values = [siteId, row.day, row.tz, funnel.id, funnel.steps];
          await db.batch(statements.day.map((sql) => db.prepare(sql).bind(...values.slice(0, boundParams(sql)))));
          done.push({ siteId, funnelId: funnel.id, day: row.day });
        }
        budget -= todo.results.length;
      }
    }
  }
  return done;
}

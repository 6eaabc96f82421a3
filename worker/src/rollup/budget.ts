/**
 * The cron's D1 query budget. D1 answers at most 1,000 queries per Worker invocation on the paid
 * plan (50 on the free one), and one cron invocation runs every job in every database. Each
 * database is handed to the jobs wrapped, so every call spends from one budget; a call past it
 * throws BudgetSpent, which ends the job where it is. Every job may stop between two calls (a
 * claimed day, a half-done month or rebuild is taken up by the next run), so the run just ends
 * early instead of failing on D1's own limit, and the next run goes on.
 */

/** Queries a run may make by default: under the paid plan's 1,000, with room for the rest. */
export const CRON_D1_QUERIES = 900;
/** Queries the rollups leave for the purge and table rebuilds that follow them in a run. */
export const AFTER_ROLLUPS_QUERIES = 100;

export class BudgetSpent extends Error {
  constructor() {
    super("the cron's D1 query budget for this run is spent");
    this.name = "BudgetSpent";
  }
}

export class QueryBudget {
  private used = 0;
  constructor(readonly limit: number) {}

  /** Counts one call, or throws BudgetSpent when fewer than `reserve` calls would be left. */
  spend(reserve = 0): void {
    if (this.used + reserve >= this.limit) throw new BudgetSpent();
    this.used++;
  }

  get spent(): number {
    return this.used;
  }
}

/** A prepared statement whose calls spend from the budget; `real` is what D1's batch takes. */
class CountedStatement {
  constructor(
    readonly real: D1PreparedStatement,
    private readonly budget: QueryBudget,
    private readonly reserve: number,
  ) {}

  bind(...values: unknown[]): CountedStatement {
    return new CountedStatement(this.real.bind(...values), this.budget, this.reserve);
  }

  run<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    this.budget.spend(this.reserve);
    return this.real.run<T>();
  }

  all<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    this.budget.spend(this.reserve);
    return this.real.all<T>();
  }

  first<T = unknown>(column?: string): Promise<T | null> {
    this.budget.spend(this.reserve);
    return column === undefined ? this.real.first<T>() : this.real.first<T>(column);
  }

  raw<T = unknown[]>(): Promise<T[]> {
    this.budget.spend(this.reserve);
    return this.real.raw<T>();
  }
}

/** `db` with every query, and every batch as one, spent from `budget`, leaving `reserve`. */
export function budgeted(db: D1Database, budget: QueryBudget, reserve = 0): D1Database {
  const counted = {
    prepare: (sql: string) => new CountedStatement(db.prepare(sql), budget, reserve),
    batch: <T = unknown>(statements: D1PreparedStatement[]) => {
      budget.spend(reserve);
      const real = statements.map((s) => (s instanceof CountedStatement ? s.real : s) as D1PreparedStatement);
      return db.batch<T>(real);
    },
    exec: (sql: string) => {
      budget.spend(reserve);
      return db.exec(sql);
    },
  };
  return counted as unknown as D1Database;
}

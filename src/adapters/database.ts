/**
 * The relational store, behind one small interface with two implementations: PostgreSQL (`pg`) and
 * the embedded PGlite (PostgreSQL compiled to WASM, in a local folder). The same SQL runs on both.
 */

export interface QueryResult<R> {
  rows: R[];
  /** Rows inserted, updated or deleted (0 for a SELECT on PGlite, the row count on pg). */
  rowCount: number;
}

export interface Queryable {
  /** One statement with $1..$n parameters. */
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<QueryResult<R>>;
  /** Several statements without parameters (a migration file). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** The schema holding the service's tables. */
  readonly schema: string;
  /**
   * Runs `fn` in one transaction on one connection: committed when `fn` resolves, rolled back when it
   * throws (the error is rethrown). Queries inside must go through `tx`, not the database.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  /** Closes every connection. Idempotent. */
  close(): Promise<void>;
}

/** A double-quoted SQL identifier. Schema names are validated by the config; this is defence in depth. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

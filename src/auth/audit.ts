/**
 * The audit log of admin actions (table `admin_audit`, append-only): who created or revoked a key,
 * reloaded the rules or purged narratives, and when. Admins read it at `GET /v1/admin/audit`.
 */
import { userInfo } from 'node:os';
import type { Queryable } from '../adapters/database.ts';

export const AUDIT_ACTIONS = ['key.create', 'key.revoke', 'rules.reload', 'narratives.purge'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  auditId: number;
  at: string;
  /** The acting API key id, `cli:<os user>` for the command line, or `service` for its own jobs. */
  actor: string;
  action: AuditAction;
  /** What was done: ids, versions, counts; never a secret or a call's content. */
  details: Record<string, unknown>;
}

/** The actor of a command-line action: the operating-system user who ran it. */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

export async function audit(
  db: Queryable,
  actor: string,
  action: AuditAction,
  details: Record<string, unknown> = {},
): Promise<void> {
  await db.query('INSERT INTO admin_audit (actor, action, details) VALUES ($1, $2, $3)', [
    actor,
    action,
    JSON.stringify(details),
  ]);
}

/** The newest entries first; `before` pages back from an entry id. */
export async function readAudit(
  db: Queryable,
  options: { limit: number; before?: number | undefined },
): Promise<AuditEntry[]> {
  const { rows } = await db.query<{
    audit_id: string | number;
    at: Date | string;
    actor: string;
    action: AuditAction;
    details: Record<string, unknown>;
  }>(
    `SELECT audit_id, at, actor, action, details FROM admin_audit
     WHERE ($1::bigint IS NULL OR audit_id < $1) ORDER BY audit_id DESC LIMIT $2`,
    [options.before ?? null, options.limit],
  );
  return rows.map((r) => ({
    auditId: Number(r.audit_id),
    at: new Date(r.at).toISOString(),
    actor: r.actor,
    action: r.action,
    details: r.details,
  }));
}

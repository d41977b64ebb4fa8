/**
 * The dead-letter archive on PostgreSQL or PGlite (table `dead_letters`, migrations/0008): originals
 * too large for the dead-letter topic, kept whole. See kafka/dead-letter.ts.
 */
import { randomUUID } from 'node:crypto';
import type { DeadLetterArchive } from '../kafka/dead-letter.ts';
import type { Database } from './database.ts';

/** Text PostgreSQL accepts: no NUL, no unpaired surrogate. */
const storableText = (s: string) => s.toWellFormed().replaceAll('\u0000', '\ufffd');

export function createDeadLetterArchive(db: Database): DeadLetterArchive & {
  /** The archived original of `id`, or null. */
  get(id: string): Promise<{
    key: Buffer | null;
    value: Buffer | null;
    headers: Record<string, Buffer>;
    code: string;
  } | null>;
} {
  return {
    async put({ record, reason, attempts }) {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(record.headers)) {
        if (value !== undefined) headers[name] = Buffer.from(value).toString('base64');
      }
      // A replay of the same source record finds the first row (the no-op update makes RETURNING see it).
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO dead_letters (id, source_topic, source_partition, source_offset, record_key, record_value,
                                   record_headers, error_code, error_message, attempts)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (source_topic, source_partition, source_offset)
         DO UPDATE SET source_topic = EXCLUDED.source_topic
         RETURNING id::text AS id`,
        [
          randomUUID(),
          storableText(record.topic),
          record.partition,
          record.offset,
          record.key,
          record.value,
          Buffer.from(JSON.stringify(headers)),
          storableText(reason.code),
          storableText(reason.message),
          attempts,
        ],
      );
      return rows[0]!.id;
    },
    async get(id) {
      const { rows } = await db.query<{
        record_key: Uint8Array | null;
        record_value: Uint8Array | null;
        record_headers: Uint8Array;
        error_code: string;
      }>('SELECT record_key, record_value, record_headers, error_code FROM dead_letters WHERE id = $1', [id]);
      const row = rows[0];
      if (!row) return null;
      const headers = JSON.parse(Buffer.from(row.record_headers).toString()) as Record<string, string>;
      return {
        key: row.record_key ? Buffer.from(row.record_key) : null,
        value: row.record_value ? Buffer.from(row.record_value) : null,
        headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
        code: row.error_code,
      };
    },
  };
}

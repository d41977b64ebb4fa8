/**
 * Privacy by design: what a stored call keeps (no phone, address, coordinates or unknown field in
 * clear), the narrative retention and its purge (the one change the append-only audit allows), on the
 * embedded and the real PostgreSQL, through the pipeline and through `cad-triage purge`; and the
 * migration that scrubs calls stored by earlier versions.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { openPglite } from '../../src/adapters/pglite.ts';
import { openPostgres } from '../../src/adapters/postgres.ts';
import { createMemoryStore } from '../../src/adapters/memory-store.ts';
import type { Database } from '../../src/adapters/database.ts';
import { migrate, readMigrations } from '../../src/adapters/migrations.ts';
import { DEFAULTS } from '../../src/definitions.ts';
import type { CallEvent } from '../../src/domain/call-event.ts';
import { triage } from '../../src/triage/pipeline.ts';
import { hmac, normalizePhone, purgeNarratives, storedCall } from '../../src/triage/privacy.ts';
import { devCases, freshCall } from '../helpers/calls.ts';
import { postgres, uniqueName } from '../helpers/services.ts';
import { triageDeps } from '../helpers/triage.ts';

const root = join(import.meta.dirname, '..', '..');
const KEY = 'test-key-0123456789abcdef';
const ADDRESS = '1187 QUINNIPIAC AVE APT 3';
const PHONE = '203-555-0199';
const NAME = 'Marjorie Okonkwo-Test';
const NARRATIVE = `RP ${NAME} ADV HER SON IS HEARING VOICES, CALL BACK ${PHONE}`;

/** A call carrying every kind of personal data a CAD may send, in known and unknown fields. */
function personal(tag: string): CallEvent {
  const base = freshCall(devCases()[0]!.call, { eventId: `evt-${tag}-${Math.random()}` });
  return {
    ...base,
    location: { address: ADDRESS, lat: 41.29871, lon: -72.90123, placeType: 'residence', unit: 'APT 3' },
    caller: { relationship: 'family', phone: PHONE, name: NAME },
    subjects: [{ age: 34, role: 'subject', name: NAME, dob: '1992-01-01' }],
    narrative: NARRATIVE,
    callbackNumber: PHONE,
  } as CallEvent;
}

const clearText = [
  ADDRESS,
  'QUINNIPIAC',
  PHONE,
  '2035550199',
  NAME,
  'Okonkwo',
  '41.29871',
  '72.90123',
  'APT 3',
];

t.test('storedCall keeps what triage needs and nothing personal in clear', async (t) => {
  const call = personal('unit');
  const stored = storedCall(call, KEY, true);
  const text = JSON.stringify(stored);
  for (const s of clearText.filter((s) => !NARRATIVE.includes(s))) t.notOk(text.includes(s), `no ${s}`);
  t.equal(stored.narrative, NARRATIVE, 'the narrative is kept while its retention runs');
  t.same(stored.location, {
    addressHash: hmac(KEY, `${call.agency.jurisdiction}|1187 QUINNIPIAC AVE APT 3`),
    area: { lat: 41.3, lon: -72.9 },
    placeType: 'residence',
  });
  t.same(stored.caller, { relationship: 'family', phoneHash: hmac(KEY, normalizePhone(PHONE)) });
  t.same(stored.subjects, [{ age: 34, role: 'subject' }], 'subjects keep age and role only');
  t.notOk('callbackNumber' in stored, 'unknown fields are dropped');
  t.same(stored.callType, call.callType);
  t.same(stored.screening, call.screening);

  const without = storedCall(call, KEY, false);
  t.notOk('narrative' in without);
  t.equal(without.narrativeOmitted, 'not-stored', 'says a narrative existed and was not kept');
  t.notOk(JSON.stringify(without).includes('VOICES'));

  const bare = storedCall(
    { ...freshCall(devCases()[0]!.call), narrative: undefined } as CallEvent,
    KEY,
    false,
  );
  t.notOk('narrativeOmitted' in bare, 'a call without a narrative has nothing omitted');
});

function suite(name: string, open: () => Promise<Database>, skip: string | false) {
  t.test(`${name}: stored calls and the narrative purge`, { skip }, async (t) => {
    const db = await open();
    t.teardown(() => db.close());
    let now = new Date('2026-01-01T12:00:00Z');
    const deps = await triageDeps(db, createMemoryStore(), { now: () => now });
    const old = personal(`${name}-old`);
    t.equal((await triage(old, deps)).kind, 'decided');
    now = new Date('2026-03-01T12:00:00Z');
    const recent = personal(`${name}-new`);
    t.equal((await triage(recent, deps)).kind, 'decided');
    const notKept = personal(`${name}-notkept`);
    t.equal((await triage(notKept, { ...deps, keepNarratives: false })).kind, 'decided');

    const calls = async () =>
      new Map(
        (
          await db.query<{ event_id: string; call: Record<string, unknown> }>(
            'SELECT event_id, call FROM decisions WHERE event_id = ANY($1)',
            [[old.eventId, recent.eventId, notKept.eventId]],
          )
        ).rows.map((r) => [r.event_id, r.call]),
      );
    const before = await calls();
    const everything = JSON.stringify([...before.values()]).replaceAll(NARRATIVE, '');
    for (const s of clearText)
      t.notOk(everything.includes(s), `nothing stored shows ${s} outside the narrative`);
    t.equal(before.get(old.eventId)?.narrative, NARRATIVE);
    t.equal(before.get(notKept.eventId)?.narrativeOmitted, 'not-stored');

    const decisionsBefore = (
      await db.query<{ decision: unknown }>('SELECT decision FROM decisions WHERE event_id = $1', [
        old.eventId,
      ])
    ).rows[0]!.decision;
    // Retention 30 days on 2026-03-01: the January call is due, the March one is not.
    t.equal(await purgeNarratives(db, new Date('2026-01-30T12:00:00Z'), 1), 1);
    const after = await calls();
    t.notOk('narrative' in after.get(old.eventId)!, 'the old narrative is gone');
    t.equal(after.get(old.eventId)?.narrativeOmitted, 'purged');
    t.equal(after.get(recent.eventId)?.narrative, NARRATIVE, 'a narrative within its retention stays');
    const decisionsAfter = (
      await db.query<{ decision: unknown }>('SELECT decision FROM decisions WHERE event_id = $1', [
        old.eventId,
      ])
    ).rows[0]!.decision;
    t.same(decisionsAfter, decisionsBefore, 'the decision, its reasons and evidence are kept');
    t.equal(await purgeNarratives(db, new Date('2026-01-30T12:00:00Z')), 0, 'a second run finds nothing');

    // The audit stays append-only: nothing but the purge itself gets through the trigger.
    await t.rejects(
      db.query(`UPDATE decisions SET rules_version = 'tampered' WHERE event_id = $1`, [recent.eventId]),
      /append-only/,
    );
    await t.rejects(
      db.query(`UPDATE decisions SET call = call - 'narrative' WHERE event_id = $1`, [recent.eventId]),
      /append-only/,
      'removing a narrative outside the purge is refused',
    );
    await t.rejects(
      db.transaction(async (tx) => {
        await tx.query(`SELECT set_config('cad_triage.purge', 'narratives', true)`);
        await tx.query(
          `UPDATE decisions SET call = (call - 'narrative') || '{"narrativeOmitted": "purged"}', rules_version = 'tampered' WHERE event_id = $1`,
          [recent.eventId],
        );
      }),
      /append-only/,
      'the purge cannot change anything else',
    );
    await t.rejects(db.query(`DELETE FROM decisions WHERE event_id = $1`, [recent.eventId]), /append-only/);
  });
}

suite('pglite', () => openPglite({ dataDir: 'memory://', schema: 'public' }), false);
const pg = await postgres();
suite('postgres', () => openPostgres({ url: pg.ok ? pg.value : '', schema: uniqueName('privacy') }), pg.skip);

t.test('the migration scrubs calls stored in clear by earlier versions', async (t) => {
  const db = await openPglite({ dataDir: 'memory://', schema: 'public' });
  t.teardown(() => db.close());
  const all = readMigrations(DEFAULTS.migrationsDir);
  await migrate(
    db,
    all.filter((m) => m.id < '0006'),
  );
  const call = {
    ...personal('legacy'),
    caller: { relationship: 'family', phone: 'hmac:abc123', name: NAME },
  };
  await db.query('INSERT INTO incidents (jurisdiction, incident_id) VALUES ($1, $2)', [
    call.agency.jurisdiction,
    call.incidentId,
  ]);
  await db.query(
    `INSERT INTO decisions (decision_id, event_id, incident_id, revision, jurisdiction, rules_version,
       policy_version, gate, mode, categories, decision, call)
     VALUES (gen_random_uuid(), $1, $2, 1, $3, 'r', 'p', 'co_response_only', 'co_response', '{}', '{}', $4)`,
    [call.eventId, call.incidentId, call.agency.jurisdiction, call],
  );
  await migrate(db, all);
  const { rows } = await db.query<{ call: Record<string, unknown> }>(
    'SELECT call FROM decisions WHERE event_id = $1',
    [call.eventId],
  );
  const stored = rows[0]!.call;
  const text = JSON.stringify(stored).replaceAll(NARRATIVE, '');
  for (const s of clearText) t.notOk(text.includes(s), `no ${s}`);
  t.same(stored.location, { area: { lat: 41.3, lon: -72.9 }, placeType: 'residence' });
  t.same(stored.caller, { relationship: 'family', phoneHash: 'abc123' });
  t.same(stored.subjects, [{ age: 34, role: 'subject' }]);
  t.equal(stored.narrative, NARRATIVE, 'the narrative waits for its retention');
  t.same(stored.callType, call.callType);
  await t.rejects(db.query(`UPDATE decisions SET gate = 'x'`), /append-only/, 'the trigger is back on');
});

t.test('cad-triage purge on the embedded database and on PostgreSQL', async (t) => {
  const data = mkdtempSync(join(tmpdir(), 'pglite-'));
  t.teardown(() => rmSync(data, { recursive: true, force: true }));
  const { REDIS_URL: _r, KAFKA_BROKERS: _k, DATABASE_URL: _d, ...inherited } = process.env;
  const run = async (env: Record<string, string>, args: string[]) => {
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [join(root, 'bin', 'cad-triage.js'), 'purge', ...args],
        { cwd: root, env: { ...inherited, ...env } },
      );
      return { code: 0, stdout };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout + err.stderr };
    }
  };
  const fill = async (db: Database) => {
    const deps = await triageDeps(db, createMemoryStore(), {
      now: () => new Date(Date.now() - 40 * 86_400_000),
    });
    for (const tag of ['a', 'b', 'c']) t.equal((await triage(personal(`cli-${tag}`), deps)).kind, 'decided');
    const fresh = await triageDeps(db, createMemoryStore());
    t.equal((await triage(personal('cli-fresh'), fresh)).kind, 'decided');
    await db.close();
  };
  const targets: Array<[string, Record<string, string>, () => Promise<Database>, string | false]> = [
    [
      'pglite',
      { PGLITE_DATA_DIR: data, DATABASE_SCHEMA: 'cad_triage' },
      () => openPglite({ dataDir: data, schema: 'cad_triage' }),
      false,
    ],
  ];
  const schema = uniqueName('purge');
  if (pg.ok)
    targets.push([
      'postgres',
      { DATABASE_URL: pg.value, DATABASE_SCHEMA: schema },
      () => openPostgres({ url: pg.value, schema }),
      false,
    ]);
  for (const [name, env, open] of targets) {
    await fill(await open());
    t.equal((await run(env, ['--days', 'x'])).code, 2, `${name}: a bad --days is a usage error`);
    const dry = await run(env, ['--dry-run']);
    t.match(dry.stdout, /^3 narratives older than 30 days would be purged/, `${name}: dry run counts`);
    const real = await run(env, []);
    t.equal(real.code, 0, real.stdout);
    t.match(real.stdout, /^3 narratives older than 30 days purged/, `${name}: purges past retention`);
    t.match(
      (await run(env, ['--days', '0'])).stdout,
      /^1 narratives older than 0 days purged/,
      `${name}: --days 0 purges all`,
    );
  }
  if (!pg.ok) t.comment(pg.skip);
});

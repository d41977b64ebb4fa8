/** Failures classified at the adapter boundary, and how the pipeline reports each. */
import t from 'tap';
import { classifyFailure } from '../../src/adapters/failures.ts';
import { openPglite } from '../../src/adapters/pglite.ts';
import { createMemoryStore } from '../../src/adapters/memory-store.ts';
import { AppError } from '../../src/errors.ts';
import { triage } from '../../src/triage/pipeline.ts';
import { devCases, freshCall } from '../helpers/calls.ts';
import { triageDeps } from '../helpers/triage.ts';

/** An error shaped like pg's, quoting the call as PostgreSQL's `where` and `detail` do. */
const pgError = (code: string) =>
  Object.assign(new Error(`invalid input: "Jane Roe, 12 Elm Street"`), {
    code,
    detail: 'Token "Jane Roe" is invalid.',
    where: 'JSON data, line 1: {"narrative":"Jane Roe, 12 Elm Street, 203-555-0142',
  });

t.test('SQLSTATE classes decide: outage, transient, permanent', async (t) => {
  const cases: Array<[unknown, string]> = [
    [pgError('08006'), 'outage'],
    [pgError('57P01'), 'outage'],
    [pgError('53300'), 'outage'],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'outage'],
    [pgError('40001'), 'transient'],
    [pgError('40P01'), 'transient'],
    [pgError('55P03'), 'transient'],
    [pgError('22P02'), 'permanent'],
    [pgError('22003'), 'permanent'],
    [pgError('23505'), 'permanent'],
    [pgError('42883'), 'permanent'],
    [new TypeError('x is undefined'), 'permanent'],
    [new AppError('ERR_DEPENDENCY_UNAVAILABLE', 'database unavailable'), 'outage'],
    [new AppError('ERR_DEPENDENCY_BUSY', 'database busy'), 'transient'],
    [new AppError('ERR_EVENT_REFUSED', 'refused'), 'permanent'],
  ];
  for (const [err, expected] of cases) {
    t.equal(
      classifyFailure(err),
      expected,
      `${(err as { code?: string }).code ?? (err as Error).name}: ${expected}`,
    );
  }
});

t.test(
  'the pipeline reports a refused value as ERR_EVENT_REFUSED without quoting it, and a deadlock as retryable',
  async (t) => {
    const db = await openPglite({ dataDir: 'memory://', schema: 'public' });
    const store = createMemoryStore();
    t.teardown(async () => {
      await store.close();
      await db.close();
    });
    const deps = await triageDeps(db, store);
    const call = freshCall(devCases()[0]!.call);
    const refused = await triage(call, {
      ...deps,
      recorder: { record: () => Promise.reject(pgError('22P02')) },
    }).catch((e: unknown) => e);
    t.ok(refused instanceof AppError);
    t.equal((refused as AppError).code, 'ERR_EVENT_REFUSED');
    t.equal((refused as AppError).status, 422);
    t.match((refused as AppError).detail, /SQLSTATE 22P02/);
    t.notMatch((refused as AppError).detail, /Jane|Elm/, 'the answer does not quote the data');

    const busy = await triage(freshCall(devCases()[0]!.call), {
      ...deps,
      recorder: { record: () => Promise.reject(pgError('40P01')) },
    }).catch((e: unknown) => e);
    t.equal((busy as AppError).code, 'ERR_DEPENDENCY_BUSY');
    t.equal((busy as AppError).status, 503);
  },
);

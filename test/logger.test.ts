import t from 'tap';
import { Writable } from 'node:stream';
import { createLogger } from '../src/logger.ts';

t.test('narratives, phone numbers, addresses and credentials never reach the log', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const log = createLogger({ level: 'info' }, sink);
  const call = {
    eventId: 'e1',
    narrative: 'SUBJ SAYS HE WANTS TO DIE',
    caller: { relationship: 'self', phone: '203-555-0101' },
    location: { address: '12 MAIN ST', placeType: 'residence', lat: 41.1, lon: -73.5 },
  };
  log.info({ call }, 'nested one level');
  log.info(call, 'top level');
  log.info({ event: { value: call } }, 'nested two levels');
  log.info({ req: { headers: { authorization: 'Bearer abc', 'x-api-key': 'k123' } } }, 'request');
  const out = lines.join('');
  for (const secret of ['WANTS TO DIE', '203-555-0101', '12 MAIN ST', 'Bearer abc', 'k123', '41.1']) {
    t.notMatch(out, secret, `${secret} is redacted`);
  }
  t.match(out, /"eventId":"e1"/, 'ids stay readable');
  t.match(out, /"placeType":"residence"/, 'non-personal fields stay readable');
  t.match(out, /\[redacted\]/);
});

t.test('NENA EIDO notes, locations and callback numbers never reach the log either', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const log = createLogger({ level: 'info' }, sink);
  const note = { $id: 'note-1', notesActionComments: 'SUBJ HAS A KNIFE' };
  const location = { $id: 'loc-1', locationByValue: '<civicAddress><RD>ELM</RD></civicAddress>' };
  const callback = { $id: 'cb-1', callBackInformationUri: ['tel:2035550101'] };
  log.info(note, 'top level');
  log.info({ eido: { notesComponent: note, locationComponent: location } }, 'nested');
  log.info({ callback }, 'one level');
  const out = lines.join('');
  for (const secret of ['A KNIFE', 'ELM', '2035550101']) t.notMatch(out, secret, `${secret} is redacted`);
  t.match(out, /"\$id":"note-1"/, 'component ids stay readable');
});

t.test(
  'database errors are logged without the data they quote (where, detail, message of data errors)',
  async (t) => {
    const { openPglite } = await import('../src/adapters/pglite.ts');
    const { AppError } = await import('../src/errors.ts');
    const db = await openPglite({ dataDir: 'memory://', schema: 'public' });
    t.teardown(() => db.close());
    // A real PostgreSQL refusal that quotes the call in `where` (jsonb and an unpaired surrogate) ...
    const jsonErr = await db
      .query('SELECT $1::jsonb', ['{"narrative":"Jane Roe at 12 Elm Street \\ud800"}'])
      .catch((e: unknown) => e);
    // ... and one whose message quotes the value.
    const intErr = await db.query('SELECT $1::integer', ['203-555-0142']).catch((e: unknown) => e);
    t.ok(jsonErr instanceof Error && intErr instanceof Error, 'both refused');
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = createLogger({ level: 'info' }, sink);
    log.error({ err: jsonErr }, 'direct');
    log.error({ err: intErr }, 'direct');
    log.error({ err: new AppError('ERR_EVENT_REFUSED', 'refused', { cause: jsonErr }) }, 'as a cause');
    log.warn({ error: intErr }, 'under another key');
    const out = lines.join('');
    for (const secret of ['Jane Roe', 'Elm Street', '203-555-0142'])
      t.notMatch(out, secret, `${secret} not logged`);
    t.match(out, /"code":"22P02"/, 'the SQLSTATE is kept');
    t.match(out, /SQLSTATE 22P02/, 'and says what happened');
    t.equal(lines.length, 4);
  },
);

t.test('the log scan finds planted personal data and reports where, never what', async (t) => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { needles, scan } = await import('../scripts/scan-logs.ts');
  const list = needles();
  t.ok(
    list.some((n) => n.kind === 'phone') && list.some((n) => n.kind === 'narrative'),
    'needles from the fixtures',
  );
  const dir = mkdtempSync(join(tmpdir(), 'logscan-'));
  writeFileSync(join(dir, 'clean.log'), '{"msg":"decided","eventId":"e1"}\n');
  t.same(scan(dir, list), [], 'a clean log passes');
  writeFileSync(
    join(dir, 'leak.log'),
    '{"msg":"ok"}\n{"where":"JSON data: {\\"phone\\":\\"203-555-0101\\"}"}\n',
  );
  const found = scan(dir, list);
  t.same(found, [{ file: 'leak.log', line: 2, kind: 'phone' }]);
  const narrative = list.find((n) => n.kind === 'narrative')!.text;
  writeFileSync(join(dir, 'leak.log'), `{"detail":"${narrative.toLowerCase()}"}\n`);
  t.equal(scan(dir, list)[0]?.kind, 'narrative', 'narratives too, whatever the case');
});

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

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

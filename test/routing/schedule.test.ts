import t from 'tap';
import {
  clock,
  localTime,
  nextShiftStart,
  onDuty,
  parseSchedule,
  parseWindow,
  zonedInstant,
} from '../../src/routing/schedule.ts';

const NY = 'America/New_York';

function schedule(...windows: string[]) {
  const r = parseSchedule(windows);
  if (r.errors.length > 0) throw new Error(JSON.stringify(r.errors));
  return r.schedule;
}

t.test('windows are read with days, ranges, lists and times', async (t) => {
  const w = parseWindow('mon-fri 08:00-16:00');
  if (typeof w === 'string') return t.fail(w);
  t.same(w.days, [false, true, true, true, true, true, false]);
  t.equal(w.start, 480);
  t.equal(w.end, 960);
  const wrap = parseWindow('fri-mon 20:00-02:00');
  if (typeof wrap === 'string') return t.fail(wrap);
  t.same(wrap.days, [true, true, false, false, false, true, true], 'a day range may wrap the week end');
  const list = parseWindow('Sat,Sun 13:00-22:00');
  if (typeof list === 'string') return t.fail(list);
  t.same(list.days, [true, false, false, false, false, false, true], 'case-insensitive lists');
  const late = parseWindow('daily 08:00-24:00');
  if (typeof late === 'string') return t.fail(late);
  t.equal(late.end, 1440);
});

t.test('malformed windows say why', async (t) => {
  for (const [text, why] of [
    ['mon-fri', /not a window/],
    ['mondays 08:00-16:00', /not a day/],
    ['mon-fri 8am-4pm', /not a start time/],
    ['mon-fri 08:00-25:00', /not an end time/],
    ['mon-fri 24:00-02:00', /not a start time/],
    ['daily 08:00-08:00', /same time/],
    ['mon-tue-wed 08:00-16:00', /not a day/],
  ] as const) {
    const r = parseWindow(text);
    t.type(r, 'string', text);
    t.match(r, why, text);
  }
  const r = parseSchedule(['always', 'bad', 'mon 09:00-10:00']);
  t.same(
    r.errors.map((e) => e.index),
    [1],
  );
});

t.test('a window past midnight belongs to the day it starts', async (t) => {
  const s = schedule('fri 20:00-03:00');
  // 2026-03-13 is a Friday; New York is on daylight time (UTC-4) since 2026-03-08.
  t.ok(onDuty(s, new Date('2026-03-13T21:00:00-04:00'), NY).on, 'Friday 21:00');
  t.same(
    onDuty(s, new Date('2026-03-14T02:59:00-04:00'), NY),
    { on: true, until: 180 },
    'Saturday 02:59 is Friday night',
  );
  t.notOk(onDuty(s, new Date('2026-03-14T03:00:00-04:00'), NY).on, 'ends at 03:00');
  t.notOk(
    onDuty(s, new Date('2026-03-13T02:00:00-04:00'), NY).on,
    'Friday 02:00 belongs to Thursday, which has no shift',
  );
});

t.test('the local wall clock decides, across daylight-saving changes', async (t) => {
  const s = schedule('mon-fri 08:00-16:00');
  // The same UTC time of day is 07:30 in winter and 08:30 in summer.
  t.notOk(onDuty(s, new Date('2026-03-02T12:30:00Z'), NY).on, 'Mon 07:30 EST');
  t.ok(onDuty(s, new Date('2026-03-09T12:30:00Z'), NY).on, 'Mon 08:30 EDT');
  // Autumn: 01:30 happens twice on 2026-11-01; both are inside Saturday's 08:00-03:00 shift.
  const nights = schedule('daily 08:00-03:00');
  t.ok(onDuty(nights, new Date('2026-11-01T05:30:00Z'), NY).on, 'first 01:30 (EDT)');
  t.ok(onDuty(nights, new Date('2026-11-01T06:30:00Z'), NY).on, 'second 01:30 (EST)');
  t.notOk(onDuty(nights, new Date('2026-11-01T08:30:00Z'), NY).on, '03:30 EST');
});

t.test('next shift start is a real instant in the zone', async (t) => {
  const s = schedule('mon-fri 08:00-16:00');
  // Saturday before the spring change → Monday 08:00 EDT = 12:00 UTC.
  t.equal(
    nextShiftStart(s, new Date('2026-03-07T20:00:00-05:00'), NY)?.toISOString(),
    '2026-03-09T12:00:00.000Z',
  );
  // Friday after the autumn change → Monday 08:00 EST = 13:00 UTC.
  t.equal(
    nextShiftStart(s, new Date('2026-11-06T17:00:00-05:00'), NY)?.toISOString(),
    '2026-11-09T13:00:00.000Z',
  );
  const now = new Date('2026-03-11T10:00:00-04:00');
  t.equal(nextShiftStart(s, now, NY), now, 'on duty: now');
  t.equal(nextShiftStart(schedule('always'), now, NY), now);
  t.equal(
    nextShiftStart(schedule('wed 09:00-10:00'), new Date('2026-03-11T10:30:00-04:00'), NY)?.toISOString(),
    '2026-03-18T13:00:00.000Z',
    'a week later',
  );
});

t.test('zoned instants and local times round-trip, even in the spring gap', async (t) => {
  t.equal(zonedInstant(2026, 7, 1, 9 * 60, NY).toISOString(), '2026-07-01T13:00:00.000Z');
  t.equal(zonedInstant(2026, 1, 15, 9 * 60, NY).toISOString(), '2026-01-15T14:00:00.000Z');
  t.equal(
    zonedInstant(2026, 3, 8, 2 * 60 + 30, NY).toISOString(),
    '2026-03-08T07:30:00.000Z',
    '02:30 does not exist: 03:30 EDT',
  );
  t.same(localTime(new Date('2026-03-14T05:30:00Z'), NY), {
    year: 2026,
    month: 3,
    day: 14,
    weekday: 6,
    minutes: 90,
  });
  t.equal(clock(1440), '00:00');
  t.equal(clock(965), '16:05');
});

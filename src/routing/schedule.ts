/**
 * Weekly schedules in a time zone. A window is `<days> <HH:MM>-<HH:MM>`; one that ends at or before
 * its start runs past midnight and belongs to the day it starts (`fri 20:00-02:00` is Friday night).
 * Local wall-clock time comes from `Intl.DateTimeFormat`, so daylight saving is the zone's business:
 * `08:00` means 08:00 on the town hall clock, in winter and in summer.
 */

export interface ScheduleWindow {
  /** Index 0 = Sunday, as `Date#getUTCDay`. */
  days: readonly boolean[];
  /** Minutes after local midnight. */
  start: number;
  /** Minutes after local midnight, 1..1440; `end <= start` means the window ends the next day. */
  end: number;
  text: string;
}

export type Schedule = { always: true } | { always: false; windows: readonly ScheduleWindow[] };

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const DAY_SETS: Record<string, number[]> = {
  daily: [0, 1, 2, 3, 4, 5, 6],
  weekdays: [1, 2, 3, 4, 5],
  weekends: [0, 6],
};

const FULL_DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

function dayIndex(name: string): number {
  const short = DAY_NAMES.indexOf(name as (typeof DAY_NAMES)[number]);
  return short >= 0 ? short : FULL_DAY_NAMES.indexOf(name);
}

function parseDays(text: string): boolean[] | string {
  const days = Array<boolean>(7).fill(false);
  for (const part of text.split(',')) {
    const p = part.trim();
    const set = DAY_SETS[p];
    if (set) {
      for (const d of set) days[d] = true;
      continue;
    }
    const [from, to, extra] = p.split('-');
    const a = dayIndex(from ?? '');
    const b = to === undefined ? a : dayIndex(to);
    if (a < 0 || b < 0 || extra !== undefined) {
      return `'${p}' is not a day: use mon..sun, a range like mon-fri, a list like sat,sun, daily, weekdays or weekends`;
    }
    // Ranges may wrap the week end: fri-mon is fri, sat, sun, mon.
    for (let d = a; ; d = (d + 1) % 7) {
      days[d] = true;
      if (d === b) break;
    }
  }
  return days;
}

function parseTime(text: string, allow24: boolean): number | undefined {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!m) return undefined;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59 || h > 24 || (h === 24 && (min > 0 || !allow24))) return undefined;
  return h * 60 + min;
}

/** Parses one window; returns the reason as a string when it cannot be read. */
export function parseWindow(text: string): ScheduleWindow | string {
  const m = /^\s*(\S+)\s+(\S+?)\s*-\s*(\S+)\s*$/.exec(text.toLowerCase());
  if (!m)
    return `'${text}' is not a window: expected e.g. 'mon-fri 08:00-16:00', 'daily 08:00-03:00' or 'always'`;
  const days = parseDays(m[1]!);
  if (typeof days === 'string') return days;
  const start = parseTime(m[2]!, false);
  const end = parseTime(m[3]!, true);
  if (start === undefined) return `'${m[2]}' is not a start time: expected HH:MM from 00:00 to 23:59`;
  if (end === undefined) return `'${m[3]}' is not an end time: expected HH:MM from 00:00 to 24:00`;
  if (start === end || (start === 0 && end === 1440)) {
    return `'${text}' starts and ends at the same time: for round-the-clock cover write 'always'`;
  }
  return { days, start, end: end === 0 ? 1440 : end, text };
}

/** Parses a schedule; `errors` holds the index and reason of each window that cannot be read. */
export function parseSchedule(entries: readonly string[]): {
  schedule: Schedule;
  errors: Array<{ index: number; message: string }>;
} {
  const errors: Array<{ index: number; message: string }> = [];
  const windows: ScheduleWindow[] = [];
  let always = false;
  entries.forEach((e, index) => {
    if (e.trim().toLowerCase() === 'always') {
      always = true;
      return;
    }
    const w = parseWindow(e);
    if (typeof w === 'string') errors.push({ index, message: w });
    else windows.push(w);
  });
  return { schedule: always ? { always: true } : { always: false, windows }, errors };
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export interface LocalTime {
  year: number;
  month: number;
  day: number;
  /** 0 = Sunday. */
  weekday: number;
  /** Minutes after local midnight. */
  minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Recent answers of localTime: every call routed within one minute asks the same question. */
const recent = new Map<string, LocalTime>();

/** The wall-clock date and time in `tz` at instant `at` (to the minute). */
export function localTime(at: Date, tz: string): LocalTime {
  // Zone offsets are whole minutes (in every zone since 1972), so the answer depends only on the minute.
  const key = `${tz}|${Math.floor(at.getTime() / 60_000)}`;
  let l = recent.get(key);
  if (!l) {
    if (recent.size >= 1024) recent.clear();
    l = computeLocalTime(at, tz);
    recent.set(key, l);
  }
  return { ...l };
}

function computeLocalTime(at: Date, tz: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(at)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const year = parts.year!;
  const month = parts.month!;
  const day = parts.day!;
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  return { year, month, day, weekday, minutes: (parts.hour! % 24) * 60 + parts.minute! };
}

/** Minutes the zone is ahead of UTC at `at` (negative west of Greenwich). */
function offsetMinutes(at: number, tz: string): number {
  const floored = Math.floor(at / 60_000) * 60_000;
  const l = localTime(new Date(floored), tz);
  return Math.round((Date.UTC(l.year, l.month - 1, l.day, 0, l.minutes) - floored) / 60_000);
}

/**
 * The instant of a local wall-clock time. In the spring-forward gap (a time that does not exist)
 * it gives the later candidate, i.e. the first moment the clock shows a time at or after it.
 */
export function zonedInstant(year: number, month: number, day: number, minutes: number, tz: string): Date {
  const asUtc = Date.UTC(year, month - 1, day, 0, minutes);
  const first = asUtc - offsetMinutes(asUtc, tz) * 60_000;
  const second = asUtc - offsetMinutes(first, tz) * 60_000;
  const matches = (t: number) => {
    const l = localTime(new Date(t), tz);
    return l.year === year && l.month === month && l.day === day && l.minutes === minutes;
  };
  if (matches(second)) return new Date(second);
  if (matches(first)) return new Date(first);
  return new Date(Math.max(first, second));
}

/**
 * Whether the schedule is on at `at`; when it is, `until` is the local end of the window
 * (minutes after midnight, 1440 = midnight) unless the schedule is `always`.
 */
export function onDuty(schedule: Schedule, at: Date, tz: string): { on: boolean; until?: number } {
  if (schedule.always) return { on: true };
  const l = localTime(at, tz);
  const yesterday = (l.weekday + 6) % 7;
  for (const w of schedule.windows) {
    if (w.end > w.start) {
      if (w.days[l.weekday] && l.minutes >= w.start && l.minutes < w.end) return { on: true, until: w.end };
    } else if ((w.days[l.weekday] && l.minutes >= w.start) || (w.days[yesterday] && l.minutes < w.end)) {
      return { on: true, until: w.end };
    }
  }
  return { on: false };
}

/** The start of the next shift at or after `at`: `at` itself when on duty now; undefined when never. */
export function nextShiftStart(schedule: Schedule, at: Date, tz: string): Date | undefined {
  if (onDuty(schedule, at, tz).on) return at;
  if (schedule.always || schedule.windows.length === 0) return undefined;
  const l = localTime(at, tz);
  // Eight days covers a window that started just after `at` a week from now.
  for (let offset = 0; offset <= 7; offset++) {
    const date = new Date(Date.UTC(l.year, l.month - 1, l.day + offset));
    const weekday = date.getUTCDay();
    let best: number | undefined;
    for (const w of schedule.windows) {
      if (!w.days[weekday] || (offset === 0 && w.start <= l.minutes)) continue;
      if (best === undefined || w.start < best) best = w.start;
    }
    if (best !== undefined) {
      return zonedInstant(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), best, tz);
    }
  }
  return undefined;
}

/** `HH:MM` for minutes after midnight; 1440 shows as 00:00. */
export function clock(minutes: number): string {
  const m = minutes % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

/**
 * The outcome report of a town (or several) over a period, computed in the database from what is
 * stored — aggregates over indexed columns, never rows pulled into Node: what was triaged, what dispatch
 * did with the recommendations, the hours no social worker was on duty, the follow-up queue, the
 * people reached and whether their calls went down after a referral, and which rules decided.
 * Nothing personal leaves the database: people and addresses are counted by their keyed hashes.
 */
import type { Queryable } from '../adapters/database.ts';
import type { Acceptance, Report, Trend } from '../domain/report.ts';
import { DEFAULT_JURISDICTION, type PolicySet } from '../routing/index.ts';

export interface ReportQuery {
  /** Canonical jurisdiction ids; null = every jurisdiction. */
  jurisdictions: string[] | null;
  /** The period, [from, to). */
  from: Date;
  to: Date;
  /** IANA zone for weeks and hours of the week (the town's). */
  timeZone: string;
  /** Weeks before and after a person's or address's first referral for the repeat-call trend. */
  trendWeeks: number;
  /** The report's "now": only referrals whose after-window has ended count in the trend. */
  now: Date;
}

const iso = (v: Date | string) => new Date(v).toISOString();
const n = (v: unknown) => Number(v ?? 0);

function acceptance(accepted: number, overridden: number): Acceptance {
  const withFeedback = accepted + overridden;
  return {
    withFeedback,
    accepted,
    overridden,
    overrideRate: withFeedback ? Math.round((overridden / withFeedback) * 1000) / 1000 : null,
  };
}

export async function buildReport(db: Queryable, q: ReportQuery): Promise<Report> {
  // $1 from, $2 to, $3 jurisdictions (null = all); $4 the time zone where a query needs it.
  const base = [q.from.toISOString(), q.to.toISOString(), q.jurisdictions];
  const zoned = [...base, q.timeZone];
  const inPeriod = (alias = 'd') =>
    `${alias}.decided_at >= $1 AND ${alias}.decided_at < $2 AND ($3::text[] IS NULL OR ${alias}.jurisdiction = ANY($3))`;
  const rows = async <R>(sql: string, params: unknown[] = base) => (await db.query<R>(sql, params)).rows;

  const gateMode = await rows<{ gate: string; mode: string; calls: number }>(
    `SELECT gate, mode, count(*)::int AS calls FROM decisions d WHERE ${inPeriod()} GROUP BY 1, 2`,
  );
  const byGate: Report['calls']['byGate'] = {};
  const byMode: Report['calls']['byMode'] = {};
  let total = 0;
  for (const r of gateMode) {
    total += r.calls;
    byGate[r.gate] = (byGate[r.gate] ?? 0) + r.calls;
    byMode[r.mode] = (byMode[r.mode] ?? 0) + r.calls;
  }
  const byCategory = Object.fromEntries(
    (
      await rows<{ category: string; calls: number }>(
        `SELECT c AS category, count(*)::int AS calls FROM decisions d, unnest(d.categories) c
         WHERE ${inPeriod()} GROUP BY 1 ORDER BY 2 DESC, 1`,
      )
    ).map((r) => [r.category, r.calls]),
  );
  const perWeek = await rows<{ week: string; calls: number }>(
    `SELECT to_char(date_trunc('week', d.decided_at AT TIME ZONE $4), 'YYYY-MM-DD') AS week, count(*)::int AS calls
     FROM decisions d WHERE ${inPeriod()} GROUP BY 1 ORDER BY 1`,
    zoned,
  );
  const hourOfWeek = (where: string) =>
    rows<{ day: number; hour: number; calls: number }>(
      `SELECT extract(isodow FROM d.decided_at AT TIME ZONE $4)::int AS day,
              extract(hour FROM d.decided_at AT TIME ZONE $4)::int AS hour, count(*)::int AS calls
       FROM decisions d WHERE ${inPeriod()} AND ${where} GROUP BY 1, 2 ORDER BY 1, 2`,
      zoned,
    );
  const perHourOfWeek = await hourOfWeek('true');

  // Dispatch's latest word on each decision of the period.
  const latestFeedback = `WITH f AS (
      SELECT DISTINCT ON (f.decision_id) f.decision_id, f.action
      FROM feedback f JOIN decisions d ON d.decision_id = f.decision_id
      WHERE ${inPeriod()}
      ORDER BY f.decision_id, f.created_at DESC, f.feedback_id)`;
  const fb = await rows<{ mode: string; gate: string; accepted: number; overridden: number }>(
    `${latestFeedback}
     SELECT d.mode, d.gate, count(*) FILTER (WHERE f.action = 'accepted')::int AS accepted,
            count(*) FILTER (WHERE f.action = 'overridden')::int AS overridden
     FROM f JOIN decisions d ON d.decision_id = f.decision_id GROUP BY 1, 2`,
  );
  const sum = (key: 'mode' | 'gate') => {
    const out: Record<string, { a: number; o: number }> = {};
    for (const r of fb) {
      const e = (out[r[key]] ??= { a: 0, o: 0 });
      e.a += r.accepted;
      e.o += r.overridden;
    }
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, acceptance(v.a, v.o)]));
  };
  const byRule = await rows<{ rule_id: string; accepted: number; overridden: number }>(
    `${latestFeedback}
     SELECT r.rule_id, count(*) FILTER (WHERE f.action = 'accepted')::int AS accepted,
            count(*) FILTER (WHERE f.action = 'overridden')::int AS overridden
     FROM f JOIN decisions d ON d.decision_id = f.decision_id
     CROSS JOIN LATERAL (
       SELECT x #>> '{}' AS rule_id FROM jsonb_path_query(d.decision, '$.categories[*].evidence[*].ruleId') x
       UNION
       SELECT x #>> '{}' FROM jsonb_path_query(d.decision, '$.gate.reasons[*].ruleId') x) r
     GROUP BY 1 ORDER BY 3 DESC, 2 DESC, 1`,
  );

  const offDuty = `d.categories <> '{}' AND d.mode IN ('police_only', 'referral')
    AND d.decision->'routing'->'passedOver' @> '[{"reason": "off_duty"}]'`;
  const noSocialWorker = await hourOfWeek(offDuty);

  // Referrals opened in the period (whatever became of them since).
  const refIn = `r.created_at >= $1 AND r.created_at < $2 AND ($3::text[] IS NULL OR r.jurisdiction = ANY($3))`;
  const [ref] = await rows<{
    opened: number;
    assigned: number;
    contacted: number;
    closed: number;
    median: number | null;
    mean: number | null;
    by_due: number;
    late: number;
    overdue: number;
  }>(
    `SELECT count(*)::int AS opened,
       count(*) FILTER (WHERE assigned_at IS NOT NULL OR status IN ('assigned', 'contacted'))::int AS assigned,
       count(*) FILTER (WHERE contacted_at IS NOT NULL)::int AS contacted,
       count(*) FILTER (WHERE status = 'closed')::int AS closed,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM contacted_at - created_at) / 3600)
         FILTER (WHERE contacted_at IS NOT NULL) AS median,
       avg(extract(epoch FROM contacted_at - created_at) / 3600) FILTER (WHERE contacted_at IS NOT NULL) AS mean,
       count(*) FILTER (WHERE contacted_at IS NOT NULL AND (due_by IS NULL OR contacted_at <= due_by))::int AS by_due,
       count(*) FILTER (WHERE contacted_at > due_by)::int AS late,
       count(*) FILTER (WHERE contacted_at IS NULL AND status <> 'closed' AND due_by < $4::timestamptz)::int AS overdue
     FROM referrals r WHERE ${refIn}`,
    [...base, q.now.toISOString()],
  );
  const outcomes = Object.fromEntries(
    (
      await rows<{ outcome: string; n: number }>(
        `SELECT coalesce(outcome, '(none)') AS outcome, count(*)::int AS n FROM referrals r
         WHERE ${refIn} AND status = 'closed' GROUP BY 1 ORDER BY 2 DESC, 1`,
        base,
      )
    ).map((r) => [r.outcome, r.n]),
  );

  const [people] = await rows<{ callers: number; civilian: number; demo: number }>(
    `SELECT count(DISTINCT d.call->'caller'->>'phoneHash')::int AS callers,
       count(*) FILTER (WHERE d.event_id LIKE 'demo-%')::int AS demo,
       count(*) FILTER (WHERE d.mode IN ('co_response', 'civilian_only', 'mobile_crisis'))::int AS civilian
     FROM decisions d WHERE ${inPeriod()}`,
  );
  const [reached] = await rows<{ n: number }>(
    `SELECT count(*)::int AS n FROM referrals r WHERE contacted_at >= $1 AND contacted_at < $2
       AND ($3::text[] IS NULL OR r.jurisdiction = ANY($3))`,
    base,
  );

  // Stamford's measure: for each person (address) whose first referral falls in the period, their
  // calls in the N weeks before it against the N weeks after, once the after-window has passed.
  const trend = async (key: (alias: string) => string): Promise<Trend> => {
    const [r] = await rows<{ subjects: number; before: number; after: number }>(
      `WITH firsts AS (
         SELECT ${key('d')} AS subject, min(d.decided_at) AS t0
         FROM referrals r JOIN decisions d ON d.decision_id = r.decision_id
         WHERE ${key('d')} IS NOT NULL AND ($3::text[] IS NULL OR d.jurisdiction = ANY($3))
         GROUP BY 1),
       due AS (
         SELECT * FROM firsts WHERE t0 >= $1 AND t0 < $2 AND t0 + make_interval(weeks => $4) <= $5::timestamptz)
       SELECT count(*)::int AS subjects,
         coalesce(sum((SELECT count(*) FROM decisions x WHERE ${key('x')} = due.subject
           AND x.decided_at >= due.t0 - make_interval(weeks => $4) AND x.decided_at < due.t0
           AND ($3::text[] IS NULL OR x.jurisdiction = ANY($3)))), 0)::int AS before,
         coalesce(sum((SELECT count(*) FROM decisions x WHERE ${key('x')} = due.subject
           AND x.decided_at > due.t0 AND x.decided_at <= due.t0 + make_interval(weeks => $4)
           AND ($3::text[] IS NULL OR x.jurisdiction = ANY($3)))), 0)::int AS after
       FROM due`,
      [...base, q.trendWeeks, q.now.toISOString()],
    );
    const before = n(r?.before);
    const after = n(r?.after);
    return {
      subjects: n(r?.subjects),
      callsBefore: before,
      callsAfter: after,
      change: before ? Math.round(((after - before) / before) * 1000) / 1000 : null,
    };
  };

  const versions = await rows<{
    rules_version: string;
    policy_version: string;
    first: Date;
    last: Date;
    calls: number;
  }>(
    `SELECT rules_version, policy_version, min(decided_at) AS first, max(decided_at) AS last, count(*)::int AS calls
     FROM decisions d WHERE ${inPeriod()} GROUP BY 1, 2 ORDER BY 3`,
  );

  const round = (x: number | null | undefined) =>
    x === null || x === undefined ? null : Math.round(Number(x) * 100) / 100;
  return {
    jurisdictions: q.jurisdictions,
    from: iso(q.from),
    to: iso(q.to),
    timeZone: q.timeZone,
    demoCalls: n(people?.demo),
    calls: { total, byCategory, byGate, byMode, perWeek, perHourOfWeek },
    feedback: {
      overall: acceptance(
        fb.reduce((s, r) => s + r.accepted, 0),
        fb.reduce((s, r) => s + r.overridden, 0),
      ),
      byMode: sum('mode'),
      byGate: sum('gate'),
      byRule: byRule.map((r) => ({ ruleId: r.rule_id, ...acceptance(r.accepted, r.overridden) })),
    },
    noSocialWorkerOnDuty: {
      calls: noSocialWorker.reduce((s, r) => s + r.calls, 0),
      perHourOfWeek: noSocialWorker,
    },
    referrals: {
      opened: n(ref?.opened),
      assigned: n(ref?.assigned),
      contacted: n(ref?.contacted),
      closed: n(ref?.closed),
      hoursToFirstContact: { median: round(ref?.median), mean: round(ref?.mean) },
      contactedByDue: n(ref?.by_due),
      contactedLate: n(ref?.late),
      overdueOpen: n(ref?.overdue),
      outcomes,
    },
    people: {
      unduplicatedCallers: n(people?.callers),
      interventions: n(people?.civilian) + n(reached?.n),
      repeatCallTrend: {
        weeks: q.trendWeeks,
        people: await trend((a) => `${a}.call->'caller'->>'phoneHash'`),
        addresses: await trend((a) => `${a}.call->'location'->>'addressHash'`),
      },
    },
    versions: versions.map((v) => ({
      rulesVersion: v.rules_version,
      policyVersion: v.policy_version,
      from: iso(v.first),
      to: iso(v.last),
      calls: v.calls,
    })),
  };
}

/** The instants of local midnight starting `from` and ending `to` (inclusive dates) in `timeZone`. */
export async function periodBounds(
  db: Queryable,
  from: string,
  to: string,
  timeZone: string,
): Promise<{ from: Date; to: Date }> {
  const { rows } = await db.query<{ f: Date | string; t: Date | string }>(
    `SELECT ($1::date::timestamp AT TIME ZONE $3) AS f, (($2::date + 1)::timestamp AT TIME ZONE $3) AS t`,
    [from, to, timeZone],
  );
  return { from: new Date(rows[0]!.f), to: new Date(rows[0]!.t) };
}

const cell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/**
 * The report as one CSV table (section, item, measure, value), for a spreadsheet or a grant
 * application: every figure of the JSON, one per row.
 */
export function reportCsv(r: Report): string {
  const out: unknown[][] = [['section', 'item', 'measure', 'value']];
  const add = (section: string, item: string, measure: string, value: unknown) =>
    out.push([section, item, measure, value]);
  add('period', r.jurisdictions?.join(' ') ?? 'all', `${r.from}/${r.to}`, r.timeZone);
  if (r.demoCalls > 0) add('DEMO DATA', 'calls made by cad-triage demo', 'calls', r.demoCalls);
  add('calls', 'all', 'calls', r.calls.total);
  for (const [k, v] of Object.entries(r.calls.byCategory)) add('calls', `category ${k}`, 'calls', v);
  for (const [k, v] of Object.entries(r.calls.byGate)) add('calls', `gate ${k}`, 'calls', v);
  for (const [k, v] of Object.entries(r.calls.byMode)) add('calls', `mode ${k}`, 'calls', v);
  for (const w of r.calls.perWeek) add('calls per week', w.week, 'calls', w.calls);
  for (const h of r.calls.perHourOfWeek)
    add('calls per hour of week', `day ${h.day} hour ${h.hour}`, 'calls', h.calls);
  const acc = (section: string, item: string, a: Acceptance) => {
    add(section, item, 'with feedback', a.withFeedback);
    add(section, item, 'accepted', a.accepted);
    add(section, item, 'overridden', a.overridden);
    add(section, item, 'override rate', a.overrideRate);
  };
  acc('feedback', 'all', r.feedback.overall);
  for (const [k, v] of Object.entries(r.feedback.byMode)) acc('feedback by mode', k, v);
  for (const [k, v] of Object.entries(r.feedback.byGate)) acc('feedback by gate', k, v);
  for (const v of r.feedback.byRule) acc('feedback by rule', v.ruleId, v);
  add('no social worker on duty', 'all', 'calls', r.noSocialWorkerOnDuty.calls);
  for (const h of r.noSocialWorkerOnDuty.perHourOfWeek)
    add('no social worker on duty', `day ${h.day} hour ${h.hour}`, 'calls', h.calls);
  const ref = r.referrals;
  for (const k of [
    'opened',
    'assigned',
    'contacted',
    'closed',
    'contactedByDue',
    'contactedLate',
    'overdueOpen',
  ] as const)
    add('referrals', 'all', k, ref[k]);
  add('referrals', 'all', 'median hours to first contact', ref.hoursToFirstContact.median);
  add('referrals', 'all', 'mean hours to first contact', ref.hoursToFirstContact.mean);
  for (const [k, v] of Object.entries(ref.outcomes)) add('referral outcomes', k, 'closed', v);
  add('people', 'all', 'unduplicated callers', r.people.unduplicatedCallers);
  add('people', 'all', 'interventions', r.people.interventions);
  for (const kind of ['people', 'addresses'] as const) {
    const t = r.people.repeatCallTrend[kind];
    const item = `${kind} with a referral, ${r.people.repeatCallTrend.weeks} weeks`;
    add('repeat-call trend', item, 'subjects', t.subjects);
    add('repeat-call trend', item, 'calls before', t.callsBefore);
    add('repeat-call trend', item, 'calls after', t.callsAfter);
    add('repeat-call trend', item, 'change', t.change);
  }
  for (const v of r.versions)
    add('versions', `${v.rulesVersion} ${v.policyVersion}`, `${v.from}/${v.to}`, v.calls);
  return out.map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}

/**
 * The report of local dates `from`..`to` (inclusive) as REST and the CLI ask for it: weeks and hours
 * in the time zone of the first jurisdiction's policy (the default policy's for all jurisdictions).
 */
export async function reportForDates(
  db: Queryable,
  policies: PolicySet | undefined,
  q: { jurisdictions: string[] | null; from: string; to: string; trendWeeks: number; now: Date },
): Promise<Report> {
  const set = policies?.jurisdictions;
  const timeZone =
    (q.jurisdictions?.[0] && set?.get(q.jurisdictions[0])?.timeZone) ??
    set?.get(DEFAULT_JURISDICTION)?.timeZone ??
    'UTC';
  const bounds = await periodBounds(db, q.from, q.to, timeZone);
  return buildReport(db, {
    jurisdictions: q.jurisdictions,
    ...bounds,
    timeZone,
    trendWeeks: q.trendWeeks,
    now: q.now,
  });
}

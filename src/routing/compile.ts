/**
 * Compiling a policies folder: parse → shape → ids → pools → jurisdictions → default, each a small
 * pure stage that adds diagnostics (with file and line) instead of throwing on the first problem.
 * The result is a `PolicySet` that `route()` can use without re-checking anything.
 */
import { createHash } from 'node:crypto';
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import type { PoolModel } from '../domain/routing.ts';
import type { PolicyDiagnostic } from './diagnostics.ts';
import {
  ANY_CATEGORY,
  DEFAULT_JURISDICTION,
  JurisdictionSchema,
  PolicyFileSchema,
  PoolSchema,
  POLICE,
  REFERRAL_PREFIX,
  type JurisdictionSpec,
  type PoolSpec,
} from './policy-format.ts';
import { isValidTimeZone, parseSchedule, type Schedule } from './schedule.ts';

/** CAD priorities 1 and 2 are urgent unless a jurisdiction says otherwise (1 is the most urgent). */
export const DEFAULT_URGENT_PRIORITY = 2;

export interface SourceFile {
  /** Path relative to the policies folder. */
  file: string;
  text: string;
}

/** A responder pool, ready to route with. */
export interface Pool {
  id: string;
  name: string;
  model: PoolModel;
  /** Empty with `anyCategory` true for `'*'`. */
  categories: readonly string[];
  anyCategory: boolean;
  mayAttendAlone: boolean;
  ages?: { min?: number; max?: number };
  schedule: Schedule;
  /** The zone of the schedule when it is not the jurisdiction's (shared pools). */
  timeZone?: string;
  onCall: boolean;
  contact?: string;
  file: string;
  line: number;
}

export interface RepeatThreshold {
  count: number;
  windowDays: number;
}

export type FallbackStep =
  { kind: 'pool'; poolId: string } | { kind: 'police' } | { kind: 'referral'; poolId: string };

/** One jurisdiction's routing policy, ready to route with. */
export interface Jurisdiction {
  id: string;
  name: string;
  timeZone: string;
  /** CAD priorities 1..urgentPriority are urgent. */
  urgentPriority: number;
  /** Agency ids (EIDO agency `$id`s, ORIs) whose incidents belong here, lower-cased; none by default. */
  agencies?: readonly string[];
  pools: readonly string[];
  fallback: readonly FallbackStep[];
  followUp: {
    pool: string;
    always: boolean;
    repeatCalls: { byAddress?: RepeatThreshold; byCaller?: RepeatThreshold };
  };
  file: string;
  line: number;
}

/** Every pool and jurisdiction of a policies folder, all references checked. */
export interface PolicySet {
  pools: ReadonlyMap<string, Pool>;
  jurisdictions: ReadonlyMap<string, Jurisdiction>;
}

export type CompileResult =
  | { ok: true; policies: PolicySet; version: string; files: string[] }
  | { ok: false; errors: PolicyDiagnostic[] };

type Path = ReadonlyArray<PropertyKey>;

interface Located<T> {
  value: T;
  file: string;
  /** The item's path in its file, e.g. ['pools', 2]. */
  path: Path;
  lineAt(path: Path): number;
}

interface Parsed {
  pools: Array<Located<PoolSpec>>;
  jurisdictions: Array<Located<JurisdictionSpec>>;
  /** Ids of items that failed the schema: references to them are not reported again as unknown. */
  brokenPools: Set<string>;
  brokenJurisdictions: Set<string>;
}

const IDENTIFIER = /^[a-z][a-z0-9_]*$/;

function locator(doc: Document, lc: LineCounter) {
  const nodeAt = (path: Path): unknown =>
    path.length === 0 ? doc.contents : doc.getIn(path as unknown[], true);
  return (path: Path): number => {
    // The nearest node that exists: a missing key is reported on the object that lacks it.
    for (let n = path.length; n >= 0; n--) {
      // A map value is located by its key, so `followUp:` with a nested map points at `followUp`.
      const parent = n > 0 ? nodeAt(path.slice(0, n - 1)) : undefined;
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[n - 1]);
        if (pair && isNode(pair.key) && pair.key.range) return lc.linePos(pair.key.range[0]).line;
      }
      const node = nodeAt(path.slice(0, n));
      if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
    }
    return 1;
  };
}

function schemaDiagnostics(
  issues: readonly z.core.$ZodIssue[],
  file: string,
  base: Path,
  lineAt: (p: Path) => number,
  who: { poolId?: string; jurisdiction?: string },
): PolicyDiagnostic[] {
  return issues.map((issue) => {
    const path = [...base, ...issue.path];
    const isModel = who.poolId !== undefined && issue.path.length === 1 && issue.path[0] === 'model';
    return {
      code: isModel ? ('ERR_POLICY_UNKNOWN_MODEL' as const) : ('ERR_POLICY_SCHEMA' as const),
      file,
      line: lineAt(path),
      message: isModel
        ? `model: expected one of embedded, contracted, town_department, municipal_agency, intern, mobile_crisis, referral_line`
        : `${path.join('.')}: ${issue.message}`,
      ...who,
    };
  });
}

/** Stage 1: YAML and shape, item by item. */
function parseFiles(files: readonly SourceFile[], diags: PolicyDiagnostic[]): Parsed {
  const out: Parsed = {
    pools: [],
    jurisdictions: [],
    brokenPools: new Set(),
    brokenJurisdictions: new Set(),
  };
  for (const src of files) {
    const lc = new LineCounter();
    const doc = parseDocument(src.text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        diags.push({
          code: 'ERR_POLICY_YAML',
          file: src.file,
          line: lc.linePos(e.pos[0]).line,
          message: e.message.split('\n')[0]!,
        });
      }
      continue;
    }
    const lineAt = locator(doc, lc);
    const top = PolicyFileSchema.safeParse(doc.toJS() ?? {});
    if (!top.success) {
      diags.push(...schemaDiagnostics(top.error.issues, src.file, [], lineAt, {}));
      continue;
    }
    const items = [
      { key: 'pools', list: top.data.pools ?? [], schema: PoolSchema, broken: out.brokenPools },
      {
        key: 'jurisdictions',
        list: top.data.jurisdictions ?? [],
        schema: JurisdictionSchema,
        broken: out.brokenJurisdictions,
      },
    ] as const;
    for (const { key, list, schema, broken } of items) {
      list.forEach((raw, i) => {
        const path = [key, i] as const;
        const id =
          typeof raw === 'object' && raw !== null && 'id' in raw && typeof raw.id === 'string'
            ? raw.id
            : undefined;
        const who = id === undefined ? {} : key === 'pools' ? { poolId: id } : { jurisdiction: id };
        const r = schema.safeParse(raw);
        if (!r.success) {
          if (id !== undefined) broken.add(id);
          diags.push(...schemaDiagnostics(r.error.issues, src.file, path, lineAt, who));
          return;
        }
        const located = { file: src.file, path, lineAt };
        if (key === 'pools') out.pools.push({ ...located, value: r.data as PoolSpec });
        else out.jurisdictions.push({ ...located, value: r.data as JurisdictionSpec });
      });
    }
  }
  return out;
}

/** Stage 2: ids are unique across the folder (pools are shared by id, so two with one id is ambiguous). */
function checkIds(p: Parsed, diags: PolicyDiagnostic[]): void {
  const check = <T extends { id: string }>(items: Array<Located<T>>, kind: 'pool' | 'jurisdiction') => {
    const seen = new Map<string, Located<T>>();
    for (const it of items) {
      const first = seen.get(it.value.id);
      if (first) {
        diags.push({
          code: 'ERR_POLICY_DUPLICATE_ID',
          file: it.file,
          line: it.lineAt([...it.path, 'id']),
          message: `${kind} '${it.value.id}' is already defined in ${first.file}:${first.lineAt([...first.path, 'id'])}`,
          ...(kind === 'pool' ? { poolId: it.value.id } : { jurisdiction: it.value.id }),
        });
      } else seen.set(it.value.id, it);
    }
  };
  check(p.pools, 'pool');
  check(p.jurisdictions, 'jurisdiction');
}

/** Agency ids are matched case-insensitively, surrounding spaces ignored. */
export const agencyKey = (id: string) => id.trim().toLowerCase();

/** Stage 2b: an agency belongs to one jurisdiction, or an EIDO from it could be routed by either. */
function checkAgencies(p: Parsed, diags: PolicyDiagnostic[]): void {
  const seen = new Map<string, { it: Located<JurisdictionSpec>; index: number }>();
  for (const it of p.jurisdictions) {
    (it.value.agencies ?? []).forEach((raw, index) => {
      const key = agencyKey(raw);
      const first = seen.get(key);
      if (first && first.it.value.id !== it.value.id) {
        diags.push({
          code: 'ERR_POLICY_DUPLICATE_AGENCY',
          file: it.file,
          line: it.lineAt([...it.path, 'agencies', index]),
          message: `agency '${raw}' is already listed by jurisdiction '${first.it.value.id}' in ${first.it.file}:${first.it.lineAt([...first.it.path, 'agencies', first.index])}`,
          jurisdiction: it.value.id,
        });
      } else if (!first) seen.set(key, { it, index });
    });
  }
}

/** Stage 3: each pool on its own — interns, categories, ages, schedule, time zone. */
function compilePools(p: Parsed, diags: PolicyDiagnostic[]): Map<string, Pool> {
  const pools = new Map<string, Pool>();
  for (const it of p.pools) {
    const s = it.value;
    const at = (...sub: PropertyKey[]) => it.lineAt([...it.path, ...sub]);
    const err = (code: PolicyDiagnostic['code'], line: number, message: string) =>
      diags.push({ code, file: it.file, line, message, poolId: s.id });
    const before = diags.length;
    // The seeds are clear that a student is always supervised: an intern pool only ever co-responds.
    if (s.model === 'intern' && s.mayAttendAlone) {
      err(
        'ERR_POLICY_INTERN_ALONE',
        at('mayAttendAlone'),
        'an intern pool may not attend alone: set mayAttendAlone: false',
      );
    }
    s.categories.forEach((c, i) => {
      if (c !== ANY_CATEGORY && !IDENTIFIER.test(c)) {
        err(
          'ERR_POLICY_CATEGORY',
          at('categories', i),
          `category '${c}' is not an identifier (lower case, digits, _)`,
        );
      }
    });
    if (s.ages?.min !== undefined && s.ages.max !== undefined && s.ages.min > s.ages.max) {
      err('ERR_POLICY_SCHEMA', at('ages'), `ages: min ${s.ages.min} is above max ${s.ages.max}`);
    }
    if (s.timeZone !== undefined && !isValidTimeZone(s.timeZone)) {
      err(
        'ERR_POLICY_TIME_ZONE',
        at('timeZone'),
        `'${s.timeZone}' is not an IANA time zone (e.g. America/New_York)`,
      );
    }
    const entries = typeof s.schedule === 'string' ? [s.schedule] : s.schedule;
    const { schedule, errors } = parseSchedule(entries);
    for (const e of errors) {
      err(
        'ERR_POLICY_SCHEDULE',
        typeof s.schedule === 'string' ? at('schedule') : at('schedule', e.index),
        e.message,
      );
    }
    if (diags.length > before || pools.has(s.id)) continue;
    pools.set(s.id, {
      id: s.id,
      name: s.name,
      model: s.model,
      categories: s.categories.filter((c) => c !== ANY_CATEGORY),
      anyCategory: s.categories.includes(ANY_CATEGORY),
      mayAttendAlone: s.mayAttendAlone,
      ...(s.ages ? { ages: s.ages } : {}),
      schedule,
      ...(s.timeZone ? { timeZone: s.timeZone } : {}),
      onCall: s.onCall ?? false,
      ...(s.contact ? { contact: s.contact } : {}),
      file: it.file,
      line: at(),
    });
  }
  return pools;
}

/** Stage 4: each jurisdiction — its zone and every pool it names. */
function compileJurisdictions(
  p: Parsed,
  pools: ReadonlyMap<string, Pool>,
  diags: PolicyDiagnostic[],
): Map<string, Jurisdiction> {
  const definedPools = new Set(p.pools.map((x) => x.value.id));
  const out = new Map<string, Jurisdiction>();
  for (const it of p.jurisdictions) {
    const s = it.value;
    const at = (...sub: PropertyKey[]) => it.lineAt([...it.path, ...sub]);
    const err = (code: PolicyDiagnostic['code'], line: number, message: string, poolId?: string) =>
      diags.push({ code, file: it.file, line, message, jurisdiction: s.id, ...(poolId ? { poolId } : {}) });
    const before = diags.length;
    // A pool that failed its own checks was reported already; saying "unknown" again would mislead.
    const known = (id: string) => definedPools.has(id) || p.brokenPools.has(id);

    if (!isValidTimeZone(s.timeZone)) {
      err(
        'ERR_POLICY_TIME_ZONE',
        at('timeZone'),
        `'${s.timeZone}' is not an IANA time zone (e.g. America/New_York)`,
      );
    }
    s.pools.forEach((id, i) => {
      if (!known(id))
        err('ERR_POLICY_UNKNOWN_POOL', at('pools', i), `pool '${id}' is not defined in any policy file`, id);
    });
    const fallback: FallbackStep[] = [];
    s.fallback.forEach((entry, i) => {
      if (entry === POLICE) {
        fallback.push({ kind: 'police' });
      } else if (entry.startsWith(REFERRAL_PREFIX)) {
        const id = entry.slice(REFERRAL_PREFIX.length);
        const pool = pools.get(id);
        if (!known(id)) {
          err(
            'ERR_POLICY_FALLBACK',
            at('fallback', i),
            `'${entry}' names no pool: '${id}' is not defined`,
            id,
          );
        } else if (pool && pool.model !== 'referral_line') {
          err(
            'ERR_POLICY_FALLBACK',
            at('fallback', i),
            `'${entry}': pool '${id}' is a ${pool.model}, not a referral line`,
            id,
          );
        } else fallback.push({ kind: 'referral', poolId: id });
      } else if (known(entry)) {
        fallback.push({ kind: 'pool', poolId: entry });
      } else {
        err(
          'ERR_POLICY_FALLBACK',
          at('fallback', i),
          `'${entry}' names nothing: expected a pool id, '${POLICE}' or '${REFERRAL_PREFIX}<referral line pool id>'`,
          entry,
        );
      }
    });
    const followUpPool = s.followUp?.pool;
    if (followUpPool === undefined) {
      err(
        'ERR_POLICY_FOLLOW_UP',
        s.followUp ? at('followUp') : at('id'),
        'no follow-up pool: add followUp: { pool: <pool id> }',
      );
    } else if (!known(followUpPool)) {
      err(
        'ERR_POLICY_FOLLOW_UP',
        at('followUp', 'pool'),
        `follow-up pool '${followUpPool}' is not defined`,
        followUpPool,
      );
    }
    if (diags.length > before || out.has(s.id) || followUpPool === undefined) continue;
    out.set(s.id, {
      id: s.id,
      name: s.name,
      timeZone: s.timeZone,
      urgentPriority: s.urgentPriority ?? DEFAULT_URGENT_PRIORITY,
      ...(s.agencies ? { agencies: s.agencies.map(agencyKey) } : {}),
      pools: s.pools,
      fallback,
      followUp: {
        pool: followUpPool,
        always: s.followUp?.always ?? false,
        repeatCalls: s.followUp?.repeatCalls ?? {},
      },
      file: it.file,
      line: at(),
    });
  }
  return out;
}

/** Stage 5: there is a policy for calls from towns without one. */
function checkDefault(p: Parsed, diags: PolicyDiagnostic[]): void {
  const has =
    p.jurisdictions.some((j) => j.value.id === DEFAULT_JURISDICTION) ||
    p.brokenJurisdictions.has(DEFAULT_JURISDICTION);
  if (!has) {
    diags.push({
      code: 'ERR_POLICY_MISSING_DEFAULT',
      file: '.',
      line: 0,
      message: `no '${DEFAULT_JURISDICTION}' jurisdiction: calls from towns without a policy would have nowhere to go`,
    });
  }
}

/** "sha256:" + the first 16 hex digits of the hash of the sorted file names and contents. */
export function policyVersion(files: readonly SourceFile[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))) {
    h.update(f.file).update('\0').update(f.text).update('\0');
  }
  return `sha256:${h.digest('hex').slice(0, 16)}`;
}

/** Compiles the files of a policies folder. Never throws; all problems come back as diagnostics. */
export function compilePolicies(files: readonly SourceFile[]): CompileResult {
  const diags: PolicyDiagnostic[] = [];
  const parsed = parseFiles(files, diags);
  checkIds(parsed, diags);
  checkAgencies(parsed, diags);
  const pools = compilePools(parsed, diags);
  const jurisdictions = compileJurisdictions(parsed, pools, diags);
  checkDefault(parsed, diags);
  if (diags.length > 0) {
    diags.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
    return { ok: false, errors: diags };
  }
  return {
    ok: true,
    policies: { pools, jurisdictions },
    version: policyVersion(files),
    files: files.map((f) => f.file).sort(),
  };
}

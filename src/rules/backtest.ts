/**
 * The backtest (`cad-triage rules backtest`): replays stored calls through candidate rules and
 * reports what would change against the decisions actually made: categories gained and lost, gate
 * moves, and above all every call whose gate the candidate rules would loosen (fewer police
 * protections than the rules that decided it), listed one by one for review before the rules ship.
 */
import { CallEventSchema } from '../domain/call-event.ts';
import { GATE_VALUES, type GateValue } from '../domain/classification.ts';
import type { PreparedRuleset } from './compile.ts';
import { evaluate } from './evaluate.ts';

/** One stored decision, as the backtest reads it from the `decisions` table. */
export interface StoredDecision {
  decisionId: string;
  incidentId: string;
  jurisdiction: string;
  rulesVersion: string;
  /** The call as stored (src/triage/privacy.ts: no phone, address or unknown field in clear). */
  call: unknown;
  categories: string[];
  gate: GateValue;
  /** The APCO common type the decision carried (null: none or not recorded). */
  commonType?: string | null;
  repeatCalls?: { byAddress: number; byCaller: number };
}

export interface BacktestChange {
  decisionId: string;
  incidentId: string;
  jurisdiction: string;
  before: { categories: string[]; gate: GateValue; rulesVersion: string; commonType?: string | null };
  after: { categories: string[]; gate: GateValue; commonType: string | null };
}

export interface BacktestReport {
  rulesVersion: string;
  /** Decisions read. */
  calls: number;
  unchanged: number;
  /**
   * Calls whose narrative is no longer stored (past its retention, or never kept): not replayed,
   * since the rules would see less than they saw when deciding.
   */
  withoutNarrative: number;
  /** Stored calls that are no longer valid call events (not replayed). */
  unreadable: Array<{ decisionId: string; reason: string }>;
  /** How many calls gained or lost each category. */
  categories: Record<string, { gained: number; lost: number }>;
  /** Gate moves, "before -> after", with their counts. */
  gateMoves: Record<string, number>;
  /** APCO common type moves (a crosswalk change), "before -> after" ('none' when not placed), with their counts. */
  commonTypeMoves: Record<string, number>;
  /** Every call the candidate rules would gate less cautiously: review each one. */
  loosened: BacktestChange[];
  /** Every other change (categories, or a more cautious gate). */
  changed: BacktestChange[];
}

/** 0 = civilian_ok, 1 = co_response_only, 2 = police_secure_first. */
const caution = (g: GateValue) => GATE_VALUES.indexOf(g);

export function backtest(ruleset: PreparedRuleset, decisions: Iterable<StoredDecision>): BacktestReport {
  const report: BacktestReport = {
    rulesVersion: ruleset.version,
    calls: 0,
    unchanged: 0,
    withoutNarrative: 0,
    unreadable: [],
    categories: {},
    gateMoves: {},
    commonTypeMoves: {},
    loosened: [],
    changed: [],
  };
  const count = (category: string, key: 'gained' | 'lost') => {
    const c = (report.categories[category] ??= { gained: 0, lost: 0 });
    c[key] += 1;
  };
  for (const d of decisions) {
    report.calls += 1;
    if ((d.call as { narrativeOmitted?: unknown } | null)?.narrativeOmitted !== undefined) {
      report.withoutNarrative += 1;
      continue;
    }
    const call = CallEventSchema.safeParse(d.call);
    if (!call.success) {
      const first = call.error.issues[0];
      report.unreadable.push({
        decisionId: d.decisionId,
        reason: `${first?.path.join('.') || '(root)'}: ${first?.message ?? 'invalid'}`,
      });
      continue;
    }
    const result = evaluate(
      ruleset,
      call.data,
      d.repeatCalls ? { repeatCalls: d.repeatCalls } : undefined,
    );
    const after = {
      categories: result.categories.map((c) => c.category).sort(),
      gate: result.gate.value,
      commonType: result.commonType.code,
    };
    const before = {
      categories: [...d.categories].sort(),
      gate: d.gate,
      rulesVersion: d.rulesVersion,
      ...(d.commonType !== undefined ? { commonType: d.commonType } : {}),
    };
    // Decisions stored before crosswalks existed carry no type: only a known type can move.
    const typeMoved = d.commonType !== undefined && (d.commonType ?? null) !== after.commonType;
    if (typeMoved) {
      const move = `${d.commonType ?? 'none'} -> ${after.commonType ?? 'none'}`;
      report.commonTypeMoves[move] = (report.commonTypeMoves[move] ?? 0) + 1;
    }
    const gained = after.categories.filter((c) => !before.categories.includes(c));
    const lost = before.categories.filter((c) => !after.categories.includes(c));
    for (const c of gained) count(c, 'gained');
    for (const c of lost) count(c, 'lost');
    if (after.gate !== before.gate) {
      const move = `${before.gate} -> ${after.gate}`;
      report.gateMoves[move] = (report.gateMoves[move] ?? 0) + 1;
    }
    if (gained.length === 0 && lost.length === 0 && after.gate === before.gate && !typeMoved) {
      report.unchanged += 1;
      continue;
    }
    const change = {
      decisionId: d.decisionId,
      incidentId: d.incidentId,
      jurisdiction: d.jurisdiction,
      before,
      after,
    };
    if (caution(after.gate) < caution(before.gate)) report.loosened.push(change);
    else report.changed.push(change);
  }
  return report;
}

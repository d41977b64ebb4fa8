/**
 * Placing a call's type among the APCO 2.103 common incident types. The resolution order:
 *
 *   1. the jurisdiction's crosswalk row for `callType.code`, then for `callType.description`;
 *   2. `callType.commonType`, the APCO code the CAD sent (e.g. from a NENA EIDO), when it is known;
 *   3. `callType.code`, when it is itself an APCO code;
 *   4. the national default vocabulary (the types' description patterns) on the description, then
 *      on the code: of the affirmed (not negated) matches, the most cautious floor wins, then the
 *      longest match, then file order;
 *   5. none.
 *
 * The result is a pure function of the crosswalk and those four fields, so it is cached per
 * crosswalk: a CAD uses a short list of call types.
 */
import type { CallEvent } from '../domain/call-event.ts';
import { NO_COMMON_TYPE, type CommonType } from '../domain/classification.ts';
import { AFFIRMED, analyze } from '../rules/text.ts';
import {
  normalizeCode,
  normalizeDescription,
  type PreparedCommonType,
  type PreparedCrosswalk,
} from './compile.ts';

export interface CallTypeResolution {
  commonType: CommonType;
  /** The gate floor's index in GATE_VALUES; -1 when not placed. */
  severity: number;
  /** The field that placed it ('callType.code', 'callType.description', 'callType.commonType'), and its text. */
  field: string;
  text: string;
  /** "Call type X is APCO Y (name)": the start of the evidence and gate reasons. */
  says: string;
}

const NONE: CallTypeResolution = Object.freeze({
  commonType: NO_COMMON_TYPE,
  severity: -1,
  field: 'callType.code',
  text: '',
  says: '',
}) as CallTypeResolution;

/** Per crosswalk: jurisdiction -> code -> description -> commonType sent -> resolution. */
type Cache = Map<string, Map<string, Map<string, Map<string, CallTypeResolution>>>>;
const cache = new WeakMap<PreparedCrosswalk, { size: number; map: Cache }>();

function shown(call: CallEvent): string {
  const d = call.callType.description?.trim();
  return d ? `${call.callType.code.trim()} "${d}"` : call.callType.code.trim();
}

function placed(
  call: CallEvent,
  type: PreparedCommonType,
  how: Pick<CommonType, 'foundBy'> & Partial<CommonType>,
  field: string,
  text: string,
  row?: { floor: CommonType['floor']; severity: number; categories: readonly string[] },
): CallTypeResolution {
  const commonType: CommonType = {
    code: type.code,
    name: type.name,
    foundBy: how.foundBy,
    ref: how.ref ?? `apco:${type.code}`,
    file: how.file ?? type.file,
    line: how.line ?? type.line,
    ...(how.matched !== undefined ? { matched: how.matched } : {}),
    floor: row?.floor ?? type.floor,
    categories: [...(row?.categories ?? type.categories)],
  };
  return {
    commonType,
    severity: row?.severity ?? type.severity,
    field,
    text,
    says: `Call type ${shown(call)} is APCO ${type.code} (${type.name})`,
  };
}

/** The best vocabulary match in `text`, or undefined. */
function vocabularyMatch(
  cw: PreparedCrosswalk,
  text: string,
): { type: PreparedCommonType; matched: string } | undefined {
  if (!cw.vocabulary || text.trim() === '') return undefined;
  const { mentions } = analyze(cw.vocabulary, text, true);
  let best: { type: PreparedCommonType; span: number; lex: number; start: number; end: number } | undefined;
  for (const m of mentions) {
    if (m.polarity !== AFFIRMED || m.superseded) continue;
    const type = cw.vocabularyTypes[m.lex]!;
    const span = m.endTok - m.startTok;
    // The most cautious type mentioned wins (a weapon anywhere in the type makes it a weapon call),
    // then the most specific (longest) match, then the first type in file order.
    const better =
      !best ||
      type.severity > best.type.severity ||
      (type.severity === best.type.severity && span > best.span) ||
      (type.severity === best.type.severity && span === best.span && m.lex < best.lex);
    if (better) best = { type, span, lex: m.lex, start: m.start, end: m.end };
  }
  return best ? { type: best.type, matched: text.slice(best.start, best.end) } : undefined;
}

function resolveUncached(cw: PreparedCrosswalk, call: CallEvent): CallTypeResolution {
  const code = call.callType.code.trim();
  const description = call.callType.description?.trim() ?? '';

  const j = cw.jurisdictions.get(call.agency.jurisdiction);
  if (j) {
    const byCode = j.byCode.get(normalizeCode(code));
    const row = byCode ?? (description ? j.byDescription.get(normalizeDescription(description)) : undefined);
    if (row) {
      return placed(
        call,
        row.type,
        { foundBy: 'crosswalk', ref: row.ref, file: row.file, line: row.line },
        byCode ? 'callType.code' : 'callType.description',
        byCode ? code : description,
        row,
      );
    }
  }

  const sent = call.callType.commonType?.trim().toUpperCase();
  const sentType = sent ? cw.types.get(sent) : undefined;
  if (sentType) return placed(call, sentType, { foundBy: 'call' }, 'callType.commonType', sent!);

  const codeType = cw.types.get(normalizeCode(code));
  if (codeType) return placed(call, codeType, { foundBy: 'code' }, 'callType.code', code);

  for (const [field, text] of [
    ['callType.description', description],
    ['callType.code', code],
  ] as const) {
    const m = vocabularyMatch(cw, text);
    if (m) return placed(call, m.type, { foundBy: 'vocabulary', matched: m.matched }, field, m.matched);
  }
  return NONE;
}

/** The APCO common type of a call, and how it was found (see the order above). */
export function resolveCallType(cw: PreparedCrosswalk, call: CallEvent): CallTypeResolution {
  let c = cache.get(cw);
  if (!c) cache.set(cw, (c = { size: 0, map: new Map() }));
  // Nested maps rather than one joined key: the strings' own hashes are reused, nothing is built.
  const step = <V>(m: Map<string, V>, k: string, make: () => V): V => {
    let v = m.get(k);
    if (v === undefined) m.set(k, (v = make()));
    return v;
  };
  const byCommonType = step(
    step(
      step(c.map, call.agency.jurisdiction, () => new Map()),
      call.callType.code,
      () => new Map(),
    ),
    call.callType.description ?? '',
    () => new Map<string, CallTypeResolution>(),
  );
  const sent = call.callType.commonType ?? '';
  let hit = byCommonType.get(sent);
  if (!hit) {
    hit = resolveUncached(cw, call);
    if (c.size > 10_000) {
      c.map.clear();
      c.size = 0;
      return hit;
    }
    byCommonType.set(sent, hit);
    c.size++;
  }
  return hit;
}

/** What a floor means, for the gate reason. */
export const FLOOR_SAYS: Record<string, string> = {
  police_secure_first: 'police secure the scene first',
  co_response_only: 'a civilian goes only with police',
  civilian_ok: 'a civilian may go alone when screening allows',
};

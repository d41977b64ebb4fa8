/**
 * Properties: evaluate never throws and is deterministic for any call the schema accepts; a rule
 * set with a broken rule anywhere fails validation naming that file and line.
 */
import fc from 'fast-check';
import t from 'tap';
import { CallEventSchema, SCREENING_KEYS } from '../../src/domain/call-event.ts';
import { ClassificationSchema } from '../../src/domain/classification.ts';
import { compileRuleset, DEFAULT_RULES_DIR, evaluate, loadRuleset, readRulesDir } from '../../src/rules/index.ts';

const loaded = await loadRuleset(DEFAULT_RULES_DIR);
if (!loaded.ok) throw new Error('default rules do not compile');
const rs = loaded.ruleset;

// Narrative words mixed from CAD vocabulary and noise, so the matcher's paths get exercised.
const words = fc.constantFrom(
  'NO', 'NOT', 'DENIES', 'NEG', 'UNK', 'RP', "RP'S", 'ADV', 'SUBJ', 'SI/HI', 'ETOH', 'W/', 'KNIFE', 'GUN', 'BUT',
  'HOMELESS', 'SLEEPING', 'IN', 'DOORWAY', 'DRUNK', 'OD', 'NARCAN', '15', 'YO', 'M', '80S', 'ELDERLY', 'FELL',
  'WANTS', 'TO', 'DIE', 'VOICES', ',', '.', '/', ' - ', '**', '?', 'TEENS', 'ONLY', 'KIDS', '(', ')', 'É', '😀',
);
const narrative = fc.oneof(fc.string({ maxLength: 300 }), fc.array(words, { maxLength: 60 }).map((w) => w.join(' ')));
const answer = fc.constantFrom('yes', 'no', 'unknown');
const call = fc.record(
  {
    eventId: fc.string({ minLength: 1, maxLength: 20 }),
    incidentId: fc.string({ minLength: 1, maxLength: 20 }),
    revision: fc.integer({ min: 1, max: 50 }),
    occurredAt: fc.constant('2026-03-01T10:00:00-05:00'),
    agency: fc.record({ id: fc.string({ minLength: 1, maxLength: 9 }), jurisdiction: fc.string({ minLength: 1, maxLength: 9 }) }),
    callType: fc.record(
      {
        code: fc.oneof(fc.constantFrom('EDP', 'OD', 'MTLV', 'RUNAWAY', 'ELDER', 'VAG', '10-96', 'X'), fc.string({ minLength: 1, maxLength: 12 })),
        description: fc.string({ maxLength: 40 }),
      },
      { requiredKeys: ['code'] },
    ),
    priority: fc.integer({ min: 1, max: 9 }),
    source: fc.constantFrom('911', '10-digit', 'text', '988-transfer', 'officer', 'alarm', 'walk-in'),
    location: fc.record(
      {
        placeType: fc.constantFrom('residence', 'shelter', 'encampment', 'school', 'senior_housing', 'x'),
        premiseFlags: fc.array(fc.constantFrom('prior_violence', 'officer_safety', 'weapons_on_file', 'lockbox'), { maxLength: 3 }),
      },
      { requiredKeys: [] },
    ),
    narrative,
    caller: fc.record({ relationship: fc.constantFrom('self', 'family', 'staff', 'passerby') }, { requiredKeys: [] }),
    subjects: fc.array(fc.record({ age: fc.integer({ min: 0, max: 130 }), role: fc.constantFrom('subject', 'caller', 'victim') }, { requiredKeys: [] }), { maxLength: 4 }),
    screening: fc.record(Object.fromEntries(SCREENING_KEYS.map((k) => [k, answer])), { requiredKeys: [] }),
  },
  { requiredKeys: ['eventId', 'incidentId', 'revision', 'occurredAt', 'agency', 'callType'] },
);

t.test('evaluate never throws, is deterministic and gives a valid classification', async (t) => {
  fc.assert(
    fc.property(call, (raw) => {
      const parsed = CallEventSchema.safeParse(raw);
      fc.pre(parsed.success);
      if (!parsed.success) return;
      const a = evaluate(rs, parsed.data);
      const b = evaluate(rs, structuredClone(parsed.data));
      t.same(a, b);
      ClassificationSchema.parse(a);
      // The cautious invariant: civilian_ok only with every required screening answer "no".
      if (a.gate.value === 'civilian_ok') {
        for (const k of rs.requireForCivilian) t.equal(parsed.data.screening?.[k], 'no');
      }
    }),
    { numRuns: 400 },
  );
});

t.test('a broken rule anywhere fails validation with its file and line', async (t) => {
  const { rules, tests } = await readRulesDir(DEFAULT_RULES_DIR);
  const breakages = [
    { code: 'ERR_RULES_CEL_SYNTAX', text: "screening.weapons == 'yes' &&" },
    { code: 'ERR_RULES_CEL_TYPE', text: "screening.nosuchkey == 'yes'" },
    { code: 'ERR_RULES_UNKNOWN_LEXICON', text: "mentions(narrative, 'no_such_lexicon')" },
    { code: 'ERR_RULES_NOT_BOOL', text: 'priority' },
  ];
  fc.assert(
    fc.property(fc.nat(), fc.nat(), fc.constantFrom(...breakages), (fi, ri, broken) => {
      // Pick a file with `when:` lines and replace one of them.
      const candidates = rules.filter((f) => /^\s+when: /m.test(f.text));
      const f = candidates[fi % candidates.length]!;
      const lines = f.text.split('\n');
      const whenLines = lines.flatMap((l, i) => (/^\s+when: /.test(l) ? [i] : []));
      const li = whenLines[ri % whenLines.length]!;
      // A folded condition continues on the next lines: drop them with it.
      let end = li + 1;
      if (/when: >-?\s*$/.test(lines[li]!)) while (end < lines.length && /^\s{6,}\S/.test(lines[end]!)) end++;
      const indent = /^(\s+)/.exec(lines[li]!)![1];
      const text = [...lines.slice(0, li), `${indent}when: "${broken.text.replace(/"/g, '\\"')}"`, ...lines.slice(end)].join('\n');
      const r = compileRuleset('/x', rules.map((x) => (x === f ? { ...x, text } : x)), tests);
      t.equal(r.ok, false);
      if (r.ok) return;
      t.ok(
        r.errors.some((e) => e.code === broken.code && e.file === f.file && e.line === li + 1),
        `${broken.code} at ${f.file}:${li + 1}, got ${r.errors.map((e) => `${e.file}:${e.line} ${e.code}`).join(', ')}`,
      );
    }),
    { numRuns: 40 },
  );
});

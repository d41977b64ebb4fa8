/**
 * The text matcher on its own: normalization, abbreviations, term syntax, NegEx negation with
 * pseudo-negations and scope ends, uncertainty, reporter clauses, corrections and typo repair.
 */
import t from 'tap';
import { AFFIRMED, analyze, expandDeterminant, MatcherBuilder, NEGATED, parseTerm, tokenize } from '../../src/rules/text.ts';

const b = new MatcherBuilder({
  abbreviations: { etoh: 'alcohol', si: 'suicidal ideation', unk: 'unknown', neg: 'negative', 'w/': 'with', adv: 'advises' },
  window: 5,
});
const LEX = ['weapon', 'alcohol', 'suicidal', 'homeless', 'older', 'need'];
b.add('(knife|gun|guns|weapon|weapons|hatchet|pills)', { kind: 'content', lex: 0 });
b.add('(alcohol|drunk|drinking)', { kind: 'content', lex: 1 });
b.add('(suicid*|wants to die|suicidal ideation)', { kind: 'content', lex: 2 });
b.add('(homeless|nowhere to go)', { kind: 'content', lex: 3 });
b.add('(retired|elderly) (nurse|teacher|man)', { kind: 'content', lex: 4 });
b.add('(not eating|sleeping ~3 (doorway|park))', { kind: 'content', lex: 5 });
for (const w of ['no', 'not', 'denies', 'negative', 'never', 'without']) b.add(w, { kind: 'pre', lex: -1 });
b.add('denied', { kind: 'post', lex: -1 });
b.add('(unknown|unsure if)', { kind: 'uncertain', lex: -1 });
b.add('(not only|not (put|set) down)', { kind: 'pseudo', lex: -1 });
b.add('(but|however)', { kind: 'terminator', lex: -1 });
b.add('(or|and)', { kind: 'conjunction', lex: -1 });
b.add('rp', { kind: 'anchor', lex: -1 });
b.add('caller', { kind: 'callerAnchor', lex: -1 });
b.add('(advises|states|calling)', { kind: 'verb', lex: -1 });
const m = b.build();

/** lexicon:polarity[:bystander] for every mention, in order. */
function read(text: string, callerIsSubject = false): string[] {
  return analyze(m, text, callerIsSubject).mentions.map(
    (x) =>
      `${LEX[x.lex]}:${x.polarity === AFFIRMED ? 'yes' : x.polarity === NEGATED ? 'no' : 'unk'}${x.subject ? '' : ':rp'}${x.superseded ? ':corrected' : ''}`,
  );
}

t.test('tokenize: case, possessives, contractions, hyphens, slash abbreviations, separators', async (t) => {
  const toks = tokenize("RP'S SON CAN'T STAY W/ HER - NON-VIOLENT / SI/HI", new Set(['w/']));
  t.same(
    toks.map((x) => x.t),
    ['rp', "'s", 'son', 'cant', 'stay', 'w/', 'her', '|', 'non', 'violent', '|', 'si', '/', 'hi'],
  );
  t.equal(toks[0]!.start, 0);
  t.equal(toks[2]!.start, 5, 'offsets point into the original text');
});

t.test('term syntax: groups nest, optional groups, prefixes and gaps; errors are readable', async (t) => {
  const norm = (w: string) => [w.toLowerCase()];
  t.equal(parseTerm('kill (himself|herself|end (it|all))', norm).length, 4);
  t.equal(parseTerm('(a|b)? c', norm).length, 3);
  t.same(parseTerm('suicid*', norm), [[{ k: 'p', t: 'suicid' }]]);
  t.same(parseTerm('sleeping ~2 park', norm)[0]![1], { k: 'g', n: 2 });
  t.throws(() => parseTerm('(a|b', norm), /unbalanced "\("/);
  t.throws(() => parseTerm('a)', norm), /unbalanced "\)"/);
  t.throws(() => parseTerm('~ a', norm), /gap at the start/);
});

t.test('abbreviations expand in narratives and terms alike', async (t) => {
  t.same(read('ETOH INVOLVED'), ['alcohol:yes']);
  t.same(read('SUBJ REPORTS SI'), ['suicidal:yes']);
});

t.test('negation: pre and post triggers, lists, scope ends', async (t) => {
  t.same(read('DENIES SI'), ['suicidal:no']);
  t.same(read('NEG WEAPONS'), ['weapon:no']);
  t.same(read('NO PILLS OR WEAPONS'), ['weapon:no', 'weapon:no'], 'a listed term carries the negation');
  t.same(read('DENIES ETOH/SI'), ['alcohol:no', 'suicidal:no'], 'a slash list too');
  t.same(read('NO WEAPON IN HAND BUT HE CARRIES A HATCHET'), ['weapon:no', 'weapon:yes'], '"but" ends the scope');
  t.same(read('NOT VIOLENT AND HAS A KNIFE'), ['weapon:yes'], '"and" continues only into a listed term');
  t.same(read('NO WEAPONS. HAS A GUN'), ['weapon:no', 'weapon:yes'], 'a sentence end ends the scope');
  t.same(read('SI DENIED'), ['suicidal:no'], 'post-trigger');
  t.same(read('NEVER BEEN SEEN WITH A KNIFE'), ['weapon:no']);
  t.same(read('NO ONE SAW IT WAS A VERY LONG TIME AGO THE KNIFE'), ['weapon:yes'], 'the window ends the scope');
});

t.test('pseudo-negations negate nothing', async (t) => {
  t.same(read('NOT ONLY IS HE DRUNK'), ['alcohol:yes']);
  t.same(read('WILL NOT PUT DOWN THE KNIFE'), ['weapon:yes']);
  t.same(read('NOT EATING, NOWHERE TO GO'), ['need:yes', 'homeless:yes'], 'a trigger inside a term is part of it');
});

t.test('uncertainty', async (t) => {
  t.same(read('UNK WEAPONS'), ['weapon:unk']);
  t.same(read('UNSURE IF HE HAS A GUN'), ['weapon:unk']);
  t.same(read('HAS BEEN DRINKING? NO'), ['alcohol:unk'], 'a question mark leaves the term unsettled');
});

t.test('reporter clauses are about the RP, not the subject', async (t) => {
  t.same(read('RP IS A RETIRED NURSE, CALLING ABOUT HER NEIGHBOR'), ['older:yes:rp']);
  t.same(read("RP'S HUSBAND IS A RETIRED TEACHER"), ['older:yes'], "RP'S X is about X");
  t.same(read('HIGH ON ETOH PER RP, ELDERLY MAN'), ['alcohol:yes', 'older:yes'], '"per RP" starts no clause');
  t.same(read('CALLER STATES ELDERLY MAN', true), ['older:yes'], 'the caller is the subject when calling about self');
  t.same(read('CALLER IS A RETIRED NURSE', false), ['older:yes:rp']);
});

t.test('corrections: a later negation of the same words supersedes', async (t) => {
  t.same(read('A HOMELESS MALE - HE IS NOT HOMELESS'), ['homeless:yes:corrected', 'homeless:no']);
  t.same(read('HAS A KNIFE, NO GUN'), ['weapon:yes', 'weapon:no'], 'different words are not a correction');
});

t.test('typo repair against the vocabulary', async (t) => {
  t.same(read('SLEEPNG IN THE DOORWAY'), ['need:yes'], 'a dropped letter');
  t.same(read('SLEEEPING IN THE PARK'), ['need:yes'], 'an extra letter');
  t.same(read('SLEPING'), [], 'short of the term it stays unmatched');
});

t.test('protocol determinant codes read as protocol number and acuity name', async (t) => {
  t.same(expandDeterminant('114d'), ['114', 'delta']);
  t.same(expandDeterminant('25d1'), ['25', 'delta', '1']);
  t.same(expandDeterminant('136e'), ['136', 'echo']);
  t.same(expandDeterminant('121o'), ['121', 'omega']);
  for (const w of ['5150', '647f', '9mm', '10', 'd1', '1234d', '25d123']) t.equal(expandDeterminant(w), undefined, w);
  const db = new MatcherBuilder({ abbreviations: {}, window: 5 });
  db.add('114 (delta|echo)', { kind: 'content', lex: 0 });
  db.add('25D2', { kind: 'content', lex: 1 }); // a term written as a code expands the same way
  const dm = db.build();
  const lexes = (text: string) => analyze(dm, text, true).mentions.map((x) => x.lex);
  t.same(lexes('114D_Domestic Physical'), [0]);
  t.same(lexes('114E'), [0]);
  t.same(lexes('114B_Domestic Past'), [], 'Bravo is not Delta or Echo');
  t.same(lexes('25D2'), [1]);
  t.same(lexes('25D1'), []);
  t.same(lexes('114 DELTA'), [0], 'the acuity written out reads the same');
});

/**
 * Text matching for CAD narratives: normalization, CAD abbreviations, one token trie for every
 * lexicon of a rule set, NegEx-style negation and uncertainty, and who a mention is about.
 *
 * The whole rule set's vocabulary (lexicon terms and the negation/attribution triggers) is
 * compiled into ONE trie over normalized tokens, walked once per text; the rule conditions then
 * only look results up. Negation follows NegEx (Chapman et al. 2001): a trigger negates the terms
 * that start within a window after it (or end before a post-trigger), the scope ends at a
 * terminator ("but", a sentence end), pseudo-triggers ("not only") negate nothing, and a listed
 * term after "or"/"and"/a comma carries the negation on ("no pills or weapons").
 */

export interface Token {
  /** Normalized text: lower case, no diacritics, abbreviations expanded; punctuation as itself. */
  t: string;
  /** Offsets of the original text this token came from (an expansion shares its source's). */
  start: number;
  end: number;
  punct: boolean;
  /** The word's id in the rule set's vocabulary, -1 when it is in no term (set by normalize). */
  id?: number | undefined;
  /** Prefix children of the trie root this word matches (set by normalize). */
  rootPrefixes?: TrieNode[] | undefined;
}

/** What the matcher knows about one normalized word: computed once per distinct word. */
interface WordInfo {
  t: string;
  id: number;
  rootPrefixes: TrieNode[];
}

const NO_NODES: TrieNode[] = [];

/** Hard breaks: a negation scope or a reporter clause never crosses one. `|` stands for " / ", " - ", "**". */
const HARD_BREAKS = new Set(['.', '?', '!', ';', ':', '|']);
/** Soft list separators: a negation scope continues through them only into a listed term. */
const LIST_SEPARATORS = new Set([',', '/', '&']);

/** Words after which an anchor ("RP") is not the subject of a new clause. */
const NOT_CLAUSE_START = new Set(['per', 'by', 'to', 'told', 'tells', 'with', 'from', 'for', 'asked', 'than', 'the', 'of', 'about', 'at', 'like']);

const SLASH_COMPOUND = /[\p{L}]{1,3}\/[\p{L}]{0,3}(?![\p{L}\p{N}])/uy;

/**
 * Protocol determinant codes ("114D", "136E", "25D1"): a protocol number, an acuity letter and an
 * optional sub-number, as many CADs carry them in the call type. The public acuity levels are
 * Omega < Alpha < Bravo < Charlie < Delta < Echo; a code is read as its protocol number and the
 * acuity's name ("114D" = "114 delta", "25D1" = "25 delta 1"), so a rule can say
 * "114 (delta|echo)" or "(delta|echo)" without listing every code.
 */
const DETERMINANT = /^(\d{1,3})([oabcde])(\d{1,2})?$/;
const ACUITY: Record<string, string> = { o: 'omega', a: 'alpha', b: 'bravo', c: 'charlie', d: 'delta', e: 'echo' };

/** The words a folded determinant code stands for, or undefined when `t` is not one. */
export function expandDeterminant(t: string): string[] | undefined {
  const m = DETERMINANT.exec(t);
  if (!m) return undefined;
  const out = [m[1]!, ACUITY[m[2]!]!];
  if (m[3] !== undefined) out.push(m[3]);
  return out;
}

function fold(s: string): string {
  const lower = s.toLowerCase();
  for (let i = 0; i < lower.length; i++) {
    // NFKD + dropping combining marks makes "café" and "cafe" the same token.
    if (lower.charCodeAt(i) > 127) return lower.normalize('NFKD').replace(/\p{M}/gu, '');
  }
  return lower;
}

/**
 * Splits text into word and punctuation tokens. Possessive "'s" becomes its own token (so "RP'S
 * HUSBAND" is not about the RP); other apostrophes vanish ("CAN'T" = "cant"); a hyphen inside a
 * word splits it ("NON-VIOLENT" = "non violent"); `abbrevKeys` lets slash abbreviations such as
 * "W/" or "Y/O" stay one token. With `unfolded`, words keep their case and diacritics (the
 * matcher folds each distinct word once, in its word cache).
 */
export function tokenize(text: string, abbrevKeys: ReadonlySet<string>, unfolded = false): Token[] {
  const fw = unfolded ? (w: string) => w : fold;
  const out: Token[] = [];
  const n = text.length;
  let i = 0;
  let nextSlash = text.indexOf('/');
  while (i < n) {
    const code = text.charCodeAt(i);
    if (code === 32 || code === 9 || code === 10 || code === 13) {
      i++;
      continue;
    }
    if (isWordChar(text, i)) {
      // A slash abbreviation ("W/", "Y/O") is one token; try it only when a "/" is near.
      if (nextSlash >= 0 && nextSlash < i) nextSlash = text.indexOf('/', i);
      if (nextSlash > i && nextSlash <= i + 3) {
        SLASH_COMPOUND.lastIndex = i;
        const sc = SLASH_COMPOUND.exec(text);
        if (sc && abbrevKeys.has(fold(sc[0]))) {
          out.push({ t: fold(sc[0]), start: i, end: i + sc[0].length, punct: false, id: undefined, rootPrefixes: undefined });
          i += sc[0].length;
          continue;
        }
      }
      let j = i + 1;
      while (j < n && isWordChar(text, j)) j++;
      const c = text[j];
      if ((c === "'" || c === '’') && j + 1 < n && isWordChar(text, j + 1)) {
        let k = j + 2;
        while (k < n && isWordChar(text, k)) k++;
        const suffix = text.slice(j + 1, k);
        if (suffix === 's' || suffix === 'S') {
          out.push({ t: fw(text.slice(i, j)), start: i, end: j, punct: false, id: undefined, rootPrefixes: undefined });
          out.push({ t: "'s", start: j, end: k, punct: false, id: undefined, rootPrefixes: undefined });
        } else {
          out.push({ t: fw(text.slice(i, j) + suffix), start: i, end: k, punct: false, id: undefined, rootPrefixes: undefined });
        }
        i = k;
        continue;
      }
      out.push({ t: fw(text.slice(i, j)), start: i, end: j, punct: false, id: undefined, rootPrefixes: undefined });
      i = j;
      continue;
    }
    const ch = text[i]!;
    const prevSpace = i === 0 || isSpace(text.charCodeAt(i - 1));
    const nextSpace = i + 1 >= n || isSpace(text.charCodeAt(i + 1));
    if (ch === '*' && text[i + 1] === '*') {
      let j = i;
      while (text[j] === '*') j++;
      out.push({ t: '|', start: i, end: j, punct: true, id: undefined, rootPrefixes: undefined });
      i = j;
      continue;
    }
    if (ch === '/' || ch === '-' || ch === '–' || ch === '—') {
      if (ch !== '/' && !(prevSpace || nextSpace)) {
        i++; // a hyphen inside a word ("I-95", "NON-VIOLENT") just separates words
        continue;
      }
      // " / " and " - " separate narrative entries; "SI/HI" is a list.
      const t = prevSpace && nextSpace ? '|' : ch === '/' ? '/' : '|';
      out.push({ t, start: i, end: i + 1, punct: true, id: undefined, rootPrefixes: undefined });
      i++;
      continue;
    }
    if ('.,;:?!&'.includes(ch)) {
      out.push({ t: ch === '!' ? '.' : ch, start: i, end: i + 1, punct: true, id: undefined, rootPrefixes: undefined });
    }
    i++;
  }
  return out;
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

const LETTER = /[\p{L}\p{N}\p{M}]/u;

/** ASCII word characters (digits and letters) by char code: 1, else 0. */
const ASCII_WORD = new Uint8Array(128);
for (let c = 0; c < 128; c++) ASCII_WORD[c] = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ? 1 : 0;

/** Slots of the matcher's span cache (a power of two). */
const SPAN_CACHE_SIZE = 1 << 15;

function isWordChar(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 128) return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  // Surrogate pairs (emoji) are not letters; other non-ASCII is checked properly.
  return LETTER.test(text[i]!);
}

// ---------------------------------------------------------------------------------------------
// Term patterns

export type PatternElement =
  | { k: 'w'; t: string }
  | { k: 'p'; t: string }
  | { k: 'g'; n: number };

/**
 * Parses the term syntax into its variants (sequences of word, prefix and gap elements). Groups
 * nest: `kill (himself|herself|end (it|it all))`. Words go through `normalizeWord` (tokenization
 * and abbreviation expansion), so a term may be written in CAD shorthand or in full. Throws an
 * Error with a readable message on bad syntax.
 */
export function parseTerm(term: string, normalizeWord: (w: string) => string[], maxVariants = 50_000): PatternElement[][] {
  const s = term.trim();
  if (s === '') throw new Error('empty term');
  let i = 0;
  const fail = (msg: string): never => {
    throw new Error(`${msg} in term "${term}"`);
  };
  const product = (a: PatternElement[][], b: PatternElement[][]) => {
    const out: PatternElement[][] = [];
    for (const x of a) for (const y of b) out.push([...x, ...y]);
    if (out.length > maxVariants) fail(`more than ${maxVariants} variants`);
    return out;
  };
  // sequence := item* ; stops at "|" or ")"
  const sequence = (): PatternElement[][] => {
    let variants: PatternElement[][] = [[]];
    while (i < s.length) {
      const c = s[i]!;
      if (/\s/.test(c)) {
        i++;
      } else if (c === '|' || c === ')') {
        break;
      } else if (c === '(') {
        i++;
        const alts: PatternElement[][] = [];
        for (;;) {
          alts.push(...sequence());
          if (s[i] === '|') {
            i++;
            continue;
          }
          if (s[i] !== ')') fail('unbalanced "("');
          i++;
          break;
        }
        if (s[i] === '?') {
          alts.push([]);
          i++;
        }
        variants = product(variants, alts);
      } else if (c === '~') {
        const m = /^~(\d*)/.exec(s.slice(i))!;
        const n = m[1] ? Number(m[1]) : 3;
        if (n < 1 || n > 8) fail(`gap "~${m[1]}" must skip 1 to 8 words`);
        variants = variants.map((v) => [...v, { k: 'g', n }]);
        i += m[0].length;
      } else {
        let j = i;
        while (j < s.length && !/[\s()|~]/.test(s[j]!)) j++;
        const word = s.slice(i, j);
        i = j;
        if (word === '?') fail('"?" must follow ")"');
        const prefix = word.endsWith('*');
        const toks = normalizeWord(prefix ? word.slice(0, -1) : word);
        if (toks.length === 0) fail(`"${word}" has no letters or digits`);
        const els: PatternElement[] = toks.map((t, k) =>
          prefix && k === toks.length - 1 ? { k: 'p', t } : { k: 'w', t },
        );
        variants = variants.map((v) => [...v, ...els]);
      }
    }
    return variants;
  };
  const variants = sequence();
  if (i < s.length) fail(s[i] === ')' ? 'unbalanced ")"' : '"|" outside parentheses');
  for (const v of variants) {
    if (!v.some((e) => e.k !== 'g')) fail('no words');
    if (v[0]!.k === 'g' || v[v.length - 1]!.k === 'g') fail('a gap at the start or end');
  }
  return variants;
}

// ---------------------------------------------------------------------------------------------
// The trie

interface TrieNode {
  /** Children by word id (see {@link MatcherBuilder}): integer keys hash faster than strings. */
  next: Map<number, TrieNode>;
  /** The id of the only child when `next` has exactly one (most deep nodes), else -2. */
  onlyId: number;
  onlyChild: TrieNode | undefined;
  prefixes: Array<[string, TrieNode]>;
  gaps: Array<[number, TrieNode]>;
  out: number[];
}

const newNode = (): TrieNode => ({ next: new Map(), onlyId: -2, onlyChild: undefined, prefixes: [], gaps: [], out: [] });

/** Fills in the single-child shortcut of every node once the trie is complete. */
function finishTrie(root: TrieNode): void {
  const stack = [root];
  const seen = new Set<TrieNode>();
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    if (node.next.size === 1) {
      const [id, child] = node.next.entries().next().value as [number, TrieNode];
      node.onlyId = id;
      node.onlyChild = child;
    } else {
      node.onlyId = -2;
      node.onlyChild = undefined;
    }
    for (const child of node.next.values()) stack.push(child);
    for (const [, child] of node.prefixes) stack.push(child);
    for (const [, child] of node.gaps) stack.push(child);
  }
}

/** What a pattern in the trie stands for: a content lexicon, or a negation/attribution trigger. */
export type PatternKind =
  | 'content'
  | 'exception'
  | 'pre'
  | 'post'
  | 'uncertain'
  | 'pseudo'
  | 'terminator'
  | 'conjunction'
  | 'anchor'
  | 'callerAnchor'
  | 'verb';

// Pattern kinds as small integers, for the per-pattern lookup table of the matcher.
const K_CONTENT = 0;
const K_EXCEPTION = 1;
const K_PRE = 2;
const K_POST = 3;
const K_UNCERTAIN = 4;
const K_PSEUDO = 5;
const K_TERMINATOR = 6;
const K_CONJUNCTION = 7;
const K_ANCHOR = 8;
const K_CALLER_ANCHOR = 9;
const K_VERB = 10;
const KIND_CODES: Record<PatternKind, number> = {
  content: K_CONTENT,
  exception: K_EXCEPTION,
  pre: K_PRE,
  post: K_POST,
  uncertain: K_UNCERTAIN,
  pseudo: K_PSEUDO,
  terminator: K_TERMINATOR,
  conjunction: K_CONJUNCTION,
  anchor: K_ANCHOR,
  callerAnchor: K_CALLER_ANCHOR,
  verb: K_VERB,
};

export interface PatternInfo {
  kind: PatternKind;
  /** Lexicon index for content patterns, -1 otherwise. */
  lex: number;
}

export interface RawMatch {
  pattern: number;
  startTok: number;
  /** Exclusive. */
  endTok: number;
}

export interface MatcherSettings {
  abbreviations: Record<string, string>;
  window: number;
}

/**
 * The compiled matcher of a rule set. Build it with {@link MatcherBuilder}; then {@link analyze}
 * a text once per call.
 */
export class Matcher {
  readonly root: TrieNode;
  readonly patterns: PatternInfo[];
  /** Per pattern id: its kind as a K_* code and its lexicon (the hot loops read these). */
  readonly kindOf: Uint8Array;
  readonly lexOf: Int32Array;
  readonly abbrev: Map<string, string[]>;
  readonly abbrevKeys: Set<string>;
  readonly window: number;
  /** Words of the vocabulary, for typo repair. */
  readonly vocab: Set<string>;
  /** Deletion variant -> vocabulary word ("talkng" -> "talking"). */
  readonly deletions: Map<string, string>;
  /** Vocabulary word -> its id in the trie. */
  readonly ids: ReadonlyMap<string, number>;

  constructor(
    root: TrieNode,
    patterns: PatternInfo[],
    abbrev: Map<string, string[]>,
    window: number,
    vocab: Set<string>,
    ids: ReadonlyMap<string, number>,
  ) {
    this.root = root;
    this.ids = ids;
    this.patterns = patterns;
    this.kindOf = Uint8Array.from(patterns, (p) => KIND_CODES[p.kind]);
    this.lexOf = Int32Array.from(patterns, (p) => p.lex);
    this.abbrev = abbrev;
    this.abbrevKeys = new Set(abbrev.keys());
    this.window = window;
    this.vocab = vocab;
    this.deletions = new Map();
    const ambiguous = new Set<string>();
    for (const w of vocab) {
      if (w.length < 6 || /\d/.test(w)) continue;
      for (let i = 0; i < w.length; i++) {
        const d = w.slice(0, i) + w.slice(i + 1);
        if (vocab.has(d)) continue;
        const prev = this.deletions.get(d);
        if (prev !== undefined && prev !== w) ambiguous.add(d);
        else this.deletions.set(d, w);
      }
    }
    for (const d of ambiguous) this.deletions.delete(d);
  }

  /**
   * Repairs a one-letter typo against the vocabulary (a dropped letter, "TALKNG", or an extra
   * one, "PAVILLION") for words of 6+ letters; anything else is left alone.
   */
  private repair(t: string): string {
    if (t.length < 5 || this.vocab.has(t)) return t;
    let fixed = t;
    if (!/\d/.test(t)) {
      const byDeletion = this.deletions.get(t);
      if (byDeletion !== undefined) fixed = byDeletion;
      else if (t.length >= 7) {
        for (let i = 0; i < t.length; i++) {
          const d = t.slice(0, i) + t.slice(i + 1);
          if (this.vocab.has(d)) {
            fixed = d;
            break;
          }
        }
      }
    }
    return fixed;
  }

  /**
   * Word as written -> its normalized words (folded, abbreviation expanded or typo repaired), each
   * with its vocabulary id and the root prefixes it matches: one lookup per token instead of a
   * fold and one lookup per trie step. Also interns the words: the same string objects come back
   * every call.
   */
  private readonly wordCache = new Map<string, WordInfo[]>();

  private normalizedWords(written: string): WordInfo[] {
    let hit = this.wordCache.get(written);
    if (hit === undefined) {
      const t = fold(written);
      const words = this.abbrev.get(t) ?? expandDeterminant(t) ?? [t === "'s" ? t : this.repair(t)];
      hit = words.map((w) => this.wordInfo(w));
      if (this.wordCache.size > 100_000) this.wordCache.clear();
      this.wordCache.set(written, hit);
    }
    return hit;
  }

  private wordInfo(t: string): WordInfo {
    const rootPrefixes: TrieNode[] = [];
    for (const [prefix, node] of this.root.prefixes) if (t.startsWith(prefix)) rootPrefixes.push(node);
    return { t, id: this.ids.get(t) ?? -1, rootPrefixes: rootPrefixes.length > 0 ? rootPrefixes : NO_NODES };
  }

  private scratchBuf = new Int32Array(4096);

  /** A zeroed scratch buffer of at least `size` ints for {@link analyze}; reused call after call. */
  scratch(size: number): Int32Array {
    if (this.scratchBuf.length < size) this.scratchBuf = new Int32Array(Math.max(size, this.scratchBuf.length * 2));
    this.scratchBuf.fill(0, 0, size);
    return this.scratchBuf;
  }

  /**
   * Tokenizes, expands abbreviations and repairs typos: {@link tokenize} (unfolded) followed by
   * {@link normalizedWords} per word, fused into one pass. The common token, a plain word, is
   * looked up in {@link spanCache} straight from the text (hashed while its end is found), so it
   * costs no substring, no string hash and no intermediate token. Anything rarer (slash
   * abbreviations, apostrophes, punctuation) takes the same steps as {@link tokenize}.
   */
  normalize(text: string): Token[] {
    const out: Token[] = [];
    const n = text.length;
    let i = 0;
    let nextSlash = text.indexOf('/');
    while (i < n) {
      const code = text.charCodeAt(i);
      if (code === 32 || code === 9 || code === 10 || code === 13) {
        i++;
        continue;
      }
      if (isWordChar(text, i)) {
        // A slash abbreviation ("W/", "Y/O") is one token; try it only when a "/" is near.
        if (nextSlash >= 0 && nextSlash < i) nextSlash = text.indexOf('/', i);
        if (nextSlash > i && nextSlash <= i + 3) {
          SLASH_COMPOUND.lastIndex = i;
          const sc = SLASH_COMPOUND.exec(text);
          if (sc && this.abbrevKeys.has(fold(sc[0]))) {
            this.pushWords(out, this.normalizedWords(fold(sc[0])), i, i + sc[0].length);
            i += sc[0].length;
            continue;
          }
        }
        let h = code;
        let j = i + 1;
        for (; j < n; j++) {
          const c = text.charCodeAt(j);
          if (c < 128 ? ASCII_WORD[c] === 0 : !LETTER.test(text[j]!)) break;
          h = (Math.imul(h, 31) + c) | 0;
        }
        const c = text.charCodeAt(j);
        if ((c === 39 || c === 0x2019) && j + 1 < n && isWordChar(text, j + 1)) {
          let k = j + 2;
          while (k < n && isWordChar(text, k)) k++;
          const suffix = text.slice(j + 1, k);
          if (suffix === 's' || suffix === 'S') {
            this.pushWords(out, this.normalizedWords(text.slice(i, j)), i, j);
            this.pushWords(out, this.normalizedWords("'s"), j, k);
          } else {
            this.pushWords(out, this.normalizedWords(text.slice(i, j) + suffix), i, k);
          }
          i = k;
          continue;
        }
        this.pushWords(out, this.spanWords(text, i, j, h), i, j);
        i = j;
        continue;
      }
      const ch = text[i]!;
      const prevSpace = i === 0 || isSpace(text.charCodeAt(i - 1));
      const nextSpace = i + 1 >= n || isSpace(text.charCodeAt(i + 1));
      if (ch === '*' && text[i + 1] === '*') {
        let j = i;
        while (text[j] === '*') j++;
        out.push({ t: '|', start: i, end: j, punct: true, id: -1, rootPrefixes: NO_NODES });
        i = j;
        continue;
      }
      if (ch === '/' || ch === '-' || ch === '–' || ch === '—') {
        if (ch !== '/' && !(prevSpace || nextSpace)) {
          i++; // a hyphen inside a word ("I-95", "NON-VIOLENT") just separates words
          continue;
        }
        // " / " and " - " separate narrative entries; "SI/HI" is a list.
        const t = prevSpace && nextSpace ? '|' : ch === '/' ? '/' : '|';
        out.push({ t, start: i, end: i + 1, punct: true, id: -1, rootPrefixes: NO_NODES });
        i++;
        continue;
      }
      if ('.,;:?!&'.includes(ch)) {
        out.push({ t: ch === '!' ? '.' : ch, start: i, end: i + 1, punct: true, id: -1, rootPrefixes: NO_NODES });
      }
      i++;
    }
    return out;
  }

  /** One token per normalized word; an expansion's words all share the source's offsets. */
  private pushWords(out: Token[], words: WordInfo[], start: number, end: number): void {
    for (let k = 0; k < words.length; k++) {
      const w = words[k]!;
      out.push({ t: w.t, start, end, punct: false, id: w.id, rootPrefixes: w.rootPrefixes });
    }
  }

  /**
   * {@link normalizedWords} of `text.slice(start, end)`, found by the span's hash `h` in an
   * open-addressing table whose keys are compared char by char against the text: no substring
   * is made unless the word is new.
   */
  private spanCacheKeys: Array<string | undefined> = new Array<string | undefined>(SPAN_CACHE_SIZE).fill(undefined);
  private spanCacheWords: Array<WordInfo[] | undefined> = new Array<WordInfo[] | undefined>(SPAN_CACHE_SIZE).fill(undefined);
  private spanCacheCount = 0;

  private spanWords(text: string, start: number, end: number, h: number): WordInfo[] {
    const len = end - start;
    const keys = this.spanCacheKeys;
    for (let slot = h & (SPAN_CACHE_SIZE - 1); ; slot = (slot + 1) & (SPAN_CACHE_SIZE - 1)) {
      const key = keys[slot];
      if (key === undefined) break;
      if (key.length !== len) continue;
      let same = true;
      for (let k = 0; k < len; k++) {
        if (key.charCodeAt(k) !== text.charCodeAt(start + k)) {
          same = false;
          break;
        }
      }
      if (same) return this.spanCacheWords[slot]!;
    }
    const written = text.slice(start, end);
    const words = this.normalizedWords(written);
    // Keep the table at most half full so probes stay short; starting over only costs lookups.
    if (this.spanCacheCount >= SPAN_CACHE_SIZE / 2) {
      this.spanCacheKeys.fill(undefined);
      this.spanCacheWords.fill(undefined);
      this.spanCacheCount = 0;
    }
    let slot = h & (SPAN_CACHE_SIZE - 1);
    while (keys[slot] !== undefined) slot = (slot + 1) & (SPAN_CACHE_SIZE - 1);
    keys[slot] = written;
    this.spanCacheWords[slot] = words;
    this.spanCacheCount++;
    return words;
  }

  /** Every pattern occurrence in the tokens, deduplicated, in order of start. */
  scan(tokens: Token[]): RawMatch[] {
    const found: RawMatch[] = [];
    const n = tokens.length;
    // Two parallel stacks instead of tuples, indexed loops instead of iterators: this loop runs
    // for every token of every call.
    const nodes: TrieNode[] = [];
    const positions: number[] = [];
    const root = this.root;
    for (let s = 0; s < n; s++) {
      const first = tokens[s]!;
      if (first.punct) continue;
      const id = first.id ?? this.ids.get(first.t) ?? -1;
      const child = id >= 0 ? root.next.get(id) : undefined;
      if (child) {
        nodes.push(child);
        positions.push(s + 1);
      }
      const ps = first.rootPrefixes ?? this.wordInfo(first.t).rootPrefixes;
      for (let k = 0; k < ps.length; k++) {
        nodes.push(ps[k]!);
        positions.push(s + 1);
      }
      if (nodes.length === 0) continue;
      const firstFound = found.length;
      while (nodes.length > 0) {
        const node = nodes.pop()!;
        const pos = positions.pop()!;
        const outs = node.out;
        for (let k = 0; k < outs.length; k++) {
          const p = outs[k]!;
          // Several trie paths can reach one (pattern, end) from this start: keep one.
          let dup = false;
          for (let f = firstFound; f < found.length; f++) {
            const m = found[f]!;
            if (m.pattern === p && m.endTok === pos) {
              dup = true;
              break;
            }
          }
          if (!dup) found.push({ pattern: p, startTok: s, endTok: pos });
        }
        const gaps = node.gaps;
        for (let g = 0; g < gaps.length; g++) {
          const [max, gnode] = gaps[g]!;
          // A gap skips 0..max words of the same clause; the element after it matches next.
          for (let k = 0; k <= max && pos + k < n; k++) {
            if (k > 0 && tokens[pos + k - 1]!.punct) break;
            nodes.push(gnode);
            positions.push(pos + k);
          }
        }
        if (pos >= n) continue;
        const tok = tokens[pos]!;
        if (tok.punct) continue;
        const tid = tok.id ?? this.ids.get(tok.t) ?? -1;
        const next =
          tid < 0 ? undefined : node.onlyId === tid ? node.onlyChild : node.next.size > 1 ? node.next.get(tid) : undefined;
        if (next) {
          nodes.push(next);
          positions.push(pos + 1);
        }
        const prefixes = node.prefixes;
        for (let k = 0; k < prefixes.length; k++) {
          const [prefix, pnode] = prefixes[k]!;
          if (tok.t.startsWith(prefix)) {
            nodes.push(pnode);
            positions.push(pos + 1);
          }
        }
      }
    }
    return found;
  }
}

/** Collects patterns and builds the one trie of a rule set. */
export class MatcherBuilder {
  private readonly root = newNode();
  private readonly patterns: PatternInfo[] = [];
  private readonly abbrev = new Map<string, string[]>();
  private readonly vocab = new Set<string>();
  /** Word -> id, in order of first use in a term. */
  private readonly ids = new Map<string, number>();
  private readonly window: number;

  constructor(settings: MatcherSettings) {
    this.window = settings.window;
    const keys = new Set(Object.keys(settings.abbreviations).map((k) => fold(k)));
    for (const [k, v] of Object.entries(settings.abbreviations)) {
      const expansion = tokenize(v, keys)
        .filter((t) => !t.punct)
        .map((t) => t.t);
      if (expansion.length > 0) this.abbrev.set(fold(k), expansion);
    }
  }

  /** Normalizes one word of a term the way narratives are normalized. */
  readonly normalizeWord = (w: string): string[] => {
    const keys = new Set(this.abbrev.keys());
    const out: string[] = [];
    for (const tok of tokenize(w, keys)) {
      if (tok.punct) continue;
      out.push(...(this.abbrev.get(tok.t) ?? expandDeterminant(tok.t) ?? [tok.t]));
    }
    return out;
  };

  /** Adds a term; returns its pattern id. Throws on bad term syntax. */
  add(term: string, info: PatternInfo): number {
    const variants = parseTerm(term, this.normalizeWord);
    const id = this.patterns.length;
    this.patterns.push(info);
    for (const v of variants) {
      let node = this.root;
      for (let i = 0; i < v.length; i++) {
        const el = v[i]!;
        if (el.k === 'w') {
          this.vocab.add(el.t);
          let wid = this.ids.get(el.t);
          if (wid === undefined) this.ids.set(el.t, (wid = this.ids.size));
          let child = node.next.get(wid);
          if (!child) node.next.set(wid, (child = newNode()));
          node = child;
        } else if (el.k === 'p') {
          let entry = node.prefixes.find(([p]) => p === el.t);
          if (!entry) node.prefixes.push((entry = [el.t, newNode()]));
          node = entry[1];
        } else {
          let entry = node.gaps.find(([g]) => g === el.n);
          if (!entry) node.gaps.push((entry = [el.n, newNode()]));
          node = entry[1];
        }
      }
      if (!node.out.includes(id)) node.out.push(id);
    }
    return id;
  }

  build(): Matcher {
    finishTrie(this.root);
    return new Matcher(this.root, this.patterns, this.abbrev, this.window, this.vocab, this.ids);
  }
}

// ---------------------------------------------------------------------------------------------
// Analysis: negation, uncertainty and attribution

export const AFFIRMED = 0;
export const NEGATED = 1;
export const UNCERTAIN = 2;
export type Polarity = typeof AFFIRMED | typeof NEGATED | typeof UNCERTAIN;

/** One mention of a lexicon in a text, with what the text says about it. */
export interface Mention {
  lex: number;
  startTok: number;
  endTok: number;
  /** Offsets in the original text. */
  start: number;
  end: number;
  /** The normalized words matched; two mentions with the same key are the same statement. */
  key: string;
  polarity: Polarity;
  /** False when the mention sits in a clause about the reporting party, not the subject. */
  subject: boolean;
  /** True when a later mention with the same words negates this one (a correction). */
  superseded: boolean;
}

export interface AnalyzedText {
  tokens: Token[];
  mentions: Mention[];
  /** Character ranges [start, end) of clauses about the reporting party. */
  reporterSpans: Array<[number, number]>;
}

/**
 * Finds every lexicon mention in `text` and decides, for each, whether it is affirmed, negated
 * or uncertain, and whether it is about the subject. `callerIsSubject` turns off the
 * caller anchors ("CALLER STATES SHE WANTS TO DIE" is about the subject when she calls herself).
 */
export function analyze(m: Matcher, text: string, callerIsSubject: boolean): AnalyzedText {
  const tokens = m.normalize(text);
  const raw = m.scan(tokens);
  const n = tokens.length;
  // Pattern kinds and lexicons come from the matcher's typed arrays (indexed by pattern id), not
  // from `m.patterns[id].kind` string compares: this function runs three times per call.
  const kindOf = m.kindOf;
  const lexOf = m.lexOf;
  const content: RawMatch[] = [];
  const triggers: RawMatch[] = [];
  let exceptions: RawMatch[] | undefined;
  for (let r = 0; r < raw.length; r++) {
    const match = raw[r]!;
    const kind = kindOf[match.pattern]!;
    if (kind === K_CONTENT) content.push(match);
    else if (kind === K_EXCEPTION) (exceptions ??= []).push(match);
    else triggers.push(match);
  }
  // A lexicon's exception phrase cancels the lexicon's matches it overlaps ("hit her head").
  if (exceptions !== undefined) {
    for (let i = content.length - 1; i >= 0; i--) {
      const c = content[i]!;
      const lex = lexOf[c.pattern]!;
      for (const e of exceptions) {
        if (lexOf[e.pattern] === lex && e.startTok < c.endTok && c.startTok < e.endTok) {
          content.splice(i, 1);
          break;
        }
      }
    }
  }

  // A content match keeps only its longest form per lexicon and start ("suicidal ideation", not
  // also "suicidal"), and is dropped when a longer match of the same lexicon covers it.
  if (content.length > 1) content.sort(byStartThenLongest);
  const kept: RawMatch[] = [];
  for (let ci = 0; ci < content.length; ci++) {
    const c = content[ci]!;
    const lex = lexOf[c.pattern]!;
    let covered = false;
    for (let k = 0; k < kept.length; k++) {
      const o = kept[k]!;
      if (lexOf[o.pattern] === lex && o.startTok <= c.startTok && o.endTok >= c.endTok) {
        covered = true;
        break;
      }
    }
    if (!covered) kept.push(c);
  }
  const nk = kept.length;

  // Per-token marks live in one reused, zeroed buffer (views, not fresh arrays per call). Where a
  // mark stands for "a token index or nothing" it holds index + 1 (0 = nothing); an end token is
  // always >= 1, so an end stored as itself also reads 0 = nothing.
  const S = n + 1;
  const buf = m.scratch(10 * S + nk);
  // firstKept[i]: 1 + the first kept content match starting at token i. `kept` is sorted by
  // start, so the matches starting at i are the contiguous run from there.
  const firstKept = buf.subarray(0, S);
  for (let i = nk - 1; i >= 0; i--) firstKept[kept[i]!.startTok] = i + 1;
  // A trigger inside a pseudo-trigger ("not only") or inside a content term that contains it
  // ("nowhere to go", "not eating") is no trigger.
  const blocked = buf.subarray(S, 2 * S);
  for (let ti = 0; ti < triggers.length; ti++) {
    const t = triggers[ti]!;
    if (kindOf[t.pattern] === K_PSEUDO) for (let i = t.startTok; i < t.endTok; i++) blocked[i] = 1;
  }
  // coverEnd[i]: the furthest end of a content match starting at or before token i.
  const coverEnd = buf.subarray(2 * S, 3 * S);
  for (let i = 0; i < nk; i++) {
    const c = kept[i]!;
    if (c.endTok > coverEnd[c.startTok]!) coverEnd[c.startTok] = c.endTok;
  }
  for (let i = 1; i <= n; i++) if (coverEnd[i - 1]! > coverEnd[i]!) coverEnd[i] = coverEnd[i - 1]!;

  // preEnd[i]: end of the (longest) pre/uncertain trigger starting at i; preUncertain[i]: it is
  // an uncertainty trigger. conjEnd[i]: the furthest end of a conjunction starting at i.
  const preEnd = buf.subarray(3 * S, 4 * S);
  const preUncertain = buf.subarray(4 * S, 5 * S);
  const conjEnd = buf.subarray(5 * S, 6 * S);
  const verbStart = buf.subarray(6 * S, 7 * S);
  const termStart = buf.subarray(7 * S, 8 * S);
  let post: RawMatch[] | undefined;
  let anchors: RawMatch[] | undefined;
  for (let ti = 0; ti < triggers.length; ti++) {
    const t = triggers[ti]!;
    const kind = kindOf[t.pattern]!;
    if (kind === K_PSEUDO) continue;
    if (kind === K_ANCHOR || kind === K_CALLER_ANCHOR) {
      if (kind === K_CALLER_ANCHOR && callerIsSubject) continue;
      if (tokens[t.endTok]?.t === "'s") continue; // "RP'S HUSBAND" is about the husband
      // "HIGH ON K2 PER RP", "TOLD RP": the RP as a source or an object starts no clause about the RP.
      const before = tokens[t.startTok - 1];
      if (before && !before.punct && NOT_CLAUSE_START.has(before.t)) continue;
      (anchors ??= []).push(t);
      continue;
    }
    if (kind === K_VERB) {
      verbStart[t.startTok] = 1;
      continue;
    }
    if (kind === K_TERMINATOR) {
      termStart[t.startTok] = 1;
      continue;
    }
    if (kind === K_CONJUNCTION) {
      if (t.endTok > conjEnd[t.startTok]!) conjEnd[t.startTok] = t.endTok;
      continue;
    }
    if (blocked[t.startTok] || coverEnd[t.startTok]! >= t.endTok) continue;
    if (kind === K_POST) {
      (post ??= []).push(t);
      continue;
    }
    // pre or uncertain: the longest trigger at a start wins ("not sure" over "not").
    if (t.endTok > preEnd[t.startTok]!) {
      preEnd[t.startTok] = t.endTok;
      preUncertain[t.startTok] = kind === K_UNCERTAIN ? 1 : 0;
    }
  }

  const polarity = buf.subarray(10 * S, 10 * S + nk); // per kept content match

  // Forward scopes of pre-triggers.
  for (let s = 0; s < n; s++) {
    const trigEnd = preEnd[s]!;
    if (trigEnd === 0) continue;
    const p: Polarity = preUncertain[s] === 1 ? UNCERTAIN : NEGATED;
    let pos = trigEnd;
    let words = 0;
    // Where the last negated item (the trigger, or a term in its scope) ended.
    let itemEnd = trigEnd;
    while (pos < n) {
      const tok = tokens[pos]!;
      if (tok.punct && HARD_BREAKS.has(tok.t)) break;
      if (termStart[pos]) break;
      if (pos !== trigEnd && preEnd[pos] !== 0) break;
      const ce = conjEnd[pos]!;
      const separator = tok.punct && LIST_SEPARATORS.has(tok.t);
      if (separator || ce !== 0) {
        // A comma list carries the negation on only from a listed item ("NEG weapons, violence"),
        // not from a clause that just happens to end there ("NO FAMILY IN STATE, NEEDS A BED").
        if (separator && ce === 0 && itemEnd !== pos) break;
        // Continue only into a listed term: "no pills or weapons", "NEG weapons, violence".
        let next = ce !== 0 ? ce : pos + 1;
        while (next < n && tokens[next]!.punct && LIST_SEPARATORS.has(tokens[next]!.t)) next++;
        if (firstKept[next] === 0) break;
        pos = next;
        words = 0;
        continue;
      }
      const first = firstKept[pos]!;
      if (first !== 0) {
        let end = pos + 1;
        for (let i = first - 1; i < nk && kept[i]!.startTok === pos; i++) {
          // Negation outranks uncertainty: "UNK IF ... NO WEAPONS" stays negated.
          if (polarity[i] !== NEGATED) polarity[i] = p;
          end = Math.max(end, kept[i]!.endTok);
        }
        pos = end;
        itemEnd = end;
        words++;
        continue;
      }
      if (!tok.punct) words++;
      if (words >= m.window) break;
      pos++;
    }
  }

  // Backward scopes of post-triggers ("SI DENIED", "ETOH NEG").
  if (post !== undefined) {
    for (const t of post) {
      let pos = t.startTok - 1;
      let words = 0;
      while (pos >= 0 && words < 3) {
        const tok = tokens[pos]!;
        if (tok.punct && (HARD_BREAKS.has(tok.t) || tok.t === ',')) break;
        for (let i = 0; i < nk; i++) if (kept[i]!.endTok === pos + 1) polarity[i] = NEGATED;
        if (!tok.punct) words++;
        pos--;
      }
    }
  }

  // "HAS BEEN DRINKING?" — a question mark right after a term leaves it unsettled.
  for (let i = 0; i < nk; i++) {
    if (tokens[kept[i]!.endTok]?.t === '?' && polarity[i] === AFFIRMED) polarity[i] = UNCERTAIN;
  }

  // Clauses about the reporting party: from an anchor ("RP") to a reporting verb ("ADV") or the
  // end of the sentence, at most 15 words. Mentions there describe the RP, not the subject.
  const aboutReporter = buf.subarray(8 * S, 9 * S);
  const reporterSpans: Array<[number, number]> = [];
  if (anchors !== undefined) {
    for (const a of anchors) {
      let words = 0;
      let last = a.endTok - 1;
      for (let pos = a.endTok; pos < n && words < 15; pos++) {
        const tok = tokens[pos]!;
        if (tok.punct && HARD_BREAKS.has(tok.t)) break;
        if (verbStart[pos]) break;
        aboutReporter[pos] = 1;
        last = pos;
        if (!tok.punct) words++;
      }
      reporterSpans.push([tokens[a.startTok]!.start, tokens[last]!.end]);
    }
  }

  const mentions: Mention[] = [];
  for (let i = 0; i < nk; i++) {
    const c = kept[i]!;
    const first = tokens[c.startTok]!;
    const last = tokens[c.endTok - 1]!;
    let key = first.t;
    for (let k = c.startTok + 1; k < c.endTok; k++) key += ' ' + tokens[k]!.t;
    mentions.push({
      lex: lexOf[c.pattern]!,
      startTok: c.startTok,
      endTok: c.endTok,
      start: first.start,
      end: last.end,
      key,
      polarity: polarity[i] as Polarity,
      subject: aboutReporter[c.startTok] === 0,
      superseded: false,
    });
  }

  // Corrections: "CALLED IN AS AN OD - ... NOT AN OD" — a later negation of the same words
  // supersedes the earlier affirmation.
  for (let i = 0; i < mentions.length; i++) {
    const a = mentions[i]!;
    if (a.polarity !== AFFIRMED) continue;
    for (let j = i + 1; j < mentions.length; j++) {
      const b = mentions[j]!;
      if (b.lex === a.lex && b.key === a.key && b.polarity === NEGATED && b.startTok > a.startTok) {
        a.superseded = true;
        break;
      }
    }
  }
  return { tokens, mentions, reporterSpans };
}

const byStartThenLongest = (a: RawMatch, b: RawMatch) => a.startTok - b.startTok || b.endTok - a.endTok;

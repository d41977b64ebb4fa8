/**
 * Scans log files for the personal data the tests send: narratives, names, phone numbers and
 * addresses of every call in the test fixtures, plus the strings the PII tests plant on purpose.
 *   node scripts/scan-logs.ts DIR        exit 1 (and say where, never what) when any is found
 * scripts/test.sh runs the test suite with CAD_TRIAGE_LOG_DIR=.tap/logs, then this on that folder.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Strings the tests plant in calls and database errors to prove they never reach a log. */
export const PLANTED = [
  'Jane Roe',
  '12 Elm Street',
  '203-555-0142',
  'Mary Planted-Witness',
  '99 Canary Lane',
];

const FIXTURES = [
  'test/rules/fixtures/dev.jsonl',
  'test/fixtures/holdout.jsonl',
  'test/fixtures/holdout-2.jsonl',
  '../shared/eval/dev.jsonl',
];

interface Needle {
  kind: string;
  text: string;
}

/** Narrative windows long enough not to be a rule's word list, phones, addresses, any `name` field. */
export function needles(files = FIXTURES.map((f) => join(root, f))): Needle[] {
  const out = new Map<string, Needle>();
  const add = (kind: string, text: unknown) => {
    if (typeof text === 'string' && text.trim().length >= 8) out.set(text, { kind, text });
  };
  const visit = (v: unknown, key = '') => {
    if (typeof v === 'string') {
      if (key === 'narrative') {
        // Every 32-character window starting at a word: a log line quoting any part of it is caught.
        for (let i = 0; i + 32 <= v.length; i = v.indexOf(' ', i + 1) + 1 || v.length)
          add('narrative', v.slice(i, i + 32));
        if (v.length < 32) add('narrative', v);
      } else if (key === 'phone') {
        add('phone', v);
      } else if (key === 'address') {
        add('address', v);
      } else if (/name$/i.test(key) && key !== 'placeType') {
        add('name', v);
      }
      return;
    }
    if (Array.isArray(v)) v.forEach((x) => visit(x, key));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) visit(x, k);
  };
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // ../shared is outside the repository and may be absent
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        visit(JSON.parse(line));
      } catch {
        // not a JSON line
      }
    }
  }
  for (const p of PLANTED) add('planted', p);
  return [...out.values()];
}

/** Every (file, line number, kind) where a needle occurs; the value itself is never reported. */
export function scan(dir: string, list = needles()): Array<{ file: string; line: number; kind: string }> {
  const found: Array<{ file: string; line: number; kind: string }> = [];
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.log'));
  } catch {
    return found;
  }
  // Needles indexed by their first 8 characters: each line position is one map lookup.
  const byPrefix = new Map<string, Needle[]>();
  for (const n of list) {
    const text = n.text.toLowerCase();
    const prefix = text.slice(0, 8);
    byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), { kind: n.kind, text }]);
  }
  const hit = (line: string) => {
    for (let i = 0; i + 8 <= line.length; i++) {
      const candidates = byPrefix.get(line.slice(i, i + 8));
      if (candidates) for (const n of candidates) if (line.startsWith(n.text, i)) return n.kind;
    }
    return undefined;
  };
  for (const f of files) {
    const lines = readFileSync(join(dir, f), 'utf8').split('\n');
    lines.forEach((raw, i) => {
      const kind = raw ? hit(raw.toLowerCase()) : undefined;
      if (kind) found.push({ file: f, line: i + 1, kind });
    });
  }
  return found;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: node scripts/scan-logs.ts DIR\n');
    process.exit(2);
  }
  const list = needles();
  const files = (() => {
    try {
      return readdirSync(dir).filter((f) => f.endsWith('.log'));
    } catch {
      return [];
    }
  })();
  const lines = files.reduce((n, f) => n + readFileSync(join(dir, f), 'utf8').split('\n').length - 1, 0);
  const found = scan(dir, list);
  for (const f of found.slice(0, 50)) process.stdout.write(`${dir}/${f.file}:${f.line}: ${f.kind}\n`);
  process.stdout.write(
    `scanned ${lines} log lines in ${files.length} files for ${list.length} strings: ${found.length} with personal data\n`,
  );
  process.exit(found.length > 0 || files.length === 0 ? 1 : 0);
}

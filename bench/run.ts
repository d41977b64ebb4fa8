/**
 * `npm run bench [section...]`: runs the benchmark sections, prints a table and writes
 * bench/results/latest.json. Each section lives in bench/<name>.bench.ts and exports a Bench.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { type Bench, type Figure, ratio } from './harness.ts';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = new Set(process.argv.slice(2));
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort();

const configured: Record<string, string | undefined> = {
  kafka: process.env.KAFKA_BROKERS,
  postgres: process.env.DATABASE_URL,
  redis: process.env.REDIS_URL,
};

const results: Array<{ section: string; figures: Figure[]; skipped?: string }> = [];
for (const file of files) {
  const bench = ((await import(join(here, file))) as { default: Bench }).default;
  if (wanted.size > 0 && !wanted.has(bench.name)) continue;
  const missing = (bench.needs ?? []).filter((n) => !configured[n]);
  if (missing.length > 0) {
    const skipped = `needs ${missing.join(', ')} (set ${missing.map((m) => ({ kafka: 'KAFKA_BROKERS', postgres: 'DATABASE_URL', redis: 'REDIS_URL' })[m]).join(', ')})`;
    results.push({ section: bench.name, figures: [], skipped });
    console.log(`[${bench.name}] skipped: ${skipped}`);
    continue;
  }
  console.log(`[${bench.name}] running...`);
  results.push({ section: bench.name, figures: await bench.run() });
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));
const rows = results.flatMap((r) =>
  r.figures.map((f) => [
    r.section,
    f.name,
    `${fmt(f.value)} ${f.unit}`,
    `${f.baseline.name}: ${fmt(f.baseline.value)} ${f.unit}`,
    `${ratio(f).toFixed(2)}x${f.targetRatio ? ` (target >= ${f.targetRatio}x)` : ''}`,
  ]),
);
const header = ['section', 'figure', 'value', 'baseline (same run)', 'ratio'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}`);
for (const r of rows) console.log(line(r));

mkdirSync(join(here, 'results'), { recursive: true });
const out = join(here, 'results', 'latest.json');
writeFileSync(
  out,
  JSON.stringify(
    {
      at: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      sections: results.map((r) => ({ ...r, figures: r.figures.map((f) => ({ ...f, ratio: ratio(f) })) })),
    },
    null,
    2,
  ),
);
console.log(`\nfigures written to ${out}`);

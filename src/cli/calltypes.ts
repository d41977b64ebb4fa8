import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { draftCrosswalk } from '../calltypes/import.ts';
import { DEFAULT_RULES_DIR, formatDiagnostic, loadRuleset } from '../rules/index.ts';
import type { Command } from './main.ts';

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

const USAGE =
  'usage: cad-triage calltypes import FILE.csv --jurisdiction ID [--code-column C] [--description-column D] ' +
  '[--filter column=value]... [--out FILE] [--rules DIR]';

/** `calltypes import`: a CAD's call-type list in, a draft crosswalk out. */
export const calltypesCommands: Record<string, Command> = {
  'calltypes import': {
    summary:
      "Draft a town's call-type crosswalk from its CAD's call-type list (CSV): calltypes import FILE.csv --jurisdiction ID [--out FILE]",
    async run(args) {
      let parsed;
      try {
        parsed = parseArgs({
          args,
          allowPositionals: true,
          options: {
            jurisdiction: { type: 'string' },
            'code-column': { type: 'string' },
            'description-column': { type: 'string' },
            filter: { type: 'string', multiple: true },
            out: { type: 'string' },
            rules: { type: 'string' },
          },
        });
      } catch (e) {
        err(`cad-triage calltypes import: ${(e as Error).message}\n${USAGE}`);
        return 2;
      }
      const { positionals, values } = parsed;
      const file = positionals[0];
      if (!file || !values.jurisdiction) {
        err(USAGE);
        return 2;
      }
      let csv: string;
      try {
        csv = await readFile(file, 'utf8');
      } catch (e) {
        err(`cad-triage calltypes import: cannot read ${file}: ${(e as Error).message}`);
        return 1;
      }
      const loaded = await loadRuleset(values.rules ?? DEFAULT_RULES_DIR);
      if (!loaded.ok) {
        for (const d of loaded.errors) err(formatDiagnostic(d));
        return 1;
      }
      const r = draftCrosswalk(csv, loaded.ruleset.callTypes, {
        jurisdiction: values.jurisdiction,
        codeColumn: values['code-column'],
        descriptionColumn: values['description-column'],
        filters: values.filter ?? [],
        source: basename(file),
      });
      if (!r.ok) {
        err(`cad-triage calltypes import: ${r.error}`);
        return 1;
      }
      if (values.out) await writeFile(values.out, r.yaml);
      else out(r.yaml);
      const s = r.summary;
      const top = Object.entries(s.types)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
      // The summary goes to stderr so that stdout stays a YAML file when --out is not given.
      err(
        `${basename(file)} -> ${values.out ?? 'stdout'}: ${s.rows} call types, ${s.mapped} mapped ` +
          `(${s.byCode} by code, ${s.byVocabulary} by the default vocabulary), ${s.review} need review, ` +
          `${s.violentFloors} violent floors (police_secure_first)${s.duplicates ? `, ${s.duplicates} repeated codes` : ''}` +
          (top ? `\n  most mapped: ${top}` : ''),
      );
      return 0;
    },
  },
};

/**
 * The JSON Schemas of the rules file formats, generated from the zod schemas, so editors (the
 * YAML language server) check a rules file as it is typed. Committed under rules/schema/; a test
 * fails when they drift from the zod schemas (regenerate with `cad-triage rules schema`).
 */
import { z } from 'zod';
import { RulesFileSchema, RuleTestFileSchema } from './format.ts';
import { CrosswalkFileSchema } from '../calltypes/format.ts';

export const SCHEMA_DIR = 'schema';

/** File name (under rules/schema/) -> JSON text. */
export function rulesJsonSchemas(): Record<string, string> {
  const gen = (schema: z.ZodType, id: string) =>
    `${JSON.stringify({ ...z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }), $id: id }, null, 2)}\n`;
  return {
    'rules.schema.json': gen(RulesFileSchema, 'https://cad-triage.local/schema/rules.schema.json'),
    'rule-tests.schema.json': gen(RuleTestFileSchema, 'https://cad-triage.local/schema/rule-tests.schema.json'),
    'calltypes.schema.json': gen(CrosswalkFileSchema, 'https://cad-triage.local/schema/calltypes.schema.json'),
  };
}

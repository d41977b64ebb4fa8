/**
 * Parse stage: YAML text -> validated file objects that remember the line of every node, so later
 * stages can report `file:line` for any path inside a file.
 */
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import type { RuleDiagnostic } from './diagnostics.ts';

export interface SourceFile {
  /** Path relative to the rules folder, with forward slashes. */
  file: string;
  text: string;
}

export interface ParsedFile<T> {
  file: string;
  value: T;
  /** The 1-based line of the node at `path`, or of its nearest ancestor that exists. */
  lineAt(path: ReadonlyArray<PropertyKey>): number;
  /** The YAML scalar style of the node at `path` (block scalars keep line breaks). */
  isBlockScalar(path: ReadonlyArray<PropertyKey>): boolean;
}

function locator(doc: Document, lc: LineCounter) {
  const nodeAt = (path: ReadonlyArray<PropertyKey>) => {
    for (let n = path.length; n >= 0; n--) {
      const node: unknown = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) return node;
    }
    return undefined;
  };
  return {
    lineAt(path: ReadonlyArray<PropertyKey>): number {
      const node = nodeAt(path);
      return node?.range ? lc.linePos(node.range[0]).line : 1;
    },
    isBlockScalar(path: ReadonlyArray<PropertyKey>): boolean {
      const node = doc.getIn(path as unknown[], true) as { type?: string } | undefined;
      return node?.type === 'BLOCK_LITERAL' || node?.type === 'BLOCK_FOLDED';
    },
  };
}

/**
 * Parses one YAML file and validates it against `schema`. Collects every YAML error and every
 * schema issue with its line; returns `value` only when there are none.
 */
export function parseYamlFile<S extends z.ZodType>(
  src: SourceFile,
  schema: S,
): { parsed?: ParsedFile<z.infer<S>>; diagnostics: RuleDiagnostic[] } {
  const lc = new LineCounter();
  const doc = parseDocument(src.text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const diagnostics: RuleDiagnostic[] = doc.errors.map((e) => ({
    code: 'ERR_RULES_YAML',
    file: src.file,
    line: lc.linePos(e.pos[0]).line,
    message: e.message.split('\n')[0]!,
  }));
  if (diagnostics.length > 0) return { diagnostics };
  const loc = locator(doc, lc);
  const result = schema.safeParse(doc.toJS() ?? {});
  if (!result.success) {
    for (const issue of result.error.issues) {
      const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      const idPath = issue.path.length >= 2 ? [...issue.path.slice(0, 2), 'id'] : undefined;
      const id = idPath ? doc.getIn(idPath as unknown[]) : undefined;
      diagnostics.push({
        code: 'ERR_RULES_SCHEMA',
        file: src.file,
        line: loc.lineAt(issue.path),
        ...(typeof id === 'string' ? { ruleId: id } : {}),
        message: `${where}${issue.message}`,
      });
    }
    return { diagnostics };
  }
  return { parsed: { file: src.file, value: result.data as z.infer<S>, ...loc }, diagnostics };
}

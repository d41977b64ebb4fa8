/**
 * zod's global registry holds every schema with a `.meta({ id })` — the rules file format too — and
 * the zod transform puts all of them in components.schemas. The published contract keeps only those
 * an operation reaches, directly or through other schemas.
 */
export function pruneUnusedSchemas<T>(doc: T): T {
  const d = doc as { paths?: unknown; components?: { schemas?: Record<string, unknown> } };
  const schemas = d.components?.schemas;
  if (!schemas) return doc;
  const prefix = '#/components/schemas/';
  const used = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
    } else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string' && v.startsWith(prefix)) {
          const name = v.slice(prefix.length);
          if (!used.has(name)) {
            used.add(name);
            visit(schemas[name]);
          }
        } else {
          visit(v);
        }
      }
    }
  };
  visit(d.paths);
  d.components!.schemas = Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name)));
  return doc;
}

/**
 * A JSON Schema whose `properties` name `$ref` or `$id` (a NENA EIDO's own fields) reads to many
 * tools as a reference or a schema id. The same constraint written as `patternProperties` with an
 * exact pattern means the same and confuses none, so contracts are published that way.
 */
export function dollarPropertiesAsPatterns<T>(schema: T): T {
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (!node || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = visit(v);
    const props = out.properties as Record<string, unknown> | undefined;
    if (props && typeof props === 'object' && !Array.isArray(props)) {
      const dollar = Object.keys(props).filter((k) => k.startsWith('$'));
      if (dollar.length > 0) {
        const patterns = { ...(out.patternProperties as Record<string, unknown> | undefined) };
        for (const k of dollar) {
          patterns[`^\\${k}$`] = props[k];
          delete props[k];
        }
        out.patternProperties = patterns;
      }
    }
    return out;
  };
  return visit(schema) as T;
}

import t from 'tap';
import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';
import { renderAsyncApi, renderOpenApi } from '../scripts/contracts.ts';

t.test('openapi/openapi.yaml is current with the route schemas', async (t) => {
  t.equal(
    await renderOpenApi(),
    readFileSync('openapi/openapi.yaml', 'utf8'),
    'regenerate with node scripts/contracts.ts',
  );
});

t.test('openapi/asyncapi.yaml is current and a valid AsyncAPI 3.0 document', async (t) => {
  const committed = readFileSync('openapi/asyncapi.yaml', 'utf8');
  t.equal(await renderAsyncApi(), committed, 'regenerate with node scripts/contracts.ts');
  const { document, diagnostics } = await new Parser().parse(committed);
  const errors = diagnostics.filter((d) => d.severity === 0);
  t.same(
    errors.map((e) => `${e.path.join('.')}: ${e.message}`),
    [],
    'no errors from @asyncapi/parser',
  );
  t.ok(document, 'parsed');
  t.same(
    document!
      .channels()
      .all()
      .map((c) => c.address())
      .sort(),
    ['cad.calls.v1', 'cad.calls.v1.dlq', 'triage.decisions.v1'],
  );
});

import type { EidoContext } from '../adapters/eido/index.ts';
import { jurisdictionOfAgency } from '../routing/index.ts';
import type { TriageDeps } from './pipeline.ts';

/** What the EIDO mapping needs from the running service: the policies serving now, and the clock. */
export function eidoContext(deps: Pick<TriageDeps, 'policies' | 'now'>): EidoContext {
  const { policies } = deps.policies();
  return { jurisdictionOfAgency: (id) => jurisdictionOfAgency(policies, id), now: deps.now() };
}

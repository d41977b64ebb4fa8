import { ProblemSchema } from './problem.ts';

/**
 * The answers every keyed route can give before its handler runs (see auth.ts): 401 no or bad key,
 * 403 a role that may not use the route, 429 over the key's per-minute limit.
 */
export const AUTH_PROBLEMS = { 401: ProblemSchema, 403: ProblemSchema, 429: ProblemSchema } as const;

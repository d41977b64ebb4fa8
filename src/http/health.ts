import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ProblemSchema } from './problem.ts';

const ReadySchema = z
  .object({
    status: z.enum(['ready', 'not_ready']),
    checks: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional(), ms: z.number() })),
  })
  .meta({ id: 'Readiness' });

/** Fails a probe that hangs, so one stuck dependency cannot hang the readiness endpoint. */
async function timed(check: () => Promise<void>, timeoutMs: number) {
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, ms: Math.round(performance.now() - start) };
  } catch (err) {
    return { ok: false, error: (err as Error).message, ms: Math.round(performance.now() - start) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Liveness says the process serves HTTP; readiness says every configured dependency answers, so a
 * load balancer or Kafka-less replica set can hold traffic until PostgreSQL, Redis and Kafka do.
 */
export const healthRoutes: FastifyPluginAsync<{ checks: Record<string, () => Promise<void>> }> = async (
  app,
  { checks },
) => {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/health/live',
    {
      schema: {
        operationId: 'getLiveness',
        tags: ['health'],
        summary: 'Liveness: the process is up',
        response: { 200: z.object({ status: z.literal('live') }), '4xx': ProblemSchema },
      },
      config: { access: 'public' },
    },
    async () => ({ status: 'live' as const }),
  );
  r.get(
    '/health/ready',
    {
      schema: {
        operationId: 'getReadiness',
        tags: ['health'],
        summary: 'Readiness: every configured dependency answers',
        response: { 200: ReadySchema, '4xx': ProblemSchema, 503: ReadySchema },
      },
      config: { access: 'public' },
    },
    async (_req, reply) => {
      const names = Object.keys(checks);
      const results = await Promise.all(names.map((n) => timed(checks[n]!, 2000)));
      const out = Object.fromEntries(names.map((n, i) => [n, results[i]!]));
      const ok = results.every((x) => x.ok);
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not_ready', checks: out });
    },
  );
};

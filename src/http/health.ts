import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ProblemSchema } from './problem.ts';

const KafkaHealthSchema = z
  .object({
    ok: z.boolean().describe('The cluster answers a metadata request'),
    error: z.string().optional(),
    ms: z.number(),
    consumer: z
      .enum(['idle', 'joining', 'consuming', 'stopped', 'failed'])
      .describe(
        "The call consumer: joining its group (after a crash this takes up to the dead member's session timeout; REST serves meanwhile), consuming, stopped, or failed to join",
      ),
  })
  .describe('Kafka, reported apart: REST serves without it (decisions are emitted when it answers)');

const ReadySchema = z
  .object({
    status: z.enum(['ready', 'not_ready']),
    checks: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional(), ms: z.number() })),
    kafka: KafkaHealthSchema.optional(),
  })
  .meta({ id: 'Readiness' });

/** Kafka as the health routes see it: the cluster's answer and the consumer's state. */
export interface KafkaHealth {
  ping(): Promise<void>;
  consumer(): z.infer<typeof KafkaHealthSchema>['consumer'];
}

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
 * Liveness says the process serves HTTP; readiness says the dependencies REST needs (the database
 * and the cache) answer, so a load balancer holds traffic until they do. Kafka is reported apart:
 * REST serves while the consumer joins its group (which after a crash waits for the dead member's
 * session to time out), and a failed join makes readiness 503.
 */
export const healthRoutes: FastifyPluginAsync<{
  checks: Record<string, () => Promise<void>>;
  kafka?: KafkaHealth | undefined;
}> = async (app, { checks, kafka }) => {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/health/live',
    {
      schema: {
        operationId: 'getLiveness',
        tags: ['health'],
        summary: 'Liveness: the process is up',
        response: {
          200: z.object({
            status: z.literal('live'),
            kafka: z.object({ consumer: KafkaHealthSchema.shape.consumer }).optional(),
          }),
          '4xx': ProblemSchema,
        },
      },
      config: { access: 'public' },
    },
    async () => ({ status: 'live' as const, ...(kafka ? { kafka: { consumer: kafka.consumer() } } : {}) }),
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
      const [results, kafkaPing] = await Promise.all([
        Promise.all(names.map((n) => timed(checks[n]!, 2000))),
        kafka ? timed(() => kafka.ping(), 2000) : undefined,
      ]);
      const out = Object.fromEntries(names.map((n, i) => [n, results[i]!]));
      const consumer = kafka?.consumer();
      const ok = results.every((x) => x.ok) && consumer !== 'failed';
      return reply.status(ok ? 200 : 503).send({
        status: ok ? 'ready' : 'not_ready',
        checks: out,
        ...(kafkaPing && consumer ? { kafka: { ...kafkaPing, consumer } } : {}),
      });
    },
  );
};

/**
 * The triage pipeline on Kafka: the decision emitter shared by REST and the consumer, and the call
 * consumer (the consumer loop of kafka/ around the pure handler of kafka-handler.ts, with metrics).
 */
import type { Decision } from '../domain/decision.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { recordOutcome, type Metrics } from '../metrics.ts';
import { classifyFailure, sqlstateOf } from '../adapters/failures.ts';
import { createConsumerLoop, type ConsumerLoop } from '../kafka/consumer-loop.ts';
import type { DeadLetterArchive } from '../kafka/dead-letter.ts';
import { classifySendError, sendErrorType } from '../kafka/failures.ts';
import type { KafkaClient, RecordProducer } from '../kafka/types.ts';
import { decisionRecord, handleCallRecord } from './kafka-handler.ts';
import type { TriageDeps } from './pipeline.ts';

export interface DecisionEmitter {
  /** Publishes a decision keyed by incident id; resolves once all in-sync replicas have it. */
  emit(decision: Decision): Promise<void>;
  /**
   * Takes over a stored decision whose emit failed: it is emitted again in the background, with
   * back-off, until the broker takes it (or refuses it for good, which is logged).
   */
  retryLater(decision: Decision): void;
  /** Decisions waiting to be emitted again. */
  pending(): number;
  /** Stops the retries (one last attempt for what waits). Idempotent. */
  close(): Promise<void>;
}

/** Emits decisions on `topic` through `producer`, with a background retry of failed emits. */
export function createDecisionEmitter(
  producer: RecordProducer,
  topic: string,
  logger: Logger,
): DecisionEmitter {
  const log = logger.child({ component: 'emitter' });
  const waiting = new Map<string, Decision>();
  let timer: NodeJS.Timeout | undefined;
  let delay = 500;
  let closed = false;

  const emit = async (decision: Decision) => {
    try {
      await producer.send([decisionRecord(decision, topic)]);
    } catch (err) {
      if (classifySendError(err) === 'permanent') {
        throw new AppError(
          'ERR_OUTPUT_REFUSED',
          `the broker refused the decision (${sendErrorType(err) ?? 'refused'})`,
          {
            cause: err,
          },
        );
      }
      throw new AppError('ERR_DEPENDENCY_UNAVAILABLE', 'kafka unavailable', { cause: err });
    }
  };

  /** Emits what waits, oldest first; stops at the first transient failure and tries again later. */
  const drain = async () => {
    for (const [id, decision] of waiting) {
      try {
        await emit(decision);
        waiting.delete(id);
        log.info({ decisionId: id }, 'stored decision emitted after a failed emit');
      } catch (err) {
        if ((err as AppError).code !== 'ERR_OUTPUT_REFUSED') return false;
        waiting.delete(id);
        log.error({ err, decisionId: id }, 'the broker refuses this stored decision for good: not emitted');
      }
    }
    return true;
  };
  const schedule = () => {
    if (timer || closed || waiting.size === 0) return;
    timer = setTimeout(() => {
      void drain().then((done) => {
        timer = undefined;
        delay = done ? 500 : Math.min(delay * 2, 30_000);
        schedule();
      });
    }, delay);
  };

  return {
    emit,
    retryLater(decision) {
      waiting.set(decision.decisionId, decision);
      schedule();
    },
    pending: () => waiting.size,
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      // One last attempt, bounded: a shutdown must not wait on the broker's own retries.
      let bound: NodeJS.Timeout | undefined;
      const drained =
        waiting.size === 0 ||
        (await Promise.race([
          drain().catch(() => false),
          new Promise<false>((resolve) => (bound = setTimeout(() => resolve(false), 1000))),
        ]));
      clearTimeout(bound);
      if (!drained) {
        log.error(
          { pending: waiting.size, decisionIds: [...waiting.keys()] },
          'stored decisions not emitted at shutdown: replay them from the decisions table',
        );
      }
    },
  };
}

/** Consumes the calls topic through the triage pipeline. */
export function createCallConsumer(options: {
  client: KafkaClient;
  producer: RecordProducer;
  archive: DeadLetterArchive;
  groupId: string;
  topic: string;
  dlqTopic: string;
  decisionsTopic: string;
  deps: TriageDeps;
  healthy: () => Promise<boolean>;
  metrics: Metrics;
  logger: Logger;
  stallAfterMs?: number;
}): ConsumerLoop {
  const { metrics, deps } = options;
  return createConsumerLoop({
    client: options.client,
    producer: options.producer,
    archive: options.archive,
    groupId: options.groupId,
    topic: options.topic,
    dlqTopic: options.dlqTopic,
    classify: classifyFailure,
    describe(err) {
      if (err instanceof AppError && err.status < 500) return { code: err.code, message: err.detail };
      // The message of a database error can quote the data: only its SQLSTATE (or the error's name) is kept.
      const root = err instanceof AppError && err.cause !== undefined ? err.cause : err;
      const state = sqlstateOf(root);
      const what = state ? `SQLSTATE ${state}` : ((root as Error | null)?.name ?? 'error');
      return { code: 'ERR_PROCESSING_FAILED', message: `processing failed (${what})` };
    },
    healthy: options.healthy,
    logger: options.logger,
    ...(options.stallAfterMs !== undefined ? { stallAfterMs: options.stallAfterMs } : {}),
    onPause: (partition) => metrics.pauses.inc({ partition: String(partition) }),
    onLag: (partition, lag) => metrics.lag.set({ partition: String(partition) }, lag),
    onDeadLetter: (code) => metrics.deadLetters.inc({ code }),
    onStall: (partition, stalled) => metrics.stalled.set({ partition: String(partition) }, stalled ? 1 : 0),
    async handler(record) {
      metrics.eventsIn.inc({ transport: 'kafka' });
      const end = metrics.processing.startTimer({ transport: 'kafka' });
      const result = await handleCallRecord(record, deps, options.decisionsTopic);
      end();
      if (result.outcome) recordOutcome(metrics, 'kafka', result.outcome);
      if (!result.deadLetter) metrics.eventToDecision.observe((Date.now() - Number(record.timestamp)) / 1000);
      return result;
    },
  });
}

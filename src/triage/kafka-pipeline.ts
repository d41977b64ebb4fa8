import type { Kafka, Producer } from 'kafkajs';
import type { Decision } from '../domain/decision.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { recordOutcome, type Metrics } from '../metrics.ts';
import { createConsumerLoop, type ConsumerLoop } from '../adapters/kafka-consumer.ts';
import { decisionRecord, handleCallRecord } from './kafka-handler.ts';
import { isOutage, type TriageDeps } from './pipeline.ts';

export interface DecisionProducer {
  producer: Producer;
  /** Publishes a decision keyed by incident id; resolves once all in-sync replicas have it. */
  emit(decision: Decision): Promise<void>;
  close(): Promise<void>;
}

/** The idempotent producer of decisions (and dead letters), shared by the Kafka and REST paths. */
export async function openDecisionProducer(kafka: Kafka, topic: string): Promise<DecisionProducer> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 5,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  let closed = false;
  return {
    producer,
    async emit(decision) {
      try {
        await producer.send({ topic, acks: -1, messages: [decisionRecord(decision)] });
      } catch (err) {
        throw new AppError('ERR_DEPENDENCY_UNAVAILABLE', 'kafka unavailable', { cause: err });
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await producer.disconnect();
    },
  };
}

/** Consumes the calls topic through the triage pipeline. */
export function createCallConsumer(options: {
  kafka: Kafka;
  producer: Producer;
  groupId: string;
  topic: string;
  dlqTopic: string;
  decisionsTopic: string;
  deps: TriageDeps;
  healthy: () => Promise<boolean>;
  metrics: Metrics;
  logger: Logger;
}): ConsumerLoop {
  const { metrics, deps } = options;
  return createConsumerLoop({
    kafka: options.kafka,
    producer: options.producer,
    groupId: options.groupId,
    topic: options.topic,
    dlqTopic: options.dlqTopic,
    isOutage,
    healthy: options.healthy,
    logger: options.logger,
    onPause: (partition) => metrics.pauses.inc({ partition: String(partition) }),
    onLag: (partition, lag) => metrics.lag.set({ partition: String(partition) }, lag),
    async handler(m) {
      metrics.eventsIn.inc({ transport: 'kafka' });
      const end = metrics.processing.startTimer({ transport: 'kafka' });
      const result = await handleCallRecord(m, deps, options.decisionsTopic);
      end();
      if (result.outcome) recordOutcome(metrics, 'kafka', result.outcome);
      if (result.deadLetter) metrics.deadLetters.inc({ code: result.deadLetter.code });
      else metrics.eventToDecision.observe((Date.now() - Number(m.message.timestamp)) / 1000);
      return result;
    },
  });
}

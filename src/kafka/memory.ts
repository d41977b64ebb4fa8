/**
 * The in-memory twin of the Kafka seam: topics of partitions kept in arrays, consumer groups with
 * committed offsets, a producer that enforces each topic's `max.message.bytes`. Same semantics as
 * the broker where the consumer loop depends on them — order per partition (and so per key),
 * redelivery of unresolved records, resolved offsets committed, redelivery of uncommitted ones after
 * a crash, pause/seek/resume — so the loop's ordering, outage and offset logic is tested in
 * milliseconds. One simplification: a group has one active member; a later member of the same group
 * waits until the active one stops or crashes, then takes every partition over from the committed
 * offsets (a rebalance without sharing).
 */
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  recordBytes,
  type ConsumedRecord,
  type GroupConsumer,
  type KafkaClient,
  type OutgoingRecord,
  type PartitionBatch,
  type RecordProducer,
} from './types.ts';

/** An error shaped like kafkajs' protocol errors, so `classifySendError` reads both the same way. */
export class MemoryKafkaError extends Error {
  readonly type: string;
  readonly retriable: boolean;
  constructor(type: string, message: string, retriable = false) {
    super(message);
    this.name = 'KafkaJSProtocolError';
    this.type = type;
    this.retriable = retriable;
  }
}

/** Resolvers woken when something a waiting fetcher may care about changes. */
function signal() {
  let waiters: Array<() => void> = [];
  return {
    wait: () => new Promise<void>((resolve) => waiters.push(resolve)),
    notify() {
      const w = waiters;
      waiters = [];
      for (const resolve of w) resolve();
    },
  };
}

/** A deterministic key → partition map (FNV-1a; not Java's murmur2, which only matters across clients). */
function partitionOf(key: Buffer, partitions: number): number {
  let h = 0x811c9dc5;
  for (const byte of key) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h % partitions;
}

const toBuffer = (v: Buffer | string | null | undefined) =>
  v == null ? null : typeof v === 'string' ? Buffer.from(v) : Buffer.from(v);

interface Topic {
  partitions: ConsumedRecord[][];
  maxMessageBytes: number;
}

/**
 * A test's hook on every send: return an error to make the send fail with it (nothing is stored), or
 * a promise to hold the send until it settles (a broker that does not answer).
 */
export type SendFault = (records: readonly OutgoingRecord[]) => Error | Promise<unknown> | undefined;

/** A client of the twin; its consumers can also crash. */
export interface MemoryKafkaClient extends KafkaClient {
  consumer(options: { groupId: string; topic: string }): MemoryGroupConsumer;
}

export interface MemoryKafka {
  /** A client of this broker (each service or test opens its own, as with a real cluster). */
  client(): MemoryKafkaClient;
  /** Every record of a topic, partition by partition in offset order. */
  read(topic: string): ConsumedRecord[];
  /** The committed offset (the next record to read) of a group on a partition, or undefined. */
  committed(groupId: string, topic: string, partition: number): string | undefined;
  /** Sets a topic's limit (as `kafka-configs --alter --add-config max.message.bytes=...`). */
  setMaxMessageBytes(topic: string, bytes: number): void;
  /** Installs (or, with undefined, removes) a fault on every send. */
  failSends(fault: SendFault | undefined): void;
}

/** A member that can also die without committing or leaving, as SIGKILL does. */
export interface MemoryGroupConsumer extends GroupConsumer {
  /** Stops at once: nothing more is committed; batches in flight run on, but their resolutions are ignored. */
  crash(): void;
}

export function createMemoryKafka(
  options: { maxMessageBytes?: number; maxBatch?: number } = {},
): MemoryKafka {
  const topics = new Map<string, Topic>();
  const offsets = new Map<string, Map<string, bigint>>(); // group -> "topic:partition" -> next offset
  const members = new Map<string, Array<{ start: () => void }>>(); // group -> waiting/active members
  const appended = signal();
  const maxBatch = options.maxBatch ?? 500;
  let fault: SendFault | undefined;
  let roundRobin = 0;

  const topicOf = (name: string) => {
    const topic = topics.get(name);
    if (!topic) throw new MemoryKafkaError('UNKNOWN_TOPIC_OR_PARTITION', `no topic ${name}`, true);
    return topic;
  };
  const groupOffsets = (groupId: string) => {
    let map = offsets.get(groupId);
    if (!map) offsets.set(groupId, (map = new Map()));
    return map;
  };

  const produce = async (records: readonly OutgoingRecord[]) => {
    const injected = fault?.(records);
    if (injected instanceof Error) throw injected;
    if (injected) await injected;
    for (const r of records) {
      const topic = topicOf(r.topic);
      const bytes = recordBytes(r);
      if (bytes > topic.maxMessageBytes) {
        throw new MemoryKafkaError(
          'MESSAGE_TOO_LARGE',
          `The request included a message larger than the max message size the server will accept (${bytes} > ${topic.maxMessageBytes})`,
        );
      }
    }
    for (const r of records) {
      const topic = topicOf(r.topic);
      const key = toBuffer(r.key);
      const partition = key
        ? partitionOf(key, topic.partitions.length)
        : roundRobin++ % topic.partitions.length;
      const log = topic.partitions[partition]!;
      const headers: Record<string, Buffer> = {};
      for (const [name, value] of Object.entries(r.headers ?? {})) headers[name] = toBuffer(value)!;
      log.push({
        topic: r.topic,
        partition,
        offset: String(log.length),
        key,
        value: toBuffer(r.value),
        headers,
        timestamp: String(Date.now()),
      });
    }
    appended.notify();
  };

  function consumer(o: { groupId: string; topic: string }): MemoryGroupConsumer {
    let running = false;
    let crashed = false;
    let stopping: Promise<void> | undefined;
    const wake = signal();
    const workers: Array<Promise<void>> = [];
    let admitted!: () => void;
    const turn = new Promise<void>((resolve) => (admitted = resolve));
    const queue = members.get(o.groupId) ?? [];
    members.set(o.groupId, queue);
    const me = { start: () => admitted() };

    const leave = () => {
      const i = queue.indexOf(me);
      if (i >= 0) queue.splice(i, 1);
      if (i === 0) queue[0]?.start();
    };

    const worker = async (
      topic: Topic,
      partition: number,
      eachBatch: (b: PartitionBatch) => Promise<void>,
    ) => {
      // Starts on the next tick, so stop() called from the first batch already sees this worker.
      await Promise.resolve();
      const committedMap = groupOffsets(o.groupId);
      const tp = `${o.topic}:${partition}`;
      let position = committedMap.get(tp) ?? 0n;
      let resolved = position - 1n;
      let paused = false;
      let seekTo: bigint | undefined;
      const commit = () => {
        if (!crashed && resolved + 1n > (committedMap.get(tp) ?? 0n)) committedMap.set(tp, resolved + 1n);
      };
      while (running) {
        const log = topic.partitions[partition]!;
        if (paused || position >= BigInt(log.length)) {
          await Promise.race([appended.wait(), wake.wait()]);
          continue;
        }
        const records = log.slice(Number(position), Number(position) + maxBatch);
        const last = BigInt(records.at(-1)!.offset);
        try {
          await eachBatch({
            topic: o.topic,
            partition,
            records,
            lag: () => Math.max(0, log.length - Number(last) - 1),
            resolveOffset(offset) {
              const n = BigInt(offset);
              if (!crashed && n > resolved) resolved = n;
            },
            commitIfNecessary: () => Promise.resolve(commit()),
            heartbeat: () => Promise.resolve(),
            isRunning: () => running,
            pauseAt(offset) {
              paused = true;
              seekTo = BigInt(offset);
              // As kafkajs does with auto-commit on: the seek's offset is committed.
              if (!crashed) {
                resolved = seekTo - 1n;
                commit();
              }
              return () => {
                paused = false;
                wake.notify();
              };
            },
          });
        } catch {
          // kafkajs logs a failed batch and fetches it again; so does the twin, after a breath.
          await new Promise((r) => setTimeout(r, 10));
        }
        if (seekTo !== undefined) {
          position = seekTo;
          seekTo = undefined;
        } else {
          position = resolved + 1n;
        }
        // A batch left entirely unresolved is fetched again: let timers and I/O run in between.
        await new Promise((r) => setImmediate(r));
      }
      commit();
    };

    return {
      async run(eachBatch) {
        queue.push(me);
        if (queue.length === 1) me.start();
        await turn;
        if (stopping) return;
        const topic = topicOf(o.topic);
        running = true;
        topic.partitions.forEach((_, p) => workers.push(worker(topic, p, eachBatch)));
      },
      stop() {
        return (stopping ??= (async () => {
          running = false;
          wake.notify();
          appended.notify();
          await Promise.all(workers);
          leave();
        })());
      },
      crash() {
        crashed = true;
        running = false;
        stopping ??= Promise.resolve();
        wake.notify();
        appended.notify();
        leave();
      },
    };
  }

  return {
    client() {
      let closed = false;
      return {
        kind: 'memory',
        ensureTopics(list) {
          for (const t of list) {
            if (!topics.has(t.topic)) {
              topics.set(t.topic, {
                partitions: Array.from({ length: t.partitions }, () => []),
                maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
              });
            }
          }
          return Promise.resolve();
        },
        maxMessageBytes: (topic, fallback) => Promise.resolve(topics.get(topic)?.maxMessageBytes ?? fallback),
        producer(): Promise<RecordProducer> {
          let producerClosed = false;
          return Promise.resolve({
            async send(records) {
              await Promise.resolve(); // asynchronous like a network round trip
              if (producerClosed || closed) throw new Error('the producer is closed');
              await produce(records);
            },
            close() {
              producerClosed = true;
              return Promise.resolve();
            },
          });
        },
        consumer: (o) => consumer(o),
        ping: () => (closed ? Promise.reject(new Error('closed')) : Promise.resolve()),
        close() {
          closed = true;
          return Promise.resolve();
        },
      };
    },
    read: (topic) => topicOf(topic).partitions.flat(),
    committed: (groupId, topic, partition) => offsets.get(groupId)?.get(`${topic}:${partition}`)?.toString(),
    setMaxMessageBytes(topic, bytes) {
      topicOf(topic).maxMessageBytes = bytes;
    },
    failSends(f) {
      fault = f;
    },
  };
}

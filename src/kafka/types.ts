/**
 * The Kafka seam: what the service needs from a broker, and nothing more. Two implementations:
 * `kafkajs.ts` (the real broker) and `memory.ts` (an in-memory twin with the same semantics, for
 * tests of the consumer loop that run in milliseconds). `test/kafka/contract.test.ts` runs the same
 * cases against both.
 */

/** Header values as the broker returns them (bytes) or as we write them (text). */
export type RecordHeaders = Record<string, Buffer | string | undefined>;

/** One record read from a partition. */
export interface ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  /** The record's offset, a decimal string (offsets are 64-bit). */
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: RecordHeaders;
  /** Milliseconds since the epoch, as a decimal string (the producer's or the broker's time). */
  readonly timestamp: string;
}

/** One record to produce. Records with the same key go to the same partition, in the order sent. */
export interface OutgoingRecord {
  topic: string;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string>;
}

/** A batch of records of one partition handed to the consumer loop, with the partition's controls. */
export interface PartitionBatch {
  readonly topic: string;
  readonly partition: number;
  /** In offset order; never empty. */
  readonly records: readonly ConsumedRecord[];
  /** Records the broker holds after the last one of this batch (the lag once the batch is done). */
  lag(): number;
  /**
   * Marks `offset` (and everything before it in this partition) as processed. A record not resolved
   * by the end of the batch is delivered again by the next fetch; a resolved one never is, except
   * after a crash before its commit.
   */
  resolveOffset(offset: string): void;
  /** Commits the resolved offsets when the commit interval or threshold says so. */
  commitIfNecessary(): Promise<void>;
  /** Tells the group coordinator this member is alive (long batches call it between chunks). */
  heartbeat(): Promise<void>;
  /** False once the consumer stops or this partition was taken away: the loop should return. */
  isRunning(): boolean;
  /**
   * Stops fetching this partition; once the returned function is called, fetching starts again at
   * `offset` (which must not be before the last resolved one + 1). Records after `offset` in this
   * batch are delivered again then.
   */
  pauseAt(offset: string): () => void;
}

/** A member of a consumer group on one topic. */
export interface GroupConsumer {
  /**
   * Connects, joins the group and starts fetching; `eachBatch` is called with each partition's
   * batches, one at a time per partition and concurrently across partitions. Resolves once joined
   * (after a crash of the previous member this can take its session timeout: do not await it before
   * serving). Rejects when the join fails for good. Call once.
   */
  run(eachBatch: (batch: PartitionBatch) => Promise<void>): Promise<void>;
  /**
   * Waits for the batches in flight, commits the resolved offsets and leaves the group, so another
   * member takes the partitions over at once. Idempotent; safe before or during `run`.
   */
  stop(): Promise<void>;
}

/** Produces records; shared by every caller in the process. */
export interface RecordProducer {
  /**
   * Produces the records in one request, in order per partition; resolves once every in-sync
   * replica has them (acks=all). Rejects with the broker's error: classify it with
   * `classifySendError` (`failures.ts`); after a rejection any subset of the records may be stored.
   */
  send(records: readonly OutgoingRecord[]): Promise<void>;
  /** Closes the connection; later sends reject. Idempotent. */
  close(): Promise<void>;
}

/** A connection to a cluster: topics, producers and consumer groups. */
export interface KafkaClient {
  readonly kind: 'kafkajs' | 'memory';
  /** Creates the topics that do not exist yet; existing ones are left as they are. */
  ensureTopics(
    topics: ReadonlyArray<{ topic: string; partitions: number; replication?: number }>,
  ): Promise<void>;
  /**
   * The largest record batch `topic` accepts, in bytes: its `max.message.bytes` (topic setting, else
   * the broker's `message.max.bytes`); `fallback` when the cluster does not say.
   */
  maxMessageBytes(topic: string, fallback: number): Promise<number>;
  /** Opens a producer (idempotent on the real broker). */
  producer(): Promise<RecordProducer>;
  /** A new member of consumer group `groupId` on `topic`, starting from the earliest offset. */
  consumer(options: {
    groupId: string;
    topic: string;
    partitionsConsumedConcurrently?: number;
  }): GroupConsumer;
  /** Resolves when the cluster answers a metadata request; rejects otherwise. */
  ping(): Promise<void>;
  /** Closes the admin connection (producers and consumers are closed by their owners). Idempotent. */
  close(): Promise<void>;
}

/**
 * The broker's own default `max.message.bytes` (1 MiB + 12 bytes of batch overhead); used when the
 * cluster's setting cannot be read.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/**
 * An upper bound of the bytes `record` takes in a record batch alone (uncompressed, v2 format: 61
 * bytes of batch header, up to 21 of record header, varint lengths of key, value and each header).
 */
export function recordBytes(record: OutgoingRecord | ConsumedRecord): number {
  const len = (v: Buffer | string | null | undefined) =>
    v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length;
  let n = 61 + 21 + 5 + len(record.key) + 5 + len(record.value) + 5;
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    n += 5 + Buffer.byteLength(name) + 5 + len(value);
  }
  return n;
}

/**
 * The Kafka consumer mechanics, over the seam (`types.ts`): chunks, per-key chains, offsets,
 * pause/resume, dead letters, stall detection. What a record means is the handler's business.
 * Delivery is at-least-once: an offset is resolved only after the handler finished and what it
 * produced (outputs, or the dead letter) was acknowledged, so a crash replays records and the
 * handler must be idempotent.
 */
import type { Logger } from '../logger.ts';
import { classifySendError, sendErrorType } from './failures.ts';
import { createStallWatch } from './stall-watch.ts';
import {
  fits,
  fullCopy,
  referenceCopy,
  type DeadLetterArchive,
  type DeadLetterReason,
} from './dead-letter.ts';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  recordBytes,
  type ConsumedRecord,
  type KafkaClient,
  type OutgoingRecord,
  type PartitionBatch,
  type RecordProducer,
} from './types.ts';

/** What the handler decided about one record. */
export interface HandlerResult {
  /** Set when the record can never be processed: it goes to the dead-letter topic with this reason. */
  deadLetter?: DeadLetterReason;
  /** Records to produce because of this one (decisions); acknowledged before its offset is resolved. */
  outputs?: OutgoingRecord[];
}

/** How a handler error is treated: pause the partition, retry the record, or dead-letter it at once. */
export type HandlerFailure = 'outage' | 'transient' | 'permanent';

export interface ConsumerLoopOptions {
  client: KafkaClient;
  /** The producer of outputs and dead letters (shared with the REST path). */
  producer: RecordProducer;
  groupId: string;
  topic: string;
  dlqTopic: string;
  handler: (record: ConsumedRecord) => Promise<HandlerResult>;
  /** Classifies a handler error (see adapters/failures.ts). */
  classify: (err: unknown) => HandlerFailure;
  /** For a permanent handler error: the dead letter's code and a message that quotes no data. */
  describe: (err: unknown) => DeadLetterReason;
  /** Resolves true when every dependency answers again; polled while a partition is paused. */
  healthy: () => Promise<boolean>;
  /** Where originals that do not fit the dead-letter topic are stored. */
  archive: DeadLetterArchive;
  logger: Logger;
  /** Partitions processed at once (each partition stays in order). */
  concurrency?: number;
  /** Attempts for a record that keeps failing with a transient error before it is dead-lettered. */
  maxAttempts?: number;
  /** How long records in flight may finish after stop() before they are left for the replay (ms). */
  stopGraceMs?: number;
  /** A partition with lag that has not advanced for this long is reported stalled (ms). */
  stallAfterMs?: number;
  /** Called when a partition pauses for an outage (metrics). */
  onPause?: (partition: number) => void;
  /** Called with the lag of each partition after each batch (metrics). */
  onLag?: (partition: number, lag: number) => void;
  /** Called with the code of every dead letter written (metrics). */
  onDeadLetter?: (code: string) => void;
  /** Called when a partition is found stalled, and again when it advances (metrics). */
  onStall?: (partition: number, stalled: boolean) => void;
}

export type ConsumerState = 'idle' | 'joining' | 'consuming' | 'stopped' | 'failed';

export interface ConsumerLoop {
  /** Joins the group and starts consuming; resolves once joined, which after a crash can take the dead member's session timeout. Idempotent. */
  start(): Promise<void>;
  /** Where the loop is: joining the group, consuming, stopped, or failed to join. */
  state(): ConsumerState;
  /**
   * Stops intake: back-off and resume timers end at once, records in flight get `stopGraceMs` to
   * finish, resolved offsets are committed and the group is left. Idempotent; safe while joining.
   */
  stop(): Promise<void>;
}

/**
 * Records of a partition handled together: concurrently across record keys (incidents), one after
 * another within a key, and their outputs produced together before their offsets are resolved.
 */
const CHUNK = 100;

type Outcome =
  | { result: HandlerResult; attempts: number }
  | { outage: unknown }
  /** The loop is stopping: this record is left for the replay. */
  | { stopped: true };

/** Outputs of several records produced together: at most this share of the limit per request. */
const sendBudget = (maxMessageBytes: number) => Math.floor(maxMessageBytes / 2);

export function createConsumerLoop(opts: ConsumerLoopOptions): ConsumerLoop {
  const log = opts.logger.child({ component: 'consumer', topic: opts.topic });
  const maxAttempts = opts.maxAttempts ?? 5;
  const stallAfterMs = opts.stallAfterMs ?? 30_000;
  const timers = new Set<NodeJS.Timeout>();
  let state: ConsumerState = 'idle';
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  /** Resolves as soon as stop() is called. */
  let stopRequested!: () => void;
  const stopSignal = new Promise<void>((resolve) => (stopRequested = resolve));
  /** Resolves `stopGraceMs` after stop(): handlers still running then are left for the replay. */
  const graceOver = stopSignal.then(
    () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, opts.stopGraceMs ?? 2000);
        timers.add(timer);
      }),
  );
  const consumer = opts.client.consumer({
    groupId: opts.groupId,
    topic: opts.topic,
    partitionsConsumedConcurrently: opts.concurrency ?? 6,
  });
  let dlqLimit: number | undefined;
  const dlqMaxBytes = async () =>
    (dlqLimit ??= await opts.client.maxMessageBytes(opts.dlqTopic, DEFAULT_MAX_MESSAGE_BYTES));

  /** Waits `ms`, or less when stop() is called meanwhile: no timer outlives stop(). */
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
      void stopSignal.then(() => {
        clearTimeout(timer);
        timers.delete(timer);
        resolve();
      });
    });

  const stalls = createStallWatch({ stallAfterMs, logger: log, onStall: opts.onStall });
  const noteProgress = stalls.note;

  /** Polls until the dependencies answer, then resumes the partition. Ends quietly on stop. */
  const resumeWhenHealthy = async (resume: () => void, partition: number) => {
    for (let delay = 500; !stopping; delay = Math.min(delay * 2, 10_000)) {
      await sleep(delay);
      if (stopping) return;
      if (await opts.healthy().catch(() => false)) {
        log.info({ partition }, 'dependencies back: resuming');
        resume();
        return;
      }
    }
  };

  /** One record through the handler: transient errors retried, permanent ones dead-lettered at once. */
  const handleOne = async (record: ConsumedRecord): Promise<Outcome> => {
    for (let attempt = 1; ; attempt++) {
      if (stopping) return { stopped: true };
      try {
        const handled = opts.handler(record);
        const result = await Promise.race([handled, graceOver.then(() => undefined)]);
        if (result === undefined) {
          handled.catch(() => {}); // left for the replay; its outcome no longer matters
          return { stopped: true };
        }
        return { result, attempts: attempt };
      } catch (err) {
        const failure = opts.classify(err);
        // Good events must not be dead-lettered because PostgreSQL or Redis is down.
        if (failure === 'outage') return { outage: err };
        if (failure === 'permanent' || attempt >= maxAttempts) {
          const reason =
            failure === 'permanent'
              ? opts.describe(err)
              : { code: 'ERR_PROCESSING_FAILED', message: opts.describe(err).message };
          return { result: { deadLetter: reason }, attempts: attempt };
        }
        log.warn(
          { err, partition: record.partition, offset: record.offset, attempt },
          'handler failed: retrying',
        );
        await sleep(100 * 2 ** attempt);
      }
    }
  };

  /**
   * The records of a chunk, each key's in offset order and the keys concurrently (records are keyed
   * by incident, so one incident's revisions keep their order; records without a key share one
   * chain). After an outage (or stop) a chain stops: its later records are left for the replay.
   */
  const handleChunk = async (records: readonly ConsumedRecord[]) => {
    const results = new Array<Outcome>(records.length);
    const chains = new Map<string, number[]>();
    records.forEach((record, i) => {
      const key = record.key ? record.key.toString('latin1') : '';
      const chain = chains.get(key);
      if (chain) chain.push(i);
      else chains.set(key, [i]);
    });
    await Promise.all(
      [...chains.values()].map(async (chain) => {
        for (const [n, i] of chain.entries()) {
          const result = (results[i] = await handleOne(records[i]!));
          if ('outage' in result || 'stopped' in result) {
            for (const j of chain.slice(n + 1)) results[j] = result;
            return;
          }
        }
      }),
    );
    return results;
  };

  /** Thrown inside a batch when the partition must pause at a record (the error says why). */
  class PauseAt {
    readonly offset: string;
    readonly cause: unknown;
    constructor(offset: string, cause: unknown) {
      this.offset = offset;
      this.cause = cause;
    }
  }

  /**
   * Writes the dead letter of `record` alone (a record that can fail permanently is never batched
   * with others): the full copy when it fits, else the archived original's reference and a prefix.
   * Throws PauseAt when the broker or the archive is unavailable.
   */
  const sendDeadLetter = async (record: ConsumedRecord, reason: DeadLetterReason, attempts: number) => {
    const limit = await dlqMaxBytes();
    const full = fullCopy(opts.dlqTopic, record, reason, attempts);
    const at = { partition: record.partition, offset: record.offset, code: reason.code, attempts };
    const archived = async () => {
      try {
        return await opts.archive.put({ record, reason, attempts });
      } catch (err) {
        throw new PauseAt(record.offset, err);
      }
    };
    const attempt = async (copy: OutgoingRecord) => {
      try {
        await opts.producer.send([copy]);
        return true;
      } catch (err) {
        if (classifySendError(err) !== 'permanent') throw new PauseAt(record.offset, err);
        log.warn(
          { ...at, type: sendErrorType(err), bytes: recordBytes(copy) },
          'dead-letter topic refused the copy',
        );
        return false;
      }
    };
    if (fits(full, limit) && (await attempt(full))) {
      log.warn(at, 'dead-lettered');
    } else {
      const reference = await archived();
      const withPrefix = referenceCopy(opts.dlqTopic, record, reason, attempts, reference, limit);
      if (
        (await attempt(withPrefix)) ||
        (await attempt(referenceCopy(opts.dlqTopic, record, reason, attempts, reference, limit, false)))
      ) {
        log.warn({ ...at, archived: reference }, 'dead-lettered: original archived, reference on the topic');
      } else {
        // Kept in the archive, so not lost; the topic will not take even a reference (authorization?).
        log.error(
          { ...at, archived: reference },
          'dead-letter topic refuses every copy: original archived only',
        );
      }
    }
    opts.onDeadLetter?.(reason.code);
  };

  /** Produces `records` in requests that stay well under the topic limit. */
  const sendOutputs = async (records: OutgoingRecord[], limit: number) => {
    let request: OutgoingRecord[] = [];
    let bytes = 0;
    for (const r of records) {
      const size = recordBytes(r);
      if (request.length > 0 && bytes + size > sendBudget(limit)) {
        await opts.producer.send(request);
        request = [];
        bytes = 0;
      }
      request.push(r);
      bytes += size;
    }
    if (request.length > 0) await opts.producer.send(request);
  };

  const eachBatch = async (batch: PartitionBatch) => {
    const partition = batch.partition;
    noteProgress(partition, batch.records.length + batch.lag(), false);
    /** Handled records whose outputs are not produced yet, in offset order. */
    let pending: Array<{ record: ConsumedRecord; outputs: OutgoingRecord[] }> = [];

    const resolve = (offset: string) => {
      batch.resolveOffset(offset);
      noteProgress(partition, Math.max(0, stalls.lag(partition) - 1), true);
    };

    /** Produces what is pending, then resolves its offsets. */
    const flush = async () => {
      const entries = pending;
      pending = [];
      if (entries.length === 0) return;
      const outputs = entries.flatMap((e) => e.outputs);
      try {
        await sendOutputs(outputs, DEFAULT_MAX_MESSAGE_BYTES);
        for (const e of entries) resolve(e.record.offset);
      } catch (err) {
        if (classifySendError(err) !== 'permanent') throw new PauseAt(entries[0]!.record.offset, err);
        // One output is refused for good: produce them one record at a time, so only that record fails.
        for (const e of entries) {
          try {
            await opts.producer.send(e.outputs);
          } catch (one) {
            if (classifySendError(one) !== 'permanent') throw new PauseAt(e.record.offset, one);
            await sendDeadLetter(
              e.record,
              {
                code: 'ERR_OUTPUT_REFUSED',
                message: `the broker refused the decision (${sendErrorType(one) ?? 'refused'}); it is stored and is emitted again when this record is replayed`,
              },
              1,
            );
          }
          resolve(e.record.offset);
        }
      }
      await batch.commitIfNecessary();
      await batch.heartbeat();
    };

    try {
      for (let from = 0; from < batch.records.length; from += CHUNK) {
        if (!batch.isRunning() || stopping) break;
        const chunk = batch.records.slice(from, from + CHUNK);
        const results = await handleChunk(chunk);
        // In offset order: outputs are produced, and offsets resolved, only up to the first record
        // that met an outage; the partition pauses there and everything after it is replayed.
        for (const [i, record] of chunk.entries()) {
          const outcome = results[i]!;
          if ('stopped' in outcome) {
            await flush();
            return;
          }
          if ('outage' in outcome) {
            await flush();
            throw new PauseAt(record.offset, outcome.outage);
          }
          const { result, attempts } = outcome;
          if (result.deadLetter) {
            await flush();
            await sendDeadLetter(record, result.deadLetter, attempts);
            resolve(record.offset);
          } else {
            pending.push({ record, outputs: result.outputs ?? [] });
          }
        }
        await flush();
      }
      await flush();
      const lag = batch.lag();
      noteProgress(partition, lag, false);
      opts.onLag?.(partition, lag);
    } catch (err) {
      if (!(err instanceof PauseAt)) throw err;
      if (stopping) return; // the unresolved records are replayed at the next start
      log.warn({ err: err.cause, partition, offset: err.offset }, 'dependency down: pausing');
      const resume = batch.pauseAt(err.offset);
      opts.onPause?.(partition);
      void resumeWhenHealthy(resume, partition);
      await batch.commitIfNecessary().catch(() => {});
    }
  };

  return {
    start() {
      return (starting ??= (async () => {
        state = 'joining';
        if (stopping) return;
        stalls.start();
        try {
          await consumer.run(eachBatch);
          if (!stopping) state = 'consuming';
        } catch (err) {
          if (!stopping) state = 'failed';
          throw err;
        }
      })());
    },
    state: () => state,
    stop() {
      return (stopping ??= (async () => {
        stopRequested();
        stalls.stop();
        await consumer.stop();
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        state = 'stopped';
      })());
    },
  };
}

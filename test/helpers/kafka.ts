/** Test helpers that talk to Kafka through kcat, a client independent of the service's kafkajs. */
import { spawn, spawnSync } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';

/** Produces `key<TAB>value` records with kcat, each with `headers`; values must not contain newlines. */
export async function kcatProduce(
  brokers: string,
  topic: string,
  records: Array<{ key: string; value: string }>,
  headers: Record<string, string> = {},
) {
  const h = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]);
  const child = spawn('kcat', ['-P', '-b', brokers, '-t', topic, '-K', '\t', '-X', 'acks=all', ...h], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<void>((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`kcat exited ${code}: ${stderr}`)),
    ),
  );
  child.stdin.end(records.map((r) => `${r.key}\t${r.value}\n`).join(''));
  await done;
}

/** Reads every record of `topic` as kcat's JSON envelopes (key, payload, headers, partition, offset). */
export function kcatReadAll(
  brokers: string,
  topic: string,
): Array<{
  key: string | null;
  payload: string | null;
  partition: number;
  offset: number;
  headers?: string[];
}> {
  const res = spawnSync('kcat', ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-J', '-q'], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (res.status !== 0) throw new Error(`kcat exited ${res.status}: ${res.stderr}`);
  return res.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map(
      (l) =>
        JSON.parse(l) as {
          key: string | null;
          payload: string | null;
          partition: number;
          offset: number;
          headers?: string[];
        },
    );
}

/** kcat's flat header list (name, value, name, value, ...) as an object. */
export function headerObject(headers: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < (headers ?? []).length; i += 2) out[headers![i]!] = headers![i + 1]!;
  return out;
}

/** Creates topics with the admin API (the broker does not auto-create them). */
export async function createTopics(brokers: string, topics: string[], numPartitions = 3) {
  const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({
    topics: topics.map((topic) => ({ topic, numPartitions })),
    waitForLeaders: true,
  });
  await admin.disconnect();
}

/** Polls `check` until it returns true, at most `timeoutMs`. For state outside this process (a broker, a child). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 60_000, everyMs = 200) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

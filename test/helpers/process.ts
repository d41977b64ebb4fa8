/** Runs the real service as a child process (`node src/server.ts`), for crash and scale-out tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { createInterface } from 'node:readline';

export const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });

export interface ServiceProcess {
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
  /** The JSON log lines so far. */
  logs: Array<Record<string, unknown>>;
  /** Fetches a URL path of the service. */
  get(path: string): Promise<Response>;
}

/** Starts the service with `env` (plus PATH and a free PORT) and resolves once it listens. */
export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', 'src/server.ts'], {
    env: {
      PATH: process.env.PATH,
      LOG_LEVEL: 'info',
      // The test run's log scan covers the services it starts too.
      ...(process.env.CAD_TRIAGE_LOG_DIR ? { CAD_TRIAGE_LOG_DIR: process.env.CAD_TRIAGE_LOG_DIR } : {}),
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const logs: Array<Record<string, unknown>> = [];
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (String(entry.msg).startsWith('Server listening')) resolve();
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => reject(new Error(`service exited with ${code} before listening`)));
  });
  return { child, port, exited, logs, get: (path) => fetch(`http://127.0.0.1:${port}${path}`) };
}

/** Reads one counter of the service's /metrics (sum over label sets matching `labels`). */
export async function metricValue(svc: ServiceProcess, name: string, labels: Record<string, string> = {}) {
  const text = await (await svc.get('/metrics')).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { createInterface } from 'node:readline';

const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });

t.test('the run command starts the embedded default with no servers; ready answers 200', async (t) => {
  const port = await freePort();
  const dataDir = join(mkdtempSync(join(tmpdir(), 'cad-triage-')), 'pglite');
  // Only PATH: no DATABASE_URL, REDIS_URL or KAFKA_BROKERS, as on a newcomer's machine.
  const child = spawn(process.execPath, ['src/server.ts'], {
    env: { PATH: process.env.PATH, PORT: String(port), PGLITE_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  const lines: Array<{ msg: string; mode?: string }> = [];
  const listening = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(JSON.parse(line) as { msg: string });
      if (line.includes('Server listening')) resolve();
    });
    void exited.then((code) => reject(new Error(`server exited with ${code}`)));
  });
  await listening;

  t.equal(lines[0]?.mode, 'embedded', 'the first log line names the mode');
  t.match(lines[0]?.msg, /embedded mode: pglite .*in-process cache, REST only/);

  const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
  t.equal(ready.status, 200);
  t.match(await ready.json(), { status: 'ready', checks: { pglite: { ok: true }, cache: { ok: true } } });

  const missing = await fetch(`http://127.0.0.1:${port}/v0/nothing`);
  t.equal(missing.status, 404);
  t.equal(missing.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  t.match(await missing.json(), { code: 'ERR_NOT_FOUND', status: 404 });

  child.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM shuts down cleanly with exit code 0');
  t.ok(
    lines.some((l) => l.msg === 'shutting down'),
    'shutdown is logged',
  );
});

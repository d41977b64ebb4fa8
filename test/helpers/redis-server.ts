/** A Redis server of a test's own on a free port, so it can be stopped without disturbing other tests. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;

/** Starts `redis-server` on `port` (no persistence); resolves once it accepts connections. */
export function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('Ready to accept connections')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited ${code}`)));
  });
}

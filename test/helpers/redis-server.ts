/**
 * A real redis-server (Debian's package) for the tests: started on a free loopback port, without
 * persistence unless asked (`--save "" --appendonly no`), stopped by pid. Tests fail, never skip,
 * when redis-server is not installed (.ci/run installs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { newClient, type RedisClient } from '../../src/redis/connection.js';
import { freePort } from './sse-client.js';

export interface RedisTestServer {
  readonly port: number;
  readonly url: string;
  /** A client on the server (connected; closed by `stop`). */
  readonly client: RedisClient;
  /** Stops the server (SIGTERM by pid, waits for its exit). */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (with persistence, the data survives). */
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  stop(): Promise<void>;
}

export interface RedisTestOptions {
  /** Append-only file fsynced on every write: a restart keeps every entry (the restart test). */
  readonly persist?: boolean;
  readonly password?: string;
}

export async function startRedisServer(opts: RedisTestOptions = {}): Promise<RedisTestServer> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'heatmap-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no', '--loglevel', 'warning'];
  args.push(...(opts.persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  if (opts.password !== undefined) args.push('--requirepass', opts.password);
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const c = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const failed = new Promise<never>((_, reject) => {
      c.once('error', (err) => reject(new Error(`cannot start redis-server (is it installed? apt-get install redis-server): ${err.message}`)));
      c.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${stderr}`)));
    });
    await Promise.race([waitForPort(port), failed]);
    c.removeAllListeners('exit');
    child = c;
  };
  await launch();
  const auth = opts.password !== undefined ? `:${encodeURIComponent(opts.password)}@` : '';
  const url = `redis://${auth}127.0.0.1:${port}`;
  const client = newClient({ url, socket: { reconnectStrategy: (n) => Math.min(50 * 2 ** n, 500) } });
  client.on('error', () => {});
  await client.connect();
  const kill = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (c === undefined || c.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    process.kill(c.pid!, 'SIGTERM');
    await exited;
  };
  return {
    port,
    url,
    client,
    kill,
    start: launch,
    async stop() {
      try {
        client.destroy();
      } catch {
        /* closed */
      }
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once something accepts connections on the port (bounded: 20 s). */
async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on ${port} within 20 s`);
}

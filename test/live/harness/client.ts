/**
 * Client-side helpers for live tests: commands run inside a (client) pod's network namespace, so
 * they resolve names through that pod's emulated cluster DNS and reach pods over the bridge.
 */
import { run, RunResult, sleep } from './proc';

const CLIENT_PATH = '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin';

export interface ExecResult {
  /** null when killed (timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function result(r: RunResult): ExecResult {
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut };
}

/** Runs a command inside a network namespace, bounded by timeoutMs (default 3 s). */
export async function execIn(ns: string, cmd: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<ExecResult> {
  const r = await run('ip', ['netns', 'exec', ns, ...cmd], { timeoutMs: opts.timeoutMs ?? 3000, env: { PATH: CLIENT_PATH, ...opts.env } });
  return result(r);
}

export interface RedisCliOptions {
  host: string;
  port: number;
  /** Sent as REDISCLI_AUTH, never on the command line. */
  password?: string;
  user?: string;
  timeoutMs?: number;
  tls?: { caFile: string; certFile?: string; keyFile?: string; sni?: string };
}

/**
 * redis-cli inside a namespace. Not interactive, so replies are printed raw; redis-cli exits
 * non-zero when it cannot connect and when the (last) reply is an error.
 */
export async function redisCli(ns: string, args: string[], opts: RedisCliOptions): Promise<ExecResult> {
  const cli = ['redis-cli', '--no-auth-warning', '-h', opts.host, '-p', String(opts.port)];
  if (opts.user !== undefined) cli.push('--user', opts.user);
  if (opts.tls !== undefined) {
    cli.push('--tls', '--cacert', opts.tls.caFile);
    if (opts.tls.certFile !== undefined) cli.push('--cert', opts.tls.certFile);
    if (opts.tls.keyFile !== undefined) cli.push('--key', opts.tls.keyFile);
    if (opts.tls.sni !== undefined) cli.push('--sni', opts.tls.sni);
  }
  const env: Record<string, string> = opts.password !== undefined ? { REDISCLI_AUTH: opts.password } : {};
  return execIn(ns, [...cli, ...args], { timeoutMs: opts.timeoutMs ?? 3000, env });
}

/** The addresses a name resolves to inside a namespace (getent hosts: /etc/hosts there). */
export async function resolveIn(ns: string, name: string): Promise<string[]> {
  const r = await execIn(ns, ['getent', 'ahostsv4', name]);
  if (r.code !== 0) return [];
  return [...new Set(r.stdout.split('\n').map((l) => l.split(/\s+/)[0]).filter(Boolean))];
}

export interface WaitOptions {
  /** Default 10 s. */
  timeoutMs?: number;
  /** Default 200 ms. */
  intervalMs?: number;
  /** What is awaited, for the timeout message. */
  what: string;
}

/**
 * Polls fn until it returns true; a throw counts as false (the last one is reported). Bounded by
 * timeoutMs and by timeoutMs / intervalMs + 1 tries.
 */
export async function waitFor(fn: () => Promise<boolean>, opts: WaitOptions): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = Math.max(opts.intervalMs ?? 200, 1);
  const start = Date.now();
  const maxTries = Math.ceil(timeoutMs / intervalMs) + 1;
  let last = '';
  let tries = 0;
  while (tries < maxTries) {
    tries++;
    try {
      if (await fn()) return;
      last = '';
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() - start >= timeoutMs) break;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${Date.now() - start} ms (${tries} tries) waiting for ${opts.what}${last ? `; last error: ${last}` : ''}`);
}

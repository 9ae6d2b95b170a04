/**
 * A deterministic mixed-type data set for backup/restore tests: bin/dataset.js run inside a client
 * pod's network namespace writes it and dumps what a server (or a cluster's primaries) holds in a
 * canonical form; two dumps compare equal when keys, types, values and absolute expiries match.
 */
import * as fs from 'fs';
import * as path from 'path';
import { execIn } from './client';
import { harnessRoot } from './pod';
import { run } from './proc';

// In bin/ so that `import './dataset'` never resolves to it (jest tries .js before .ts).
const DATASET_JS = path.join(__dirname, 'bin', 'dataset.js');

export type DatasetType = 'string' | 'hash' | 'list' | 'set' | 'zset' | 'stream';

export interface DatasetTarget {
  /** The (client) pod namespace the tool runs in. */
  ns: string;
  /** A server, or with `cluster` any member as the seed node. */
  host: string;
  port: number;
  password?: string;
  user?: string;
  /** Through ioredis's Cluster client; dump SCANs every slot-owning primary. */
  cluster?: boolean;
  tls?: { caFile: string; certFile?: string; keyFile?: string; servername?: string };
}

export interface WriteResult {
  written: number;
  seed: number;
  prefix: string;
  byType: Record<DatasetType, number>;
  /** Keys given a PEXPIRE 2-6 h out. */
  withTtl: number;
  ms: number;
}

export interface DumpResult {
  count: number;
  byType: Partial<Record<string, number>>;
  ms: number;
  /** The canonical JSON dump. */
  file: string;
}

/** One key of a dump: type, absolute expiry in ms (-1: none), canonical value (see bin/dataset.js). */
export interface DumpedKey {
  t: string;
  x: number;
  v: unknown;
}

export interface DatasetDump {
  format: string;
  count: number;
  byType: Partial<Record<string, number>>;
  /** By key ("b64:<base64>" for a key that is not printable ASCII). */
  keys: Record<string, DumpedKey>;
}

export interface Difference {
  kind: 'missing' | 'extra' | 'type' | 'value' | 'expiry';
  key: string;
  a?: unknown;
  b?: unknown;
  /** value: index of the first differing element, and the lengths. */
  at?: number;
  lengthA?: number;
  lengthB?: number;
  /** value of a stream: which part differs (entries, lastId, groups). */
  field?: string;
}

export interface CompareResult {
  equal: boolean;
  countA: number;
  countB: number;
  /** Keys in a, not in b. */
  missing: number;
  /** Keys in b, not in a. */
  extra: number;
  type: number;
  value: number;
  expiry: number;
  /** The first differences (missing, extra, type, value before expiry). */
  first: Difference[];
}

function connectionArgs(target: DatasetTarget, passwordFile: string | undefined): string[] {
  const args = ['--host', target.host, '--port', String(target.port)];
  if (target.cluster) args.push('--cluster');
  if (passwordFile !== undefined) args.push('--password-file', passwordFile);
  if (target.user !== undefined) args.push('--user', target.user);
  if (target.tls !== undefined) {
    args.push('--tls-ca', target.tls.caFile);
    if (target.tls.certFile !== undefined) args.push('--tls-cert', target.tls.certFile);
    if (target.tls.keyFile !== undefined) args.push('--tls-key', target.tls.keyFile);
    if (target.tls.servername !== undefined) args.push('--tls-servername', target.tls.servername);
  }
  return args;
}

function scratch(name: string): string {
  const dir = path.join(harnessRoot(), 'dataset');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return path.join(dir, `${name}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
}

/** Runs dataset.js in the target's namespace (password in a 0600 file, never on the command line); parses its JSON line. */
async function runTool<T>(target: DatasetTarget, command: string, args: string[], maxSeconds: number): Promise<T> {
  const passwordFile = target.password !== undefined ? scratch('password') : undefined;
  if (passwordFile !== undefined) fs.writeFileSync(passwordFile, target.password!, { mode: 0o600 });
  try {
    const r = await execIn(target.ns, [process.execPath, DATASET_JS, command, ...args, ...connectionArgs(target, passwordFile), '--max-seconds', String(maxSeconds)], {
      timeoutMs: (maxSeconds + 10) * 1000,
    });
    if (r.code !== 0) throw new Error(`dataset.js ${command} ${r.timedOut ? 'timed out' : `exited ${r.code}`}: ${(r.stderr || r.stdout).trim()}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
  } finally {
    if (passwordFile !== undefined) fs.rmSync(passwordFile, { force: true });
  }
}

/**
 * Writes exactly `count` keys `<prefix>:<i>:<type>` (default prefix 'ds', seed 1; the same seed
 * and count give the same keys and values, expiries aside), replacing any that exist.
 */
export function writeDataset(target: DatasetTarget, opts: { count: number; seed?: number; prefix?: string; maxSeconds?: number }): Promise<WriteResult> {
  const args = ['--count', String(opts.count), '--seed', String(opts.seed ?? 1), '--prefix', opts.prefix ?? 'ds'];
  return runTool<WriteResult>(target, 'write', args, opts.maxSeconds ?? 120);
}

/** Dumps every key the target holds (every primary of a cluster) to `out` (default: a scratch file). */
export async function dumpDataset(target: DatasetTarget, opts: { out?: string; maxSeconds?: number } = {}): Promise<DumpResult> {
  const out = opts.out ?? `${scratch('dump')}.json`;
  const r = await runTool<{ count: number; byType: Record<string, number>; ms: number; out: string }>(target, 'dump', ['--out', out], opts.maxSeconds ?? 120);
  return { count: r.count, byType: r.byType, ms: r.ms, file: out };
}

/** Compares two dumps (on the host: files only). */
export async function compareDumps(a: string, b: string, opts: { max?: number; ignoreExpiry?: boolean; expiryToleranceMs?: number } = {}): Promise<CompareResult> {
  const args = [DATASET_JS, 'compare', a, b, '--max', String(opts.max ?? 20)];
  if (opts.ignoreExpiry) args.push('--ignore-expiry');
  if (opts.expiryToleranceMs !== undefined) args.push('--expiry-tolerance-ms', String(opts.expiryToleranceMs));
  const r = await run(process.execPath, args, { timeoutMs: 60_000 });
  if (r.code !== 0 && r.code !== 1) throw new Error(`dataset.js compare ${r.timedOut ? 'timed out' : `exited ${r.code}`}: ${(r.stderr || r.stdout).trim()}`);
  let res: CompareResult;
  try {
    res = JSON.parse(r.stdout.trim()) as CompareResult;
  } catch {
    throw new Error(`dataset.js compare: ${(r.stderr || r.stdout).trim()}`);
  }
  return res;
}

/** A dump's content, for checks of one's own. */
export function readDump(file: string): DatasetDump {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as DatasetDump;
}

/** A one-line account of a comparison, for assertion messages. */
export function describeComparison(c: CompareResult): string {
  if (c.equal) return `equal (${c.countA} keys)`;
  const counts = `a=${c.countA} b=${c.countB} missing=${c.missing} extra=${c.extra} type=${c.type} value=${c.value} expiry=${c.expiry}`;
  return `${counts}; first: ${c.first.map((d) => JSON.stringify(d)).join('; ')}`;
}

/**
 * An S3-protocol object store as an emulated pod: s3rver (bin/s3-server.js) in its own network
 * namespace of a PodNetwork, reachable from the other pods by its DNS name, objects kept as files
 * under dataDir. Plus rclone helpers (config through environment variables only) to inspect and
 * tamper with stored objects from any pod, as a backup/restore test needs.
 *
 * Where s3rver is laxer than S3 (found with Debian's rclone 1.60, which works with it as is):
 * V4 signatures are not verified (an unknown access key id is refused, a wrong secret is not);
 * requests without any Authorization are served, reads and writes alike; server-side encryption
 * (x-amz-server-side-encryption: AES256) is accepted and ignored, never echoed back; a multipart
 * upload's ETag is the whole object's MD5 (S3: "<md5 of part md5s>-<parts>"), so rclone has an
 * MD5 even for streamed (rcat) uploads, which on S3 have none.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { execIn, ExecResult, waitFor } from './client';
import { PodNetwork } from './netns';
import { harnessRoot } from './pod';
import { killGroup, run, sleep, track, within } from './proc';

const S3_SERVER_JS = path.join(__dirname, 'bin', 's3-server.js');

export interface ObjectStoreOptions {
  /** Pod name in the network (default 's3'). */
  podName?: string;
  /** DNS name the other pods use (default 's3.objects.svc.cluster.local'). */
  dnsName?: string;
  /** The bucket created at start (default 'backups'). */
  bucket?: string;
  /** Default 9000. */
  port?: number;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Where objects are kept (default: a new directory under the harness scratch root). */
  dataDir?: string;
  /** Log one line per request into logPath (default false). */
  verbose?: boolean;
}

export interface ObjectStore {
  readonly podName: string;
  /** The store pod's network namespace (rclone() runs there unless told otherwise). */
  readonly ns: string;
  /** DNS name, e.g. s3.objects.svc.cluster.local. */
  readonly host: string;
  readonly port: number;
  /** http://host:port */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly bucket: string;
  /** s3rver's files: <dataDir>/<bucket>/<key>._S3rver_object (+ _metadata.json, .md5). */
  readonly dataDir: string;
  /** The server's stdout/stderr, every run appended. */
  readonly logPath: string;
  /** PID of the running server (undefined when stopped). */
  readonly pid: number | undefined;
  isRunning(): boolean;
  logs(): string;
  /** SIGTERM, SIGKILL after 5 s; resolves once the whole process group is gone. */
  stop(): Promise<void>;
  /** Starts the server again (same pod, address, data) after stop(). */
  start(): Promise<void>;
}

class S3rverPod implements ObjectStore {
  public readonly endpoint: string;
  public readonly logPath: string;
  private child: { pid: number; exited: Promise<number | null>; running: boolean } | undefined;

  constructor(
    public readonly podName: string,
    public readonly ns: string,
    public readonly host: string,
    public readonly port: number,
    public readonly accessKeyId: string,
    public readonly secretAccessKey: string,
    public readonly bucket: string,
    public readonly dataDir: string,
    private readonly verbose: boolean,
  ) {
    this.endpoint = `http://${host}:${port}`;
    this.logPath = path.join(path.dirname(dataDir), `${path.basename(dataDir)}.log`);
  }

  public get pid(): number | undefined {
    return this.child?.running ? this.child.pid : undefined;
  }

  public isRunning(): boolean {
    return this.child?.running ?? false;
  }

  public logs(): string {
    return fs.existsSync(this.logPath) ? fs.readFileSync(this.logPath, 'utf8') : '';
  }

  public async start(): Promise<void> {
    if (this.isRunning()) throw new Error(`object store ${this.podName} is already running (pid ${this.pid})`);
    const config = {
      directory: this.dataDir, address: '0.0.0.0', port: this.port, buckets: [this.bucket],
      accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey, verbose: this.verbose,
    };
    const logStart = fs.existsSync(this.logPath) ? fs.statSync(this.logPath).size : 0;
    const log = fs.openSync(this.logPath, 'a');
    const child = spawn('ip', ['netns', 'exec', this.ns, process.execPath, S3_SERVER_JS, JSON.stringify(config)], {
      detached: true,
      stdio: ['ignore', log, log],
      // s3-server.js resolves s3rver from the repository's node_modules (it lives in the tree).
      env: { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' },
    });
    fs.closeSync(log);
    if (child.pid === undefined) throw new Error('could not spawn the object store');
    const pid = child.pid;
    track(pid, `s3rver in ${this.ns}`);
    const run0 = {
      pid,
      running: true,
      exited: new Promise<number | null>((resolve) => {
        child.once('exit', (code) => {
          run0.running = false;
          void killGroup(pid).catch(() => undefined).finally(() => resolve(code));
        });
        child.once('error', () => {
          run0.running = false;
          resolve(null);
        });
      }),
    };
    this.child = run0;
    // The ready line (bounded), then an answer over the pod network by DNS name.
    const readyBy = Date.now() + 10_000;
    for (let i = 0; i < 400; i++) {
      const text = this.logs().slice(logStart);
      if (text.includes('"ev":"ready"')) break;
      if (!run0.running || Date.now() >= readyBy) {
        await this.stop();
        throw new Error(`object store in ${this.ns} did not start: ${text.trim() || 'no output'}`);
      }
      await sleep(25);
    }
    try {
      await waitFor(async () => (await rclone(this, ['lsf', '--dirs-only', 'store:'], { timeoutMs: 5000 })).stdout.split('\n').includes(`${this.bucket}/`), {
        timeoutMs: 10_000, intervalMs: 200, what: `the object store at ${this.endpoint} to list bucket ${this.bucket}`,
      });
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  public async stop(): Promise<void> {
    const run0 = this.child;
    if (run0 === undefined) return;
    if (run0.running) {
      try {
        process.kill(run0.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      if ((await within(run0.exited, 5000)) === 'timeout') await killGroup(run0.pid);
    }
    await within(run0.exited, 5000);
    await killGroup(run0.pid); // confirms the group is gone and untracks it
  }
}

/**
 * Adds a pod `podName` publishing `dnsName` to `net` and starts s3rver there with `bucket`
 * created; resolves once the bucket is listed over the pod network (bounded, ~10 s).
 */
export async function startObjectStore(net: PodNetwork, opts: ObjectStoreOptions = {}): Promise<ObjectStore> {
  const podName = opts.podName ?? 's3';
  const host = opts.dnsName ?? 's3.objects.svc.cluster.local';
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(harnessRoot(), `s3-${podName}-`));
  fs.mkdirSync(dataDir, { recursive: true });
  const pod = await net.addPod(podName, [host]);
  const store = new S3rverPod(
    podName, pod.ns, host, opts.port ?? 9000,
    opts.accessKeyId ?? 'RTLIVEACCESSKEY', opts.secretAccessKey ?? 'rt-live-secret-access-key-Qx7',
    opts.bucket ?? 'backups', dataDir, opts.verbose ?? false,
  );
  await store.start();
  return store;
}

/** Environment-variable name of a remote's config option (remote names upper-cased, as rclone does). */
function remoteVar(remote: string, option: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(remote)) throw new Error(`remote name must be [A-Za-z][A-Za-z0-9_]*, got ${remote}`);
  return `RCLONE_CONFIG_${remote.toUpperCase()}_${option}`;
}

/**
 * rclone's whole configuration for the store as remote `remote` ("store:bucket/key"):
 * environment variables only, no config file (RCLONE_CONFIG="" keeps it memory-only).
 */
export function rcloneEnv(store: Pick<ObjectStore, 'endpoint' | 'accessKeyId' | 'secretAccessKey'>, remote = 'store'): Record<string, string> {
  const v = (option: string) => remoteVar(remote, option);
  return {
    RCLONE_CONFIG: '',
    [v('TYPE')]: 's3',
    [v('PROVIDER')]: 'Other',
    [v('ENDPOINT')]: store.endpoint,
    [v('ACCESS_KEY_ID')]: store.accessKeyId,
    [v('SECRET_ACCESS_KEY')]: store.secretAccessKey,
    [v('FORCE_PATH_STYLE')]: 'true',
    [v('REGION')]: 'us-east-1',
  };
}

/** rclone's obscured form of a password (for crypt's PASSWORD / PASSWORD2 options). */
export async function rcloneObscure(secret: string): Promise<string> {
  const r = await run('rclone', ['obscure', secret], { timeoutMs: 10_000, env: { PATH: '/usr/bin:/bin', RCLONE_CONFIG: '' } });
  if (r.code !== 0 || r.stdout.trim() === '') throw new Error(`rclone obscure: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/**
 * A crypt remote `remote` over `target` (e.g. "store:backups/secure"), file names left in clear
 * (FILENAME_ENCRYPTION=off, DIRECTORY_NAME_ENCRYPTION=false): content encrypted, names readable.
 */
export async function cryptEnv(target: string, password: string, remote = 'secure'): Promise<Record<string, string>> {
  const v = (option: string) => remoteVar(remote, option);
  return {
    [v('TYPE')]: 'crypt',
    [v('REMOTE')]: target,
    [v('PASSWORD')]: await rcloneObscure(password),
    [v('FILENAME_ENCRYPTION')]: 'off',
    [v('DIRECTORY_NAME_ENCRYPTION')]: 'false',
  };
}

export interface RcloneOptions {
  /** Namespace to run in (default: the store's own pod). */
  ns?: string;
  /** More environment (e.g. cryptEnv(), RCLONE_CONFIG_STORE_NO_CHECK_BUCKET). */
  env?: Record<string, string>;
  /** Default 30 s. */
  timeoutMs?: number;
  /** The remote name the store is configured as (default 'store'). */
  remote?: string;
}

/** Runs rclone with the store configured as remote "store:" (see rcloneEnv) inside a namespace. */
export function rclone(store: ObjectStore, args: string[], opts: RcloneOptions = {}): Promise<ExecResult> {
  return execIn(opts.ns ?? store.ns, ['rclone', ...args], {
    timeoutMs: opts.timeoutMs ?? 30_000,
    env: { ...rcloneEnv(store, opts.remote ?? 'store'), ...opts.env },
  });
}

async function rcloneOk(store: ObjectStore, args: string[], opts: RcloneOptions = {}): Promise<string> {
  const r = await rclone(store, args, opts);
  if (r.code !== 0) throw new Error(`rclone ${args.join(' ')} ${r.timedOut ? 'timed out' : `exited ${r.code}`}: ${r.stderr.trim()}`);
  return r.stdout;
}

function objectPath(store: ObjectStore, key: string): string {
  const clean = key.replace(/^\/+/, '');
  if (clean === '' || clean.split('/').some((p) => p === '' || p === '.' || p === '..')) throw new Error(`invalid object key ${JSON.stringify(key)}`);
  return `store:${store.bucket}/${clean}`;
}

export interface StoredObject {
  /** Key within the bucket, e.g. "cluster/2024-01-01/shard-0.rdb". */
  key: string;
  size: number;
  /** Last-modified as rclone reports it (its mtime metadata when set, else the server's). */
  modTime: string;
}

/** Every object of the bucket under `prefix` (a "directory": "" or "a/b"), sorted by key. */
export async function listObjects(store: ObjectStore, prefix = '', opts: Pick<RcloneOptions, 'ns' | 'timeoutMs'> = {}): Promise<StoredObject[]> {
  const clean = prefix.replace(/^\/+|\/+$/g, '');
  const out = await rcloneOk(store, ['lsjson', '-R', '--files-only', `store:${store.bucket}${clean ? `/${clean}` : ''}`], opts);
  const items = JSON.parse(out) as Array<{ Path: string; Size: number; ModTime: string }>;
  return items.map((i) => ({ key: clean ? `${clean}/${i.Path}` : i.Path, size: i.Size, modTime: i.ModTime })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** A scratch file visible to every namespace (they share the filesystem). */
function scratchFile(tag: string): string {
  const dir = path.join(harnessRoot(), 's3-scratch');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return path.join(dir, `${tag}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
}

/** An object's bytes, fetched over S3 by rclone (binary safe, through a scratch file). */
export async function readObject(store: ObjectStore, key: string, opts: Pick<RcloneOptions, 'ns' | 'timeoutMs'> = {}): Promise<Buffer> {
  const file = scratchFile('get');
  try {
    await rcloneOk(store, ['copyto', objectPath(store, key), file], opts);
    return fs.readFileSync(file);
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** Puts (replaces) an object over S3 with rclone, even when size and modtime look unchanged. */
export async function writeObject(store: ObjectStore, key: string, data: Buffer | string, opts: Pick<RcloneOptions, 'ns' | 'timeoutMs'> = {}): Promise<void> {
  const file = scratchFile('put');
  try {
    fs.writeFileSync(file, data, { mode: 0o600 });
    await rcloneOk(store, ['copyto', '--ignore-times', file, objectPath(store, key)], opts);
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** Deletes an object (an error when it does not exist). */
export async function deleteObject(store: ObjectStore, key: string, opts: Pick<RcloneOptions, 'ns' | 'timeoutMs'> = {}): Promise<void> {
  await rcloneOk(store, ['deletefile', objectPath(store, key)], opts);
}

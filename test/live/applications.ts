/**
 * Applications for live tests: real client libraries (ioredis, node-redis) in their own processes
 * inside an application namespace, configured only from what the plan publishes there, and the
 * Services they connect through, emulated by a TCP forwarder pod as kube-proxy would spread
 * connections over ready endpoints.
 */
import { spawn } from 'child_process';
import * as readline from 'readline';
import { waitFor } from './harness/client';
import { PodNetwork } from './harness/netns';
import { killGroup, track, within } from './harness/proc';
import { Plan, TerraformValue } from './plan-pods';

// --- the emulated Services --------------------------------------------------------------------

/**
 * A TCP forwarder (node built-ins only): each connection goes to the next backend that accepts it,
 * round robin, as kube-proxy spreads connections over a Service's ready endpoints. Exits when its
 * stdin closes (the test process died) or on SIGTERM.
 */
const FORWARDER_JS = `'use strict';
const net = require('net');
const port = Number(process.argv[1]);
let list = process.argv[2].split(',');
let next = 0;
const server = net.createServer((client) => {
  client.pause();
  client.on('error', () => undefined);
  const attempt = (k) => {
    if (k >= list.length || client.destroyed) { client.destroy(); return; }
    const at = list[(next + k) % list.length];
    const up = net.connect({ host: at.slice(0, at.lastIndexOf(':')), port: Number(at.slice(at.lastIndexOf(':') + 1)) });
    let open = false;
    up.setTimeout(2000, () => { if (!open) up.destroy(new Error('connect timeout')); });
    up.once('connect', () => {
      open = true;
      up.setTimeout(0);
      next = (next + k + 1) % list.length;
      client.pipe(up); up.pipe(client); client.resume();
      client.once('close', () => up.destroy());
      up.once('close', () => client.destroy());
    });
    up.on('error', () => { if (!open) attempt(k + 1); else client.destroy(); });
  };
  attempt(0);
});
server.listen(port, '0.0.0.0', () => process.stdout.write('ready\\n'));
// Endpoint changes, one line each: the ready endpoints, comma-separated (new connections only).
let buffered = '';
process.stdin.on('data', (d) => {
  buffered += d.toString();
  let at;
  while ((at = buffered.indexOf('\\n')) >= 0) {
    const line = buffered.slice(0, at).trim();
    buffered = buffered.slice(at + 1);
    list = line === '' ? [] : line.split(',');
    next = 0;
    process.stdout.write('ok\\n');
  }
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
`;

/**
 * A Service as kube-proxy makes it, emulated by a pod named like the Service that forwards `port`
 * to its endpoints (host:port, resolved on each connection, so an endpoint that moves is followed),
 * round robin, skipping one that refuses. setEndpoints changes where new connections go, as the
 * endpoints controller does when a pod starts terminating or becomes ready; established
 * connections stay where they are.
 */
export class EmulatedService {
  public static async create(net: PodNetwork, pod: string, dnsNames: string[], port: number, endpoints: string[]): Promise<EmulatedService> {
    const { ns } = await net.addPod(pod, dnsNames);
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', FORWARDER_JS, String(port), endpoints.join(',')], {
      detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' },
    });
    if (child.pid === undefined) throw new Error(`could not start the ${pod} forwarder`);
    track(child.pid, `service forwarder ${pod}`);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines = readline.createInterface({ input: child.stdout! });
    const service = new EmulatedService(child.pid, child.stdin!, lines);
    const ready = new Promise<void>((resolve, reject) => {
      service.waiters.push(() => resolve());
      child.once('exit', (code) => reject(new Error(`${pod} forwarder exited (${code}): ${stderr}`)));
    });
    if ((await within(ready, 5000)) === 'timeout') throw new Error(`${pod} forwarder not listening after 5 s: ${stderr}`);
    child.unref();
    return service;
  }

  private readonly waiters: Array<() => void> = [];

  private constructor(public readonly pid: number, private readonly stdin: NodeJS.WritableStream, lines: readline.Interface) {
    lines.on('line', () => this.waiters.shift()?.());
  }

  /** Where new connections go from now on (host:port each); resolves once the forwarder has it. */
  public async setEndpoints(endpoints: string[]): Promise<void> {
    const acknowledged = new Promise<void>((resolve) => this.waiters.push(resolve));
    this.stdin.write(`${endpoints.join(',')}\n`);
    if ((await within(acknowledged, 2000)) === 'timeout') throw new Error('the service forwarder did not take the new endpoints within 2 s');
  }

  public async stop(): Promise<void> {
    await killGroup(this.pid);
  }
}

// --- the application's clients ----------------------------------------------------------------

/**
 * The application: connection settings only from its environment and the CA file; the loop
 * bounds (key prefix, count, time) from argv. One JSON line per event on stdout, as writer.js:
 * {"ev":"ack","seq","t"}, {"ev":"err","seq","t","msg"}, then {"ev":"done","acked","reason"}.
 */
const APP_JS = `'use strict';
const fs = require('fs');
const [client, modulePath, caFile, configJson] = process.argv.slice(1);
const cfg = JSON.parse(configJson);
const env = process.env;
const emit = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const within = (p, ms) => Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error('client timeout')), ms))]);
let stopping = false;
let closing = false;
let current;
process.on('SIGTERM', () => { stopping = true; });

async function connect() {
  if (client === 'ioredis') {
    // Through the sentinels: ioredis asks them for the master group's primary on every (re)connect.
    const Redis = require(modulePath);
    const password = env.REDIS_PASSWORD;
    const tls = env.REDIS_TLS === 'true' ? { ca: fs.readFileSync(caFile) } : undefined;
    const redis = new Redis({
      sentinels: [{ host: env.REDIS_SENTINEL_HOST, port: Number(env.REDIS_SENTINEL_PORT) }],
      name: env.REDIS_SENTINEL_MASTER_NAME,
      password,
      sentinelPassword: env.REDIS_SENTINEL_AUTH === 'true' ? password : undefined,
      ...(tls ? { tls, sentinelTLS: tls, enableTLSForSentinelMode: true } : {}),
      failoverDetector: true,
      reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
      retryStrategy: (times) => Math.min(50 * times, 500),
      sentinelRetryStrategy: (times) => Math.min(50 * times, 500),
      connectTimeout: 1000,
      commandTimeout: 1000,
    });
    redis.on('error', () => undefined);
    // As the README advises for ioredis 5: a client that received +switch-master while reconnecting
    // ends for good ("Connection is closed."); the application replaces it (reported as a renewal).
    redis.once('end', () => { if (!closing) { emit({ ev: 'renew', t: Date.now() }); current = connect(); } });
    return { set: (k, v) => redis.set(k, v), close: () => { closing = true; redis.disconnect(); } };
  }
  if (client === 'node-redis-sentinel') {
    // node-redis 5 through the sentinels: it follows +switch-master and rediscovers on errors.
    const { createSentinel } = require(modulePath);
    const password = env.REDIS_PASSWORD;
    const tls = env.REDIS_TLS === 'true' ? { tls: true, ca: fs.readFileSync(caFile) } : {};
    const redis = createSentinel({
      name: env.REDIS_SENTINEL_MASTER_NAME,
      sentinelRootNodes: [{ host: env.REDIS_SENTINEL_HOST, port: Number(env.REDIS_SENTINEL_PORT) }],
      nodeClientOptions: { password, socket: { ...tls, connectTimeout: 1000, reconnectStrategy: (retries) => Math.min(50 * retries, 500) } },
      sentinelClientOptions: { password: env.REDIS_SENTINEL_AUTH === 'true' ? password : undefined, socket: { ...tls, connectTimeout: 1000 } },
    });
    redis.on('error', () => undefined);
    await within(redis.connect(), 10000);
    return { set: (k, v) => redis.set(k, v), close: () => redis.destroy() };
  }
  // Through the portal, with TLS, verifying the certificate's name.
  const { createClient } = require(modulePath);
  const redis = createClient({
    socket: {
      host: env.REDIS_HOST, port: Number(env.REDIS_PORT),
      tls: env.REDIS_TLS === 'true', ca: fs.readFileSync(caFile), servername: env.REDIS_TLS_SERVER_NAME,
      connectTimeout: 1000,
      reconnectStrategy: (retries) => Math.min(50 * retries, 500),
    },
    password: env.REDIS_PASSWORD,
  });
  redis.on('error', () => undefined);
  await within(redis.connect(), 10000);
  return { set: (k, v) => redis.set(k, v), close: () => redis.destroy() };
}

(async () => {
  const deadline = Date.now() + cfg.maxSeconds * 1000;
  const acked = [];
  current = connect();
  let seq = 0;
  while (!stopping && seq < cfg.maxWrites && Date.now() < deadline) {
    seq++;
    try {
      const c = await current;
      const reply = await within(c.set(cfg.keyPrefix + ':' + seq, String(seq)), 1500);
      if (reply === 'OK') { acked.push(seq); emit({ ev: 'ack', seq, t: Date.now() }); } else emit({ ev: 'err', seq, t: Date.now(), msg: String(reply) });
      await sleep(cfg.intervalMs);
    } catch (e) {
      emit({ ev: 'err', seq, t: Date.now(), msg: e.message });
      await sleep(cfg.retryMs);
    }
  }
  emit({ ev: 'done', acked, reason: stopping ? 'SIGTERM' : seq >= cfg.maxWrites ? 'maxWrites' : 'maxSeconds' });
  (await current).close();
  process.exit(0);
})().catch((e) => { process.stderr.write('app: ' + e.stack + '\\n'); process.exit(2); });
`;

export interface AppEvent { ev: 'ack' | 'err' | 'renew' | 'done'; seq?: number; t?: number; msg?: string; acked?: number[]; reason?: string }

export class App {
  public readonly acks: Array<{ seq: number; t: number }> = [];
  public readonly errors: Array<{ t: number; msg: string }> = [];
  /** When the application replaced a client that ended for good (ioredis 5, see the README). */
  public readonly renewals: number[] = [];
  private final?: AppEvent;
  private stderr = '';
  private exited = false;
  public readonly done: Promise<void>;

  constructor(private readonly pid: number, stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream, exit: Promise<void>) {
    stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    readline.createInterface({ input: stdout }).on('line', (line) => {
      const ev = JSON.parse(line) as AppEvent;
      if (ev.ev === 'ack') this.acks.push({ seq: ev.seq!, t: ev.t! });
      else if (ev.ev === 'err') this.errors.push({ t: ev.t!, msg: ev.msg! });
      else if (ev.ev === 'renew') this.renewals.push(ev.t!);
      else this.final = ev;
    });
    this.done = exit.then(() => {
      this.exited = true;
    });
  }

  public async waitForAcks(n: number, timeoutMs = 20_000): Promise<void> {
    await waitFor(async () => {
      if (this.exited) throw new Error(`exited; stderr: ${this.stderr}; last error: ${this.errors[this.errors.length - 1]?.msg}`);
      return this.acks.length >= n;
    }, { timeoutMs, intervalMs: 50, what: `${n} acknowledged writes (last error: ${this.errors[this.errors.length - 1]?.msg ?? 'none'})` });
  }

  /** SIGTERM, then at most 5 s for the done line; the acknowledged sequence numbers. */
  public async stop(): Promise<number[]> {
    if (!this.exited) {
      try {
        process.kill(this.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      if ((await within(this.done, 5000)) === 'timeout') await killGroup(this.pid);
    }
    await killGroup(this.pid);
    return this.final?.acked ?? this.acks.map((a) => a.seq);
  }
}

export type AppClient = 'ioredis' | 'node-redis' | 'node-redis-sentinel';

/**
 * Starts an application process in namespace `appNs`: `client` configured only from `env` (the
 * published ConfigMap data and REDIS_PASSWORD) and the CA file at `caFile`, writing SET
 * <keyPrefix>:<seq> in a loop bounded by maxWrites and maxSeconds.
 */
export function startApp(appNs: string, client: AppClient, env: Record<string, string>, caFile: string, config: { keyPrefix: string; maxWrites: number; maxSeconds: number; intervalMs: number; retryMs: number }): App {
  const modulePath = require.resolve(client === 'ioredis' ? 'ioredis' : 'redis');
  const child = spawn('ip', ['netns', 'exec', appNs, process.execPath, '-e', APP_JS, client, modulePath, caFile, JSON.stringify(config)], {
    detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', ...env },
  });
  if (child.pid === undefined) throw new Error(`could not start the ${client} application`);
  track(child.pid, `${client} application in ${appNs}`);
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  return new App(child.pid, child.stdout!, child.stderr!, exit);
}

/** The longest time between two consecutive acknowledgements at or after `from` (ms), up to `to`. */
export function longestGap(acks: ReadonlyArray<{ t: number }>, from: number, to = Infinity): number {
  let gap = 0;
  for (let i = 1; i < acks.length; i++) if (acks[i].t >= from && acks[i - 1].t <= to) gap = Math.max(gap, acks[i].t - acks[i - 1].t);
  return gap;
}

/** What Terraform computes at apply time, as the test stands in for it. */
export interface ComputedValues {
  /** The generated password (random_password.result). */
  password: string;
  /** The portal's self-signed CA (tls_self_signed_cert.cert_pem). */
  ca?: string;
}

/** The `data` of the plan's `type` object `namespace/name`, with Terraform-computed values substituted. */
export function publishedData(plan: Plan, type: 'kubernetes_config_map_v1' | 'kubernetes_secret_v1', namespace: string, name: string, computed: ComputedValues): Record<string, string> {
  const found = Object.values<any>(plan.json.resource[type] ?? {}).filter((r) => r.metadata.name === name && r.metadata.namespace === namespace);
  if (found.length !== 1) throw new Error(`expected one ${type} ${namespace}/${name} in the plan, found ${found.length}`);
  return Object.fromEntries(Object.entries<string | TerraformValue>(found[0].data ?? {}).map(([k, v]) => {
    if (!(v instanceof TerraformValue)) return [k, v];
    if (/^\$\{random_password\.[\w-]+\.result\}$/.test(v.template)) return [k, computed.password];
    if (computed.ca !== undefined && /^\$\{tls_self_signed_cert\.[\w-]+\.cert_pem\}$/.test(v.template)) return [k, computed.ca];
    throw new Error(`${type} ${name} key ${k} is ${v.template}, a value the test cannot stand in for`);
  }));
}

/** An application container's environment: envFrom the ConfigMap, REDIS_PASSWORD from the password Secret. */
export function applicationEnv(plan: Plan, namespace: string, configMap: string, passwordSecret: string, computed: ComputedValues): Record<string, string> {
  const data = publishedData(plan, 'kubernetes_config_map_v1', namespace, configMap, computed);
  const env = Object.fromEntries(Object.entries(data).filter(([k]) => /^[A-Z_][A-Z0-9_]*$/.test(k)));
  return { ...env, REDIS_PASSWORD: publishedData(plan, 'kubernetes_secret_v1', namespace, passwordSecret, computed).password };
}

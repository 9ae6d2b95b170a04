/**
 * Real client libraries, live: an application in namespace `shop` that is given only what the plan
 * publishes there (the Elastisys ConfigMap, the portal's connection ConfigMap, the password Secret)
 * drives ioredis and node-redis through the sentinels and node-redis through the TLS portal, while
 * the primary is killed with SIGKILL once. Each must recover by itself, with no acknowledged write
 * lost.
 *
 * The application pod is a network namespace on the pods' bridge. Its clients run there as
 * separate node processes whose environment is exactly the ConfigMap data (envFrom) plus
 * REDIS_PASSWORD from the password Secret (secretKeyRef), and whose CA file is the portal
 * ConfigMap's `ca.crt` written where the Deployment would mount it. Values Terraform computes
 * (the generated password, the self-signed CA) are substituted with the test's, as in the other
 * live tests. The two Services the data name (`<name>-sentinel.<namespace>`, the portal's
 * `<name>.<namespace>.svc.cluster.local`) are emulated by one pod each, whose DNS names are the
 * Service names and which forwards TCP to the ready pods behind it, as kube-proxy does.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as readline from 'readline';
import { HaproxyPortal } from '../../lib';
import { execIn, redisCli, waitFor } from './harness/client';
import { killGroup, track, within } from './harness/proc';
import { LiveSuite } from './live-suite';
import { TerraformValue } from './plan-pods';
import { LivePortals } from './portal-topology';
import { LIVE_NAMESPACE, LiveSentinelRedis } from './sentinel-topology';

jest.setTimeout(240_000);

const suite = new LiveSuite('Client libraries live test', 40);
const PASSWORD = 'live-clients-pw-4Qx';
const APP_NAMESPACE = 'shop';
const PASSWORD_SECRET = 'cache-redis-password';
/** Where the application's Deployment mounts the portal ConfigMap's ca.crt (its own choice). */
const CA_FILE_NAME = 'ca.crt';

let t: LiveSentinelRedis;
let p: LivePortals;
let primary = 0;
let scratch = '';
let appNs = '';
const services: number[] = [];

// --- what the plan publishes in the application namespace -------------------------------------

/** The `data` of the plan's `type` object `name` in `shop`, with Terraform-computed values substituted. */
function published(type: 'kubernetes_config_map_v1' | 'kubernetes_secret_v1', name: string): Record<string, string> {
  const found = Object.values<any>(t.plan.json.resource[type] ?? {}).filter((r) => r.metadata.name === name && r.metadata.namespace === APP_NAMESPACE);
  if (found.length !== 1) throw new Error(`expected one ${type} ${APP_NAMESPACE}/${name} in the plan, found ${found.length}`);
  return Object.fromEntries(Object.entries<string | TerraformValue>(found[0].data ?? {}).map(([k, v]) => {
    if (!(v instanceof TerraformValue)) return [k, v];
    // What Terraform computes at apply time: the generated password and the self-signed CA.
    if (/^\$\{random_password\.[\w-]+\.result\}$/.test(v.template)) return [k, PASSWORD];
    if (/^\$\{tls_self_signed_cert\.[\w-]+\.cert_pem\}$/.test(v.template)) return [k, p.certs.ca];
    throw new Error(`${type} ${name} key ${k} is ${v.template}, a value the test cannot stand in for`);
  }));
}

/** The application container's environment: envFrom the ConfigMap, REDIS_PASSWORD from the Secret. */
function appEnv(configMap: string): Record<string, string> {
  const data = published('kubernetes_config_map_v1', configMap);
  const env = Object.fromEntries(Object.entries(data).filter(([k]) => /^[A-Z_][A-Z0-9_]*$/.test(k)));
  return { ...env, REDIS_PASSWORD: published('kubernetes_secret_v1', PASSWORD_SECRET).password };
}

// --- the emulated Services --------------------------------------------------------------------

/**
 * A TCP forwarder (node built-ins only): each connection goes to the next backend that accepts it,
 * round robin, as kube-proxy spreads connections over a Service's ready endpoints. Exits when its
 * stdin closes (the test process died) or on SIGTERM.
 */
const FORWARDER_JS = `'use strict';
const net = require('net');
const [port, list] = [Number(process.argv[1]), process.argv[2].split(',')];
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
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
`;

/** Adds a pod named like the Service and forwards `port` to `backends` (host:port). */
async function emulateService(pod: string, dnsNames: string[], port: number, backends: string[]): Promise<void> {
  const { ns } = await t.net.addPod(pod, dnsNames);
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', FORWARDER_JS, String(port), backends.join(',')], {
    detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' },
  });
  if (child.pid === undefined) throw new Error(`could not start the ${pod} forwarder`);
  track(child.pid, `service forwarder ${pod}`);
  services.push(child.pid);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`${pod} forwarder exited (${code}): ${stderr}`)));
  });
  if ((await within(ready, 5000)) === 'timeout') throw new Error(`${pod} forwarder not listening after 5 s: ${stderr}`);
  child.unref();
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
    return { set: (k, v) => redis.set(k, v), close: () => redis.disconnect() };
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
  const c = await connect();
  let seq = 0;
  while (!stopping && seq < cfg.maxWrites && Date.now() < deadline) {
    seq++;
    try {
      const reply = await within(c.set(cfg.keyPrefix + ':' + seq, String(seq)), 1500);
      if (reply === 'OK') { acked.push(seq); emit({ ev: 'ack', seq, t: Date.now() }); } else emit({ ev: 'err', seq, t: Date.now(), msg: String(reply) });
      await sleep(cfg.intervalMs);
    } catch (e) {
      emit({ ev: 'err', seq, t: Date.now(), msg: e.message });
      await sleep(cfg.retryMs);
    }
  }
  emit({ ev: 'done', acked, reason: stopping ? 'SIGTERM' : seq >= cfg.maxWrites ? 'maxWrites' : 'maxSeconds' });
  c.close();
  process.exit(0);
})().catch((e) => { process.stderr.write('app: ' + e.stack + '\\n'); process.exit(2); });
`;

interface AppEvent { ev: 'ack' | 'err' | 'done'; seq?: number; t?: number; msg?: string; acked?: number[]; reason?: string }

class App {
  public readonly acks: Array<{ seq: number; t: number }> = [];
  public readonly errors: Array<{ t: number; msg: string }> = [];
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

function startApp(client: 'ioredis' | 'node-redis' | 'node-redis-sentinel', env: Record<string, string>, config: { keyPrefix: string; maxWrites: number; maxSeconds: number; intervalMs: number; retryMs: number }): App {
  const modulePath = require.resolve(client === 'ioredis' ? 'ioredis' : 'redis');
  const caFile = path.join(scratch, 'node-redis', CA_FILE_NAME);
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

// --- the plan and its pods --------------------------------------------------------------------

beforeAll(async () => {
  if (!suite.ready()) return;
  console.log('Client libraries live test: an application namespace given only the published ConfigMaps and password Secret');
  t = await LiveSentinelRedis.boot({
    prefix: 'rtc',
    password: PASSWORD,
    subnetIndex: 14,
    props: { elastisysConfigMap: { namespaces: [APP_NAMESPACE] }, passwordSecret: { name: PASSWORD_SECRET, namespaces: [APP_NAMESPACE] } },
    extend: (stack, redis) => {
      new HaproxyPortal(stack, 'Portal', { backend: redis, connection: { namespaces: [APP_NAMESPACE] } });
    },
  });
  p = await LivePortals.create(t, 'cache-portal');
  appNs = (await t.net.addPod('shop-app', [])).ns;
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rtc-clients-'));
  await t.startAll();
  primary = await t.waitForHealthy('the SentinelRedis behind the applications', 60_000);
  await p.startAll();
  const sentinelService = appEnv('cache-redis-config').REDIS_SENTINEL_HOST;
  await emulateService('svc-sentinel', [sentinelService, `${sentinelService}.svc.cluster.local`], t.sentinelPort,
    Array.from({ length: t.sentinelCount }, (_, i) => `${t.host('sentinel', i)}:${t.sentinelPort}`));
  const portalService = appEnv('cache-portal-connection').REDIS_HOST;
  await emulateService('svc-portal', [portalService], p.port, p.pods.map((pod) => `${p.podHost(pod)}:${p.port}`));
  // The portal ConfigMap's ca.crt, where each application container mounts it.
  fs.mkdirSync(path.join(scratch, 'node-redis'));
  fs.writeFileSync(path.join(scratch, 'node-redis', CA_FILE_NAME), published('kubernetes_config_map_v1', 'cache-portal-connection')['ca.crt']);
});

afterAll(async () => {
  try {
    for (const pid of services) await killGroup(pid).catch(() => undefined);
    await suite.cleanup(p, t);
  } finally {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
});

test('shop is given the sentinel and portal details and a password Secret; no ConfigMap holds the password', () =>
  suite.run(async () => {
    const inShop = (type: string) => Object.values<any>(t.plan.json.resource[type] ?? {}).filter((r) => r.metadata.namespace === APP_NAMESPACE).map((r) => r.metadata.name).sort();
    expect(inShop('kubernetes_config_map_v1')).toEqual(['cache-portal-connection', 'cache-redis-config']);
    expect(inShop('kubernetes_secret_v1')).toEqual([PASSWORD_SECRET]);
    expect(appEnv('cache-redis-config')).toEqual({
      REDIS_CLUSTER_NAME: 'cache', REDIS_SENTINEL_HOST: `cache-sentinel.${LIVE_NAMESPACE}`, REDIS_SENTINEL_PORT: '26379',
      REDIS_SENTINEL_MASTER_NAME: 'mymaster', REDIS_SENTINEL_AUTH: 'true', REDIS_TLS: 'false', REDIS_PASSWORD: PASSWORD,
    });
    expect(appEnv('cache-portal-connection')).toEqual({
      REDIS_HOST: p.serviceHost, REDIS_PORT: String(p.port), REDIS_TLS: 'true', REDIS_TLS_SERVER_NAME: p.serviceHost, REDIS_PASSWORD: PASSWORD,
    });
    for (const cm of ['cache-redis-config', 'cache-portal-connection']) expect(JSON.stringify(published('kubernetes_config_map_v1', cm))).not.toContain(PASSWORD);
  }));

test('what the ConfigMap says holds: the sentinels answer for REDIS_SENTINEL_MASTER_NAME, and only with the password', () =>
  suite.run(async () => {
    const env = appEnv('cache-redis-config');
    const ask = (password?: string) => redisCli(appNs, ['SENTINEL', 'get-master-addr-by-name', env.REDIS_SENTINEL_MASTER_NAME],
      { host: env.REDIS_SENTINEL_HOST, port: Number(env.REDIS_SENTINEL_PORT), password });
    expect((await ask(env.REDIS_PASSWORD)).stdout.split('\n')[0]).toBe(t.dataHost(primary));
    const anonymous = await ask();
    expect(anonymous.stdout + anonymous.stderr).toMatch(/NOAUTH/);
    // The old complaint: the cluster name is not the master group.
    expect((await redisCli(appNs, ['SENTINEL', 'get-master-addr-by-name', env.REDIS_CLUSTER_NAME],
      { host: env.REDIS_SENTINEL_HOST, port: Number(env.REDIS_SENTINEL_PORT), password: env.REDIS_PASSWORD })).stdout.trim()).toBe('');
    // And the portal's certificate verifies for REDIS_TLS_SERVER_NAME with the published CA.
    const portal = appEnv('cache-portal-connection');
    const hello = await execIn(appNs, ['openssl', 's_client', '-connect', `${portal.REDIS_HOST}:${portal.REDIS_PORT}`, '-servername', portal.REDIS_TLS_SERVER_NAME,
      '-CAfile', path.join(scratch, 'node-redis', CA_FILE_NAME), '-verify_return_error', '-verify_hostname', portal.REDIS_TLS_SERVER_NAME], { timeoutMs: 5000 });
    expect(hello.code).toBe(0);
  }));

test('kill -9 of the primary: ioredis and node-redis through the sentinels and node-redis through the portal recover by themselves; no acknowledged write lost', () =>
  suite.run(async () => {
    const loop = { maxWrites: 100_000, maxSeconds: 90, intervalMs: 5, retryMs: 50 };
    const viaSentinels = startApp('ioredis', appEnv('cache-redis-config'), { keyPrefix: 'ioredis', ...loop });
    const viaPortal = startApp('node-redis', appEnv('cache-portal-connection'), { keyPrefix: 'node-redis', ...loop });
    const nodeViaSentinels = startApp('node-redis-sentinel', appEnv('cache-redis-config'), { keyPrefix: 'node-redis-sentinel', ...loop });
    const apps = [
      ['ioredis through the sentinels', 'ioredis', viaSentinels],
      ['node-redis through the portal', 'node-redis', viaPortal],
      ['node-redis through the sentinels', 'node-redis-sentinel', nodeViaSentinels],
    ] as const;
    let killedAt = 0;
    const acked = new Map<string, number[]>();
    try {
      for (const [, , app] of apps) await app.waitForAcks(50);
      await t.kill('data', primary);
      // Taken once the process is gone: an acknowledgement after this came from another member.
      killedAt = Date.now();
      for (const [what, , app] of apps) {
        await waitFor(async () => app.acks.some((a) => a.t > killedAt), { timeoutMs: 30_000, intervalMs: 50, what: `${what}: a write acknowledged after the kill` });
      }
      for (const [, , app] of apps) await app.waitForAcks(app.acks.length + 50);
    } finally {
      for (const [what, , app] of apps) acked.set(what, await app.stop());
    }
    const old = primary;
    primary = 1 - old;
    expect((await t.roles())[primary]).toBe('master');
    for (const [what, prefix, app] of apps) {
      const before = [...app.acks].reverse().find((a) => a.t <= killedAt)!;
      const after = app.acks.find((a) => a.t > killedAt)!;
      const errors = app.errors.filter((e) => e.t > killedAt);
      const kinds = [...new Set(errors.map((e) => e.msg.replace(/[\d.:]+/g, '#').slice(0, 80)))];
      console.log(`${what}: outage ${after.t - before.t} ms (last write acknowledged ${killedAt - before.t} ms before the kill, first ${after.t - killedAt} ms after it); `
        + `${acked.get(what)!.length} writes acknowledged, ${errors.length} errors after the kill${kinds.length ? `: ${kinds.join(' | ')}` : ''}`);
      expect(after.t - killedAt).toBeLessThan(30_000);
      expect({ what, missing: await t.missingKeys(primary, prefix, acked.get(what)!) }).toEqual({ what, missing: [] });
    }
  }));

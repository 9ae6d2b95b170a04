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
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HaproxyPortal } from '../../lib';
import { execIn, redisCli, waitFor } from './harness/client';
import { App, AppClient, applicationEnv, EmulatedService, publishedData, startApp } from './applications';
import { LiveSuite } from './live-suite';
import { bootWithPortals, LivePortals } from './portal-topology';
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
const services: EmulatedService[] = [];

// --- what the plan publishes in the application namespace -------------------------------------

/** The `data` of the plan's `type` object `name` in `shop`, with Terraform-computed values substituted. */
function published(type: 'kubernetes_config_map_v1' | 'kubernetes_secret_v1', name: string): Record<string, string> {
  return publishedData(t.plan, type, APP_NAMESPACE, name, { password: PASSWORD, ca: p.certs.ca });
}

/** The application container's environment: envFrom the ConfigMap, REDIS_PASSWORD from the Secret. */
function appEnv(configMap: string): Record<string, string> {
  return applicationEnv(t.plan, APP_NAMESPACE, configMap, PASSWORD_SECRET, { password: PASSWORD, ca: p.certs.ca });
}

/** The application's clients, each with the CA file where its Deployment would mount it. */
function startClient(client: AppClient, env: Record<string, string>, config: { keyPrefix: string; maxWrites: number; maxSeconds: number; intervalMs: number; retryMs: number }): App {
  return startApp(appNs, client, env, path.join(scratch, 'node-redis', CA_FILE_NAME), config);
}

// --- the plan and its pods --------------------------------------------------------------------

beforeAll(async () => {
  if (!suite.ready()) return;
  console.log('Client libraries live test: an application namespace given only the published ConfigMaps and password Secret');
  ({ t, p, primary } = await bootWithPortals({
    prefix: 'rtc',
    password: PASSWORD,
    subnetIndex: 14,
    props: { elastisysConfigMap: { namespaces: [APP_NAMESPACE] }, passwordSecret: { name: PASSWORD_SECRET, namespaces: [APP_NAMESPACE] } },
    extend: (stack, redis) => {
      new HaproxyPortal(stack, 'Portal', { backend: redis, connection: { namespaces: [APP_NAMESPACE] } });
    },
    what: 'the SentinelRedis behind the applications',
  }));
  appNs = (await t.net.addPod('shop-app', [])).ns;
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rtc-clients-'));
  const sentinelService = appEnv('cache-redis-config').REDIS_SENTINEL_HOST;
  services.push(await EmulatedService.create(t.net, 'svc-sentinel', [sentinelService, `${sentinelService}.svc.cluster.local`], t.sentinelPort,
    Array.from({ length: t.sentinelCount }, (_, i) => `${t.host('sentinel', i)}:${t.sentinelPort}`)));
  const portalService = appEnv('cache-portal-connection').REDIS_HOST;
  services.push(await EmulatedService.create(t.net, 'svc-portal', [portalService], p.port, p.pods.map((pod) => `${p.podHost(pod)}:${p.port}`)));
  // The portal ConfigMap's ca.crt, where each application container mounts it.
  fs.mkdirSync(path.join(scratch, 'node-redis'));
  fs.writeFileSync(path.join(scratch, 'node-redis', CA_FILE_NAME), published('kubernetes_config_map_v1', 'cache-portal-connection')['ca.crt']);
});

afterAll(async () => {
  try {
    for (const service of services) await service.stop().catch(() => undefined);
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
    const viaSentinels = startClient('ioredis', appEnv('cache-redis-config'), { keyPrefix: 'ioredis', ...loop });
    const viaPortal = startClient('node-redis', appEnv('cache-portal-connection'), { keyPrefix: 'node-redis', ...loop });
    const nodeViaSentinels = startClient('node-redis-sentinel', appEnv('cache-redis-config'), { keyPrefix: 'node-redis-sentinel', ...loop });
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

/**
 * Day-2 changes, live: a pull request changes the topology, and the pods are replaced exactly as
 * the StatefulSet controller replaces them (see LiveSentinelRedis.replan and rollStatefulSet:
 * ConfigMaps updated in the running pods first, then one pod at a time, highest ordinal first,
 * preStop hook, SIGTERM, a new pod from the new template at a new address, awaited until ready).
 * Two real clients write throughout, from an application namespace, configured only from what the
 * plan publishes there: ioredis through the sentinels' Service and node-redis through the TLS
 * portal's Service. Each scenario counts acknowledged writes lost (none may be) and samples every
 * 100 ms whether two members answer as primary; the client-observed outage is printed, and only a
 * loose bound is asserted (the figures are measured by `npm run bench:rollout`).
 *
 * The scenarios run in order on one topology, each starting from the state the previous left.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HaproxyPortal } from '../../lib';
import { App, applicationEnv, emulateService, longestGap, publishedData, startApp } from './applications';
import { killGroup, sleep } from './harness/proc';
import { LiveSuite } from './live-suite';
import { LivePortals } from './portal-topology';
import { LiveSentinelRedis, PodReplacement } from './sentinel-topology';

jest.setTimeout(300_000);

const suite = new LiveSuite('Rolling changes live test', 60);
const PASSWORD = 'live-rollout-pw-8Rk';
const APP_NAMESPACE = 'shop';
const PASSWORD_SECRET = 'cache-redis-password';
/** Outages above this fail a test: about five times what a handover costs, far below a crash failover through the portal. */
const OUTAGE_BOUND_MS = 5000;

let t: LiveSentinelRedis;
let p: LivePortals;
let appNs = '';
let scratch = '';
const services: number[] = [];

function env(configMap: string): Record<string, string> {
  return applicationEnv(t.plan, APP_NAMESPACE, configMap, PASSWORD_SECRET, { password: PASSWORD, ca: p.certs.ca });
}

interface Measured {
  /** Longest time between two acknowledged writes during the change, per client. */
  outageMs: { sentinels: number; portal: number };
  /** Writes acknowledged during the whole run, per client. */
  acked: { sentinels: number; portal: number };
  /** 100 ms samples in which two members answered as primary. */
  twoPrimarySamples: number;
  samples: number;
  primary: number;
}

/**
 * Runs `change` while both applications write; then checks that every acknowledged write is on the
 * primary. Returns what the clients saw.
 */
async function underLoad(label: string, change: () => Promise<void>): Promise<Measured> {
  const loop = { maxWrites: 200_000, maxSeconds: 240, intervalMs: 5, retryMs: 50 };
  const caFile = path.join(scratch, 'ca.crt');
  const apps: Array<[keyof Measured['outageMs'], string, App]> = [
    ['sentinels', `${label}-ioredis`, startApp(appNs, 'ioredis', env('cache-redis-config'), caFile, { keyPrefix: `${label}-ioredis`, ...loop })],
    ['portal', `${label}-node-redis`, startApp(appNs, 'node-redis', env('cache-portal-connection'), caFile, { keyPrefix: `${label}-node-redis`, ...loop })],
  ];
  let sampling = true;
  let samples = 0;
  let twoPrimarySamples = 0;
  const sampler = (async () => {
    for (let n = 0; sampling && n < 3000; n++) {
      if ((await t.roles()).filter((r) => r === 'master').length > 1) twoPrimarySamples += 1;
      samples += 1;
      await sleep(100);
    }
  })();
  const acked = new Map<string, number[]>();
  let from = 0;
  let to = 0;
  try {
    for (const [, , app] of apps) await app.waitForAcks(50, 30_000);
    from = Date.now();
    await change();
    to = Date.now();
    for (const [, , app] of apps) await app.waitForAcks(app.acks.length + 50, 30_000);
  } finally {
    for (const [, prefix, app] of apps) acked.set(prefix, await app.stop());
    sampling = false;
    await sampler;
  }
  const primary = await t.waitForHealthy(`${label}: healthy after the change`, 90_000);
  for (const [, prefix] of apps) {
    expect({ prefix, missing: await t.missingKeys(primary, prefix, acked.get(prefix)!) }).toEqual({ prefix, missing: [] });
  }
  const outage = (app: App) => longestGap(app.acks, from, to);
  const m: Measured = {
    outageMs: { sentinels: outage(apps[0][2]), portal: outage(apps[1][2]) },
    acked: { sentinels: acked.get(apps[0][1])!.length, portal: acked.get(apps[1][1])!.length },
    twoPrimarySamples,
    samples,
    primary,
  };
  console.log(`${label}: longest gap between acknowledged writes: ioredis via the sentinels ${m.outageMs.sentinels} ms, node-redis via the portal ${m.outageMs.portal} ms; `
    + `${m.acked.sentinels} + ${m.acked.portal} writes acknowledged, 0 lost; two primaries in ${twoPrimarySamples} of ${samples} samples; change took ${to - from} ms`);
  return m;
}

function describeRoll(replaced: PodReplacement[]): string {
  const handovers = replaced.filter((r) => /handed the primary role/.test(r.preStopOutput)).map((r) => `\n  ${r.pod} preStop:\n    ${r.preStopOutput.split('\n').join('\n    ')}`);
  return replaced.map((r) => `${r.pod}: preStop ${r.preStopMs} ms, stop ${r.stopMs} ms, ready ${r.readyMs} ms`).join('; ') + handovers.join('');
}

beforeAll(async () => {
  if (!suite.ready()) return;
  console.log('Rolling changes live test: the plan before and after a change, rolled as the StatefulSet controller does, with real clients writing');
  t = await LiveSentinelRedis.boot({
    prefix: 'rto',
    password: PASSWORD,
    subnetIndex: 16,
    props: { elastisysConfigMap: { namespaces: [APP_NAMESPACE] }, passwordSecret: { name: PASSWORD_SECRET, namespaces: [APP_NAMESPACE] } },
    extend: (stack, redis) => {
      new HaproxyPortal(stack, 'Portal', { backend: redis, connection: { namespaces: [APP_NAMESPACE] } });
    },
  });
  p = await LivePortals.create(t, 'cache-portal');
  appNs = (await t.net.addPod('shop-app', [])).ns;
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rto-rollout-'));
  await t.startAll();
  await t.waitForHealthy('first boot', 60_000);
  await p.startAll();
  const sentinelService = env('cache-redis-config').REDIS_SENTINEL_HOST;
  services.push(await emulateService(t.net, 'svc-sentinel', [sentinelService, `${sentinelService}.svc.cluster.local`], t.sentinelPort,
    Array.from({ length: 5 }, (_, i) => `${t.host('sentinel', i)}:${t.sentinelPort}`)));
  services.push(await emulateService(t.net, 'svc-portal', [env('cache-portal-connection').REDIS_HOST], p.port, p.pods.map((pod) => `${p.podHost(pod)}:${p.port}`)));
  fs.writeFileSync(path.join(scratch, 'ca.crt'), publishedData(t.plan, 'kubernetes_config_map_v1', APP_NAMESPACE, 'cache-portal-connection', { password: PASSWORD, ca: p.certs.ca })['ca.crt']);
});

afterAll(async () => {
  try {
    for (const pid of services) await killGroup(pid).catch(() => undefined);
    await suite.cleanup(p, t);
  } finally {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
});

test('a redis.conf change rolls only the data members; the primary hands its role over before it stops: no acknowledged write lost', () =>
  suite.run(async () => {
    const sentinelStarts = Array.from({ length: t.sentinelCount }, (_, i) => t.container('sentinel', i)!.startCount);
    const before = await t.replan({ maxmemoryRatio: 0.7 });
    expect(t.plan.statefulSet('cache-sentinel').spec.template).toEqual(before.statefulSet('cache-sentinel').spec.template);
    expect(t.plan.statefulSet('cache').spec.template).not.toEqual(before.statefulSet('cache').spec.template);
    let replaced: PodReplacement[] = [];
    const m = await underLoad('config', async () => {
      replaced = await t.rollStatefulSet('data', before);
      await t.rollStatefulSet('sentinel', before);
    });
    console.log(`config roll: ${describeRoll(replaced)}`);
    expect(replaced.map((r) => r.pod)).toEqual(['cache-1', 'cache-0']);
    // Exactly one primary stopped in the roll, and it handed over.
    expect(replaced.filter((r) => /handed the primary role to/.test(r.preStopOutput))).toHaveLength(1);
    expect(Array.from({ length: t.sentinelCount }, (_, i) => t.container('sentinel', i)!.startCount)).toEqual(sentinelStarts);
    expect((await t.cli(t.dataHost(m.primary), t.redisPort, ['CONFIG', 'GET', 'maxmemory'])).stdout).toContain(String(Math.floor(0.7 * 2 ** 30)));
    expect(m.outageMs.sentinels).toBeLessThan(OUTAGE_BOUND_MS);
    expect(m.outageMs.portal).toBeLessThan(OUTAGE_BOUND_MS);
  }));

test('an image change rolls the sentinels and the data members at the same time', () =>
  suite.run(async () => {
    const before = await t.replan({ image: 'redis:7.2.8' });
    const rolled: PodReplacement[][] = [];
    const m = await underLoad('image', async () => {
      rolled.push(...await Promise.all([t.rollStatefulSet('data', before), t.rollStatefulSet('sentinel', before)]));
    });
    console.log(`image roll: data ${describeRoll(rolled[0])}; sentinels ${describeRoll(rolled[1])}`);
    expect(rolled[0]).toHaveLength(2);
    expect(rolled[1]).toHaveLength(3);
    expect(m.outageMs.sentinels).toBeLessThan(OUTAGE_BOUND_MS);
    expect(m.outageMs.portal).toBeLessThan(OUTAGE_BOUND_MS);
  }));

test('data members scale 2 -> 3 -> 2 in place: nobody else restarts, a primary that is removed hands over, the sentinels forget it', () =>
  suite.run(async () => {
    const starts = () => [0, 1].map((i) => t.container('data', i)!.startCount).concat([0, 1, 2].map((i) => t.container('sentinel', i)!.startCount));
    const before = starts();
    const up = await t.replan({ dataMembers: 3 });
    await underLoad('scale-up', async () => {
      await t.rollStatefulSet('data', up);
      await t.rollStatefulSet('sentinel', up);
    });
    expect(starts()).toEqual(before);
    // Make the member that scale-in removes the primary: the others may not be promoted for a moment.
    let primary = await t.waitForHealthy('three members', 60_000);
    if (primary !== 2) {
      const others = [0, 1].filter((i) => i !== primary).concat(primary).filter((i) => i !== 2);
      for (const i of others) await t.cli(t.dataHost(i), t.redisPort, ['CONFIG', 'SET', 'replica-priority', '0']);
      // The sentinels read replica-priority from INFO every 10 s.
      await sleep(11_000);
      await t.cli(t.host('sentinel', 0), t.sentinelPort, ['SENTINEL', 'FAILOVER', t.masterName]);
      primary = await t.waitForHealthy('cache-2 promoted', 60_000);
      for (const i of others) await t.cli(t.dataHost(i), t.redisPort, ['CONFIG', 'SET', 'replica-priority', '100']);
    }
    expect(primary).toBe(2);
    const down = await t.replan({ dataMembers: 2 });
    let replaced: PodReplacement[] = [];
    const m = await underLoad('scale-in', async () => {
      replaced = await t.rollStatefulSet('data', down);
    });
    console.log(`scale-in: ${describeRoll(replaced)}`);
    expect(replaced.map((r) => r.pod)).toEqual(['cache-2']);
    expect(replaced[0].preStopOutput).toMatch(/handed the primary role to/);
    expect(m.primary).not.toBe(2);
    expect(m.outageMs.sentinels).toBeLessThan(OUTAGE_BOUND_MS);
    expect(m.outageMs.portal).toBeLessThan(OUTAGE_BOUND_MS);
    // waitForHealthy (in underLoad) required every sentinel to list no replica down: cache-2 is forgotten.
    for (let s = 0; s < t.sentinelCount; s++) {
      const replicas = (await t.cli(t.host('sentinel', s), t.sentinelPort, ['SENTINEL', 'REPLICAS', t.masterName])).stdout;
      expect(replicas).not.toContain(t.dataHost(2));
    }
  }));

test('sentinels scale 3 -> 5 -> 3 in place: no stale voter is left', () =>
  suite.run(async () => {
    for (const [count, label] of [[5, 'sentinels-up'], [3, 'sentinels-down']] as const) {
      const before = await t.replan({ sentinels: count });
      let replaced: PodReplacement[] = [];
      const m = await underLoad(label, async () => {
        replaced = await t.rollStatefulSet('sentinel', before);
        await t.rollStatefulSet('data', before);
      });
      console.log(`${label}: ${describeRoll(replaced)}`);
      expect(m.outageMs.sentinels).toBeLessThan(OUTAGE_BOUND_MS);
      expect(m.outageMs.portal).toBeLessThan(OUTAGE_BOUND_MS);
      for (let s = 0; s < count; s++) {
        const r = await t.cli(t.host('sentinel', s), t.sentinelPort, ['SENTINEL', 'MASTER', t.masterName]);
        const lines = r.stdout.split('\n');
        const field = (k: string) => lines[lines.indexOf(k) + 1];
        expect({ sentinel: s, peers: Number(field('num-other-sentinels')), quorum: Number(field('quorum')) })
          .toEqual({ sentinel: s, peers: count - 1, quorum: Math.floor(count / 2) + 1 });
      }
    }
  }));

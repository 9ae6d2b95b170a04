/**
 * Day-2 changes, live: a pull request changes the topology, and the pods are replaced exactly as
 * the StatefulSet controller replaces them (see LiveSentinelRedis.replan and rollStatefulSet:
 * ConfigMaps updated in the running pods first, then one pod at a time, highest ordinal first,
 * preStop hook, SIGTERM, a new pod from the new template at a new address, awaited until ready).
 * Two real clients write throughout, from an application namespace, configured only from what the
 * plan publishes there: ioredis through the sentinels' Service and node-redis through the TLS
 * portal's Service (see Day2Fixture). Each scenario requires that no acknowledged write is lost and
 * prints the client-observed outage and the 100 ms samples in which two members answered as
 * primary; only a loose bound is asserted on the outage (the figures are measured by
 * `npm run bench:rollout`).
 *
 * The scenarios run in order on one topology, each starting from the state the previous left.
 */
import { LiveSuite } from './live-suite';
import { Day2Fixture, describeMeasured, describeRoll, Measured } from './day2-fixture';
import { LivePortals } from './portal-topology';
import { LiveSentinelRedis, PodReplacement } from './sentinel-topology';

jest.setTimeout(300_000);

const suite = new LiveSuite('Rolling changes live test', 60);
/** Outages above this fail a test: about five times what a handover costs, far below a crash failover through the portal. */
const OUTAGE_BOUND_MS = 5000;

let f: Day2Fixture;
let t: LiveSentinelRedis;
let p: LivePortals;

/** Runs `change` under load; no acknowledged write may be lost. */
async function underLoad(label: string, change: () => Promise<void>): Promise<Measured> {
  const m = await f.underLoad(label, change);
  console.log(describeMeasured(label, m));
  expect({ label, lost: m.lost }).toEqual({ label, lost: { sentinels: 0, portal: 0 } });
  return m;
}

beforeAll(async () => {
  if (!suite.ready()) return;
  console.log('Rolling changes live test: the plan before and after a change, rolled as the StatefulSet controller does, with real clients writing');
  f = await Day2Fixture.boot({ prefix: 'rto', subnetIndex: 16, password: 'live-rollout-pw-8Rk' });
  t = f.t;
  p = f.p;
});

afterAll(() => suite.cleanup(f));

test('a redis.conf change rolls only the data members; the primary hands its role over before it stops: no acknowledged write lost', () =>
  suite.run(async () => {
    const sentinelStarts = Array.from({ length: t.sentinelCount }, (_, i) => t.container('sentinel', i)!.startCount);
    const before = await t.replan({ maxmemoryRatio: 0.7 });
    expect(t.plan.statefulSet('cache-sentinel').spec.template).toEqual(before.statefulSet('cache-sentinel').spec.template);
    expect(t.plan.statefulSet('cache').spec.template).not.toEqual(before.statefulSet('cache').spec.template);
    let replaced: PodReplacement[] = [];
    const m = await underLoad('config', async () => {
      replaced = await t.rollStatefulSet('data', before);
      await f.rollSentinels(before);
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
      rolled.push(...await Promise.all([t.rollStatefulSet('data', before), f.rollSentinels(before)]));
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
    // Only the portals' haproxy.cfg names the new member: they roll, the data members and sentinels do not.
    expect(t.plan.statefulSet('cache').spec.template).toEqual(up.statefulSet('cache').spec.template);
    expect(t.plan.statefulSet('cache-sentinel').spec.template).toEqual(up.statefulSet('cache-sentinel').spec.template);
    let portals: PodReplacement[] = [];
    const portalPods = p.running();
    await underLoad('scale-up', async () => {
      [, , portals] = await Promise.all([t.rollStatefulSet('data', up), f.rollSentinels(up), f.rollPortals(up)]);
    });
    expect(portals.map((r) => r.pod)).toEqual(portalPods);
    expect(starts()).toEqual(before);
    // Make the member that scale-in removes the primary.
    await t.waitForHealthy('three members', 60_000);
    await t.promote(2);
    const primary = await t.waitForHealthy('cache-2 primary', 60_000);
    expect(primary).toBe(2);
    const down = await t.replan({ dataMembers: 2 });
    let replaced: PodReplacement[] = [];
    const m = await underLoad('scale-in', async () => {
      [replaced] = await Promise.all([t.rollStatefulSet('data', down), f.rollPortals(down)]);
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
        replaced = await f.rollSentinels(before);
        await f.syncSentinelEndpoints();
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

test('storage grows in place: only the claims change, the StatefulSet and its pods stay, the data survives', () =>
  suite.run(async () => {
    const primary = await t.waitForHealthy('before growing the storage', 60_000);
    const keys = Array.from({ length: 200 }, (_, i) => i + 1);
    for (let at = 0; at < keys.length; at += 50) {
      const r = await t.cli(t.dataHost(primary), t.redisPort, ['MSET', ...keys.slice(at, at + 50).flatMap((k) => [`grow:${k}`, String(k)])]);
      expect(r.stdout.trim()).toBe('OK');
    }
    const starts = [0, 1].map((i) => t.container('data', i)!.startCount);
    const before = await t.replan({}, { storageSize: '2Gi' });
    const claims = (plan: typeof before) => Object.values<any>(plan.json.resource.kubernetes_persistent_volume_claim_v1)
      .map((c) => `${c.metadata.name}=${c.spec.resources.requests.storage}`).sort();
    expect(claims(before)).toEqual(['data-cache-0=1Gi', 'data-cache-1=1Gi', 'state-cache-sentinel-0=1Gi', 'state-cache-sentinel-1=1Gi', 'state-cache-sentinel-2=1Gi']);
    expect(claims(t.plan)).toEqual(['data-cache-0=2Gi', 'data-cache-1=2Gi', 'state-cache-sentinel-0=1Gi', 'state-cache-sentinel-1=1Gi', 'state-cache-sentinel-2=1Gi']);
    // The StatefulSet differs only in its claim template, which Terraform ignores for changes: no pod rolls.
    const sts = (plan: typeof before) => plan.statefulSet('cache');
    expect({ ...sts(t.plan).spec, volume_claim_template: undefined }).toEqual({ ...sts(before).spec, volume_claim_template: undefined });
    expect(sts(t.plan).lifecycle.ignore_changes).toContain('spec[0].volume_claim_template');
    expect(await t.rollStatefulSet('data', before)).toEqual([]);
    expect([0, 1].map((i) => t.container('data', i)!.startCount)).toEqual(starts);
    expect(await t.missingKeys(primary, 'grow', keys)).toEqual([]);
    // The same claims after the change: every pod re-created (replicas first, each handing over) keeps the data.
    for (const i of [1 - primary, primary]) {
      await t.terminate('data', i);
      await t.readdress('data', i);
      await t.start('data', i);
      await t.waitReady('data', i);
    }
    await t.waitForHealthy('after re-creating every data pod', 60_000);
    for (let i = 0; i < t.dataCount; i++) expect(await t.missingKeys(i, 'grow', keys)).toEqual([]);
  }));

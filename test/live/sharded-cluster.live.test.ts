/**
 * ShardedRedisCluster, live: the synthesized plan's redis.conf, member scripts and bootstrap Job,
 * run by Debian's redis-server, 3 primaries and 3 replicas, one network namespace per pod with its
 * stable DNS name, each container started as the plan's pod template says. A cluster-aware client
 * (ioredis Cluster, following MOVED) writes throughout the breakage.
 *
 * The scenarios run in order on one cluster, each starting from the state the previous left.
 */
import { waitFor } from './harness/client';
import { LiveSuite } from './live-suite';
import { ClusterNode, LiveCluster } from './cluster-topology';
import { slotRanges } from '../../lib';

jest.setTimeout(240_000);

const suite = new LiveSuite('ShardedRedisCluster live test', 60);
const PASSWORD = 'live-cluster-pw-R4n';
const NODE_TIMEOUT_MS = 5000;
/** Every key a writer acknowledged, by prefix: none may ever go missing. */
const acknowledged = new Map<string, number[]>();
let t: LiveCluster;

async function expectNoAckedWriteLost(): Promise<void> {
  for (const [prefix, seqs] of acknowledged) {
    expect({ prefix, missing: await t.missingKeys(prefix, seqs) }).toEqual({ prefix, missing: [] });
  }
}

/** What must not change when nothing happens: ids, names, roles, primaries, epochs, slots. */
function identity(nodes: ClusterNode[]): string[] {
  return nodes.map((n) => [n.id, n.host, n.flags.filter((f) => f !== 'myself').join(','), n.master, n.configEpoch, n.slots.join(' ')].join(' ')).sort();
}

function log(message: string): void {
  console.log(message);
}

beforeAll(async () => {
  if (!suite.ready()) return;
  console.log('ShardedRedisCluster live test: one Linux network namespace per pod, pod DNS names in each namespace\'s hosts file');
  t = await LiveCluster.boot({ prefix: 'rtk', password: PASSWORD, subnetIndex: 17 });
});

afterAll(() => suite.cleanup(t));

test('the plan is booted as written: entrypoint, user, data volume, pod address and the bootstrap Job', () =>
  suite.run(async () => {
    expect(t.members()).toHaveLength(6);
    await t.startAll();
    const spec = t.specOf(0, 0)!;
    expect(spec.command).toEqual(['sh', '/etc/redis-topologies/scripts/member-entrypoint.sh']);
    expect(spec.runAsUser).toBe(999);
    expect(spec.env.POD_IP).toBe(t.net.addressOf(t.pod(0, 0)));
    expect(spec.volumeMounts.map((m) => m.mountPath)).toEqual(expect.arrayContaining(['/data', '/etc/redis-topologies/config', '/etc/redis-topologies/scripts', '/etc/redis-topologies/auth', '/run/redis-topologies']));
    expect(spec.preStop).toEqual(['sh', '/etc/redis-topologies/scripts/member-prestop.sh']);
  }));

test('the bootstrap forms nothing while a member is missing', () =>
  suite.run(async () => {
    await t.kill(2, 1);
    // The bootstrap waits for every member; stopped after 8 s, it must have assigned no slot.
    const run = await t.bootstrap(8_000);
    expect(run.code).toBeNull();
    expect(run.log).toMatch(/waiting for: kv-shard-2-1\./);
    for (const m of t.members().filter((x) => !(x.shard === 2 && x.ordinal === 1))) {
      expect((await t.info(m.shard, m.ordinal)).cluster_slots_assigned).toBe('0');
    }
    await t.start(2, 1);
  }));

test('the bootstrap forms the cluster: 16,384 slots in the documented ranges, every replica in sync', () =>
  suite.run(async () => {
    const started = Date.now();
    const run = await t.bootstrap();
    expect({ code: run.code, log: run.code === 0 ? '' : run.log }).toEqual({ code: 0, log: '' });
    log(`bootstrap formed the cluster in ${Date.now() - started} ms`);
    // The bootstrap waited for every member's view to agree: the harness's view (from kv-shard-0-0) does.
    expect(await t.healthy()).toBe(true);
    const nodes = await t.nodes(0, 0);
    const expected = slotRanges(3).map((r) => `${r.first}-${r.last}`);
    expect(expected).toEqual(['0-5460', '5461-10922', '10923-16383']);
    for (let s = 0; s < 3; s++) {
      const primary = nodes.find((n) => n.host === t.host(s, 0))!;
      const replica = nodes.find((n) => n.host === t.host(s, 1))!;
      expect({ shard: s, flags: primary.flags.filter((f) => f !== 'myself'), slots: primary.slots }).toEqual({ shard: s, flags: ['master'], slots: [expected[s]] });
      expect({ shard: s, replicaOf: replica.master, flags: replica.flags.filter((f) => f !== 'myself') }).toEqual({ shard: s, replicaOf: primary.id, flags: ['slave'] });
    }
  }));

test('re-running the bootstrap on a formed cluster changes nothing', () =>
  suite.run(async () => {
    const before = identity(await t.nodes(0, 0));
    const run = await t.bootstrap();
    expect(run.code).toBe(0);
    expect(run.log).not.toMatch(/assigning|meeting|joins shard|moving slots/);
    expect(identity(await t.nodes(0, 0))).toEqual(before);
  }));

test('kill -9 of a primary: writes to its slots succeed again within cluster-node-timeout + 5 s, no acknowledged write lost; it returns as a replica', () =>
  suite.run(async () => {
    const writer = t.writer({ keyPrefix: 'kill', maxWrites: 50_000, maxSeconds: 90, intervalMs: 5 });
    try {
      await writer.waitForAcks(200, 20_000);
      const primary = await t.primaryOf(1);
      const killedAt = Date.now();
      await t.kill(1, primary);
      // Keys are spread over every slot: the stream stalls on the dead shard's keys until it is replaced.
      await waitFor(async () => {
        const errs = writer.errors().filter((e) => e.t >= killedAt);
        return errs.length > 0 && writer.ackEvents().filter((a) => a.t > errs[errs.length - 1].t).length >= 100;
      }, { timeoutMs: NODE_TIMEOUT_MS + 5000 + 10_000, intervalMs: 100, what: 'writes flowing again after the kill' });
      const errs = writer.errors().filter((e) => e.t >= killedAt);
      const resumed = writer.firstAckAfter(errs[errs.length - 1].t)!;
      log(`kill -9 of ${t.host(1, primary)}: writes to every slot flowing again after ${resumed.t - killedAt} ms (cluster-node-timeout ${NODE_TIMEOUT_MS})`);
      expect(resumed.t - killedAt).toBeLessThanOrEqual(NODE_TIMEOUT_MS + 5000);
      expect(await t.primaryOf(1)).toBe(1 - primary);
      await t.start(1, primary);
      log(`the killed member back as a replica after ${await t.waitForHealthy('the killed member back as a replica', 60_000)} ms`);
      expect(await t.primaryOf(1)).toBe(1 - primary);
    } finally {
      acknowledged.set('kill', (await writer.stop()).acked);
    }
    await expectNoAckedWriteLost();
  }));

test('every pod deleted and re-created at new addresses, in random order: the same cluster re-forms with every acknowledged key', () =>
  suite.run(async () => {
    const before = await t.nodes(0, 0);
    const writer = t.writer({ keyPrefix: 'full', maxWrites: 50_000, maxSeconds: 120, intervalMs: 5 });
    try {
      await writer.waitForAcks(200, 20_000);
      const order = t.members().map((m) => ({ ...m, r: Math.random() })).sort((a, b) => a.r - b.r);
      const addresses = new Map(t.members().map((m) => [m.pod, t.net.addressOf(m.pod)]));
      const killedAt = Date.now();
      // 1 s apart, each name unresolvable until its pod is back: early members boot before late names resolve.
      await t.recreateAll(order, 1000);
      const ms = await t.waitForHealthy('the cluster re-formed after every pod was re-created', 90_000);
      log(`every pod re-created at a new address (order ${order.map((m) => `${m.shard}-${m.ordinal}`).join(' ')}, 1 s apart): cluster_state:ok on every member ${ms} ms after the last start, ${Date.now() - killedAt} ms after the kill`);
      for (const m of t.members()) expect(t.net.addressOf(m.pod)).not.toBe(addresses.get(m.pod));
      const after = await t.nodes(0, 0);
      expect(after.map((n) => `${n.host} ${n.id}`).sort()).toEqual(before.map((n) => `${n.host} ${n.id}`).sort());
      await writer.waitForAcks(writer.acked().length + 100, 20_000);
    } finally {
      acknowledged.set('full', (await writer.stop()).acked);
    }
    await expectNoAckedWriteLost();
  }));

test('a primary deleted as in a rolling update hands its slots to its replica first (CLUSTER FAILOVER in preStop)', () =>
  suite.run(async () => {
    const writer = t.writer({ keyPrefix: 'roll', maxWrites: 50_000, maxSeconds: 90, intervalMs: 5 });
    try {
      await writer.waitForAcks(200, 20_000);
      const primary = await t.primaryOf(0);
      const at = Date.now();
      const gone = await t.terminate(0, primary);
      expect(gone.preStopOutput).toMatch(/handover: done/);
      expect(await t.primaryOf(0)).toBe(1 - primary);
      await writer.waitForAcks(writer.acked().length + 100, 20_000);
      const errs = writer.errors().filter((e) => e.t >= at);
      const lastBefore = writer.lastAckBefore(at);
      const gaps = writer.ackEvents().filter((a) => a.t >= at).map((a, k, all) => a.t - (k === 0 ? lastBefore!.t : all[k - 1].t));
      log(`planned handover of ${t.host(0, primary)}: preStop ${gone.preStopMs} ms, longest gap between acknowledged writes ${Math.max(...gaps)} ms, ${errs.length} errors`);
      await t.readdress(0, primary);
      await t.start(0, primary);
      await t.waitForHealthy('the handed-over member back as a replica', 60_000);
    } finally {
      acknowledged.set('roll', (await writer.stop()).acked);
    }
    await expectNoAckedWriteLost();
  }));

test('scale-out to 4 shards: the bootstrap adds the shard and moves slots to it, keys intact', () =>
  suite.run(async () => {
    await t.replan({ shards: 4 });
    const run = await t.bootstrap();
    expect({ code: run.code, log: run.code === 0 ? '' : run.log }).toEqual({ code: 0, log: '' });
    expect(run.log).toMatch(/shard 3 is new/);
    await t.waitForHealthy('four shards healthy', 60_000);
    const nodes = await t.nodes(0, 0);
    const owned = (s: number) => nodes.filter((n) => t.topology.shards[s].memberHosts.includes(n.host) && n.flags.includes('master'))
      .flatMap((n) => n.slots).reduce((sum, r) => { const [a, b] = r.split('-').map(Number); return sum + (b === undefined ? 1 : b - a + 1); }, 0);
    const counts = [0, 1, 2, 3].map(owned);
    log(`after scale-out, slots per shard: ${counts.join(' / ')}`);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(16384);
    for (const c of counts) expect(Math.abs(c - 4096)).toBeLessThanOrEqual(1);
    await expectNoAckedWriteLost();
  }));

/**
 * SentinelRedis, live: the synthesized plan's redis.conf, sentinel.conf and entrypoint scripts,
 * run by Debian's redis-server and redis-sentinel, one network namespace per pod with the pod's
 * stable DNS name, each container started as the plan's pod template says. Then broken.
 *
 * The scenarios run in order on one topology, each starting from the state the previous left.
 */
import { redisCli, waitFor } from './harness/client';
import { LiveSuite } from './live-suite';
import { sleep } from './harness/proc';
import { LiveSentinelRedis } from './sentinel-topology';

jest.setTimeout(180_000);

const suite = new LiveSuite('SentinelRedis live test', 60);
const PASSWORD = 'live-sentinel-pw-Q7x';
/** Every key any writer acknowledged, by prefix: none may ever go missing. */
const acknowledged = new Map<string, number[]>();

let t: LiveSentinelRedis;

/** Asserts that every write acknowledged so far exists on data member i. */
async function expectNoAckedWriteLost(i: number): Promise<void> {
  for (const [prefix, seqs] of acknowledged) {
    expect({ prefix, missing: await t.missingKeys(i, prefix, seqs) }).toEqual({ prefix, missing: [] });
  }
}

/**
 * Runs a sentinel-mode writer, kills the primary with SIGKILL once writes flow, and returns the
 * time from the kill to the first write acknowledged by another member, found through sentinel.
 */
async function killPrimaryUnderLoad(prefix: string, primary: number): Promise<{ recoveryMs: number; newPrimary: number }> {
  const writer = t.writer({ keyPrefix: prefix, maxWrites: 20_000, maxSeconds: 60, intervalMs: 5 });
  try {
    await writer.waitForAcks(50);
    const killedAt = Date.now();
    await t.kill('data', primary);
    const oldAddr = `${t.dataHost(primary)}:${t.redisPort}`;
    await waitFor(async () => writer.ackEvents().some((a) => a.t >= killedAt && a.addr !== oldAddr), {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: `a write acknowledged by a new primary within 10 s of killing ${t.dataHost(primary)}`,
    });
    const first = writer.ackEvents().find((a) => a.t >= killedAt && a.addr !== oldAddr)!;
    await writer.waitForAcks(writer.acked().length + 20);
    const newPrimary = Array.from({ length: t.dataCount }, (_, i) => i).find((i) => first.addr === `${t.dataHost(i)}:${t.redisPort}`)!;
    return { recoveryMs: first.t - killedAt, newPrimary };
  } finally {
    const summary = await writer.stop();
    acknowledged.set(prefix, summary.acked);
  }
}

beforeAll(async () => {
  if (!suite.ready()) return;
  console.log('SentinelRedis live test: one Linux network namespace per pod, pod DNS names in each namespace\'s hosts file');
  t = await LiveSentinelRedis.boot({ prefix: 'rts', password: PASSWORD, subnetIndex: 11 });
});

afterAll(() => suite.cleanup(t));

test('the plan is booted as written: command, user, mounts and the default topology', () =>
  suite.run(async () => {
    const spec = t.containerSpec('data', 0);
    expect(spec.command).toEqual(['sh', '/etc/redis-topologies/scripts/redis-entrypoint.sh']);
    expect(spec.runAsUser).toBe(999);
    expect(spec.volumeMounts.map((m) => m.mountPath).sort()).toEqual(['/data', '/etc/redis-topologies/auth', '/etc/redis-topologies/config', '/etc/redis-topologies/scripts', '/run/redis-topologies', '/tmp']);
    expect([t.dataCount, t.sentinelCount]).toEqual([2, 3]);
  }));

test('first boot elects exactly one primary, the replica links to it and every sentinel names it', () =>
  suite.run(async () => {
    await t.startAll();
    const primary = await t.waitForHealthy('one primary, one linked replica, three sentinels agreeing', 60_000);
    expect(primary).toBe(0);
    expect((await t.roles()).filter((r) => r === 'master')).toHaveLength(1);
    // Hostnames, not pod IPs, are what replicas and sentinels announce.
    const replicas = await t.cli(t.host('sentinel', 0), t.sentinelPort, ['SENTINEL', 'replicas', t.masterName]);
    expect(replicas.stdout).toContain(t.dataHost(1));
    // Auth is on everywhere.
    const noAuth = await redisCli(t.clientNs, ['PING'], { host: t.dataHost(0), port: t.redisPort });
    expect(noAuth.stdout + noAuth.stderr).toMatch(/NOAUTH/);
    const sentinelNoAuth = await redisCli(t.clientNs, ['PING'], { host: t.host('sentinel', 0), port: t.sentinelPort });
    expect(sentinelNoAuth.stdout + sentinelNoAuth.stderr).toMatch(/NOAUTH/);
  }));

let lastPrimary = 0;

test('kill -9 of the primary: a write lands on the new primary, found through sentinel, within 10 s; no acknowledged write lost', () =>
  suite.run(async () => {
    const { recoveryMs, newPrimary } = await killPrimaryUnderLoad('kill1', lastPrimary);
    console.log(`failover after kill -9 of ${t.dataHost(lastPrimary)}: first write on ${t.dataHost(newPrimary)} after ${recoveryMs} ms`);
    expect(newPrimary).not.toBe(lastPrimary);
    expect(recoveryMs).toBeLessThan(10_000);
    await expectNoAckedWriteLost(newPrimary);
    lastPrimary = newPrimary;
  }));

test('the old primary restarts as a replica and never accepts a write as primary', () =>
  suite.run(async () => {
    const old = 1 - lastPrimary;
    // A writer aimed straight at the old primary's name for the whole restart: not one ack allowed.
    const direct = t.writer({ mode: 'direct', host: t.dataHost(old), port: t.redisPort, keyPrefix: 'stale', maxWrites: 50_000, maxSeconds: 40, intervalMs: 5, retryMs: 20 });
    try {
      await sleep(300);
      await t.start('data', old, true); // the kubelet restarts the crashed container in place
      await t.waitForHealthy('the old primary back as a replica of the new one', 60_000);
      await sleep(1000);
    } finally {
      const summary = await direct.stop();
      expect({ ackedByOldPrimary: summary.acked.length, attempts: summary.attempts > 0 }).toEqual({ ackedByOldPrimary: 0, attempts: true });
    }
    expect(t.container('data', old)!.logs()).toMatch(/starting as its replica/);
    expect((await t.replication(old)).role).toBe('slave');
    await expectNoAckedWriteLost(old);
  }));

test('with one sentinel killed, a second kill -9 of the primary still fails over; the sentinel rejoins', () =>
  suite.run(async () => {
    await t.kill('sentinel', 2);
    await sleep(500);
    const { recoveryMs, newPrimary } = await killPrimaryUnderLoad('kill2', lastPrimary);
    console.log(`failover with 2 of 3 sentinels: first write on ${t.dataHost(newPrimary)} after ${recoveryMs} ms`);
    expect(newPrimary).not.toBe(lastPrimary);
    expect(recoveryMs).toBeLessThan(10_000);
    await expectNoAckedWriteLost(newPrimary);
    await t.start('data', lastPrimary, true);
    await t.start('sentinel', 2, true);
    lastPrimary = await t.waitForHealthy('all five pods back, the restarted sentinel naming the new primary', 60_000);
    expect(lastPrimary).toBe(newPrimary);
  }));

test('a primary that crashes and restarts before the sentinels notice waits for the failover and takes no write as primary', () =>
  suite.run(async () => {
    const old = lastPrimary;
    const viaSentinel = t.writer({ keyPrefix: 'fast', maxWrites: 20_000, maxSeconds: 60, intervalMs: 5 });
    const direct = t.writer({ mode: 'direct', host: t.dataHost(old), port: t.redisPort, keyPrefix: 'fast-stale', maxWrites: 50_000, maxSeconds: 60, intervalMs: 5, retryMs: 20 });
    let killedAt = 0;
    try {
      await viaSentinel.waitForAcks(50);
      await direct.waitForAcks(5);
      await t.kill('data', old);
      // Taken once the process is gone: a reply already in flight at the kill may still arrive.
      await sleep(100);
      killedAt = Date.now();
      const ackedBeforeKill = direct.acked().length;
      await t.start('data', old, true); // back at once, well inside down-after-milliseconds
      lastPrimary = await t.waitForHealthy('a failover to the other member, the restarted one as its replica', 60_000);
      expect(lastPrimary).not.toBe(old);
      await viaSentinel.waitForAcks(viaSentinel.acked().length + 20);
      await sleep(500);
      // The direct writer's acks all predate the kill: the restarted process never served one.
      expect(direct.acked().length).toBe(ackedBeforeKill);
    } finally {
      const d = await direct.stop();
      expect(d.acked.length).toBeGreaterThan(0);
      acknowledged.set('fast-stale', d.acked);
      expect(direct.ackEvents().filter((a) => a.t >= killedAt)).toEqual([]);
      acknowledged.set('fast', (await viaSentinel.stop()).acked);
    }
    expect(t.container('data', old)!.logs()).toMatch(/sentinels still name this pod as primary: waiting/);
    // Only writes acknowledged by the new primary are promised: every one of them must be there.
    await expectNoAckedWriteLost(lastPrimary);
    await expectNoAckedWriteLost(old);
  }));

test('every pod restarted with a new address under the same DNS name: one primary again, data intact', () =>
  suite.run(async () => {
    await sleep(1500); // appendfsync everysec: let the last second reach the disk before the power cut
    const oldAddresses = t.net.podList().map((p) => `${p.name}=${p.address}`);
    await Promise.all([0, 1, 2].map((i) => t.kill('sentinel', i)));
    await Promise.all([0, 1].map((i) => t.kill('data', i)));
    for (const p of t.net.podList()) if (p.name !== 'client') await t.net.readdress(p.name);
    const newAddresses = t.net.podList().map((p) => `${p.name}=${p.address}`);
    expect(newAddresses.filter((a) => oldAddresses.includes(a) && !a.startsWith('client='))).toEqual([]);
    // New pods: fresh emptyDirs (sentinel state gone), the same volume claims.
    await t.startAll();
    const primary = await t.waitForHealthy('one primary after every pod came back at a new address', 90_000);
    expect((await t.roles()).filter((r) => r === 'master')).toHaveLength(1);
    await expectNoAckedWriteLost(primary);
    await expectNoAckedWriteLost(1 - primary);
    // And it still fails over afterwards: sentinels found each other again at the new addresses.
    const { recoveryMs, newPrimary } = await killPrimaryUnderLoad('kill3', primary);
    console.log(`failover after a full restart at new addresses: ${recoveryMs} ms`);
    expect(newPrimary).not.toBe(primary);
    await expectNoAckedWriteLost(newPrimary);
  }));

test('after a full outage the sentinels remember the primary: a member that was down before it never takes over with stale data', () =>
  suite.run(async () => {
    // Arrange: cache-1 primary, cache-0 down (a node lost earlier).
    const running = (await t.roles()).indexOf('master');
    if (running !== 1) {
      await t.start('data', 1, true);
      await t.waitForHealthy('cache-1 back as a replica', 60_000);
      await t.kill('data', 0);
      await waitFor(async () => (await t.roles())[1] === 'master', { timeoutMs: 30_000, what: 'cache-1 promoted' });
    } else {
      await t.kill('data', 0);
    }
    // Writes that only cache-1 has.
    const w = t.writer({ keyPrefix: 'outage', maxWrites: 300, maxSeconds: 30, intervalMs: 5 });
    acknowledged.set('outage', (await w.done).acked);
    expect(acknowledged.get('outage')).toHaveLength(300);
    await sleep(3000); // appendfsync everysec, and the sentinels' state loop (every 2 s)

    // Power loss: every pod at once. The same pods come back (a node reboot keeps disk emptyDirs),
    // the stale member first.
    await Promise.all([0, 1, 2].map((i) => t.kill('sentinel', i)));
    await t.kill('data', 1);
    await t.start('data', 0, true);
    await sleep(1000);
    await Promise.all([t.start('data', 1, true), ...[0, 1, 2].map((i) => t.start('sentinel', i, true))]);
    const primary = await t.waitForHealthy('one primary after the outage', 90_000);
    // The member with the newer data is primary: the stale one never took the role on its own, and
    // the sentinels, starting before cache-1 was up, did not fail over to it (cold-start grace).
    expect(primary).toBe(1);
    expect(t.container('data', 0)!.logs()).not.toMatch(/cache-0: .*starting as primary/);
    expect(t.container('sentinel', 0)!.logs()).toMatch(/cold start/);
    await expectNoAckedWriteLost(1);
    await expectNoAckedWriteLost(0);
  }));

test('every pod deleted and re-created while a replica is behind: the member with the newest data is primary, nothing it held is lost', () =>
  suite.run(async () => {
    // Arrange: cache-1 primary, cache-0 its replica. Ordinal 0 is the member a fallback to
    // "first boot" would pick, so the lagging replica is the one that must not win.
    let primary = await t.waitForHealthy('healthy before the lagging-replica outage', 60_000);
    if (primary !== 1) {
      await t.kill('data', 0);
      await waitFor(async () => (await t.roles())[1] === 'master', { timeoutMs: 30_000, what: 'cache-1 promoted' });
      await t.start('data', 0, true);
      primary = await t.waitForHealthy('cache-1 primary, cache-0 its replica', 60_000);
    }
    expect(primary).toBe(1);

    // The replica falls behind: its link is cut, then the primary takes writes it never sees.
    await t.net.cut(t.podName('data', 0));
    const w = t.writer({ keyPrefix: 'behind', maxWrites: 300, maxSeconds: 30, intervalMs: 5 });
    acknowledged.set('behind', (await w.done).acked);
    expect(acknowledged.get('behind')).toHaveLength(300);
    await sleep(3000); // appendfsync everysec, and the sentinels' state loop (every second)

    // Every pod deleted: new pods at new addresses, fresh emptyDirs, the same volume claims.
    await Promise.all([0, 1, 2].map((i) => t.kill('sentinel', i)));
    await Promise.all([0, 1].map((i) => t.kill('data', i)));
    await t.net.heal(t.podName('data', 0));
    for (const p of t.net.podList()) if (p.name !== 'client') await t.net.readdress(p.name);
    // The lagging member comes back first, then the sentinels, the primary last.
    await t.start('data', 0);
    await sleep(2000);
    await Promise.all([0, 1, 2].map((i) => t.start('sentinel', i)));
    await sleep(5000);
    await t.start('data', 1);
    primary = await t.waitForHealthy('one primary after every pod was re-created', 120_000);
    expect(primary).toBe(1);
    expect(t.container('data', 0)!.logs()).not.toMatch(/(starting|resuming) as primary/);
    expect(t.container('sentinel', 0)!.logs()).toMatch(new RegExp(`last view name ${t.dataHost(1).replace(/\./g, '\\.')} as primary`));
    await expectNoAckedWriteLost(1);
    await expectNoAckedWriteLost(0);
    lastPrimary = primary;
  }));

test('a failover the sentinels abort and back off from: the stopped primary waits for it instead of resuming on a timer; no write lost, never two primaries', () =>
  suite.run(async () => {
    const old = await t.waitForHealthy('healthy before the aborted failover', 60_000);
    const other = 1 - old;
    // Count the moments two members answer as primary, every 100 ms, for the whole scenario.
    let twoPrimaries = 0;
    let sampling = true;
    const sampler = (async () => {
      for (let n = 0; sampling && n < 1200; n++) {
        if ((await t.roles()).filter((r) => r === 'master').length > 1) twoPrimaries += 1;
        await sleep(100);
      }
    })();
    const writer = t.writer({ keyPrefix: 'abort', maxWrites: 30_000, maxSeconds: 120, intervalMs: 10 });
    try {
      await writer.waitForAcks(50);
      // The sentinels cannot promote the replica for now (replica-priority 0), as when a re-created
      // member is still unknown or unready to them: their failover aborts and backs off.
      await t.cli(t.dataHost(other), t.redisPort, ['CONFIG', 'SET', 'replica-priority', '0']);
      // The replica holds everything so far; a clean stop waits for it to catch up on the rest.
      expect((await t.cli(t.dataHost(old), t.redisPort, ['WAIT', '1', '5000'], 8000)).stdout.trim()).toBe('1');
      await t.container('data', old)!.kill('SIGTERM');
      await waitFor(async () => /failover-abort-no-good-slave/.test(t.container('sentinel', 0)!.logs() + t.container('sentinel', 1)!.logs() + t.container('sentinel', 2)!.logs()),
        { timeoutMs: 20_000, intervalMs: 200, what: 'the sentinels aborting the failover' });
      // Now the replica could be promoted, but the sentinels wait out their back-off.
      await t.cli(t.dataHost(other), t.redisPort, ['CONFIG', 'SET', 'replica-priority', '100']);
      // Back at once: a timer of down-after + failover-timeout + 5 s (17 s, the old rule) would end
      // before the sentinels' retry, 20 s (twice the failover-timeout) after the abort.
      await t.start('data', old, true);
      lastPrimary = await t.waitForHealthy('the replica promoted after the back-off, the old primary its replica', 90_000);
      expect(lastPrimary).toBe(other);
      await writer.waitForAcks(writer.acked().length + 50);
    } finally {
      acknowledged.set('abort', (await writer.stop()).acked);
      sampling = false;
      await sampler;
    }
    console.log(`aborted failover: ${acknowledged.get('abort')!.length} writes acknowledged, ${twoPrimaries} samples with two primaries`);
    // What the restarted member decided (its log since the restart).
    const restarted = t.container('data', old)!.logs().split('=== redis start #').pop()!;
    expect(restarted).toMatch(/waiting for them to promote/);
    expect(restarted).not.toMatch(/resuming as primary/);
    expect(twoPrimaries).toBe(0);
    await expectNoAckedWriteLost(other);
    await expectNoAckedWriteLost(old);
  }));

/**
 * FlashTierRedis, live, with a stand-in for Kvrocks: the plan's own sentinel pods (Redis's sentinel,
 * the SentinelRedis scripts rendered for Kvrocks) and portal pod (HAProxy) run as the plan says;
 * the data pods run the plan's own entrypoint, probes and preStop hook, which write the Kvrocks
 * runtime config and exec `kvrocks -c`. No Kvrocks binary is in the registries these machines
 * reach, so `kvrocks` is test/live/harness/bin/standin/kvrocks: redis-server serving the port,
 * passwords, announced name and slaveof line the entrypoint wrote, behind a proxy that answers
 * BGSAVE and INFO persistence as Kvrocks does (flash-backup.live.test.ts uses those). What this proves: the Kvrocks
 * variant of the boot logic, the sentinels' and the portal's side of a flash tier, failover after
 * kill -9 and after a primary stops (no planned handover). What it does not: Kvrocks itself (its
 * reading of kvrocks.conf, RocksDB, its replication, its answers to the sentinels, #3267).
 */
import * as fs from 'fs';
import * as path from 'path';
import { waitFor } from './harness/client';
import { LiveSuite } from './live-suite';
import { LivePortals, bootWithPortals } from './portal-topology';
import { LiveSentinelRedis } from './sentinel-topology';
import { standinPath } from './flash-standin';
import { HaproxyPortal } from '../../lib';

jest.setTimeout(240_000);
const suite = new LiveSuite('FlashTierRedis live test (Redis stand-in for Kvrocks)', 40);
const PORTAL = 'cache-portal-a';
let t: LiveSentinelRedis;
let p: LivePortals;
let primary = 0;

beforeAll(async () => {
  if (!suite.ready()) return;
  ({ t, p, primary } = await bootWithPortals({
    prefix: 'rth',
    password: 'flash-live-pw-2Zt',
    subnetIndex: 34,
    flash: {},
    dataEnv: { PATH: standinPath() },
    extend: (stack, flash) => new HaproxyPortal(stack, 'Portal', { backend: flash }),
    portals: 1,
    what: 'a Kvrocks-configured primary and replica under three sentinels',
  }));
});

afterAll(() => suite.cleanup(p, t));

const server = (i: number) => `cache-${i}`;
async function waitForRotation(expected: number, what: string): Promise<void> {
  await waitFor(async () => (await p.serversUp(PORTAL)).join() === server(expected), { timeoutMs: 30_000, intervalMs: 200, what });
}

test('the data pods run the plan\'s Kvrocks entrypoint: a runtime kvrocks.conf with the member\'s lines, exec kvrocks -c', () =>
  suite.run(async () => {
    const spec = t.containerSpec('data', 0);
    expect(spec.command).toEqual(['sh', '/etc/redis-topologies/scripts/redis-entrypoint.sh']);
    const configDir = spec.volumeMounts.find((m) => m.mountPath === '/etc/redis-topologies/config')!;
    expect(Object.keys((configDir.volume as { files: Record<string, string> }).files).sort()).toEqual(['kvrocks.conf', 'sentinel-master.conf', 'sentinel.conf']);
    const replica = 1 - primary;
    const runDir = (i: number) => (t.container('data', i)!.spec.volumeMounts.find((m) => m.mountPath === '/run/redis-topologies')!.volume as { hostDir: string }).hostDir;
    const runtime = fs.readFileSync(path.join(runDir(replica), 'kvrocks.conf'), 'utf8');
    expect(runtime).toContain('rocksdb.block_cache_size ');
    expect(runtime).toContain('db-name cache\n');
    expect(runtime).toMatch(/\nreplica-announce-ip cache-\d\.cache-headless\.live\.svc\.cluster\.local\n/);
    expect(runtime).toMatch(/\nrequirepass "flash-live-pw-2Zt"\n/);
    expect(runtime).toMatch(new RegExp(`\\nslaveof cache-${primary}\\.cache-headless\\.live\\.svc\\.cluster\\.local 6379\\n`));
    expect(fs.readFileSync(path.join(runDir(primary), 'kvrocks.conf'), 'utf8')).not.toContain('slaveof');
    expect(await p.serversUp(PORTAL)).toEqual([server(primary)]);
  }));

test('kill -9 of the primary: the sentinels promote the replica, the portal follows, no acknowledged write lost', () =>
  suite.run(async () => {
    const w = p.writer(PORTAL, { keyPrefix: 'flash-kill', maxWrites: 20_000, maxSeconds: 60, intervalMs: 5, retryMs: 50 });
    const killed = primary;
    let killedAt = 0;
    try {
      await w.waitForAcks(50);
      killedAt = Date.now();
      await t.kill('data', killed);
      await waitFor(async () => w.ackEvents().some((a) => a.t > killedAt + 100), { timeoutMs: 15_000, intervalMs: 50, what: 'a write through the portal after the kill' });
      await w.waitForAcks(w.acked().length + 20);
    } finally {
      const summary = await w.stop();
      const first = w.ackEvents().find((a) => a.t > killedAt + 100);
      console.log(`flash tier, kill -9 of the primary: first write through the portal ${first ? first.t - killedAt : NaN} ms after the kill`);
      primary = 1 - killed;
      expect(await t.missingKeys(primary, 'flash-kill', summary.acked)).toEqual([]);
    }
    await waitForRotation(primary, 'the portal routing to the new primary');
    // The old primary's entrypoint finds the new one through the sentinels (CONFIG GET slave-priority, ROLE) and follows it.
    await t.start('data', killed, true);
    expect(await t.waitForHealthy('the old primary back as a replica', 60_000)).toBe(primary);
  }));

test('a primary that stops (its pod deleted): no planned handover, the sentinels replace it after down-after-milliseconds', () =>
  suite.run(async () => {
    const w = p.writer(PORTAL, { keyPrefix: 'flash-stop', maxWrites: 20_000, maxSeconds: 60, intervalMs: 5, retryMs: 50 });
    const stopped = primary;
    let exitedAt = 0;
    try {
      await w.waitForAcks(50);
      const r = await t.terminate('data', stopped);
      exitedAt = Date.now();
      expect(r.preStopOutput).toContain('no planned handover with Kvrocks');
      await waitFor(async () => w.ackEvents().some((a) => a.t > exitedAt), { timeoutMs: 15_000, intervalMs: 50, what: 'a write through the portal after the primary exited' });
      await w.waitForAcks(w.acked().length + 20);
    } finally {
      const summary = await w.stop();
      const first = w.ackEvents().find((a) => a.t > exitedAt);
      console.log(`flash tier, a primary's pod deleted: first write through the portal ${first ? first.t - exitedAt : NaN} ms after it exited`);
      primary = 1 - stopped;
      expect(await t.missingKeys(primary, 'flash-stop', summary.acked)).toEqual([]);
    }
    await waitForRotation(primary, 'the portal routing to the new primary');
    await t.readdress('data', stopped);
    await t.start('data', stopped);
    expect(await t.waitForHealthy('the stopped member back as a replica', 60_000)).toBe(primary);
  }));

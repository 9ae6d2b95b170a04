/**
 * npm run bench:cluster [-- --kills N]
 *
 * ShardedRedisCluster on the live harness (the synthesized plan's pods, one network namespace
 * each, Debian's redis-server; 3 primaries + 3 replicas), an ioredis Cluster client writing every
 * 5 ms throughout. From one run it prints:
 * - failover: the time from kill -9 of a primary to the first write acknowledged on a key in that
 *   primary's slots, for the default cluster-node-timeout (5000) and Redis's default (15000);
 * - re-forming: every pod deleted and re-created at a new address, all at once and 1 s apart in
 *   random order (a deleted pod's name resolving to nothing until it is back), the time from the
 *   last start to cluster_state:ok with every replica in sync, the longest gap between
 *   acknowledged writes, and acknowledged keys lost.
 * Needs root (network namespaces). About 3 minutes with the default 3 kills.
 */
import { cleanupAll } from '../test/live/harness/netns';
import { killAll } from '../test/live/harness/pod';
import { sleep } from '../test/live/harness/proc';
import { waitFor } from '../test/live/harness/client';
import { inSlots, keySlot, LiveCluster } from '../test/live/cluster-topology';

function parseKills(argv: string[]): number {
  const at = argv.indexOf('--kills');
  const kills = at >= 0 ? Number(argv[at + 1]) : 3;
  if (!Number.isInteger(kills) || kills < 1 || kills > 20) throw new Error(`--kills must be an integer in 1..20, got ${argv[at + 1]}`);
  return kills;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

async function failovers(t: LiveCluster, timeoutMs: number, kills: number, label: string): Promise<number[]> {
  const times: number[] = [];
  for (let k = 1; k <= kills; k++) {
    const shard = (k - 1) % t.shards;
    const writer = t.writer({ keyPrefix: `f${timeoutMs}-${k}`, maxWrites: 1_000_000, maxSeconds: Math.ceil(timeoutMs / 1000) * 3 + 60, intervalMs: 5 });
    try {
      await writer.waitForAcks(200, 20_000);
      const primary = await t.primaryOf(shard);
      const slots = (await t.nodes(shard, primary)).find((n) => n.flags.includes('myself'))!.slots;
      const killedAt = Date.now();
      await t.kill(shard, primary);
      const mine = (seq: number) => inSlots(keySlot(`f${timeoutMs}-${k}:${seq}`), slots);
      await waitFor(async () => writer.ackEvents().some((a) => a.t >= killedAt && mine(a.seq)), { timeoutMs: timeoutMs * 3 + 30_000, intervalMs: 20, what: `${label}: a write to the killed primary's slots` });
      const ms = writer.ackEvents().find((a) => a.t >= killedAt && mine(a.seq))!.t - killedAt;
      times.push(ms);
      console.log(`  ${label}: kill ${k}/${kills} of ${t.pod(shard, primary)}: writes to its slots acknowledged again after ${secs(ms)}`);
      await t.start(shard, primary);
      await t.waitForHealthy(`${label}: settled after kill ${k}`, 90_000);
    } finally {
      await writer.stop();
    }
    await sleep(500);
  }
  return times;
}

async function reform(t: LiveCluster, gapMs: number): Promise<{ healthyMs: number; gapMs: number; lost: number; acked: number }> {
  const writer = t.writer({ keyPrefix: `r${gapMs}`, maxWrites: 1_000_000, maxSeconds: 180, intervalMs: 5 });
  try {
    await writer.waitForAcks(200, 20_000);
    const order = t.members().map((m) => ({ ...m, r: Math.random() })).sort((a, b) => a.r - b.r);
    const killedAt = Date.now();
    await t.recreateAll(order, gapMs);
    const healthyMs = await t.waitForHealthy('re-formed', 120_000);
    await writer.waitForAcks(writer.acked().length + 100, 30_000);
    const from = writer.lastAckBefore(killedAt)!.t;
    const acks = writer.ackEvents().filter((a) => a.t >= from).map((a) => a.t);
    const longest = Math.max(...acks.slice(1).map((t2, k) => t2 - acks[k]));
    const summary = await writer.stop();
    const missing = await t.missingKeys(`r${gapMs}`, summary.acked);
    return { healthyMs, gapMs: longest, lost: missing.length, acked: summary.acked.length };
  } finally {
    await writer.stop();
  }
}

async function main(): Promise<void> {
  const kills = parseKills(process.argv.slice(2));
  console.log('bench:cluster: 3 shards of a primary and a replica, the plan\'s own configs and scripts, Debian redis-server,');
  console.log('one network namespace per pod, an ioredis Cluster client writing every 5 ms.');
  const results: Array<[string, string]> = [];
  try {
    for (const timeoutMs of [5000, 15000]) {
      const label = `cluster-node-timeout ${timeoutMs}${timeoutMs === 5000 ? ' (default)' : ' (Redis default)'}`;
      console.log(`\n${label}:`);
      const t = await LiveCluster.boot({ prefix: timeoutMs === 5000 ? 'bcl' : 'bcr', subnetIndex: timeoutMs === 5000 ? 29 : 30, password: 'bench-cluster-pw', props: { clusterNodeTimeoutMilliseconds: timeoutMs } });
      try {
        await t.startAll();
        const b = await t.bootstrap();
        if (b.code !== 0) throw new Error(`bootstrap failed:\n${b.log}`);
        const times = await failovers(t, timeoutMs, kills, label);
        results.push([`failover, ${label}`, `min ${secs(Math.min(...times))}, median ${secs(median(times))}, max ${secs(Math.max(...times))} (${times.length} kills)`]);
        if (timeoutMs === 5000) {
          for (const gap of [0, 1000]) {
            const r = await reform(t, gap);
            const what = gap === 0 ? 'every pod re-created at once' : 'every pod re-created 1 s apart, random order';
            console.log(`  ${what}: cluster_state:ok ${secs(r.healthyMs)} after the last start; longest client gap ${secs(r.gapMs)}; ${r.lost} of ${r.acked} acknowledged keys lost`);
            results.push([`re-form, ${what}`, `ok ${secs(r.healthyMs)} after the last start, client gap ${secs(r.gapMs)}, ${r.lost}/${r.acked} acknowledged keys lost`]);
          }
        }
      } finally {
        await t.destroy();
      }
    }
  } finally {
    await killAll().catch(() => undefined);
    await cleanupAll().catch(() => undefined);
  }
  console.log('\nSummary:');
  for (const [k, v] of results) console.log(`  ${k.padEnd(62)} ${v}`);
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});

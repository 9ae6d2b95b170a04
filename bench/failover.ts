/**
 * npm run bench:failover [-- --kills N]
 *
 * Failover time of SentinelRedis, measured on the live harness: the synthesized plan's pods, one
 * network namespace each, real redis-server and redis-sentinel. For each kill: a writer finds the
 * primary through sentinel and writes every 5 ms; the primary gets SIGKILL; the figure is the time
 * from the kill to the first write acknowledged by the new primary. The killed member is then
 * restarted and the topology allowed to settle before the next kill.
 *
 * The same harness runs twice in one process: with our defaults (down-after-milliseconds 2000,
 * failover-timeout 10000) and with Bitnami's chart defaults (60000 / 180000), so the ratio
 * compares settings, not machines. Needs root (network namespaces). The Bitnami run takes about
 * a minute per kill.
 */
import { cleanupAll } from '../test/live/harness/netns';
import { killAll } from '../test/live/harness/pod';
import { sleep } from '../test/live/harness/proc';
import { waitFor } from '../test/live/harness/client';
import { LiveSentinelRedis } from '../test/live/sentinel-topology';

interface Setting {
  label: string;
  prefix: string;
  subnetIndex: number;
  downAfterMilliseconds: number;
  failoverTimeoutMilliseconds: number;
}

const SETTINGS: Setting[] = [
  { label: 'redis-topologies defaults', prefix: 'bfo', subnetIndex: 21, downAfterMilliseconds: 2000, failoverTimeoutMilliseconds: 10_000 },
  { label: 'Bitnami chart defaults', prefix: 'bfb', subnetIndex: 22, downAfterMilliseconds: 60_000, failoverTimeoutMilliseconds: 180_000 },
];

function parseKills(argv: string[]): number {
  const at = argv.indexOf('--kills');
  const kills = at >= 0 ? Number(argv[at + 1]) : 5;
  if (!Number.isInteger(kills) || kills < 1 || kills > 50) {
    throw new Error(`--kills must be an integer in 1..50, got ${argv[at + 1]}`);
  }
  return kills;
}

function stats(ms: number[]): { min: number; median: number; mean: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { min: s[0], median, mean: s.reduce((a, b) => a + b, 0) / s.length, max: s[s.length - 1] };
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function measure(setting: Setting, kills: number): Promise<number[]> {
  const password = `bench-${setting.prefix}-pw`;
  const t = await LiveSentinelRedis.boot({
    prefix: setting.prefix,
    subnetIndex: setting.subnetIndex,
    password,
    props: { downAfterMilliseconds: setting.downAfterMilliseconds, failoverTimeoutMilliseconds: setting.failoverTimeoutMilliseconds },
  });
  const bound = setting.downAfterMilliseconds + setting.failoverTimeoutMilliseconds + 60_000;
  const settle = Math.max(60_000, bound);
  const times: number[] = [];
  try {
    await t.startAll();
    let primary = await t.waitForHealthy(`${setting.label}: first boot`, settle);
    for (let k = 1; k <= kills; k++) {
      const writer = t.writer({ keyPrefix: `bench${k}`, maxWrites: 1_000_000, maxSeconds: Math.ceil(bound / 1000) + 30, intervalMs: 5 });
      let recovered: number;
      try {
        await writer.waitForAcks(50);
        const oldAddr = `${t.dataHost(primary)}:${t.redisPort}`;
        const killedAt = Date.now();
        await t.kill('data', primary);
        await waitFor(async () => writer.ackEvents().some((a) => a.t >= killedAt && a.addr !== oldAddr), {
          timeoutMs: bound,
          intervalMs: 20,
          what: `${setting.label}: a write on a new primary after kill ${k}`,
        });
        recovered = writer.ackEvents().find((a) => a.t >= killedAt && a.addr !== oldAddr)!.t - killedAt;
      } finally {
        await writer.stop();
      }
      times.push(recovered);
      console.log(`  ${setting.label}: kill ${k}/${kills} of ${t.podName('data', primary)}: first write on the new primary after ${secs(recovered)}`);
      await t.start('data', primary, true);
      primary = await t.waitForHealthy(`${setting.label}: settled after kill ${k}`, settle);
      await sleep(1000);
    }
  } finally {
    await t.destroy();
  }
  return times;
}

async function main(): Promise<void> {
  const kills = parseKills(process.argv.slice(2));
  console.log(`bench:failover: ${kills} kill -9 of the primary per setting; 2 data members, 3 sentinels, quorum 2;`);
  console.log('one network namespace per pod, the plan\'s own scripts and configs, Debian redis-server/redis-sentinel.');
  const results: Array<{ setting: Setting; times: number[] }> = [];
  try {
    for (const setting of SETTINGS) {
      console.log(`\n${setting.label} (down-after-milliseconds ${setting.downAfterMilliseconds}, failover-timeout ${setting.failoverTimeoutMilliseconds}):`);
      results.push({ setting, times: await measure(setting, kills) });
    }
  } finally {
    await killAll().catch(() => undefined);
    await cleanupAll().catch(() => undefined);
  }
  console.log('\nTime from kill -9 of the primary to the first write acknowledged by the new primary:');
  console.log(`${'setting'.padEnd(28)} ${'n'.padStart(3)} ${'min'.padStart(9)} ${'median'.padStart(9)} ${'mean'.padStart(9)} ${'max'.padStart(9)}`);
  for (const { setting, times } of results) {
    const s = stats(times);
    console.log(`${setting.label.padEnd(28)} ${String(times.length).padStart(3)} ${secs(s.min).padStart(9)} ${secs(s.median).padStart(9)} ${secs(s.mean).padStart(9)} ${secs(s.max).padStart(9)}`);
  }
  const [ours, bitnami] = results.map((r) => stats(r.times).median);
  console.log(`\nmedian ratio (Bitnami defaults / ours): ${(bitnami / ours).toFixed(1)}x; ours ${ours <= 4000 ? 'meets' : 'MISSES'} the 4 s target`);
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});

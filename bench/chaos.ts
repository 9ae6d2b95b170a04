/**
 * npm run bench:chaos [-- --rounds N] [-- --min-replicas-to-write 1]
 *
 * A bounded sequence of failures against the synthesized SentinelRedis and its HaproxyPortal, on the
 * live harness (the plan's pods, one network namespace each, real redis-server, redis-sentinel and
 * haproxy, an emulated cluster DNS). Per round: three kill -9 of the primary, each followed by the
 * killed member re-created at a new address (so later kills promote a member that moved), one
 * sentinel killed, one portal killed, and one full outage in which every data and sentinel pod is
 * re-created at a new address. Two clients write one key at a time throughout, from the client
 * namespace: through the sentinels, and through a portal with TLS (the Service name verified).
 *
 * Prints, per event type and client, the client-observed outage (the longest time between two
 * acknowledged writes from the event until the topology is healthy again) as min / median / p95 / max, the acknowledged writes missing from the
 * final primary, and the samples (every 100 ms) in which two members answered as primary; then a
 * one-line summary. Needs root (network namespaces); about 4 minutes per round.
 */
import { HaproxyPortal } from '../lib';
import { cleanupAll } from '../test/live/harness/netns';
import { killAll } from '../test/live/harness/pod';
import { sleep } from '../test/live/harness/proc';
import { waitFor } from '../test/live/harness/client';
import { Writer } from '../test/live/harness/writer';
import { LivePortals } from '../test/live/portal-topology';
import { LiveSentinelRedis } from '../test/live/sentinel-topology';

type EventType = 'primary kill -9' | 'sentinel kill -9' | 'portal kill -9' | 'full outage';

interface Outage { type: EventType; client: 'sentinel' | 'portal'; ms: number }

/** --min-replicas-to-write N: run the topology with that minReplicasToWrite (default 0, off). */
function parseMinReplicas(argv: string[]): number {
  const at = argv.indexOf('--min-replicas-to-write');
  const n = at >= 0 ? Number(argv[at + 1]) : 0;
  if (!Number.isInteger(n) || n < 0 || n > 1) throw new Error(`--min-replicas-to-write must be 0 or 1 (two data members), got ${argv[at + 1]}`);
  return n;
}

function parseRounds(argv: string[]): number {
  const at = argv.indexOf('--rounds');
  const rounds = at >= 0 ? Number(argv[at + 1]) : 2;
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 10) throw new Error(`--rounds must be an integer in 1..10, got ${argv[at + 1]}`);
  return rounds;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/**
 * The client-observed outage of an event at `at`: the longest time between two consecutive
 * acknowledged writes where the later one came after the event (a write in flight at the event may
 * still be acknowledged; the stall that follows is what the client sees).
 */
function longestGap(w: Writer, at: number): number {
  const acks = w.ackEvents().map((a) => a.t).sort((a, b) => a - b);
  let gap = 0;
  for (let i = 1; i < acks.length; i++) if (acks[i] >= at) gap = Math.max(gap, acks[i] - acks[i - 1]);
  return gap;
}

async function main(): Promise<void> {
  const rounds = parseRounds(process.argv.slice(2));
  const minReplicasToWrite = parseMinReplicas(process.argv.slice(2));
  const password = 'bench-chaos-pw';
  const t = await LiveSentinelRedis.boot({
    prefix: 'bch',
    subnetIndex: 23,
    password,
    props: { minReplicasToWrite },
    extend: (stack, redis) => { new HaproxyPortal(stack, 'Portal', { backend: redis }); },
  });
  const p = await LivePortals.create(t, 'cache-portal');
  const [A, B] = p.pods;
  const outages: Outage[] = [];
  const writers: Array<{ client: 'sentinel' | 'portal'; prefix: string; w: Writer }> = [];
  let twoPrimaries = 0;
  let samples = 0;
  let sampling = true;
  let sampler: Promise<void> = Promise.resolve();
  const acked = new Map<string, number[]>();
  try {
    await t.startAll();
    let primary = await t.waitForHealthy('first boot', 60_000);
    await p.startAll();
    const maxSeconds = rounds * 400;
    const sentinelWriter = t.writer({ keyPrefix: 'chaos-s', maxWrites: 2_000_000, maxSeconds, intervalMs: 10, retryMs: 50 });
    const portalWriter = p.writer(A, { keyPrefix: 'chaos-p', maxWrites: 2_000_000, maxSeconds, intervalMs: 10, retryMs: 50 });
    writers.push({ client: 'sentinel', prefix: 'chaos-s', w: sentinelWriter }, { client: 'portal', prefix: 'chaos-p', w: portalWriter });
    await Promise.all(writers.map((x) => x.w.waitForAcks(50, 30_000)));
    sampler = (async () => {
      for (let n = 0; sampling && n < maxSeconds * 10; n++) {
        const roles = await t.roles();
        samples += 1;
        if (roles.filter((r) => r === 'master').length > 1) twoPrimaries += 1;
        await sleep(100);
      }
    })();

    /** Runs one event, waits for recovery, and records each client's observed outage. */
    const event = async (type: EventType, act: () => Promise<void>, settle: () => Promise<void>) => {
      await Promise.all(writers.map((x) => x.w.waitForAcks(x.w.acked().length + 20, 30_000)));
      const at = Date.now();
      await act();
      await settle();
      for (const x of writers) {
        await x.w.waitForAcks(x.w.acked().length + 20, 60_000);
        outages.push({ type, client: x.client, ms: longestGap(x.w, at) });
      }
      // A slow recovery: show what the sentinels did after the event.
      if (outages.slice(-writers.length).some((o) => o.ms > 6000)) {
        for (let i = 0; i < t.sentinelCount; i++) {
          const log = t.container('sentinel', i)?.logs() ?? '';
          const lines = log.split('\n').filter((l) => /[#*] [+-]|failover|Next failover|cold|down-after|waiting|view/.test(l));
          console.log(`    sentinel ${i}:\n      ${lines.slice(-25).join('\n      ')}`);
        }
        for (let i = 0; i < t.dataCount; i++) {
          const log = (t.container('data', i)?.logs() ?? '').split('=== redis start #').pop() ?? '';
          console.log(`    data ${i}:\n      ${log.split('\n').filter((l) => /cache-\d: /.test(l)).slice(-8).join('\n      ')}`);
        }
      }
      console.log(`  ${type}: ${writers.map((x) => `${x.client} ${secs(outages.filter((o) => o.client === x.client).slice(-1)[0].ms)}`).join(', ')}`);
    };
    const healthy = async (what: string) => {
      primary = await t.waitForHealthy(what, 120_000);
      await waitFor(async () => (await p.serversUp(A)).join() === `cache-${primary}` && (await p.serversUp(B)).join() === `cache-${primary}`,
        { timeoutMs: 30_000, intervalMs: 200, what: `portals routing to cache-${primary}` });
    };

    for (let r = 1; r <= rounds; r++) {
      console.log(`round ${r} of ${rounds}`);
      for (let k = 0; k < 3; k++) {
        const victim = primary;
        await event('primary kill -9', () => t.kill('data', victim), async () => {
          // The killed pod is re-created elsewhere: a new address under the same name.
          await t.readdress('data', victim);
          await t.start('data', victim);
          await healthy(`kill ${k + 1} of round ${r}: the moved member back as a replica`);
        });
      }
      await event('sentinel kill -9', () => t.kill('sentinel', r % t.sentinelCount), async () => {
        await t.start('sentinel', r % t.sentinelCount, true);
        await healthy('the sentinel back');
      });
      await event('portal kill -9', async () => { await p.container(B)!.kill('SIGKILL'); }, async () => {
        await p.start(B);
        await healthy('the portal back');
      });
      await event('full outage', async () => {
        await sleep(1500); // appendfsync everysec
        await Promise.all(Array.from({ length: t.sentinelCount }, (_, i) => t.kill('sentinel', i)));
        await Promise.all(Array.from({ length: t.dataCount }, (_, i) => t.kill('data', i)));
        for (const pod of t.net.podList()) {
          if (pod.name.startsWith('cache-') && !pod.name.startsWith('cache-portal')) await t.net.readdress(pod.name);
        }
        await Promise.all([
          ...Array.from({ length: t.dataCount }, (_, i) => t.start('data', i)),
          ...Array.from({ length: t.sentinelCount }, (_, i) => t.start('sentinel', i)),
        ]);
      }, () => healthy(`full outage of round ${r}`));
    }
  } finally {
    for (const x of writers) acked.set(x.prefix, (await x.w.stop()).acked);
    sampling = false;
    await sampler;
  }

  let lost = 0;
  let total = 0;
  try {
    const primary = await t.waitForHealthy('the end', 60_000);
    for (const [prefix, seqs] of acked) {
      total += seqs.length;
      lost += (await t.missingKeys(primary, prefix, seqs)).length;
    }
  } finally {
    await p.destroy().catch(() => undefined);
    await t.destroy().catch(() => undefined);
    await killAll().catch(() => undefined);
    await cleanupAll().catch(() => undefined);
  }

  console.log('\nclient-observed outage (longest time between two acknowledged writes, from the event until healthy again):');
  console.log('| event | client | n | min | median | p95 | max |');
  console.log('|---|---|---|---|---|---|---|');
  const types: EventType[] = ['primary kill -9', 'sentinel kill -9', 'portal kill -9', 'full outage'];
  for (const type of types) {
    for (const client of ['sentinel', 'portal'] as const) {
      const ms = outages.filter((o) => o.type === type && o.client === client).map((o) => o.ms).sort((a, b) => a - b);
      if (ms.length === 0) continue;
      console.log(`| ${type} | ${client} | ${ms.length} | ${secs(ms[0])} | ${secs(percentile(ms, 50))} | ${secs(percentile(ms, 95))} | ${secs(ms[ms.length - 1])} |`);
    }
  }
  const kills = outages.filter((o) => o.type === 'primary kill -9' && o.client === 'portal').map((o) => o.ms).sort((a, b) => a - b);
  console.log(`\nacknowledged writes: ${total}, missing from the final primary: ${lost}; two-primary samples: ${twoPrimaries} of ${samples}`);
  console.log(`summary (minReplicasToWrite ${minReplicasToWrite}): ${outages.length / 2} events, portal p95 after a primary kill ${secs(percentile(kills, 95))}, ${lost} acknowledged writes lost, ${twoPrimaries} split-brain samples`);
}

main().catch(async (e) => {
  console.error(e);
  await killAll().catch(() => undefined);
  await cleanupAll().catch(() => undefined);
  process.exit(1);
});

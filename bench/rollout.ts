/**
 * npm run bench:rollout [-- --rounds N] [-- --only config,image,...] [-- --modes with,without]
 *
 * Day-2 changes on the live harness (the plan's pods, real redis-server, redis-sentinel and
 * haproxy, one network namespace per pod), applied as the controllers apply them: the plan is
 * synthesized again with the change, the ConfigMaps of running pods are updated, then the
 * StatefulSets roll one pod at a time, highest ordinal first (preStop hook, SIGTERM, a new pod at a
 * new address, awaited until ready) and the portal Deployment rolls one pod at a time.
 *
 * Scale-in always removes the primary (it is moved to the highest ordinal first). Each change kind
 * runs N rounds twice: with the library's preStop hooks (the primary hands its
 * role over, a portal leaves the Service before it stops), and without them (what a pod without
 * hooks gets: SIGTERM only, which is how the library behaved before). Two real applications write
 * throughout, 5 ms apart: ioredis through the sentinels' Service and node-redis through the TLS
 * portal's Service, configured only from what the plan publishes.
 *
 * Prints, per change kind, mode and client, the client-observed outage (the longest time between
 * two acknowledged writes during the change) as min / median / max, the acknowledged writes
 * missing from the primary afterwards, and the 100 ms samples in which two members answered as
 * primary. Needs root (network namespaces); about 2 minutes per round.
 */
import { Day2Fixture, describeMeasured, describeRoll, Measured } from '../test/live/day2-fixture';
import { PodReplacement } from '../test/live/sentinel-topology';
import { cleanupAll } from '../test/live/harness/netns';
import { killAll } from '../test/live/harness/pod';
import { HaproxyPortalProps, SentinelRedisProps } from '../lib';

type Kind = 'config' | 'image' | 'members up' | 'members down' | 'sentinels up' | 'sentinels down' | 'portal';
const KINDS: Kind[] = ['config', 'image', 'members up', 'members down', 'sentinels up', 'sentinels down', 'portal'];

interface Result { kind: Kind; handover: boolean; m: Measured }
/** A change after which the topology did not recover within the harness's bounds. */
interface Stuck { kind: Kind; handover: boolean; error: string }

function arg(argv: string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
}

function parseRounds(argv: string[]): number {
  const rounds = Number(arg(argv, '--rounds') ?? 2);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 10) throw new Error(`--rounds must be an integer in 1..10, got ${arg(argv, '--rounds')}`);
  return rounds;
}

function parseOnly(argv: string[]): Kind[] {
  const only = arg(argv, '--only');
  if (only === undefined) return KINDS;
  const kinds = only.split(',').map((k) => k.trim().replace(/-/g, ' '));
  for (const k of kinds) if (!KINDS.includes(k as Kind)) throw new Error(`--only takes ${KINDS.map((x) => x.replace(/ /g, '-')).join(', ')}; got ${k}`);
  return kinds as Kind[];
}

/** --modes with,without (default both): with the library's preStop hooks, without them, or both. */
function parseModes(argv: string[]): boolean[] {
  const modes = (arg(argv, '--modes') ?? 'with,without').split(',').map((x) => x.trim());
  for (const m of modes) if (m !== 'with' && m !== 'without') throw new Error(`--modes takes with, without or both; got ${m}`);
  return [true, false].filter((h) => modes.includes(h ? 'with' : 'without'));
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const rounds = parseRounds(argv);
  const kinds = parseOnly(argv);
  const results: Result[] = [];
  const stuck: Stuck[] = [];
  for (const handover of parseModes(argv)) {
    const f = await Day2Fixture.boot({ prefix: handover ? 'bro' : 'brn', subnetIndex: handover ? 24 : 25, password: 'bench-rollout-pw' });
    const t = f.t;
    let flip = 0;
    /** One change: replan, then roll what the controllers roll, all at once. */
    const change = async (kind: Kind, props: Partial<SentinelRedisProps>, portalProps?: Partial<HaproxyPortalProps>) => {
      const label = `${handover ? 'hook' : 'nohook'}-${kind.replace(/ /g, '-')}-${flip++}`;
      let changed = 0;
      let rolled: PodReplacement[][] = [];
      const m = await f.underLoad(label, async () => {
        const before = portalProps ? await f.replanPortal(portalProps) : await t.replan(props);
        rolled = await Promise.all([
          t.rollStatefulSet('data', before, { handover }),
          f.rollSentinels(before, { handover }),
          f.rollPortals(before, { drain: handover }),
        ]);
        changed = rolled.reduce((n, r) => n + r.length, 0) + Math.abs(Number(t.plan.statefulSet(t.dataSts).spec.replicas) - Number(before.statefulSet(t.dataSts).spec.replicas));
      });
      // A change that replaces or adds no pod measures nothing: a bench bug, not a figure.
      if (changed === 0) throw new Error(`${label}: the change rolled no pod`);
      console.log(`  ${describeMeasured(`${kind} (${handover ? 'with' : 'without'} hooks)`, m)}`);
      // Over a second: what each replaced pod did, and the handover's own timing line.
      if (Math.max(m.outageMs.sentinels, m.outageMs.portal) > 1000) console.log(`    ${describeRoll(rolled.flat()).split('\n').join('\n    ')}`);
      results.push({ kind, handover, m });
    };
    /** One change of `kind`, from whatever the previous one left. */
    /** How many changes of each kind ran so far: each alternates between two values, so each one changes something. */
    const runs = new Map<Kind, number>();
    const runKind = async (kind: Kind): Promise<void> => {
      const even = (runs.get(kind) ?? 0) % 2 === 0;
      runs.set(kind, (runs.get(kind) ?? 0) + 1);
      if (kind === 'config') await change(kind, { maxmemoryRatio: even ? 0.7 : 0.75 });
      if (kind === 'image') await change(kind, { image: even ? 'redis:7.2.8' : 'redis:7.2.9' });
      if (kind === 'members up') await change(kind, { dataMembers: 3 });
      if (kind === 'members down') {
        // The harder case: the member that scale-in removes is the primary.
        if (t.dataCount === 3) await t.promote(2);
        await change(kind, { dataMembers: 2 });
      }
      if (kind === 'sentinels up') await change(kind, { sentinels: 5 });
      if (kind === 'sentinels down') await change(kind, { sentinels: 3 });
      // A portal-only change: its idle-client timeout (haproxy.cfg).
      if (kind === 'portal') await change(kind, {}, { clientTimeoutSeconds: even ? 3000 : 3600 });
    };
    try {
      rounds: for (let r = 1; r <= rounds; r++) {
        console.log(`${handover ? 'with' : 'without'} preStop hooks, round ${r} of ${rounds}`);
        for (const kind of kinds) {
          try {
            await runKind(kind);
          } catch (e) {
            // The topology is in an unknown state: this mode ends here, the figures so far are kept.
            const error = (e as Error).message.split('\n')[0];
            console.log(`  ${kind} (${handover ? 'with' : 'without'} hooks): did not recover: ${error}`);
            stuck.push({ kind, handover, error });
            break rounds;
          }
        }
      }
    } finally {
      await f.destroy().catch(() => undefined);
    }
  }
  await killAll().catch(() => undefined);
  await cleanupAll().catch(() => undefined);

  console.log('\nclient-observed outage (longest time between two acknowledged writes during the change), writes lost, two-primary samples:');
  console.log('| change | preStop hooks | client | n | min | median | max | writes lost | two-primary samples |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const kind of kinds) {
    for (const handover of [true, false]) {
      const rs = results.filter((r) => r.kind === kind && r.handover === handover);
      if (rs.length === 0) continue;
      for (const client of ['sentinels', 'portal'] as const) {
        const ms = rs.map((r) => r.m.outageMs[client]).sort((a, b) => a - b);
        const lost = rs.reduce((n, r) => n + r.m.lost[client], 0);
        const two = rs.reduce((n, r) => n + r.m.twoPrimarySamples, 0);
        const samples = rs.reduce((n, r) => n + r.m.samples, 0);
        const name = client === 'sentinels' ? 'ioredis via the sentinels' : 'node-redis via the portal';
        console.log(`| ${kind} | ${handover ? 'yes' : 'no'} | ${name} | ${ms.length} | ${secs(ms[0])} | ${secs(ms[Math.floor((ms.length - 1) / 2)])} | ${secs(ms[ms.length - 1])} | ${lost} | ${client === 'sentinels' ? `${two} of ${samples}` : ''} |`);
      }
    }
  }
  for (const x of stuck) console.log(`| ${x.kind} | ${x.handover ? 'yes' : 'no'} | both | did not recover: ${x.error} |`);
  const lostWith = results.filter((r) => r.handover).reduce((n, r) => n + r.m.lost.sentinels + r.m.lost.portal, 0);
  const ackedWith = results.filter((r) => r.handover).reduce((n, r) => n + r.m.acked.sentinels + r.m.acked.portal, 0);
  console.log(`\nsummary: with hooks ${ackedWith} writes acknowledged, ${lostWith} lost; ${results.length} changes in ${rounds} round(s)`);
}

main().catch(async (e) => {
  console.error(e);
  await killAll().catch(() => undefined);
  await cleanupAll().catch(() => undefined);
  process.exit(1);
});

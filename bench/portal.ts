/**
 * npm run bench:portal [-- --requests N --repeats R]
 *
 * Throughput through the HaproxyPortal with TLS, beside Redis's own TLS port on the same primary,
 * from one run on the live harness (the plan's portal pods, Debian's haproxy and redis-server,
 * one network namespace per pod). redis-benchmark -c 50, SET and GET, pipeline 1 and 16; each
 * figure is the median of R runs, targets interleaved so drift hits all of them alike.
 *
 * Besides the defaults it measures the tuning variants that were tried, so what helped is a
 * figure too: 1 vs 2 HAProxy threads, 16 KiB vs 64 KiB buffers. Needs root.
 */
import * as fs from 'fs';
import { cleanupAll } from '../test/live/harness/netns';
import { killAll, logsSummary } from '../test/live/harness/pod';
import { execIn } from '../test/live/harness/client';
import { LiveSentinelRedis } from '../test/live/sentinel-topology';
import { LivePortals } from '../test/live/portal-topology';
import { HaproxyPortal, HaproxyPortalProps } from '../lib';

interface Variant {
  deployment: string;
  label: string;
  props: Partial<HaproxyPortalProps>;
}

const VARIANTS: Variant[] = [
  { deployment: 'cache-portal', label: 'portal, defaults', props: {} },
  { deployment: 'cache-portal-t1', label: 'portal, 1 thread', props: { threads: 1 } },
  { deployment: 'cache-portal-b64', label: 'portal, 64 KiB buffers', props: { bufferSize: 65536 } },
];

function arg(name: string, def: number, min: number, max: number): number {
  const at = process.argv.indexOf(name);
  const v = at >= 0 ? Number(process.argv[at + 1]) : def;
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer in ${min}..${max}`);
  return v;
}

/** CPU seconds used so far by every process whose name is in `names` (from /proc, clock ticks at 100 Hz). */
function cpuSeconds(names: string[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!(comm in out)) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[comm] += (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      // gone
    }
  }
  return out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** What the cluster DNS and the portals' server states did since the portals started. */
let dnsReport: () => Promise<string> = async () => 'cluster DNS: not started';

async function main(): Promise<void> {
  const requests = arg('--requests', 100_000, 1000, 10_000_000);
  const repeats = arg('--repeats', 3, 1, 15);
  const password = 'bench-portal-pw';
  const t = await LiveSentinelRedis.boot({
    prefix: 'bpo',
    subnetIndex: 23,
    password,
    extend: (stack, redis) => {
      for (const v of VARIANTS) new HaproxyPortal(stack, `Portal-${v.deployment}`, { backend: redis, name: v.deployment, ...v.props });
    },
  });
  try {
    await t.startAll();
    const primary = await t.waitForHealthy('the topology', 60_000);
    const portals: Array<{ v: Variant; p: LivePortals }> = [];
    for (const v of VARIANTS) {
      const p = await LivePortals.create(t, v.deployment, 1);
      await p.startAll();
      portals.push({ v, p });
    }
    // What the emulated cluster DNS did and what the portals made of it (issue 10: a slow DNS once
    // put the primary in maintenance mid-run): queries, and every server state change logged.
    const logMarks = portals.map(({ p }) => p.logMark(p.pods[0]));
    const dnsBefore = await t.net.dnsStats();
    dnsReport = async () => {
      const dns = await t.net.dnsStats().then((d) => `${d.queries - dnsBefore.queries} queries, ${d.dropped - dnsBefore.dropped} unanswered, ${d.failed - dnsBefore.failed} failed`, (e: Error) => `not answering: ${e.message}`);
      const changes = portals.flatMap(({ p }, i) => p.logSince(p.pods[0], logMarks[i]).split('\n')
        .filter((l) => /maintenance|DNS|no server available|is DOWN|is UP|changed its IP/.test(l) && !l.startsWith('[')).map((l) => `  ${p.pods[0]}: ${l}`));
      return `cluster DNS during the run: ${dns}; portal server state changes: ${changes.length === 0 ? 'none' : `\n${changes.join('\n')}`}`;
    };
    const certs = portals[0].p.certs;
    // Redis's own TLS port on the primary, with a certificate from the same CA.
    for (const f of [certs.keyFile, certs.certFile, certs.caFile]) fs.chmodSync(f, 0o644);
    const host = t.dataHost(primary);
    for (const [k, v] of [['tls-cert-file', certs.certFile], ['tls-key-file', certs.keyFile], ['tls-ca-cert-file', certs.caFile], ['tls-auth-clients', 'no'], ['tls-port', '6390']]) {
      const r = await t.cli(host, t.redisPort, ['CONFIG', 'SET', k, v]);
      if (r.stdout.trim() !== 'OK') throw new Error(`CONFIG SET ${k} on ${host}: ${r.stdout}${r.stderr}`);
    }
    for (const { p } of portals) {
      const ping = await p.cli(p.pods[0], ['PING']);
      if (ping.stdout.trim() !== 'PONG') throw new Error(`portal ${p.pods[0]} does not answer: ${ping.stdout}${ping.stderr}`);
    }

    // Each portal's certificate comes from its own test CA.
    type Target = { label: string; host: string; port: number; sni: string; caFile: string };
    const targets: Target[] = [
      { label: 'Redis native TLS', host, port: 6390, sni: portals[0].p.serviceHost, caFile: certs.caFile },
      ...portals.map(({ v, p }) => ({ label: v.label, host: p.podHost(p.pods[0]), port: p.port, sni: p.serviceHost, caFile: p.certs.caFile })),
    ];
    console.log(`bench:portal: redis-benchmark -n ${requests} -c 50, median of ${repeats}; one network namespace per pod, Debian redis-server and haproxy`);
    const results = new Map<string, number[]>();
    for (let r = 0; r < repeats; r++) {
      for (const pipeline of [1, 16]) {
        for (const target of targets) {
          const before = cpuSeconds(['redis-server', 'haproxy']);
          const out = await execIn(t.clientNs, ['redis-benchmark', '-h', target.host, '-p', String(target.port), '--tls', '--cacert', target.caFile, '--sni', target.sni,
            '-a', password, '-n', String(requests), '-c', '50', '-P', String(pipeline), '-t', 'set,get', '--csv'], { timeoutMs: 120_000 });
          if (out.code !== 0) {
            const haproxy = logsSummary(20).split('\n').filter((l) => /haproxy|Server|backend|ALERT/.test(l)).join('\n');
            throw new Error(`redis-benchmark against ${target.label}, pipeline ${pipeline}: ${out.stderr}\n${haproxy}\n${await dnsReport()}`);
          }
          const after = cpuSeconds(['redis-server', 'haproxy']);
          for (const proc of ['redis-server', 'haproxy']) {
            const key = `${target.label}|P${pipeline}|cpu-${proc}`;
            results.set(key, [...(results.get(key) ?? []), ((after[proc] - before[proc]) * 1e6) / (2 * requests)]);
          }
          for (const line of out.stdout.split('\n')) {
            const m = /^"(SET|GET)","([0-9.]+)"/.exec(line);
            if (!m) continue;
            const key = `${target.label}|P${pipeline}|${m[1]}`;
            results.set(key, [...(results.get(key) ?? []), Number(m[2])]);
          }
        }
      }
    }
    const rows: string[][] = [];
    for (const pipeline of [1, 16]) {
      for (const op of ['SET', 'GET']) {
        const native = median(results.get(`Redis native TLS|P${pipeline}|${op}`) ?? [NaN]);
        const row = [`P${pipeline} ${op}`, `${(native / 1000).toFixed(1)}k`];
        for (const { v } of portals) {
          const ops = median(results.get(`${v.label}|P${pipeline}|${op}`) ?? [NaN]);
          row.push(`${(ops / 1000).toFixed(1)}k (${(ops / native).toFixed(2)})`);
        }
        rows.push(row);
      }
    }
    const header = ['ops/s', 'Redis native TLS', ...portals.map(({ v }) => v.label)];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
    console.log(`\n${fmt(header)}\n${rows.map(fmt).join('\n')}`);
    const ratios = rows.map((r) => Number(/\(([0-9.]+)\)/.exec(r[2])![1]));
    const met = ratios.filter((r) => r >= 0.75).length;
    console.log(`\nportal with the defaults / Redis native TLS: min ${Math.min(...ratios).toFixed(2)}, median ${median(ratios).toFixed(2)}; target 0.75 met on ${met} of ${ratios.length} rows`);
    console.log(`\n${await dnsReport()}`);
    console.log('\nCPU per request (microseconds, SET and GET together; the 2 cores are shared by redis-benchmark, redis-server and haproxy):');
    for (const pipeline of [1, 16]) {
      for (const label of ['Redis native TLS', VARIANTS[0].label]) {
        const cpu = (proc: string) => median(results.get(`${label}|P${pipeline}|cpu-${proc}`) ?? [NaN]);
        console.log(`  P${pipeline} ${label.padEnd(18)} redis-server ${cpu('redis-server').toFixed(1)}  haproxy ${cpu('haproxy').toFixed(1)}`);
      }
    }
  } finally {
    await t.destroy().catch(() => undefined);
    await killAll().catch(() => undefined);
    await cleanupAll().catch(() => undefined);
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});

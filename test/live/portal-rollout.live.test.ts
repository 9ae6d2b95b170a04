/**
 * Portal rollouts, live (issue 11): the portal Deployment is rolled to a changed pod template the
 * way the Deployment controller and the kubelet do it (see rollPortals: one pod at a time, the
 * Service drops the deleted pod a second later as kube-proxy would, preStop hook, SIGTERM, the
 * replacement from the new plan until its readiness probe passes). Clients write through the
 * Service's name throughout. Every old pod must exit within 3 s of SIGTERM (it used to take the
 * kubelet's SIGKILL after 30 s), no acknowledged write may be lost, and the longest gap between
 * acknowledgements is printed (only a loose bound is asserted; figures come from benchmarks).
 */
import { execIn } from './harness/client';
import { LiveSuite } from './live-suite';
import { LiveSentinelRedis, synthesizeLive } from './sentinel-topology';
import { bootWithPortals, LivePortals, rollPortals } from './portal-topology';
import { HaproxyPortal } from '../../lib';

jest.setTimeout(120_000);

const suite = new LiveSuite('Portal rollout live test', 60);
const PASSWORD = 'live-portal-roll-pw-4Tq';
/** kube-proxy's delay in dropping a deleted pod, well inside the default 5 s drain. */
const ENDPOINT_LAG_MS = 1000;

let t: LiveSentinelRedis;
let p: LivePortals;
let primary = 0;
const [A, B] = ['cache-portal-a', 'cache-portal-b'];

/** The longest time without an acknowledgement between `from` and `to` (from the last one before `from`). */
function longestGap(acks: ReadonlyArray<{ t: number }>, from: number, to: number): number {
  let prev = [...acks].reverse().find((a) => a.t < from)?.t ?? from;
  let gap = 0;
  for (const a of acks) {
    if (a.t <= prev) continue;
    if (a.t > to) {
      gap = Math.max(gap, a.t - prev);
      break;
    }
    gap = Math.max(gap, a.t - prev);
    prev = a.t;
  }
  return gap;
}

/**
 * An idle client connection through the Service: TLS, AUTH and PING, then nothing. Resolves with
 * what happened to it, once it is closed (or after `timeoutMs`).
 */
function idleConnection(timeoutMs: number): Promise<Array<{ e: string; t: number }>> {
  const script = [
    "const tls = require('tls'); const fs = require('fs'); const c = JSON.parse(process.env.IDLE);",
    'const ev = []; const note = (e) => ev.push({ e, t: Date.now() });',
    'const s = tls.connect({ host: c.host, port: c.port, ca: fs.readFileSync(c.ca), servername: c.host });',
    "let buf = '';",
    "s.on('secureConnect', () => { note('connected'); s.write('*2\\r\\n$4\\r\\nAUTH\\r\\n$' + Buffer.byteLength(c.pw) + '\\r\\n' + c.pw + '\\r\\n*1\\r\\n$4\\r\\nPING\\r\\n'); });",
    "s.on('data', (d) => { buf += d; if (buf.includes('+PONG')) { note('pong'); buf = ''; } });",
    "s.on('end', () => note('end'));",
    "s.on('error', (e) => note('error ' + (e.code || e.message)));",
    "s.on('close', () => { note('close'); console.log(JSON.stringify(ev)); process.exit(0); });",
    `setTimeout(() => { note('still open'); console.log(JSON.stringify(ev)); process.exit(0); }, ${timeoutMs - 2000});`,
  ].join('\n');
  const cfg = { host: p.serviceHost, port: p.port, ca: p.certs.caFile, pw: PASSWORD };
  return execIn(t.clientNs, [process.execPath, '-e', script], { timeoutMs, env: { IDLE: JSON.stringify(cfg) } }).then((r) => {
    if (r.code !== 0) throw new Error(`idle connection: exit ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  });
}

beforeAll(async () => {
  if (!suite.ready()) return;
  ({ t, p, primary } = await bootWithPortals({
    prefix: 'rtr',
    password: PASSWORD,
    subnetIndex: 15,
    extend: (stack, redis) => {
      new HaproxyPortal(stack, 'Portal', { backend: redis });
    },
    what: 'the SentinelRedis behind the portals',
  }));
});

afterAll(() => suite.cleanup(p, t));

test('a rolling update of the portals: each old pod drains and exits within 3 s of SIGTERM; clients through the Service lose no write', () =>
  suite.run(async () => {
    // The pull request: a changed portal prop, so the pod template (its checksum) changes.
    const newPlan = synthesizeLive({}, (stack, redis) => {
      new HaproxyPortal(stack, 'Portal', { backend: redis, clientTimeoutSeconds: 1800 });
    }).plan;
    const template = (plan: typeof newPlan) => plan.deployment(p.deployment).spec.template.metadata.annotations;
    expect(template(newPlan)).not.toEqual(template(t.plan));
    const oldSpec = p.spec(A);
    expect(oldSpec.preStop).toEqual(['sh', '/etc/redis-topologies/config/portal-prestop.sh']);

    // One client on each old pod (the Service pointed at it when it connected), and an idle one on A.
    const loop = { maxWrites: 200_000, maxSeconds: 80, intervalMs: 5, retryMs: 50 };
    t.net.setService(p.serviceHost, A);
    const idle = idleConnection(60_000);
    const wa = p.serviceWriter({ keyPrefix: 'roll-a', ...loop });
    const writers = [wa];
    let rollFrom = 0;
    let rollTo = 0;
    let result: Awaited<ReturnType<typeof rollPortals>> | undefined;
    try {
      await wa.waitForAcks(20, 20_000);
      t.net.setService(p.serviceHost, B);
      const wb = p.serviceWriter({ keyPrefix: 'roll-b', ...loop });
      writers.push(wb);
      await wb.waitForAcks(20, 20_000);
      expect([wa, wb].map((w) => w.ackEvents()[0].addr)).toEqual([`${p.serviceHost}:${p.port}`, `${p.serviceHost}:${p.port}`]);

      rollFrom = Date.now();
      result = await rollPortals(p, newPlan, { endpointLagMs: ENDPOINT_LAG_MS, log: (line) => console.log(`roll: ${line}`) });
      rollTo = Date.now();
      for (const w of writers) await w.waitForAcks(w.acked().length + 50, 20_000);
    } finally {
      const summaries = [];
      for (const w of writers) summaries.push(await w.stop());
      for (const [i, s] of summaries.entries()) expect(await t.missingKeys(primary, ['roll-a', 'roll-b'][i], s.acked)).toEqual([]);
    }
    const r = result!;
    const gaps = writers.map((w) => longestGap(w.ackEvents(), rollFrom, rollTo));
    const errors = writers.flatMap((w) => w.errors().filter((e) => e.t >= rollFrom && e.t <= rollTo));
    const idleEvents = await idle;
    const firstA = r.replaced[0];
    console.log(`portal rollout (${r.replaced.map((x) => `${x.pod} -> ${x.replacement}`).join(', ')}) in ${r.totalMs} ms: `
      + `exit after SIGTERM ${r.exitMs.join(' and ')} ms; preStop ${r.replaced.map((x) => x.preStopMs).join(' and ')} ms; `
      + `replacements ready after ${r.replaced.map((x) => x.readyMs).join(' and ')} ms; `
      + `longest gap between acknowledged writes through the Service ${gaps.join(' and ')} ms; `
      + `${writers.map((w) => w.acked().length).join(' + ')} writes acknowledged, 0 lost; client errors during the roll: ${errors.length}`
      + (errors.length > 0 ? ` (${[...new Set(errors.map((e) => e.msg))].join('; ')})` : ''));
    console.log(`idle connection on ${A}: ${idleEvents.map((e) => `${e.e} ${e.t - firstA.sigtermAt} ms`).join(', ')} (times from ${A}'s SIGTERM)`);

    // Every old pod drained for the preStop delay and then stopped on SIGTERM, long before SIGKILL.
    for (const x of r.replaced) {
      expect({ pod: x.pod, preStopCode: x.preStopCode, drainedMs: x.preStopMs >= 5000, exit: x.exit }).toEqual({ pod: x.pod, preStopCode: 0, drainedMs: true, exit: { code: 0, signal: null } });
      expect({ pod: x.pod, exitMs: x.exitMs, within3s: x.exitMs < 3000 }).toEqual({ pod: x.pod, exitMs: x.exitMs, within3s: true });
      expect(x.preStopOutput).toBe('portal: preStop: serving 5 s more while the Service drops this pod\n');
      const log = p.container(x.pod)!.logs();
      expect(log).toContain('portal: stopping: listeners closed, open connections get 1 s');
      expect(log).toContain('portal: stopping HAProxy: open connections are closed');
    }
    // Clients barely noticed: a reconnect each (a generous bound only; benchmarks measure it).
    for (const g of gaps) expect(g).toBeLessThan(5000);
    // The idle connection was served through the drain and closed cleanly (FIN, no reset) by the stop.
    expect(idleEvents.map((e) => e.e)).toEqual(['connected', 'pong', 'end', 'close']);
    expect(idleEvents[2].t).toBeGreaterThanOrEqual(firstA.sigtermAt);
    // The replacements run the new template and route to the primary.
    for (const pod of r.replacements) {
      const config = p.spec(pod).volumeMounts.find((m) => m.mountPath === '/etc/redis-topologies/config')!.volume;
      expect(config.kind === 'files' && config.files['haproxy.cfg']).toContain('timeout client 1800s');
      expect((await p.cli(pod, ['PING'])).stdout.trim()).toBe('PONG');
      expect(await p.serversUp(pod)).toEqual([`cache-${primary}`]);
    }
    expect(p.running()).toEqual(r.replacements);
  }));

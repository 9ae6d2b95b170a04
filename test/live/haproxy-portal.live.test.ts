/**
 * HaproxyPortal, live: two portal pods run the plan's haproxy.cfg and entrypoint with Debian's
 * haproxy, in front of a live SentinelRedis from the same plan, each pod in its own network
 * namespace. Certificates come from openssl with the SANs of the plan's certificate request.
 */
import { execIn, waitFor } from './harness/client';
import { LiveSuite } from './live-suite';
import { EmulatedContainer } from './harness/pod';
import { DnsFailureMode } from './harness/netns';
import { sleep } from './harness/proc';
import { LiveSentinelRedis } from './sentinel-topology';
import { bootWithPortals, LivePortals, makeCertificates } from './portal-topology';
import { HaproxyPortal } from '../../lib';

jest.setTimeout(180_000);

const suite = new LiveSuite('HaproxyPortal live test', 40);
const PASSWORD = 'live-portal-pw-9Zk';

let t: LiveSentinelRedis;
let p: LivePortals;
let primary = 0;
const [A, B] = ['cache-portal-a', 'cache-portal-b'];
const server = (i: number) => `cache-${i}`;

async function waitForRotation(expected: number, what: string, pods = [A, B]): Promise<void> {
  await waitFor(async () => {
    for (const pod of pods) if ((await p.serversUp(pod)).join() !== server(expected)) return false;
    return true;
  }, { timeoutMs: 30_000, intervalMs: 200, what });
}

beforeAll(async () => {
  if (!suite.ready()) return;
  console.log('HaproxyPortal live test: one Linux network namespace per pod, emulated cluster DNS for HAProxy\'s resolvers');
  ({ t, p, primary } = await bootWithPortals({
    prefix: 'rtp',
    password: PASSWORD,
    subnetIndex: 12,
    extend: (stack, redis) => {
      new HaproxyPortal(stack, 'Portal', { backend: redis });
      // Slow checks widen HAProxy's start-up window (every server UP until its first check, which
      // comes at a random point of the first interval), so the start-up test can see a misroute.
      new HaproxyPortal(stack, 'SlowCheckPortal', { backend: redis, name: 'slowcheck', healthCheck: { intervalMs: 5000 } });
    },
    what: 'the SentinelRedis behind the portals',
  }));
  await waitForRotation(primary, 'both portals routing to the primary only');
});

afterAll(() => suite.cleanup(p, t));

test('the portal pods run as the plan says: uid 99, the entrypoint, no password in the ConfigMap', () =>
  suite.run(async () => {
    const spec = p.containerSpec(A);
    expect(spec.command).toEqual(['sh', '/etc/redis-topologies/config/portal-entrypoint.sh']);
    expect(spec.runAsUser).toBe(99);
    // A deleted portal keeps serving while the Service drops it, then stops within the grace period.
    expect(spec.preStop).toEqual(['sh', '/etc/redis-topologies/config/portal-prestop.sh']);
    expect(spec.terminationGraceSeconds).toBe(11);
    const config = spec.volumeMounts.find((m) => m.mountPath === '/etc/redis-topologies/config')!.volume;
    expect(config.kind === 'files' && Object.values(config.files).join('\n')).not.toContain(PASSWORD);
  }));

test('writes through either portal land on the primary; replicas are never in rotation', () =>
  suite.run(async () => {
    const wa = p.writer(A, { keyPrefix: 'via-a', maxWrites: 200, maxSeconds: 30, intervalMs: 2 });
    const wb = p.writer(B, { keyPrefix: 'via-b', maxWrites: 200, maxSeconds: 30, intervalMs: 2 });
    const [sa, sb] = await Promise.all([wa.done, wb.done]);
    expect([sa.acked.length, sb.acked.length]).toEqual([200, 200]);
    expect(await t.missingKeys(primary, 'via-a', sa.acked)).toEqual([]);
    expect(await t.missingKeys(primary, 'via-b', sb.acked)).toEqual([]);
    for (const pod of [A, B]) {
      expect(await p.serversUp(pod)).toEqual([server(primary)]);
      expect(await p.serverSessions(pod, server(1 - primary))).toBe(0);
      expect(await p.serverSessions(pod, server(primary))).toBeGreaterThan(0);
    }
    // The portal passes Redis auth through: without the password, NOAUTH.
    const noAuth = await execIn(t.clientNs, ['redis-cli', '--no-auth-warning', '--tls', '--cacert', p.certs.caFile, '--sni', p.serviceHost,
      '-h', p.podHost(A), '-p', String(p.port), 'GET', 'via-a:1']);
    expect(noAuth.stdout + noAuth.stderr).toMatch(/NOAUTH/);
  }));

let killedPrimary = -1;

test('kill -9 of the primary: writes through the portal succeed again within 10 s; no acknowledged write lost', () =>
  suite.run(async () => {
    const w = p.writer(A, { keyPrefix: 'failover', maxWrites: 20_000, maxSeconds: 60, intervalMs: 5, retryMs: 50 });
    let killedAt = 0;
    try {
      await w.waitForAcks(50);
      killedAt = Date.now();
      await t.kill('data', primary);
      killedPrimary = primary;
      await waitFor(async () => w.ackEvents().some((a) => a.t > killedAt + 100), { timeoutMs: 10_000, intervalMs: 50, what: 'a write through the portal within 10 s of the kill' });
      await w.waitForAcks(w.acked().length + 20);
    } finally {
      const summary = await w.stop();
      const first = w.ackEvents().find((a) => a.t > killedAt + 100);
      console.log(`failover through the portal: first write ${first ? first.t - killedAt : NaN} ms after kill -9 of the primary`);
      primary = 1 - killedPrimary;
      expect(await t.missingKeys(primary, 'failover', summary.acked)).toEqual([]);
    }
    await waitForRotation(primary, 'both portals routing to the new primary');
  }));

/** UP/DOWN transitions of a server of the portal's backend, from HAProxy's own counter. */
async function upDownTransitions(pod: string, member: number): Promise<number> {
  return (await p.metrics(pod)).get(`haproxy_server_check_up_down_total{proxy="redis_primary",server="${server(member)}"}`) ?? NaN;
}

test('the restarted old primary receives no client connection through the portal', () =>
  suite.run(async () => {
    const wa = p.writer(A, { keyPrefix: 'after-a', maxWrites: 100_000, maxSeconds: 60, intervalMs: 5, retryMs: 50 });
    const wb = p.writer(B, { keyPrefix: 'after-b', maxWrites: 100_000, maxSeconds: 60, intervalMs: 5, retryMs: 50 });
    const transitionsBefore = new Map<string, number>();
    const sessionsBefore = new Map<string, number>();
    const seenUp: string[] = [];
    let watching = true;
    // HAProxy sends a session only to a server it has UP: watch both portals through the restart.
    const watch = (async () => {
      for (let n = 0; watching && n < 1000; n++) {
        for (const pod of [A, B]) if ((await p.serversUp(pod)).includes(server(killedPrimary))) seenUp.push(`${pod} at ${new Date().toISOString()}`);
        await sleep(100);
      }
    })();
    try {
      await wa.waitForAcks(20);
      await wb.waitForAcks(20);
      for (const pod of [A, B]) {
        transitionsBefore.set(pod, await upDownTransitions(pod, killedPrimary));
        sessionsBefore.set(pod, await p.serverSessions(pod, server(killedPrimary)));
      }
      await t.start('data', killedPrimary, true);
      await t.waitForHealthy('the old primary back as a replica', 60_000);
      await sleep(2000);
    } finally {
      watching = false;
      await watch;
      const [sa, sb] = [await wa.stop(), await wb.stop()];
      expect(sa.acked.length + sb.acked.length).toBeGreaterThan(100);
      expect(await t.missingKeys(primary, 'after-a', sa.acked)).toEqual([]);
      expect(await t.missingKeys(primary, 'after-b', sb.acked)).toEqual([]);
    }
    expect(seenUp).toEqual([]);
    for (const pod of [A, B]) {
      // Never UP again in either portal: no transition since the failover marked it DOWN.
      expect({ pod, transitions: await upDownTransitions(pod, killedPrimary) }).toEqual({ pod, transitions: transitionsBefore.get(pod) });
      expect(await p.serversUp(pod)).toEqual([server(primary)]);
      console.log(`${pod}: sessions counted for ${server(killedPrimary)} during its restart: ${(await p.serverSessions(pod, server(killedPrimary))) - sessionsBefore.get(pod)!}`);
    }
    // And on the member itself: a client write routed to it, now a replica, would have been refused
    // with READONLY; replication's own writes are never refused.
    const errors = await t.cli(t.dataHost(killedPrimary), t.redisPort, ['INFO', 'errorstats']);
    expect(errors.stdout).not.toMatch(/READONLY/);
    const setStats = (await t.cli(t.dataHost(killedPrimary), t.redisPort, ['INFO', 'commandstats'])).stdout.split(/\r?\n/).find((l) => l.startsWith('cmdstat_set:')) ?? '';
    expect(setStats).not.toMatch(/rejected_calls=[1-9]/);
  }));

test('a primary that crashes and restarts at once never comes back into rotation', () =>
  suite.run(async () => {
    const old = primary;
    const upDown = (pod: string) => upDownTransitions(pod, old);
    const before = new Map<string, number>();
    for (const pod of [A, B]) before.set(pod, await upDown(pod));
    const w = p.writer(B, { keyPrefix: 'fast', maxWrites: 50_000, maxSeconds: 60, intervalMs: 5, retryMs: 50 });
    try {
      await w.waitForAcks(20);
      await t.kill('data', old);
      await t.start('data', old, true); // back at once: it waits for the failover instead of serving
      primary = await t.waitForHealthy('a failover, the restarted member a replica', 60_000);
      expect(primary).not.toBe(old);
      await waitForRotation(primary, 'both portals on the new primary');
      await w.waitForAcks(w.acked().length + 20);
    } finally {
      const s = await w.stop();
      expect(await t.missingKeys(primary, 'fast', s.acked)).toEqual([]);
    }
    // One transition (UP -> DOWN) and no more: it was never UP again, so no client reached it.
    for (const pod of [A, B]) expect({ pod, transitions: (await upDown(pod)) - before.get(pod)! }).toEqual({ pod, transitions: 1 });
  }));

/**
 * The longest time without an acknowledged write, from the last acknowledgement before `from` until
 * the last one seen: what a client writing one command at a time experienced as the outage.
 */
function longestGap(acks: ReadonlyArray<{ t: number }>, from: number): number {
  let prev = [...acks].reverse().find((a) => a.t < from)?.t ?? from;
  let gap = 0;
  for (const a of acks) {
    if (a.t <= prev) continue;
    gap = Math.max(gap, a.t - prev);
    prev = a.t;
  }
  return gap;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

// Issue 10: a portal that had resolved a member's name before the member moved kept checking the
// dead address for 30 s (hold obsolete 30s), so once that member was promoted every client was
// refused until then. Each round moves the member that is not primary (a replica, or the primary
// killed in the round before) to a new address as a new pod, waits until the topology is healthy,
// then kills the primary: the moved member is promoted and must be in rotation within seconds.
const MOVE_ROUNDS = Number(process.env.PORTAL_MOVE_ROUNDS ?? 5);

test(`a member is re-created at a new address, later the primary dies and that member is promoted (${MOVE_ROUNDS} rounds): writes resume within 6 s, none lost`, () =>
  suite.run(async () => {
    const outages: number[] = [];
    for (let round = 1; round <= MOVE_ROUNDS; round++) {
      const old = primary;
      const moved = 1 - old;
      // The moved member: a new pod at a new address under the same name (its claim kept).
      await t.kill('data', moved);
      const before = t.net.addressOf(t.podName('data', moved));
      const after = await t.readdress('data', moved);
      const movedAt = Date.now();
      await t.start('data', moved);
      expect(await t.waitForHealthy(`round ${round}: ${server(moved)} back at ${after} as a replica`, 60_000)).toBe(old);
      const w = p.writer(A, { keyPrefix: `move${round}`, maxWrites: 20_000, maxSeconds: 60, intervalMs: 5, retryMs: 50 });
      let killedAt = 0;
      try {
        await w.waitForAcks(30);
        killedAt = Date.now();
        await t.kill('data', old);
        await waitFor(async () => w.ackEvents().some((a) => a.t > killedAt + 100), { timeoutMs: 40_000, intervalMs: 50, what: `round ${round}: a write through the portal after the kill` });
        await w.waitForAcks(w.acked().length + 20);
      } finally {
        const s = await w.stop();
        primary = moved;
        expect(await t.missingKeys(moved, `move${round}`, s.acked)).toEqual([]);
      }
      const outage = longestGap(w.ackEvents(), killedAt);
      outages.push(outage);
      console.log(`move then promote, round ${round}: ${server(moved)} moved ${before} -> ${after} ${((killedAt - movedAt) / 1000).toFixed(1)} s before kill -9 of ${server(old)}; `
        + `client-observed outage through the portal ${outage} ms (first write ${w.ackEvents().find((a) => a.t > killedAt + 100)!.t - killedAt} ms after the kill)`);
      expect({ round, outageMs: outage, withinMs: outage <= 6000 }).toEqual({ round, outageMs: outage, withinMs: true });
      await waitForRotation(moved, `round ${round}: both portals on ${server(moved)}`);
    }
    console.log(`move then promote through the portal, ${outages.length} rounds: outage p50 ${percentile(outages, 50)} ms, p95 ${percentile(outages, 95)} ms, max ${Math.max(...outages)} ms (${outages.join(', ')})`);
    // The member killed last comes back (in place) as a replica for the tests after this one.
    await t.start('data', 1 - primary, true);
    expect(await t.waitForHealthy('the last killed member back as a replica', 60_000)).toBe(primary);
    await waitForRotation(primary, 'both portals on the primary');
  }), 120_000 + MOVE_ROUNDS * 60_000);

// Issue 10: under load the cluster DNS answered late and HAProxy put the primary in maintenance
// ("DNS timeout status"), refusing every client although no address had changed. The emulated
// DNS first stops answering for 12 s (HAProxy's queries time out), then answers SERVFAIL, REFUSED
// and NXDOMAIN for 8 s each: 36 s without a valid answer, longer than the 30 s holds of before.
test('the cluster DNS stops answering, then fails every query, for 36 s while clients write through the portal: no client error, no member in maintenance', () =>
  suite.run(async () => {
    const upDown = async (pod: string, s: string) => (await p.metrics(pod)).get(`haproxy_server_check_up_down_total{proxy="redis_primary",server="${s}"}`) ?? NaN;
    const transitions = new Map<string, number>();
    for (const pod of [A, B]) for (const i of [0, 1]) transitions.set(`${pod}/${server(i)}`, await upDown(pod, server(i)));
    const marks = new Map([A, B].map((pod) => [pod, p.logMark(pod)] as const));
    const writers = [A, B].map((pod) => p.writer(pod, { keyPrefix: `dns-${pod}`, maxWrites: 100_000, maxSeconds: 90, intervalMs: 20, retryMs: 50 }));
    const phases: Array<{ mode: DnsFailureMode; ms: number }> = [
      { mode: 'drop', ms: 12_000 }, { mode: 'servfail', ms: 8000 }, { mode: 'refused', ms: 8000 }, { mode: 'nxdomain', ms: 8000 },
    ];
    try {
      for (const w of writers) await w.waitForAcks(20);
      for (const { mode, ms } of phases) {
        const before = await t.net.dnsStats();
        const from = Date.now();
        await t.net.dnsFailure(mode, ms);
        await sleep(ms + 200);
        const stats = await t.net.dnsStats();
        expect(stats.mode).toBe('normal');
        // The portals did ask, and got no answer or an error.
        const unanswered = mode === 'drop' ? stats.dropped - before.dropped : stats.failed - before.failed;
        console.log(`DNS ${mode} for ${ms} ms: ${unanswered} of the portals' queries ${mode === 'drop' ? 'unanswered' : `answered ${mode.toUpperCase()}`}; `
          + `writes acknowledged meanwhile: ${writers.map((w) => w.ackEvents().filter((a) => a.t >= from && a.t < from + ms).length).join(' and ')}`);
        expect(unanswered).toBeGreaterThan(0);
        for (const [i, w] of writers.entries()) {
          expect({ portal: [A, B][i], mode, errors: w.errors() }).toEqual({ portal: [A, B][i], mode, errors: [] });
          // Writes went on all along: no second without an acknowledgement.
          expect({ portal: [A, B][i], mode, longestGapMs: longestGap(w.ackEvents(), from) < 1000 }).toEqual({ portal: [A, B][i], mode, longestGapMs: true });
        }
      }
      // DNS is back: the portals resolve again, clients are still served.
      const back = await t.net.dnsStats();
      await sleep(3000);
      expect((await t.net.dnsStats()).queries).toBeGreaterThan(back.queries);
      for (const w of writers) await w.waitForAcks(w.acked().length + 20);
    } finally {
      const summaries = [];
      for (const w of writers) summaries.push(await w.stop());
      for (const [i, s] of summaries.entries()) expect(await t.missingKeys(primary, `dns-${[A, B][i]}`, s.acked)).toEqual([]);
    }
    for (const [i, w] of writers.entries()) expect({ portal: [A, B][i], errors: w.errors() }).toEqual({ portal: [A, B][i], errors: [] });
    for (const pod of [A, B]) {
      const log = p.logSince(pod, marks.get(pod)!);
      expect({ pod, stateChanges: log.split('\n').filter((l) => /maintenance|DNS|no server available|is DOWN|is UP/.test(l)) }).toEqual({ pod, stateChanges: [] });
      expect(await p.serversIn(pod, 'MAINT')).toEqual([]);
      expect(await p.serversUp(pod)).toEqual([server(primary)]);
      for (const i of [0, 1]) expect({ pod, server: server(i), transitions: await upDown(pod, server(i)) }).toEqual({ pod, server: server(i), transitions: transitions.get(`${pod}/${server(i)}`) });
    }
  }), 150_000);

test('TLS 1.1 is refused and 1.2 and 1.3 accepted, against a control frontend that does accept 1.1', () =>
  suite.run(async () => {
    // The control: same certificate, ssl-min-ver TLSv1.0 at OpenSSL security level 0.
    const pem = `${p.certs.cert}${p.certs.key}`;
    const cfg = [
      'global', '    log stdout format raw local0 notice',
      'defaults', '    mode tcp', '    timeout connect 3s', '    timeout client 30s', '    timeout server 30s',
      'frontend control', '    bind :6390 ssl crt /etc/control/control.pem ssl-min-ver TLSv1.0 ciphers DEFAULT:@SECLEVEL=0',
      '    default_backend b', 'backend b', `    server s ${t.dataHost(primary)}:6379`, '',
    ].join('\n');
    await t.net.addPod('control', ['control.live.test']);
    const control = new EmulatedContainer(t.net.nsOf('control'), {
      name: 'control-haproxy', command: ['haproxy', '-db', '-f', '/etc/control/haproxy.cfg'], runAsUser: 99, runAsGroup: 99, fsGroup: 99,
      volumeMounts: [{ mountPath: '/etc/control', volume: { kind: 'files', files: { 'haproxy.cfg': cfg, 'control.pem': pem }, mode: 0o440 } }],
    });
    await control.start();
    const hello = (host: string, port: number, ...flags: string[]) => execIn(t.clientNs,
      ['openssl', 's_client', '-connect', `${host}:${port}`, '-servername', p.serviceHost, '-CAfile', p.certs.caFile, ...flags], { timeoutMs: 5000 });
    // "New, TLSv1.3, Cipher is ..." once a handshake completed; "New, (NONE), ..." when refused.
    // A completed handshake names its cipher ("Cipher is (NONE)" when refused); TLS 1.3 sessions
    // show the version on the "New, TLSv1.3" line, earlier ones on the session's Protocol line.
    const protocol = (r: { stdout: string }) => (/Cipher is \(NONE\)/.test(r.stdout) ? undefined
      : /^New, (TLSv1\.3), Cipher is/m.exec(r.stdout)?.[1] ?? /^\s*Protocol\s*:\s*(\S+)/m.exec(r.stdout)?.[1]);
    const tls11 = ['-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0'];
    await waitFor(async () => (await hello('control.live.test', 6390, ...tls11)).code === 0, { timeoutMs: 10_000, what: 'the control frontend' });
    const controlHello = await hello('control.live.test', 6390, ...tls11);
    expect(protocol(controlHello)).toBe('TLSv1.1');
    for (const pod of [A, B]) {
      const refused = await hello(p.podHost(pod), p.port, ...tls11);
      expect(refused.code).not.toBe(0);
      // No session: the server answered the 1.1 ClientHello with a protocol_version alert.
      expect(refused.stdout).toMatch(/Cipher is \(NONE\)/);
      expect(refused.stderr).toMatch(/alert protocol version|unsupported protocol/i);
      const v12 = await hello(p.podHost(pod), p.port, '-tls1_2', '-verify_return_error', '-verify_hostname', p.serviceHost);
      expect({ code: v12.code, protocol: protocol(v12) }).toEqual({ code: 0, protocol: 'TLSv1.2' });
      const v13 = await hello(p.podHost(pod), p.port, '-tls1_3', '-verify_return_error', '-verify_hostname', p.serviceHost);
      expect({ code: v13.code, protocol: protocol(v13) }).toEqual({ code: 0, protocol: 'TLSv1.3' });
    }
    await control.kill('SIGKILL');
  }));

test('a portal that is starting never routes a client to a replica (HAProxy counts every server UP until its first check)', () =>
  suite.run(async () => {
    const slow = await LivePortals.create(t, 'slowcheck', 1);
    const pod = slow.pods[0];
    // Writers hammering the portal's address before and while it starts: refused, never READONLY.
    const writers = [0, 1, 2].map((i) => slow.writer(pod, { keyPrefix: `startup${i}`, maxWrites: 100_000, maxSeconds: 30, intervalMs: 2, retryMs: 5 }));
    try {
      await sleep(300);
      await slow.start(pod);
      for (const w of writers) await w.waitForAcks(100, 20_000);
    } finally {
      for (const w of writers) await w.stop();
      await slow.destroy();
    }
    for (const [i, w] of writers.entries()) {
      expect(w.errors().filter((e) => /READONLY/.test(e.msg))).toEqual([]);
      expect(await t.missingKeys(primary, `startup${i}`, w.acked())).toEqual([]);
    }
  }));

test('a renewed certificate in the Secret is picked up without dropping open connections', () =>
  suite.run(async () => {
    const renewed = makeCertificates(p.dnsNames);
    const w = p.writer(A, { keyPrefix: 'renewal', maxWrites: 100_000, maxSeconds: 90, intervalMs: 20 });
    const hello = (caFile: string) => execIn(t.clientNs, ['openssl', 's_client', '-connect', `${p.podHost(A)}:${p.port}`, '-servername', p.serviceHost,
      '-CAfile', caFile, '-verify_return_error', '-verify_hostname', p.serviceHost], { timeoutMs: 5000 });
    try {
      await w.waitForAcks(20);
      const updatedAt = Date.now();
      // What the kubelet does when cert-manager renews the Secret.
      p.container(A)!.updateFiles('/etc/redis-topologies/tls', { 'tls.crt': renewed.cert, 'tls.key': renewed.key });
      await waitFor(async () => (await hello(renewed.caFile)).code === 0, { timeoutMs: 60_000, intervalMs: 1000, what: 'the portal serving the renewed certificate' });
      console.log(`renewed certificate served ${Date.now() - updatedAt} ms after the Secret changed (poll every 30 s)`);
      expect((await hello(p.certs.caFile)).code).not.toBe(0);
      await w.waitForAcks(w.acked().length + 20);
      // The writer's connection, opened before the reload, never broke.
      expect(w.errors()).toEqual([]);
    } finally {
      const s = await w.stop();
      expect(await t.missingKeys(primary, 'renewal', s.acked)).toEqual([]);
    }
    expect(p.container(A)!.logs()).toMatch(/portal: certificate changed, reloading/);
  }));

test('one portal killed: the other keeps serving', () =>
  suite.run(async () => {
    const wb = p.writer(B, { keyPrefix: 'survivor', maxWrites: 100_000, maxSeconds: 30, intervalMs: 5 });
    try {
      await wb.waitForAcks(50);
      const killedAt = Date.now();
      await p.container(A)!.kill('SIGKILL');
      await wb.waitForAcks(wb.acked().length + 200);
      expect(wb.errors().filter((e) => e.t >= killedAt)).toEqual([]);
      const viaA = await p.cli(A, ['PING'], 2000);
      expect(viaA.stdout.trim()).not.toBe('PONG');
      expect((await p.cli(B, ['PING'])).stdout.trim()).toBe('PONG');
    } finally {
      const s = await wb.stop();
      expect(await t.missingKeys(primary, 'survivor', s.acked)).toEqual([]);
    }
  }));

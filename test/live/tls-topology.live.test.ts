/**
 * TLS inside the topology, live: a SentinelRedis with `tlsSecretName` (members, replication and
 * sentinels on TLS only) behind a HaproxyPortal that speaks TLS to the members and verifies
 * their names. Certificates from openssl stand in for the platform's TLS Secret.
 */
import { execIn } from './harness/client';
import { makeCertificates } from './certificates';
import { LiveSuite } from './live-suite';
import { LIVE_NAME, LIVE_NAMESPACE, LiveSentinelRedis } from './sentinel-topology';
import { bootWithPortals, LivePortals } from './portal-topology';
import { HaproxyPortal } from '../../lib';

jest.setTimeout(180_000);

const suite = new LiveSuite('TLS topology live test', 40);
let t: LiveSentinelRedis;
let p: LivePortals;
let primary = 0;

beforeAll(async () => {
  if (!suite.ready()) return;
  // One certificate for every member and sentinel, as a platform's wildcard certificate would be.
  const tls = makeCertificates([
    `*.${LIVE_NAME}-headless.${LIVE_NAMESPACE}.svc.cluster.local`,
    `*.${LIVE_NAME}-sentinel-headless.${LIVE_NAMESPACE}.svc.cluster.local`,
  ]);
  ({ t, p, primary } = await bootWithPortals({
    prefix: 'rtt',
    password: 'live-tls-pw-4Hq',
    subnetIndex: 13,
    tls,
    props: { tlsSecretName: 'cache-tls' },
    extend: (stack, redis) => new HaproxyPortal(stack, 'Portal', { backend: redis }),
    portals: 1,
    what: 'one primary, its replica linked over TLS, sentinels agreeing over TLS',
  }));
});

afterAll(() => suite.cleanup(p, t));

test('members and sentinels speak TLS only; replication runs over TLS', () =>
  suite.run(async () => {
    const plain = await execIn(t.clientNs, ['redis-cli', '-h', t.dataHost(primary), '-p', '6379', 'PING'], { timeoutMs: 3000 });
    expect(plain.stdout.trim()).not.toBe('PONG');
    const plainSentinel = await execIn(t.clientNs, ['redis-cli', '-h', t.host('sentinel', 0), '-p', '26379', 'PING'], { timeoutMs: 3000 });
    expect(plainSentinel.stdout.trim()).not.toBe('PONG');
    expect((await t.cli(t.dataHost(primary), 6379, ['CONFIG', 'GET', 'tls-replication'])).stdout.split('\n')[1]).toBe('yes');
    expect((await t.replication(1 - primary)).master_link_status).toBe('up');
  }));

test('kill -9 of the primary: sentinels fail over over TLS, no acknowledged write lost', () =>
  suite.run(async () => {
    const w = t.writer({ keyPrefix: 'tls-failover', maxWrites: 20_000, maxSeconds: 60, intervalMs: 5 });
    let first: number | undefined;
    try {
      await w.waitForAcks(50);
      const killedAt = Date.now();
      const oldAddr = `${t.dataHost(primary)}:6379`;
      await t.kill('data', primary);
      await w.waitForAcks(w.acked().length + 50, 15_000);
      first = w.ackEvents().find((a) => a.t >= killedAt && a.addr !== oldAddr)!.t - killedAt;
    } finally {
      const s = await w.stop();
      primary = 1 - primary;
      expect(await t.missingKeys(primary, 'tls-failover', s.acked)).toEqual([]);
    }
    console.log(`failover with TLS inside the topology: first write on the new primary after ${first} ms`);
    expect(first).toBeLessThan(10_000);
    await t.start('data', 1 - primary, true);
    expect(await t.waitForHealthy('the old primary back as a TLS replica', 60_000)).toBe(primary);
  }));

test('the portal checks and forwards over TLS, verifying the members\' names, to the current primary only', () =>
  suite.run(async () => {
    const w = p.writer(p.pods[0], { keyPrefix: 'tls-portal', maxWrites: 200, maxSeconds: 30, intervalMs: 2 });
    const s = await w.done;
    expect(s.acked).toHaveLength(200);
    expect(await t.missingKeys(primary, 'tls-portal', s.acked)).toEqual([]);
    expect(await p.serversUp(p.pods[0])).toEqual([`cache-${primary}`]);
  }));

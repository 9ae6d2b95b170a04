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
import { AccessEgress, Backups, HaproxyPortal, ObjectStorage, RestoreFrom, StorageCredentials } from '../../lib';
import { runBackupJob, STORE_SECRET, storeSecret } from './backup-jobs';
import { ObjectStore, startObjectStore } from './harness/object-store';
import { TestCertificates } from './certificates';

jest.setTimeout(180_000);

const suite = new LiveSuite('TLS topology live test', 40);
let t: LiveSentinelRedis;
let p: LivePortals;
let primary = 0;
let tls: TestCertificates;
let restored: LiveSentinelRedis | undefined;
let store: ObjectStore | undefined;
const STORE_KEYS = { accessKeyId: 'RTTLSKEY', secretAccessKey: 'rt-tls-secret-77' };
const backup = Backups.toObjectStorage({
  storage: ObjectStorage.s3({ endpoint: 'http://s3.objects.svc.cluster.local:9000', bucket: 'backups', credentials: StorageCredentials.fromSecret(STORE_SECRET) }),
  egress: [AccessEgress.toCidr('198.18.0.0/15', [9000])],
});

beforeAll(async () => {
  if (!suite.ready()) return;
  // One certificate for every member and sentinel, as a platform's wildcard certificate would be.
  tls = makeCertificates([
    `*.${LIVE_NAME}-headless.${LIVE_NAMESPACE}.svc.cluster.local`,
    `*.${LIVE_NAME}-sentinel-headless.${LIVE_NAMESPACE}.svc.cluster.local`,
  ]);
  ({ t, p, primary } = await bootWithPortals({
    prefix: 'rtt',
    password: 'live-tls-pw-4Hq',
    subnetIndex: 13,
    tls,
    props: { tlsSecretName: 'cache-tls', backup },
    secrets: storeSecret(STORE_KEYS),
    extend: (stack, redis) => new HaproxyPortal(stack, 'Portal', { backend: redis }),
    portals: 1,
    what: 'one primary, its replica linked over TLS, sentinels agreeing over TLS',
  }));
});

afterAll(async () => {
  await store?.stop().catch(() => undefined);
  await suite.cleanup(p, t, restored);
});

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

test('backups over TLS: the snapshot is read over TLS, and a TLS topology created from it holds every key', () =>
  suite.run(async () => {
    store = await startObjectStore(t.net, STORE_KEYS);
    const secrets = { ...storeSecret(STORE_KEYS), ...t.externalSecrets() };
    const run = await runBackupJob(t.plan, t.net, `${LIVE_NAME}-backup`, { namespace: LIVE_NAMESPACE, password: 'live-tls-pw-4Hq', secrets });
    expect(run.snapshot.code).toBe(0);
    expect(run.upload?.code).toBe(0);
    const keys = (await t.cli(t.dataHost(primary), 6379, ['DBSIZE'])).stdout.trim();
    expect(Number(keys)).toBeGreaterThan(0);
    const dataDir = store.dataDir;
    await store.stop();
    restored = await LiveSentinelRedis.boot({
      prefix: 'rtf', subnetIndex: 33, password: 'live-tls-pw-4Hq', tls, secrets: storeSecret(STORE_KEYS),
      props: { tlsSecretName: 'cache-tls', restoreFrom: RestoreFrom.latest(t.topology.backupSource!), backup: Backups.disabled() },
    });
    store = await startObjectStore(restored.net, { dataDir, ...STORE_KEYS });
    await restored.startAll();
    await restored.waitForHealthy('a TLS topology restored from the backup', 90_000);
    expect((await restored.cli(restored.dataHost(0), 6379, ['DBSIZE'])).stdout.trim()).toBe(keys);
  }));

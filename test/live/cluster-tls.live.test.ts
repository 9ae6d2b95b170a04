/**
 * ShardedRedisCluster with TLS inside the topology, live: `tlsSecretName` puts clients,
 * replication and the cluster bus on TLS only (`port 0`, `tls-cluster yes`). The plan's pods, with
 * openssl certificates standing in for the platform's TLS Secret, must form, fail over and re-form
 * after every pod is re-created, all over TLS.
 */
import { execIn, waitFor } from './harness/client';
import { makeCertificates } from './certificates';
import { LiveSuite } from './live-suite';
import { CLUSTER_NAME, CLUSTER_NAMESPACE, LiveCluster } from './cluster-topology';

jest.setTimeout(180_000);

const suite = new LiveSuite('ShardedRedisCluster TLS live test', 40);
let t: LiveCluster;

function log(message: string): void {
  console.log(message);
}

beforeAll(async () => {
  if (!suite.ready()) return;
  // One certificate for every member, as a platform's wildcard certificate would be; the cluster bus
  // is mutual TLS, so it must allow client authentication too (serverAuth only: no node ever meets).
  const tls = makeCertificates([`*.${CLUSTER_NAME}-headless.${CLUSTER_NAMESPACE}.svc.cluster.local`], { clientAuth: true });
  t = await LiveCluster.boot({ prefix: 'rtx', password: 'live-cluster-tls-pw-8Jd', subnetIndex: 19, tls, props: { tlsSecretName: 'kv-tls' } });
});

afterAll(() => suite.cleanup(t));

test('the bootstrap forms the cluster over TLS; members refuse plain text', () =>
  suite.run(async () => {
    await t.startAll();
    const run = await t.bootstrap();
    expect({ code: run.code, log: run.code === 0 ? '' : run.log }).toEqual({ code: 0, log: '' });
    expect(await t.healthy()).toBe(true);
    const plain = await execIn(t.clientNs, ['redis-cli', '-h', t.host(0, 0), '-p', '6379', 'PING'], { timeoutMs: 3000 });
    expect(plain.stdout.trim()).not.toBe('PONG');
  }));

test('kill -9 of a primary: its replica takes over over the TLS bus; the killed member returns as a replica', () =>
  suite.run(async () => {
    const primary = await t.primaryOf(2);
    const killedAt = Date.now();
    await t.kill(2, primary);
    await waitFor(async () => (await t.primaryOf(2).catch(() => -1)) === 1 - primary && (await t.info(2, 1 - primary)).cluster_state === 'ok',
      { timeoutMs: 15_000, intervalMs: 200, what: 'the replica promoted' });
    log(`TLS: kill -9 of ${t.host(2, primary)}: replica primary with cluster_state:ok after ${Date.now() - killedAt} ms`);
    await t.start(2, primary);
    await t.waitForHealthy('the killed member back as a replica over TLS', 60_000);
  }));

test('every pod re-created at new addresses: the same cluster re-forms over TLS', () =>
  suite.run(async () => {
    const before = (await t.nodes(0, 0)).map((n) => `${n.host} ${n.id}`).sort();
    const order = t.members().map((m) => ({ ...m, r: Math.random() })).sort((a, b) => a.r - b.r);
    await t.recreateAll(order, 500);
    const ms = await t.waitForHealthy('re-formed over TLS', 90_000);
    log(`TLS: every pod re-created at a new address: cluster_state:ok ${ms} ms after the last start`);
    expect((await t.nodes(0, 0)).map((n) => `${n.host} ${n.id}`).sort()).toEqual(before);
  }));

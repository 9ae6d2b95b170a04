/**
 * Backups and restores of a ShardedRedisCluster, live: each shard's backup CronJob pod, as the
 * plan defines it, snapshots a replica of that shard's primary (found by node id, not pod index)
 * and uploads to s3rver on the pod network; a new cluster created with restoreFrom loads each
 * shard's backup into the shard that owns the same slot range before it joins, and the plan's
 * bootstrap Job forms the cluster around the restored data.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LiveSuite } from './live-suite';
import { CLUSTER_NAME, CLUSTER_NAMESPACE, inSlots, keySlot, LiveCluster } from './cluster-topology';
import { ObjectStore, readObject, startObjectStore } from './harness/object-store';
import { compareDumps, describeComparison, dumpDataset, writeDataset } from './harness/dataset';
import { harnessRoot } from './harness/pod';
import { runBackupJob, STORE_SECRET, storeSecret } from './backup-jobs';
import { AccessEgress, Backups, ObjectStorage, RestoreFrom, slotRanges, StorageCredentials } from '../../lib';

jest.setTimeout(600_000);
const suite = new LiveSuite('cluster backup-restore', 60);
const PASSWORD = 'cluster-backup-pw';
const KEYS = { accessKeyId: 'RTCLUSTERKEY', secretAccessKey: 'rt-cluster-secret-4f2' };
const SECRETS = storeSecret(KEYS);
const storage = ObjectStorage.s3({ endpoint: 'http://s3.objects.svc.cluster.local:9000', bucket: 'backups', prefix: 'clusters', credentials: StorageCredentials.fromSecret(STORE_SECRET) });
const egress = [AccessEgress.toCidr('198.18.0.0/15', [9000])];

let source: LiveCluster | undefined;
let restored: LiveCluster | undefined;
let store: ObjectStore | undefined;

beforeAll(() => suite.ready());
afterAll(async () => {
  await store?.stop().catch(() => undefined);
  await suite.cleanup(source, restored);
});

test('every shard is backed up from a replica of its primary; a new cluster created with restoreFrom has every key, on the shard that owns its slot', () => suite.run(async () => {
  const objects = fs.mkdtempSync(path.join(harnessRoot(), 's3-cluster-'));
  source = await LiveCluster.boot({ prefix: 'rtn', subnetIndex: 31, password: PASSWORD, secrets: SECRETS, props: { backup: Backups.toObjectStorage({ storage, egress }) } });
  store = await startObjectStore(source.net, { dataDir: objects, ...KEYS });
  await source.startAll();
  const formed = await source.bootstrap();
  expect(formed.code).toBe(0);
  await source.waitForHealthy('source cluster', 60_000);

  const target = { ns: source.clientNs, host: source.host(0, 0), port: 6379, password: PASSWORD, cluster: true };
  expect((await writeDataset(target, { count: 10_000 })).written).toBe(10_000);
  for (let s = 0; s < source.shards; s++) {
    const p = await source.primaryOf(s);
    await source.cli(source.host(s, p), ['WAIT', '1', '10000'], 12_000);
  }
  const before = await dumpDataset(target);
  expect(before.count).toBe(10_000);

  const ranges = slotRanges(source.shards);
  for (let s = 0; s < source.shards; s++) {
    const run = await runBackupJob(source.plan, source.net, `${CLUSTER_NAME}-backup-${s}`, { namespace: CLUSTER_NAMESPACE, password: PASSWORD, secrets: SECRETS });
    expect(run.snapshot.code).toBe(0);
    expect(run.upload?.code).toBe(0);
    const manifest = JSON.parse((await readObject(store, `clusters/${CLUSTER_NAMESPACE}/${CLUSTER_NAME}/shard-${s}/${run.id}/manifest.json`)).toString());
    const primary = (await source.nodes(s, await source.primaryOf(s))).find((n) => n.flags.includes('myself'))!;
    expect(manifest).toMatchObject({ topologyKind: 'cluster', shard: `shard-${s}`, identity: `slots:${ranges[s].first}-${ranges[s].last}`, primaryNodeId: primary.id });
    // Read from the shard's replica, never its primary.
    expect(manifest.sourceNodeId).toMatch(/^[0-9a-f]{40}$/);
    expect(manifest.sourceNodeId).not.toBe(primary.id);
    console.log(`shard ${s}: backup ${run.id}, ${manifest.keys} keys, ${manifest.bytes} bytes, from replica ${manifest.sourceNodeId.slice(0, 8)} of ${primary.id.slice(0, 8)}`);
  }

  // The cluster is gone; a new one (new node ids, new addresses) is created from the backups.
  const from = source.topology.backupSource!;
  await store.stop();
  await source.destroy();
  source = undefined;
  restored = await LiveCluster.boot({ prefix: 'rtm', subnetIndex: 32, password: PASSWORD, secrets: SECRETS, props: { restoreFrom: RestoreFrom.latest(from), backup: Backups.disabled() } });
  store = await startObjectStore(restored.net, { dataDir: objects, ...KEYS });
  const started = Date.now();
  await restored.startAll();
  const boot = await restored.bootstrap();
  expect(boot.code).toBe(0);
  await restored.waitForHealthy('restored cluster', 60_000);
  console.log(`restored cluster formed and healthy ${Date.now() - started} ms after its pods started`);
  for (let s = 0; s < restored.shards; s++) {
    expect(restored.container(s, 0)!.logs()).toMatch(/restore: backup .* loaded/);
  }

  const after = await dumpDataset({ ...target, ns: restored.clientNs, host: restored.host(0, 0) });
  expect(describeComparison(await compareDumps(before.file, after.file))).toBe('equal (10000 keys)');

  // Every key is on the primary that owns its slot, and each replica holds what its primary holds.
  let total = 0;
  for (let s = 0; s < restored.shards; s++) {
    const p = await restored.primaryOf(s);
    const me = (await restored.nodes(s, p)).find((n) => n.flags.includes('myself'))!;
    const scan = await restored.cli(restored.host(s, p), ['--scan'], 30_000);
    const keys = scan.stdout.split('\n').filter(Boolean);
    const misplaced = keys.filter((k) => !inSlots(keySlot(k), me.slots));
    expect({ shard: s, misplaced }).toEqual({ shard: s, misplaced: [] });
    total += keys.length;
    const replica = (p + 1) % restored.perShard;
    const size = await restored.cli(restored.host(s, replica), ['DBSIZE']);
    expect(size.stdout.trim()).toBe(String(keys.length));
  }
  expect(total).toBe(10_000);
}));

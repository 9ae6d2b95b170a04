/**
 * FlashTierRedis backups and restores, live, with the Kvrocks stand-in (test/live/flash-standin.ts:
 * redis-server behind a proxy that answers BGSAVE, INFO persistence and INFO server as Kvrocks does,
 * keeping its data in a RocksDB-shaped `<dir>/db`). The plan's own backup CronJob pods of both
 * members (the snapshot container with the claim of its member mounted read-only, the upload
 * container with Debian's rclone against s3rver), and a new flash tier created with restoreFrom
 * whose member 0 runs the plan's restore download and, in its entrypoint, the restore load. What this
 * proves: the Jobs' pod specs (mounts, users, scripts as Terraform renders them), the choice of the
 * source, the upload and its proof, and that a restored member 0 serves the data and its replica
 * syncs it. What it does not: Kvrocks's BGSAVE and RocksDB opening the checkpoint.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LiveSuite } from './live-suite';
import { LiveSentinelRedis, LIVE_NAME, LIVE_NAMESPACE } from './sentinel-topology';
import { ObjectStore, listObjects, readObject, startObjectStore } from './harness/object-store';
import { compareDumps, describeComparison, dumpDataset, writeDataset } from './harness/dataset';
import { harnessRoot } from './harness/pod';
import { waitFor } from './harness/client';
import { runBackupJob, STORE_SECRET, storeSecret } from './backup-jobs';
import { standinPath } from './flash-standin';
import { AccessEgress, Backups, BackupSource, ObjectStorage, RestoreFrom, StorageCredentials } from '../../lib';

jest.setTimeout(600_000);
const suite = new LiveSuite('flash-backup');
const PASSWORD = 'flash-backup-pw-7Qe';
const KEYS = { accessKeyId: 'RTFLASHKEY', secretAccessKey: 'rt-flash-secret-4d2' };
const SECRETS = storeSecret(KEYS);
const storage = ObjectStorage.s3({ endpoint: 'http://s3.objects.svc.cluster.local:9000', bucket: 'backups', prefix: 'flash', credentials: StorageCredentials.fromSecret(STORE_SECRET) });
const egress = [AccessEgress.toCidr('198.18.0.0/15', [9000])];

let source: LiveSentinelRedis | undefined;
let restored: LiveSentinelRedis | undefined;
let store: ObjectStore | undefined;

beforeAll(() => suite.ready());
afterAll(async () => {
  await store?.stop().catch(() => undefined);
  await suite.cleanup(source, restored);
});

test('FlashTierRedis: the Job beside the replica uploads its checkpoint, the primary\'s does nothing; a new flash tier created with restoreFrom serves every key', () => suite.run(async () => {
  const objects = fs.mkdtempSync(path.join(harnessRoot(), 's3-flash-'));
  source = await LiveSentinelRedis.boot({
    prefix: 'rtk', subnetIndex: 35, password: PASSWORD, secrets: SECRETS, dataEnv: { PATH: standinPath() },
    flash: { backup: Backups.toObjectStorage({ storage, egress, retention: { keepLast: 3 } }) },
  });
  store = await startObjectStore(source.net, { dataDir: objects, ...KEYS });
  await source.startAll();
  const primary = await source.waitForHealthy('the flash tier', 90_000);
  const replica = 1 - primary;

  const target = { ns: source.clientNs, host: source.dataHost(primary), port: 6379, password: PASSWORD };
  const written = await writeDataset(target, { count: 3000 });
  expect(written.written).toBe(3000);
  await source.cli(source.dataHost(primary), 6379, ['WAIT', '1', '10000']);
  const before = await dumpDataset(target);

  const job = (member: number) => runBackupJob(source!.plan, source!.net, `${LIVE_NAME}-backup-${member}`, {
    namespace: LIVE_NAMESPACE, password: PASSWORD, secrets: SECRETS, claims: source!.claimStore,
  });
  // The primary's Job: a replica is in sync, so it does nothing, successfully.
  const idle = await job(primary);
  expect(idle.snapshot.code).toBe(0);
  expect(idle.snapshot.log).toContain(`this run's checkpoint is taken by the Job beside ${source.dataHost(replica)}`);
  expect(idle.upload?.code).toBe(0);
  expect(idle.upload?.log).toContain('nothing to upload');
  // The replica's Job: BGSAVE on its member, the checkpoint read from its claim (read-only), uploaded.
  const taken = await job(replica);
  expect({ code: taken.snapshot.code, log: taken.snapshot.log }).toMatchObject({ code: 0 });
  expect({ code: taken.upload?.code, log: taken.upload?.log }).toMatchObject({ code: 0 });
  const prefix = `flash/${LIVE_NAMESPACE}/${LIVE_NAME}/main`;
  const keys = (await listObjects(store, prefix)).map((o) => o.key.slice(prefix.length + 1)).sort();
  expect(keys).toEqual([`${taken.id}/checkpoint/CURRENT`, `${taken.id}/checkpoint/MANIFEST-000001`, `${taken.id}/checkpoint/dump.rdb`, `${taken.id}/files.sha256`, `${taken.id}/manifest.json`]);
  const manifest = JSON.parse((await readObject(store, `${prefix}/${taken.id}/manifest.json`)).toString());
  expect(manifest).toMatchObject({ engine: 'kvrocks', backupId: taken.id, identity: 'all', sourceHost: source.dataHost(replica), primaryHost: source.dataHost(primary), files: 3, kvrocksVersion: '2.17.0' });
  console.log(`flash backup ${taken.id}: ${manifest.files} files, ${manifest.bytes} bytes from ${manifest.sourceHost}`);

  // The flash tier is gone; a new one is created from its latest backup.
  const from: BackupSource = source.topology.backupSource!;
  expect(from.engine).toBe('kvrocks');
  await store.stop();
  await source.destroy();
  source = undefined;
  restored = await LiveSentinelRedis.boot({
    prefix: 'rtl', subnetIndex: 36, password: PASSWORD, secrets: SECRETS, dataEnv: { PATH: standinPath() },
    flash: { restoreFrom: RestoreFrom.latest(from), backup: Backups.disabled() },
  });
  store = await startObjectStore(restored.net, { dataDir: objects, ...KEYS });
  const started = Date.now();
  await restored.startAll();
  expect(await restored.waitForHealthy('the restored flash tier', 120_000)).toBe(0);
  console.log(`restored flash tier healthy ${Date.now() - started} ms after its pods started`);
  expect(restored.container('data', 0)!.logs()).toMatch(new RegExp(`restore: backup ${taken.id} in place as the db directory \\(3 files\\)`));
  const after = await dumpDataset({ ns: restored.clientNs, host: restored.dataHost(0), port: 6379, password: PASSWORD });
  expect(describeComparison(await compareDumps(before.file, after.file))).toBe('equal (3000 keys)');
  await waitFor(async () => (await restored!.cli(restored!.dataHost(1), 6379, ['DBSIZE'])).stdout.trim() === '3000', { timeoutMs: 30_000, intervalMs: 500, what: 'the replica holds 3000 keys' });
}));

/**
 * Backups and restores of SentinelRedis, live: the plan's own backup CronJob pod (snapshot init
 * container with redis-cli and redis-check-rdb, upload container with Debian's rclone) against an
 * S3-protocol server (s3rver) on the pod network, and topologies created with restoreFrom whose
 * member 0 runs the plan's restore download as its init container and the restore load in its
 * entrypoint. Every script is the plan's, as Terraform renders it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LiveSuite } from './live-suite';
import { LiveSentinelRedis, LIVE_NAME, LIVE_NAMESPACE } from './sentinel-topology';
import { ObjectStore, listObjects, readObject, startObjectStore, writeObject } from './harness/object-store';
import { compareDumps, describeComparison, dumpDataset, writeDataset } from './harness/dataset';
import { harnessRoot } from './harness/pod';
import { waitFor } from './harness/client';
import { runBackupJob, STORE_SECRET, storeSecret } from './backup-jobs';
import { InitContainerFailed } from './pod-runs';
import { AccessEgress, Backups, BackupSource, ClientSideEncryption, ObjectStorage, RestoreFrom, StorageCredentials } from '../../lib';

jest.setTimeout(900_000);
const suite = new LiveSuite('backup-restore');
const PASSWORD = 'backup-live-password';
const KEYS = { accessKeyId: 'RTBACKUPKEY', secretAccessKey: 'rt-backup-secret-9c1' };
const CRYPT_SECRET = 'backup-crypt';
const SECRETS = {
  ...storeSecret(KEYS),
  [CRYPT_SECRET]: { password: 'correct horse battery staple', salt: 'pepper' },
  'wrong-crypt': { password: 'not the key', salt: 'pepper' },
};
const ENDPOINT = 'http://s3.objects.svc.cluster.local:9000';
const dataDir = () => fs.mkdtempSync(path.join(harnessRoot(), 's3-backups-'));

function storage(prefix: string): ObjectStorage {
  return ObjectStorage.s3({ endpoint: ENDPOINT, bucket: 'backups', prefix, credentials: StorageCredentials.fromSecret(STORE_SECRET) });
}
const egress = [AccessEgress.toCidr('198.18.0.0/15', [9000])];

let source: LiveSentinelRedis | undefined;
let restored: LiveSentinelRedis | undefined;
let store: ObjectStore | undefined;
let objects = '';

beforeAll(() => suite.ready());
afterAll(async () => {
  await store?.stop().catch(() => undefined);
  await suite.cleanup(source, restored);
});

/** A fresh topology (new network, empty claims) created with `restoreFrom`, with the store's data on its network. */
async function restoreTopology(prefix: string, subnetIndex: number, restoreFrom: RestoreFrom): Promise<LiveSentinelRedis> {
  await store?.stop();
  await restored?.destroy();
  restored = await LiveSentinelRedis.boot({ prefix, subnetIndex, password: PASSWORD, secrets: SECRETS, props: { restoreFrom, backup: Backups.disabled() } });
  store = await startObjectStore(restored.net, { dataDir: objects, ...KEYS });
  return restored;
}

/** Starts only data member 0 of `live` and returns how it ended: an init container's failure, or the main container's exit. */
async function firstMemberAlone(live: LiveSentinelRedis): Promise<{ failedInit?: string; exitCode?: number | null; log: string }> {
  try {
    const c = await live.start('data', 0);
    const exit = await Promise.race([c.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 60_000))]);
    if (exit === undefined) await c.kill('SIGKILL');
    return { exitCode: exit?.code ?? null, log: c.logs() };
  } catch (e) {
    if (e instanceof InitContainerFailed) return { failedInit: e.container, log: e.run.log };
    throw e;
  }
}

test('SentinelRedis: 10,000 keys of every type are backed up from a replica, verified and kept by retention; a new topology created with restoreFrom has every key, value, type and TTL', () => suite.run(async () => {
  objects = dataDir();
  const backup = Backups.toObjectStorage({ storage: storage('plain'), egress, retention: { keepLast: 3, maxAgeDays: 30 } });
  source = await LiveSentinelRedis.boot({ prefix: 'rtb', subnetIndex: 20, password: PASSWORD, secrets: SECRETS, props: { backup, dataMembers: 3 } });
  store = await startObjectStore(source.net, { dataDir: objects, ...KEYS });
  await source.startAll();
  await source.waitForHealthy('source topology', 90_000);

  const target = { ns: source.clientNs, host: source.dataHost(0), port: 6379, password: PASSWORD };
  const written = await writeDataset(target, { count: 10_000 });
  expect(written.written).toBe(10_000);
  await source.cli(source.dataHost(0), 6379, ['WAIT', String(source.dataCount - 1), '10000']);
  const before = await dumpDataset(target);
  expect(before.count).toBe(10_000);

  const job = () => runBackupJob(source!.plan, source!.net, `${LIVE_NAME}-backup`, { namespace: LIVE_NAMESPACE, password: PASSWORD, secrets: SECRETS });
  const first = await job();
  expect(first.snapshot.code).toBe(0);
  expect(first.upload?.code).toBe(0);
  // From a replica in sync, never the primary.
  expect(first.snapshot.log).toMatch(/snapshot from replica cache-[12]\./);
  const prefix = `plain/${LIVE_NAMESPACE}/${LIVE_NAME}/main`;
  const manifest = JSON.parse((await readObject(store, `${prefix}/${first.id}/manifest.json`)).toString());
  expect(manifest).toMatchObject({ format: 1, backupId: first.id, identity: 'all', keys: 10_000, topologyKind: 'sentinel', file: 'dump.rdb', redisVersion: expect.stringMatching(/^7\./) });
  expect(manifest.sourceHost).not.toBe(manifest.primaryHost);
  console.log(`backup ${first.id}: ${manifest.bytes} bytes, ${manifest.keys} keys (${manifest.expires} with a TTL), lag ${manifest.replicationLagBytes} bytes`);

  // Retention (keepLast 3, maxAgeDays 30): a complete backup from 2020 goes by age, an unfinished
  // one older than the newest complete goes, the newest three complete ones stay.
  const old = '20200101T000000Z';
  await writeObject(store, `${prefix}/${old}/dump.rdb`, 'x');
  await writeObject(store, `${prefix}/${old}/manifest.json`, '{}');
  await writeObject(store, `${prefix}/20200102T000000Z/dump.rdb`, 'unfinished');
  const ids = [first.id!];
  for (let k = 0; k < 3; k++) {
    await new Promise((r) => setTimeout(r, 1100));
    const r = await job();
    expect(r.upload?.code).toBe(0);
    ids.push(r.id!);
  }
  const kept = [...new Set((await listObjects(store, prefix)).map((o) => o.key.slice(prefix.length + 1).split('/')[0]))].sort();
  expect(kept).toEqual(ids.slice(-3));
  console.log(`retention kept ${kept.join(', ')} of ${[old, '20200102T000000Z', ...ids].length}`);

  // The topology is gone; a new one is created from the latest backup.
  const from: BackupSource = source.topology.backupSource!;
  await store.stop();
  await source.destroy();
  source = undefined;
  const fresh = await restoreTopology('rtq', 26, RestoreFrom.latest(from));
  const started = Date.now();
  await fresh.startAll();
  await fresh.waitForHealthy('restored topology', 120_000);
  console.log(`restored topology healthy ${Date.now() - started} ms after its pods started`);
  expect(fresh.container('data', 0)!.logs()).toMatch(/restore: backup .* loaded, 10000 keys/);
  const after = await dumpDataset({ ns: fresh.clientNs, host: fresh.dataHost(0), port: 6379, password: PASSWORD });
  const cmp = await compareDumps(before.file, after.file);
  expect(describeComparison(cmp)).toBe('equal (10000 keys)');
  // The replicas synced the restored data from it.
  for (let i = 1; i < fresh.dataCount; i++) {
    await waitFor(async () => {
      const r = await fresh.cli(fresh.dataHost(i), 6379, ['DBSIZE']);
      if (r.stdout.trim() !== '10000') throw new Error(`DBSIZE: ${r.stdout.trim()} ${r.stderr.trim()}`);
      return true;
    }, { timeoutMs: 30_000, intervalMs: 500, what: `replica ${i} holds 10000 keys` });
  }
  // Loaded with AOF off, then turned into an AOF: a restart of member 0 keeps the data.
  expect(fresh.container('data', 0)!.logs()).toMatch(/written to the AOF/);
}));

test('a damaged or unusable backup is refused before anything is loaded: a checksum mismatch, a truncated file, a newer Redis version, a missing backup', () => suite.run(async () => {
  const from: BackupSource = { storage: storage('plain'), namespace: LIVE_NAMESPACE, name: LIVE_NAME, egress };
  const prefix = `plain/${LIVE_NAMESPACE}/${LIVE_NAME}/main`;
  const ids = [...new Set((await listObjects(store!, prefix)).map((o) => o.key.slice(prefix.length + 1).split('/')[0]))].sort();
  const newest = ids[ids.length - 1];
  const rdb = await readObject(store!, `${prefix}/${newest}/dump.rdb`);
  const manifest = (await readObject(store!, `${prefix}/${newest}/manifest.json`)).toString();

  // One byte changed: the checksum no longer matches the manifest.
  const flipped = Buffer.from(rdb);
  flipped[Math.floor(flipped.length / 2)] ^= 0xff;
  await writeObject(store!, `${prefix}/${newest}/dump.rdb`, flipped);
  let live = await restoreTopology('rtd', 27, RestoreFrom.latest(from));
  let r = await firstMemberAlone(live);
  expect(r.exitCode).toBe(1);
  expect(r.log).toMatch(/restore of [0-9T]+Z refused: checksum mismatch .* nothing was loaded/);
  const dataOf = (l: LiveSentinelRedis) => fs.readdirSync((l.podSpecs('data', 0)[0].volumeMounts.find((m) => m.mountPath === '/data')!.volume as { hostDir: string }).hostDir);
  expect(dataOf(live).filter((f) => f !== 'restore')).toEqual([]);

  // Truncated, with a manifest that matches it: redis-check-rdb refuses it.
  const truncated = rdb.subarray(0, Math.floor(rdb.length / 2));
  const sha = require('crypto').createHash('sha256').update(truncated).digest('hex');
  await writeObject(store!, `${prefix}/${newest}/dump.rdb`, truncated);
  await writeObject(store!, `${prefix}/${newest}/manifest.json`, manifest.replace(/"sha256": "[0-9a-f]+"/, `"sha256": "${sha}"`));
  live = await restoreTopology('rtd', 27, RestoreFrom.latest(from));
  r = await firstMemberAlone(live);
  expect(r.exitCode).toBe(1);
  // Where the cut falls decides redis-check-rdb's words: inside a value it reads past the end ("Unexpected
  // EOF"), inside a stream's listpack it fails to load it ("Internal error ... loading failed").
  expect(r.log).toMatch(/restore of [0-9T]+Z refused: redis-check-rdb: (Unexpected EOF reading RDB file|Internal error in RDB reading .* loading failed)[^\n]*; nothing was loaded/);
  expect(dataOf(live).filter((f) => f !== 'restore')).toEqual([]);

  // Written by a newer Redis than the image runs: refused (RDB formats are not backward compatible).
  await writeObject(store!, `${prefix}/${newest}/dump.rdb`, rdb);
  await writeObject(store!, `${prefix}/${newest}/manifest.json`, manifest.replace(/"redisVersion": "[0-9.]+"/, '"redisVersion": "99.0.0"'));
  live = await restoreTopology('rtd', 27, RestoreFrom.latest(from));
  r = await firstMemberAlone(live);
  expect(r.exitCode).toBe(1);
  expect(r.log).toMatch(/refused: it was written by Redis 99\.0\.0 and this image runs Redis 7\.[0-9.]+; RDB files are not readable by older versions/);
  expect(dataOf(live).filter((f) => f !== 'restore')).toEqual([]);

  // A backup id with nothing at or before it.
  live = await restoreTopology('rtd', 27, RestoreFrom.backup('20000101T000000Z', from));
  r = await firstMemberAlone(live);
  expect(r.failedInit).toBe('restore');
  expect(r.log).toMatch(/no complete backup of all \(selection: 20000101T000000Z\)/);
}));

test('client-side encryption: the stored object is not a readable RDB; restore works with the key and fails clearly without it or with another', () => suite.run(async () => {
  // The source topology, backed up through the crypt remote.
  await restored?.destroy();
  restored = undefined;
  await store?.stop();
  const backup = Backups.toObjectStorage({ storage: storage('encrypted'), egress, clientSideEncryption: ClientSideEncryption.fromSecret(CRYPT_SECRET) });
  source = await LiveSentinelRedis.boot({ prefix: 'rtb', subnetIndex: 20, password: PASSWORD, secrets: SECRETS, props: { backup, dataMembers: 2 } });
  store = await startObjectStore(source.net, { dataDir: objects, ...KEYS });
  await source.startAll();
  await source.waitForHealthy('encrypted source', 90_000);
  const target = { ns: source.clientNs, host: source.dataHost(0), port: 6379, password: PASSWORD };
  await writeDataset(target, { count: 2000, seed: 7 });
  await source.cli(source.dataHost(0), 6379, ['WAIT', '1', '10000']);
  const before = await dumpDataset(target);
  const run = await runBackupJob(source.plan, source.net, `${LIVE_NAME}-backup`, { namespace: LIVE_NAMESPACE, password: PASSWORD, secrets: SECRETS });
  expect(run.upload?.code).toBe(0);
  expect(run.upload?.log).toMatch(/0 differences found/);
  const stored = await listObjects(store, `encrypted/${LIVE_NAMESPACE}/${LIVE_NAME}/main/${run.id}`);
  expect(stored.map((o) => o.key.split('/').pop()).sort()).toEqual(['dump.rdb.bin', 'manifest.json.bin']);
  const cipher = await readObject(store, `encrypted/${LIVE_NAMESPACE}/${LIVE_NAME}/main/${run.id}/dump.rdb.bin`);
  expect(cipher.subarray(0, 5).toString()).not.toBe('REDIS');
  expect(cipher.subarray(0, 8).toString()).toBe('RCLONE\x00\x00');
  const from = source.topology.backupSource!;
  await store.stop();
  await source.destroy();
  source = undefined;

  // Without the key: the download finds only encrypted objects and says so.
  let live = await restoreTopology('rtd', 27, RestoreFrom.latest({ ...from, clientSideEncryption: undefined }));
  let r = await firstMemberAlone(live);
  expect(r.failedInit).toBe('restore');
  expect(r.log).toMatch(/encrypted client-side; restore with their clientSideEncryption key/);

  // With another key: it cannot decrypt.
  live = await restoreTopology('rtd', 27, RestoreFrom.latest({ ...from, clientSideEncryption: ClientSideEncryption.fromSecret('wrong-crypt') }));
  r = await firstMemberAlone(live);
  expect(r.failedInit).toBe('restore');
  expect(r.log).toMatch(/restore: cannot (decrypt|read)/);

  // With the key: every key is back.
  live = await restoreTopology('rtq', 26, RestoreFrom.latest(from));
  await live.startAll();
  await live.waitForHealthy('restored from the encrypted backup', 120_000);
  const after = await dumpDataset({ ns: live.clientNs, host: live.dataHost(0), port: 6379, password: PASSWORD });
  expect(describeComparison(await compareDumps(before.file, after.file))).toBe('equal (2000 keys)');
}));

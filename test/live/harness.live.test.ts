/**
 * Self-test of the live harness (test/live/harness): pod networking with emulated cluster DNS,
 * containers run as a pod spec says, redis-cli from a client pod, the write-load client.
 */
import * as fs from 'fs';
import * as path from 'path';
import { execIn, redisCli, resolveIn, waitFor } from './harness/client';
import { PodNetwork } from './harness/netns';
import { LiveSuite } from './live-suite';
import { ContainerSpec, EmulatedContainer, makeVolumeDir } from './harness/pod';
import { startWriter, WriterSummary } from './harness/writer';

jest.setTimeout(60_000);

const suite = new LiveSuite('live harness test', 40);

const PASSWORD = 'harness-pw-1';
const SENTINEL_PASSWORD = 'harness-sentinel-pw';
const A = 'a.test.svc.cluster.local';
const B = 'b.test.svc.cluster.local';
const UID = 999;
const CONFIG = '/etc/rt-test/config';
const DATA = '/etc/rt-test/data';

const REDIS_CONF = [
  'port 6379',
  'bind 0.0.0.0',
  'protected-mode no',
  'daemonize no',
  `requirepass ${PASSWORD}`,
  `dir ${DATA}`,
  'save ""',
  'appendonly no',
  '',
].join('\n');

const SENTINEL_CONF = [
  'port 26379',
  'bind 0.0.0.0',
  'protected-mode no',
  'daemonize no',
  `requirepass ${SENTINEL_PASSWORD}`,
  'sentinel resolve-hostnames yes',
  'sentinel announce-hostnames yes',
  `sentinel monitor m1 ${A} 6379 1`,
  `sentinel auth-pass m1 ${PASSWORD}`,
  'sentinel down-after-milliseconds m1 5000',
  '',
].join('\n');

let net: PodNetwork;
let clientNs: string;
let redis: EmulatedContainer;
let dataDir: string;

const ping = (timeoutMs = 3000) => redisCli(clientNs, ['PING'], { host: A, port: 6379, password: PASSWORD, timeoutMs });

async function waitForPong(what: string): Promise<void> {
  await waitFor(async () => (await ping()).stdout.trim() === 'PONG', { timeoutMs: 15_000, what });
}

/** Uid/Gid/Groups lines of /proc/<pid>/status. */
function credentials(pid: number): Record<string, string> {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const pick = (key: string) => (status.match(new RegExp(`^${key}:\\s*(.*)$`, 'm'))?.[1] ?? '').trim().split(/\s+/).join(' ');
  return { uid: pick('Uid'), gid: pick('Gid'), groups: pick('Groups'), name: pick('Name') };
}

beforeAll(async () => {
  if (!suite.ready()) return;
  net = await PodNetwork.create('rth');
  await net.addPod('a', [A]);
  await net.addPod('b', [B]);
  clientNs = (await net.addPod('client', [])).ns;
  dataDir = makeVolumeDir({ uid: UID, gid: UID }, 'redis-data');
  const spec: ContainerSpec = {
    name: 'redis',
    command: ['redis-server', `${CONFIG}/redis.conf`],
    runAsUser: UID,
    runAsGroup: UID,
    fsGroup: UID,
    volumeMounts: [
      { mountPath: CONFIG, volume: { kind: 'files', files: { 'redis.conf': REDIS_CONF } } },
      { mountPath: DATA, volume: { kind: 'dir', hostDir: dataDir } },
    ],
  };
  redis = new EmulatedContainer(net.nsOf('a'), spec);
  await redis.start();
});

afterAll(() => suite.cleanup());

test('a container runs as its spec says: DNS name, auth, uid/gid, read-only config, writable data volume', () =>
  suite.run(async () => {
    await waitForPong(`PONG from ${A}`);
    const noAuth = await redisCli(clientNs, ['PING'], { host: A, port: 6379 });
    expect(noAuth.stdout + noAuth.stderr).toMatch(/NOAUTH/);

    const pid = redis.pid as number;
    expect(credentials(pid)).toEqual({ uid: '999 999 999 999', gid: '999 999 999 999', groups: '999', name: 'redis-server' });

    const cli = (...args: string[]) => redisCli(clientNs, args, { host: A, port: 6379, password: PASSWORD });
    expect((await cli('CONFIG', 'GET', 'dir')).stdout.split('\n')[1]).toBe(DATA);
    // The ConfigMap mount is read-only: redis cannot rewrite its config file.
    const rewrite = await cli('CONFIG', 'REWRITE');
    expect(rewrite.stdout + rewrite.stderr).toMatch(/ERR|Read-only|Permission/i);
    // The data volume is writable by uid 999 and lands in the host dir.
    expect((await cli('SET', 'persisted', 'yes')).stdout.trim()).toBe('OK');
    expect((await cli('SAVE')).stdout.trim()).toBe('OK');
    expect(fs.statSync(path.join(dataDir, 'dump.rdb')).uid).toBe(UID);
  }));

test('hosts files are rewritten in place: a running process sees a readdressed pod; a restart keeps the volume', () =>
  suite.run(async () => {
    const oldAddress = net.addressOf('a');
    // A long-running process in the client pod that keeps resolving A (bounded: 300 x 0.1 s).
    const watcher = new EmulatedContainer(clientNs, {
      name: 'dns-watcher',
      command: ['sh', '-c', `i=0; while [ $i -lt 300 ]; do getent hosts ${A} || echo none; sleep 0.1; i=$((i+1)); done`],
      runAsUser: UID,
      runAsGroup: UID,
      volumeMounts: [],
    });
    await watcher.start();
    await waitFor(async () => watcher.logs().includes(`${oldAddress} `), { timeoutMs: 5000, what: 'the watcher to resolve the old address' });

    const hostsFile = `/etc/netns/${clientNs}/hosts`;
    const inode = fs.statSync(hostsFile).ino;
    const newAddress = await net.readdress('a');
    expect(newAddress).not.toBe(oldAddress);
    expect(fs.statSync(hostsFile).ino).toBe(inode);
    await waitFor(async () => watcher.logs().includes(`${newAddress} `), { timeoutMs: 5000, what: 'the running watcher to see the new address' });
    await watcher.kill();
    expect(watcher.isRunning()).toBe(false);

    // Every pod's hosts file follows, not only the client's.
    expect(await resolveIn(net.nsOf('b'), A)).toEqual([newAddress]);
    expect(await resolveIn(clientNs, A)).toEqual([newAddress]);

    // Restart as a rescheduled pod would: same spec, same data volume.
    const firstPid = redis.pid;
    await redis.stop();
    expect(redis.isRunning()).toBe(false);
    await redis.start();
    expect(redis.pid).not.toBe(firstPid);
    await waitForPong(`PONG from ${A} at ${newAddress} after the restart`);
    const info = await redisCli(clientNs, ['CLIENT', 'INFO'], { host: A, port: 6379, password: PASSWORD });
    expect(info.stdout).toContain(`laddr=${newAddress}:6379`);
    const persisted = await redisCli(clientNs, ['GET', 'persisted'], { host: A, port: 6379, password: PASSWORD });
    expect(persisted.stdout.trim()).toBe('yes');
  }));

test('writer in direct mode: every acknowledged write exists', () =>
  suite.run(async () => {
    await waitForPong(`PONG from ${A}`);
    const writer = startWriter(clientNs, { mode: 'direct', host: A, port: 6379, password: PASSWORD, keyPrefix: 'direct', maxWrites: 200, maxSeconds: 30, intervalMs: 0 });
    const summary: WriterSummary = await writer.done;
    expect(summary.reason).toBe('maxWrites');
    expect(summary.attempts).toBe(200);
    expect(summary.acked.length).toBe(200);
    expect(summary.acked).toEqual(writer.acked());
    const keys = summary.acked.map((seq) => `direct:${seq}`);
    const exists = await redisCli(clientNs, ['EXISTS', ...keys], { host: A, port: 6379, password: PASSWORD });
    expect(Number(exists.stdout.trim())).toBe(keys.length);
    expect(writer.firstAckAfter(0)?.addr).toBe(`${A}:6379`);
  }));

test('writer in sentinel mode: finds the primary through an authenticated sentinel', () =>
  suite.run(async () => {
    const runDir = makeVolumeDir({ uid: UID, gid: UID }, 'sentinel-run');
    const sentinel = new EmulatedContainer(net.nsOf('b'), {
      name: 'sentinel',
      // The usual pattern: sentinel rewrites its config, so it runs from a writable copy.
      command: ['sh', '-c', `cp ${CONFIG}/sentinel.conf /etc/rt-test/run/ && exec redis-sentinel /etc/rt-test/run/sentinel.conf`],
      runAsUser: UID,
      runAsGroup: UID,
      volumeMounts: [
        { mountPath: CONFIG, volume: { kind: 'files', files: { 'sentinel.conf': SENTINEL_CONF } } },
        { mountPath: '/etc/rt-test/run', volume: { kind: 'dir', hostDir: runDir } },
      ],
    });
    await sentinel.start();
    const askSentinel = () => redisCli(clientNs, ['SENTINEL', 'get-master-addr-by-name', 'm1'], { host: B, port: 26379, password: SENTINEL_PASSWORD });
    await waitFor(async () => (await askSentinel()).stdout.startsWith(A), { timeoutMs: 15_000, what: 'the sentinel to name the primary' });

    const writer = startWriter(clientNs, {
      mode: 'sentinel',
      sentinels: [{ host: B, port: 26379 }],
      masterName: 'm1',
      password: PASSWORD,
      sentinelPassword: SENTINEL_PASSWORD,
      keyPrefix: 'sentinel',
      maxWrites: 1000,
      maxSeconds: 20,
      intervalMs: 5,
    });
    await writer.waitForAcks(50, 15_000);
    const summary = await writer.stop();
    expect(summary.reason).toBe('SIGTERM');
    expect(summary.acked.length).toBeGreaterThanOrEqual(50);
    expect(writer.firstAckAfter(0)?.addr).toBe(`${A}:6379`);
    const exists = await redisCli(clientNs, ['EXISTS', ...summary.acked.map((s) => `sentinel:${s}`)], { host: A, port: 6379, password: PASSWORD });
    expect(Number(exists.stdout.trim())).toBe(summary.acked.length);
    await sentinel.stop();
  }));

test('cut partitions a pod and heal restores it', () =>
  suite.run(async () => {
    await waitForPong(`PONG from ${A}`);
    await net.cut('a');
    const during = await ping(1500);
    expect(during.stdout.trim()).not.toBe('PONG');
    await net.heal('a');
    await waitForPong(`PONG from ${A} after heal`);
  }));

test('cluster DNS: a DNS query from a pod answers from the hosts map, follows a readdress, NXDOMAIN otherwise', () =>
  suite.run(async () => {
    const query = (name: string) => execIn(clientNs, [process.execPath, '-e',
      `require('dns').promises.resolve4(${JSON.stringify(name)}).then((a) => console.log(a.join(',')), (e) => console.log(e.code))`]);
    expect((await query(B)).stdout.trim()).toBe(net.addressOf('b'));
    const moved = await net.readdress('b');
    expect((await query(B)).stdout.trim()).toBe(moved);
    expect((await query('nope.test.svc.cluster.local')).stdout.trim()).toBe('ENOTFOUND');
  }));

/**
 * ShardedRedisCluster with the twemproxy policy, live: three standalone shards from the plan's own
 * redis.conf and entrypoint, two nutcracker pods from the plan's Deployment (its entrypoint writing
 * the runtime config with the password), Debian's redis-server and nutcracker, one network
 * namespace per pod. Keys must spread over the shards, and a shard kill must behave as the README
 * says: a few errors, then the shard is ejected and its keys go to the others (misses) until it is back.
 */
import { LiveSuite } from './live-suite';
import { LiveCluster } from './cluster-topology';
import { sleep } from './harness/proc';
import { redisCli } from './harness/client';
import { ClusterPolicy } from '../../lib';

jest.setTimeout(180_000);

const suite = new LiveSuite('twemproxy live test', 60);
const PASSWORD = 'live-twemproxy-pw-K2v';
let t: LiveCluster;

function log(message: string): void {
  console.log(message);
}

/** redis-cli through proxy pod k. */
function viaProxy(k: number, args: string[], password: string | null = PASSWORD) {
  return redisCli(t.clientNs, args, { host: t.net.addressOf(`proxy-${k}`), port: 6379, password: password ?? undefined, timeoutMs: 3000 });
}

beforeAll(async () => {
  if (!suite.ready()) return;
  t = await LiveCluster.boot({
    prefix: 'rtw', password: PASSWORD, subnetIndex: 18,
    props: { policy: ClusterPolicy.twemproxy({ image: 'registry.example/nutcracker:0.5.0', acknowledgeNoTls: true }) },
  });
});

afterAll(() => suite.cleanup(t));

test('the plan is booted as written: standalone shards, two proxies that need the password', () =>
  suite.run(async () => {
    expect(t.members()).toHaveLength(3);
    expect(t.proxyReplicas).toBe(2);
    await t.startAll();
    await t.startProxy(0);
    await t.startProxy(1);
    const info = await t.cli(t.host(0, 0), ['INFO', 'cluster']);
    expect(info.stdout).toMatch(/cluster_enabled:0/);
    let answered = false;
    for (let k = 0; k < 50 && !answered; k++) {
      answered = (await viaProxy(0, ['SET', 'probe', '1'])).stdout.trim() === 'OK' && (await viaProxy(1, ['GET', 'probe'])).stdout.trim() === '1';
      if (!answered) await sleep(200);
    }
    expect(answered).toBe(true);
    const anonymous = await viaProxy(0, ['SET', 'x', '1'], null);
    expect(`${anonymous.stdout}${anonymous.stderr}`).toMatch(/NOAUTH|Authentication required/);
  }));

test('keys spread over every shard; both proxies place each key on the same shard', () =>
  suite.run(async () => {
    for (let k = 0; k < 300; k++) expect((await viaProxy(k % 2, ['SET', `spread:${k}`, String(k)])).stdout.trim()).toBe('OK');
    const sizes: number[] = [];
    for (let s = 0; s < 3; s++) {
      const keys = await t.cli(t.host(s, 0), ['--scan', '--pattern', 'spread:*'], 10_000);
      sizes.push(keys.stdout.split('\n').filter(Boolean).length);
    }
    log(`300 keys through two proxies: ${sizes.join(' / ')} per shard`);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(300);
    for (const n of sizes) expect(n).toBeGreaterThanOrEqual(45);
    for (let k = 0; k < 300; k += 7) expect((await viaProxy((k + 1) % 2, ['GET', `spread:${k}`])).stdout.trim()).toBe(String(k));
  }));

test('a shard killed: a few errors, then it is ejected and its keys go to the other shards (misses) until it is back', () =>
  suite.run(async () => {
    const onShard1 = [];
    for (let k = 0; k < 300 && onShard1.length < 20; k++) {
      if ((await t.cli(t.host(1, 0), ['EXISTS', `spread:${k}`])).stdout.trim() === '1') onShard1.push(k);
    }
    await t.kill(1, 0);
    const killedAt = Date.now();
    const errors: string[] = [];
    let okAgainMs = -1;
    for (let attempt = 0; attempt < 200; attempt++) {
      const r = await viaProxy(0, ['SET', `spread:${onShard1[attempt % onShard1.length]}`, 'after-kill']);
      if (r.stdout.trim() === 'OK') {
        okAgainMs = Date.now() - killedAt;
        break;
      }
      errors.push((r.stdout + r.stderr).trim() || `exit ${r.code}`);
      await sleep(100);
    }
    log(`shard 1 killed: writes to its keys through the proxy OK again after ${okAgainMs} ms, ${errors.length} errors before (${[...new Set(errors)].join(' | ')})`);
    expect(okAgainMs).toBeGreaterThanOrEqual(0);
    expect(errors.length).toBeLessThanOrEqual(5);
    // Its other keys now miss: the cache forgets them rather than failing.
    const missing = await viaProxy(0, ['GET', `spread:${onShard1[onShard1.length - 1]}`]);
    expect(missing.stdout.trim()).toBe('');
    await t.start(1, 0);
  }));

test('the liveness probe restarts a proxy whose shard moved (nutcracker resolves names only at start), not one whose shard is briefly unresolvable', () =>
  suite.run(async () => {
    const probe = ['sh', '/etc/redis-topologies/twemproxy/twemproxy-probe.sh', 'liveness'];
    const proxy = t.proxyContainer(0)!;
    expect((await proxy.exec(probe)).code).toBe(0);
    t.net.unpublish(t.pod(2, 0));
    expect((await proxy.exec(probe)).code).toBe(0);
    t.net.publish(t.pod(2, 0));
    await t.kill(2, 0);
    await t.readdress(2, 0);
    await t.start(2, 0);
    const moved = await proxy.exec(probe);
    expect({ code: moved.code, stderr: moved.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(/a shard moved/) });
  }));

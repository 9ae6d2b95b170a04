import { Construct } from 'constructs';
import { DataStorage, HaproxyPortal, SentinelRedis } from '../../lib';
import { TerraformStack } from '../../lib/core/cdktf';
import { claimObject, claimOutput } from '../../lib/core/registry';
import { emptyStack, synth } from '../helpers';

const ephemeral = DataStorage.ephemeral();

function thrown(build: (stack: Construct) => void): string {
  try {
    build(emptyStack());
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('one registry per stack of Kubernetes objects and outputs', () => {
  test('two SentinelRedis named cache in one namespace: the second fails, naming both construct paths', () => {
    const m = thrown((s) => {
      new SentinelRedis(s, 'A', { name: 'cache', namespace: 'data', storage: ephemeral });
      new SentinelRedis(s, 'B', { name: 'cache', namespace: 'data', storage: ephemeral });
    });
    expect(m).toMatch(/^test\/B: Secret "data\/cache-auth" is already created by test\/A; give one of them another name/);
  });

  test('a topology named cache beside one named cache-sentinel collide: cache-sentinel-headless is the headless Service of both', () => {
    const m = thrown((s) => {
      new SentinelRedis(s, 'A', { name: 'cache', namespace: 'data', storage: ephemeral });
      new SentinelRedis(s, 'B', { name: 'cache-sentinel', namespace: 'data', storage: ephemeral });
    });
    expect(m).toMatch(/^test\/B: (StatefulSet "data\/cache-sentinel"|Service "data\/cache-sentinel-headless") is already created by test\/A/);
  });

  test('a portal named like its backend is refused', () => {
    const m = thrown((s) => {
      const redis = new SentinelRedis(s, 'Cache', { namespace: 'data', storage: ephemeral });
      new HaproxyPortal(s, 'Portal', { backend: redis, name: 'cache' });
    });
    expect(m).toContain('test/Portal: invalid prop "name" = "cache"; allowed: a name other than the backend\'s');
  });

  test('two portals with one name collide', () => {
    const m = thrown((s) => {
      const redis = new SentinelRedis(s, 'Cache', { namespace: 'data', storage: ephemeral });
      new HaproxyPortal(s, 'P1', { backend: redis });
      new HaproxyPortal(s, 'P2', { backend: redis });
    });
    expect(m).toMatch(/^test\/P2\/\w+: \w+ "data\/cache-portal[-\w]*" is already created by test\/P1/);
  });

  test('two portals with their own names in front of one topology are valid (each grants itself access)', () => {
    expect(thrown((s) => {
      const redis = new SentinelRedis(s, 'Cache', { namespace: 'data', storage: ephemeral });
      new HaproxyPortal(s, 'P1', { backend: redis });
      new HaproxyPortal(s, 'P2', { backend: redis, name: 'cache-portal-slow' });
    })).toBe('');
  });

  test('two topologies with one name in two namespaces are valid and both keep their outputs', () => {
    const out = synth((s) => {
      new SentinelRedis(s, 'A', { name: 'cache', namespace: 'shop', storage: ephemeral });
      new SentinelRedis(s, 'B', { name: 'cache', namespace: 'billing', storage: ephemeral });
    });
    const names = Object.keys(out.outputs());
    expect(names).toEqual(expect.arrayContaining(['redis_shop_cache_url', 'redis_billing_cache_url', 'redis_shop_cache_sentinel_host', 'redis_billing_cache_sentinel_host']));
  });

  test('one output prefix used twice fails, naming both constructs', () => {
    const m = thrown((s) => {
      new SentinelRedis(s, 'A', { name: 'cache', namespace: 'shop', storage: ephemeral, outputPrefix: 'cache' });
      new SentinelRedis(s, 'B', { name: 'cache', namespace: 'billing', storage: ephemeral, outputPrefix: 'cache' });
    });
    expect(m).toContain('Terraform output "cache_cluster_name" is already created by test/A/Connection; set "outputPrefix" on one of them');
  });

  test('stacks are separate; cluster-scoped kinds ignore the namespace; tokens are not compared', () => {
    const a = emptyStack();
    const b = new TerraformStack(a.node.scope!, 'other');
    claimObject(new Construct(a, 'X'), 'ConfigMap', 'x', 'data');
    expect(() => claimObject(new Construct(b, 'X'), 'ConfigMap', 'x', 'data')).not.toThrow();
    claimObject(new Construct(a, 'Sc1'), 'StorageClass', 'fast', 'ns1');
    expect(() => claimObject(new Construct(a, 'Sc2'), 'StorageClass', 'fast', 'ns2')).toThrow('StorageClass "fast" is already created by test/Sc1');
    claimOutput(new Construct(a, 'O1'), 'o');
    expect(() => claimOutput(new Construct(a, 'O2'), 'o')).toThrow('Terraform output "o" is already created by test/O1');
  });
});

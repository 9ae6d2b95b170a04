import { Construct } from 'constructs';
import {
  AccessClient, AclPermissions, Availability, DataStorage, EncryptedStorageClass, EvictionPolicy, HaproxyPortal, Persistence, RedisAuth,
  SentinelRedis, SentinelRedisProps, Spread, StorageEncryption,
} from '../../lib';
import { TerraformVariable } from '../../lib/core/cdktf';
import { CM, emptyStack, NP, STS, synth } from '../helpers';

function storage(scope: Construct) {
  return DataStorage.encrypted(new EncryptedStorageClass(scope, 'Sc', { encryption: StorageEncryption.awsEbs() }), '10Gi');
}

/** The message SentinelRedis `Cache` throws for these props (or '' when it builds). */
function messageFor(over: Record<string, unknown>): string {
  const s = emptyStack();
  try {
    new SentinelRedis(s, 'Cache', { namespace: 'data', storage: storage(s), ...over } as SentinelRedisProps);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('SentinelRedis props: every rule family has a message', () => {
  test.each<[string, Record<string, unknown>, string]>([
    ['image: empty', { image: '' }, 'test/Cache: invalid prop "image" = ""; allowed: an image reference with a tag or a digest'],
    ['image: whitespace', { image: 'redis: 7.2' }, 'invalid prop "image" = "redis: 7.2"; allowed: an image reference'],
    ['image: no tag', { image: 'redis' }, 'invalid prop "image" = "redis"; allowed: an image reference with a tag or a digest'],
    ['metrics image', { metrics: { image: 'exporter latest' } }, 'invalid prop "metrics.image" = "exporter latest"'],
    ['cpu', { cpuRequest: 'abc' }, 'invalid prop "cpuRequest" = "abc"; allowed: a positive CPU quantity such as 250m, 0.5 or 2'],
    ['cpu limit below request', { cpuRequest: '500m', cpuLimit: '250m' }, 'invalid prop "cpuLimit" = "250m"; allowed: at least cpuRequest (500m)'],
    ['sentinel memory', { sentinelMemoryLimit: '0' }, 'invalid prop "sentinelMemoryLimit" = "0"; allowed: a positive memory quantity'],
    ['toleration effect', { tolerations: [{ key: 'dedicated', value: 'redis', effect: 'Sometimes' }] }, 'invalid prop "tolerations[0].effect" = "Sometimes"; allowed: one of "NoSchedule", "PreferNoSchedule", "NoExecute"'],
    ['toleration Exists with value', { tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] }, 'invalid prop "tolerations[0].value" = "v"; allowed: no value with operator Exists'],
    ['toleration Equal without key', { tolerations: [{ operator: 'Equal', value: 'v' }] }, 'invalid prop "tolerations[0].key" = undefined; allowed: a taint key with operator Equal'],
    ['node selector key', { nodeSelector: { 'pool name': 'redis' } }, 'invalid prop "nodeSelector key" = "pool name"; allowed: a label key'],
    ['node selector value', { nodeSelector: { pool: 'redis pool' } }, 'invalid prop "nodeSelector["pool"]" = "redis pool"; allowed: a label value'],
    ['namespace', { namespace: 'Monitoring NS' }, 'invalid prop "namespace" = "Monitoring NS"; allowed: a namespace name'],
    ['cluster domain', { clusterDomain: 'cluster..local' }, 'invalid prop "clusterDomain" = "cluster..local"; allowed: a DNS name'],
    ['ratio', { maxmemoryRatio: Number.NaN }, 'invalid prop "maxmemoryRatio" = NaN; allowed: a number from 0.1 to 0.95'],
    ['duration', { downAfterMilliseconds: Number.POSITIVE_INFINITY }, 'invalid prop "downAfterMilliseconds" = Infinity; allowed: an integer from 500 to 600000'],
    ['failover timeout below down-after', { downAfterMilliseconds: 5000, failoverTimeoutMilliseconds: 3000 }, 'invalid prop "failoverTimeoutMilliseconds" = 3000; allowed: at least downAfterMilliseconds (5000)'],
    ['rdb without save points', { persistence: Persistence.rdb([]) }, 'invalid prop "persistence.savePoints" = []; allowed: at least one save point (for no persistence at all, say so: Persistence.none())'],
    ['acl nopass', { aclUsers: [{ name: 'app', permissions: AclPermissions.custom('nopass ~* +@all') }] }, 'invalid prop "aclUsers[0].permissions" = "nopass ~* +@all"; allowed: ACL rules without "nopass"'],
    ['acl extra password', { aclUsers: [{ name: 'app', permissions: AclPermissions.custom('~* +@read >guessme') }] }, 'allowed: ACL rules without ">guessme"'],
    ['acl resetpass', { aclUsers: [{ name: 'app', permissions: AclPermissions.custom('resetpass ~*') }] }, 'allowed: ACL rules without "resetpass"'],
  ])('%s', (_what, over, message) => {
    expect(messageFor(over)).toContain(message);
  });

  test('enum-like options: look-alike objects and strings (JavaScript) are refused, naming the factories', () => {
    expect(messageFor({ evictionPolicy: { value: 'allkeys-lru' } })).toContain('invalid prop "evictionPolicy" = {"value":"allkeys-lru"}; allowed: one of EvictionPolicy.NOEVICTION');
    expect(messageFor({ availability: 'development' })).toContain('invalid prop "availability" = "development"; allowed: one of Availability.HIGH_AVAILABILITY, Availability.DEVELOPMENT');
    expect(messageFor({ persistence: { mode: 'none', savePoints: [] } })).toContain('allowed: one of Persistence.aofEverySecond(), Persistence.rdb(savePoints), Persistence.none()');
    expect(messageFor({ auth: { source: 'generated', passwordKey: 'password', length: 32 } })).toContain('invalid prop "auth"');
    expect(messageFor({ zoneSpread: { required: true } })).toContain('invalid prop "zoneSpread" = {"required":true}; allowed: one of Spread.REQUIRED, Spread.PREFERRED');
    expect(messageFor({ aclUsers: [{ name: 'app', permissions: { rules: 'nopass' } }] })).toContain('invalid prop "aclUsers[0].permissions"');
    expect(messageFor({ evictionPolicy: EvictionPolicy.ALLKEYS_LRU, zoneSpread: Spread.REQUIRED, auth: RedisAuth.generated() })).toBe('');
  });

  test('from JavaScript: missing or mistyped required props give the message, never a TypeError', () => {
    const s = emptyStack();
    const build = (props: unknown) => () => new SentinelRedis(s, `C${Math.random().toString(36).slice(2, 8)}`, props as SentinelRedisProps);
    expect(build({ namespace: 'data' })).toThrow(/invalid prop "storage" = undefined; allowed: DataStorage\.encrypted\(.*\(required\)/);
    expect(build({ storage: DataStorage.ephemeral() })).toThrow(/invalid prop "namespace" = undefined; allowed: a namespace name.*\(required\)/);
    expect(build(undefined)).toThrow(/invalid prop "props" = undefined/);
    expect(build({ namespace: 'data', storage: { kind: 'ephemeral' } })).toThrow(/invalid prop "storage" = \{"kind":"ephemeral"\}/);
    expect(build({ namespace: 'data', storage: DataStorage.ephemeral(), sentinels: '3' })).toThrow(/invalid prop "sentinels" = "3"/);
    expect(build({ namespace: 'data', storage: DataStorage.ephemeral(), aclUsers: 'app' })).toThrow(/invalid prop "aclUsers" = "app"/);
    expect(build({ namespace: 'data', storage: DataStorage.ephemeral(), aclUsers: [null] })).toThrow(/invalid prop "aclUsers\[0\]" = null/);
    let err: unknown;
    try { build({})(); } catch (e) { err = e; }
    expect(err).not.toBeInstanceOf(TypeError);
  });

  test('every problem of one construct is reported at once', () => {
    const m = messageFor({ image: '', cpuRequest: 'x', namespace: 'A B' });
    expect(m.split('\n')).toHaveLength(3);
  });
});

describe('SentinelRedis and Terraform tokens', () => {
  test('a namespace from a Terraform variable synthesizes everywhere it is used', () => {
    const out = synth((stack) => {
      const ns = new TerraformVariable(stack, 'namespace', { type: 'string' }).stringValue;
      const redis = new SentinelRedis(stack, 'Cache', {
        namespace: ns, storage: DataStorage.ephemeral(), threeScaleSecret: { namespaces: [ns] }, elastisysConfigMap: { namespaces: [ns] },
        clients: [AccessClient.namespace(ns)],
      });
      new HaproxyPortal(stack, 'Portal', { backend: redis, connection: { namespaces: [new TerraformVariable(stack, 'app', { type: 'string' }).stringValue] } });
    });
    expect(out.named(STS, 'cache').metadata.namespace).toBe('${var.namespace}');
    expect(out.named(CM, 'cache-scripts').data['common.sh']).toContain("NAMESPACE='${var.namespace}'");
    expect(out.list(NP).every((p) => p.metadata.namespace === '${var.namespace}')).toBe(true);
    // Output names cannot contain a namespace only Terraform knows: they fall back to the topology name.
    expect(Object.keys(out.outputs())).toEqual(expect.arrayContaining(['redis_cache_url', 'redis_cache_portal_host']));
  });

  test('values needed when the plan is written are refused as tokens, saying why', () => {
    const s = emptyStack();
    const str = (n: string) => new TerraformVariable(s, n, { type: 'string' }).stringValue;
    let message = '';
    try {
      new SentinelRedis(s, 'Cache', { namespace: 'data', storage: DataStorage.ephemeral(), memoryLimit: str('mem'), name: str('name') });
    } catch (e) { message = (e as Error).message; }
    expect(message).toContain('invalid prop "memoryLimit" = a Terraform token');
    expect(message).toContain('allowed: a literal value, not a Terraform token: maxmemory in redis.conf is derived from it when the plan is written');
    expect(message).toContain('invalid prop "name" = a Terraform token');
    expect(message).not.toContain('accessLabel');
  });

  test('CPU requests and image tags may be tokens (Kubernetes checks them at apply time)', () => {
    expect(() => synth((stack) => {
      const str = (n: string) => new TerraformVariable(stack, n, { type: 'string' }).stringValue;
      new SentinelRedis(stack, 'Cache', { namespace: 'data', storage: DataStorage.ephemeral(), cpuRequest: str('cpu'), image: str('image') });
    })).not.toThrow();
  });
});

describe('SentinelRedis development mode names only what exists', () => {
  const out = synth((stack) => {
    new SentinelRedis(stack, 'Cache', { namespace: 'data', storage: DataStorage.ephemeral(), availability: Availability.DEVELOPMENT, threeScaleSecret: {} });
  });

  test('outputs: the member host and port, no sentinel host or port', () => {
    const outputs = out.outputs();
    expect(Object.keys(outputs).sort()).toEqual(['redis_data_cache_cluster_name', 'redis_data_cache_host', 'redis_data_cache_port', 'redis_data_cache_url']);
    expect(outputs.redis_data_cache_host.value).toBe('cache-0.cache-headless.data.svc.cluster.local');
    expect(outputs.redis_data_cache_port.value).toBe(6379);
    expect(outputs.redis_data_cache_url.sensitive).toBe(true);
  });

  test('no sentinel ConfigMap keys, no sentinel scripts; the 3scale Secret points at the member', () => {
    expect(out.list(CM).map((c) => c.metadata.name).sort()).toEqual(['cache-config', 'cache-scripts']);
    expect(Object.keys(out.named(CM, 'cache-scripts').data).sort()).toEqual(['common.sh', 'members.sh', 'redis-entrypoint.sh', 'redis-prestop.sh', 'redis-probe.sh']);
    expect(Object.keys(out.named(CM, 'cache-config').data).sort()).toEqual(['acl-rules', 'redis.conf']);
    const secret = out.named('kubernetes_secret_v1', 'cache-redis');
    expect(secret.data.URL).toMatch(/^redis:\/\/:\$\{random_password\.\w+\.result\}@cache-0\.cache-headless\.data\.svc\.cluster\.local:6379$/);
    expect(secret.data.SENTINEL_HOSTS).toBe('');
  });

  test('asking for the sentinel ConfigMap in development mode is refused', () => {
    expect(messageFor({ availability: Availability.DEVELOPMENT, elastisysConfigMap: {} })).toContain('invalid prop "elastisysConfigMap" = {}; allowed: unset or false in development mode');
  });
});

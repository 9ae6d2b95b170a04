import { Testing } from 'cdktf';
import { Construct } from 'constructs';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { App, TerraformStack } from '../../lib/core/cdktf';
import { AccessClient, AccessGrant, ConnectionContract, DataStorage, EncryptedStorageClass, ISentinelRedis, SentinelRedis } from '../../lib';
import { testApp } from '../helpers';

/** A platform stack owns the Redis; an application stack is granted access and reads connection details. */
class PlatformStack extends TerraformStack {
  public readonly redis: SentinelRedis;
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new KubernetesProvider(this, 'kubernetes', {});
    const sc = EncryptedStorageClass.fromExisting(this, 'Sc', { storageClassName: 'enc', vouchedBy: 'test' });
    this.redis = new SentinelRedis(this, 'Orders', { namespace: 'redis', storage: DataStorage.encrypted(sc, '1Gi'), elastisysConfigMap: false });
  }
}

class AppStack extends TerraformStack {
  constructor(scope: Construct, id: string, redis: ISentinelRedis) {
    super(scope, id);
    new KubernetesProvider(this, 'kubernetes', {});
    new AccessGrant(this, 'Shop', { target: redis.accessTarget, clients: [AccessClient.namespace('shop')] });
    new ConnectionContract(this, 'RedisConfig', {
      details: {
        clusterName: redis.name, namespace: redis.namespace, masterName: redis.masterName,
        sentinelServiceHost: redis.sentinelServiceHost, sentinelPort: redis.sentinelPort, sentinelPodHosts: redis.sentinelHosts,
      },
      elastisysConfigMap: { name: 'app-redis-config', namespaces: ['shop'] },
      outputs: false,
    });
    new ConfigMapV1(this, 'AuthRef', { metadata: { name: 'redis-auth-ref', namespace: 'shop' }, data: { REDIS_AUTH_SECRET: redis.auth.secretName } });
  }
}

function synthApp(useImport: boolean) {
  const app: App = testApp();
  const platform = new PlatformStack(app, 'platform');
  const redis = useImport ? SentinelRedis.fromAttributes(app, 'Imported', { name: 'orders', namespace: 'redis' }) : platform.redis;
  const appStack = new AppStack(app, 'shop', redis);
  // full synth resolves cross-stack references into outputs and remote state
  app.synth();
  return {
    platform: JSON.parse(Testing.synth(platform)),
    app: JSON.parse(Testing.synth(appStack)),
  };
}

describe('a SentinelRedis used from another stack', () => {
  const direct = synthApp(false);
  const imported = synthApp(true);

  test('cross-stack reference: the app stack reads the auth Secret name through remote state', () => {
    const cm = Object.values<any>(direct.app.resource.kubernetes_config_map_v1).find((c) => c.metadata.name === 'redis-auth-ref');
    expect(cm.data.REDIS_AUTH_SECRET).toMatch(/^\$\{data\.terraform_remote_state\.[\w-]+\.outputs\.[\w-]+\}$/);
    expect(direct.app.data.terraform_remote_state).toBeDefined();
    expect(Object.keys(direct.platform.output).some((k) => k.startsWith('cross-stack-output'))).toBe(true);
  });

  test('import from attributes gives the same interface without a stack dependency', () => {
    const cm = Object.values<any>(imported.app.resource.kubernetes_config_map_v1).find((c) => c.metadata.name === 'redis-auth-ref');
    expect(cm.data.REDIS_AUTH_SECRET).toBe('orders-auth');
    expect(imported.app.data?.terraform_remote_state).toBeUndefined();
  });

  test.each([['direct', () => direct], ['imported', () => imported]])('%s: access grant and ConfigMap in the app namespace', (_n, get) => {
    const out = get().app;
    const grant = Object.values<any>(out.resource.kubernetes_network_policy_v1)[0];
    expect(grant.metadata).toMatchObject({ name: 'orders-allow-shop', namespace: 'redis' });
    expect(grant.spec.pod_selector.match_labels).toEqual({ 'app.kubernetes.io/instance': 'orders', 'app.kubernetes.io/part-of': 'sentinel-redis' });
    expect(grant.spec.ingress[0].ports.map((p: any) => p.port)).toEqual(['6379', '26379']);
    const cm = Object.values<any>(out.resource.kubernetes_config_map_v1).find((c) => c.metadata.name === 'app-redis-config');
    expect(cm.data).toEqual({
      REDIS_CLUSTER_NAME: 'orders', REDIS_SENTINEL_HOST: 'orders-sentinel.redis', REDIS_SENTINEL_PORT: '26379',
      REDIS_SENTINEL_MASTER_NAME: 'mymaster', REDIS_SENTINEL_AUTH: 'true', REDIS_TLS: 'false',
    });
  });

  test('the imported attributes match the real topology', () => {
    const app: App = testApp();
    const real = new PlatformStack(app, 'p').redis;
    const imp = SentinelRedis.fromAttributes(app, 'I', { name: 'orders', namespace: 'redis' });
    for (const key of ['name', 'namespace', 'dataMemberHosts', 'redisPort', 'masterName', 'sentinelServiceHost', 'sentinelPort', 'sentinelHosts', 'accessTarget', 'tlsEnabled'] as const) {
      expect([key, imp[key]]).toEqual([key, real[key]]);
    }
  });
});

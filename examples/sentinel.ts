import { Construct } from 'constructs';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { TerraformStack } from '../lib/core/cdktf';
import {
  AccessClient, AclPermissions, DataStorage, EncryptedStorageClass, EvictionPolicy, HaproxyPortal, SentinelRedis, StorageEncryption,
} from '../lib';

/**
 * IBM / Elastisys style high availability: one primary, one replica and three sentinels spread over
 * zones, AOF persistence on encrypted EBS volumes, an application ACL user, and the Elastisys
 * ConfigMap and 3scale Secret published for the applications. Two TLS HAProxy portals give
 * clients without Sentinel support one endpoint that always reaches the primary (IBM's design).
 */
export class SentinelStack extends TerraformStack {
  public readonly redis: SentinelRedis;
  public readonly portal: HaproxyPortal;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    new KubernetesProvider(this, 'kubernetes', { configPath: '~/.kube/config' });

    const storage = new EncryptedStorageClass(this, 'RedisStorage', {
      name: 'redis-encrypted',
      encryption: StorageEncryption.awsEbs(),
    });

    this.redis = new SentinelRedis(this, 'Sessions', {
      namespace: 'redis-system',
      storage: DataStorage.encrypted(storage, '10Gi'),
      memoryLimit: '2Gi',
      evictionPolicy: EvictionPolicy.NOEVICTION,
      aclUsers: [{ name: 'app', permissions: AclPermissions.application() }],
      clients: [AccessClient.namespace('shop', { 'app.kubernetes.io/name': 'checkout' })],
      accessLabel: { prefix: 'elastisys.io' },
      elastisysConfigMap: { name: 'app-redis-config', namespaces: ['redis-system', 'shop'] },
      threeScaleSecret: { name: 'system-redis', namespaces: ['3scale'] },
    });

    this.portal = new HaproxyPortal(this, 'SessionsPortal', {
      backend: this.redis,
      clients: [AccessClient.namespace('shop', { 'app.kubernetes.io/name': 'checkout' })],
      accessLabel: { prefix: 'elastisys.io' },
      connection: { namespaces: ['shop'] },
    });
  }
}

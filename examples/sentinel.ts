import { Construct } from 'constructs';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { TerraformStack, TerraformVariable } from '../lib/core/cdktf';
import {
  AccessClient, AccessEgress, AclPermissions, Availability, Backups, DataStorage, EncryptedStorageClass, EvictionPolicy, HaproxyPortal, ObjectStorage, Persistence,
  SentinelRedis, ServerSideEncryption, StorageCredentials, StorageEncryption,
} from '../lib';

/**
 * IBM / Elastisys style high availability: one primary, one replica and three sentinels spread over
 * zones, AOF persistence on encrypted EBS volumes, an application ACL user, and the Elastisys
 * ConfigMap and 3scale Secret published for the applications. Two TLS HAProxy portals give
 * clients without Sentinel support one endpoint that always reaches the primary (IBM's design).
 * It is backed up every hour to an S3 bucket the platform stack owns, encrypted with SSE-KMS
 * (IBM keeps every backup in object storage, seed 000). Beside it, a cache that can be rebuilt
 * runs without persistence and without backups, on purpose (Elastisys's cache tier, seed 001).
 */
export class SentinelStack extends TerraformStack {
  public readonly redis: SentinelRedis;
  public readonly portal: HaproxyPortal;
  public readonly cache: SentinelRedis;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    new KubernetesProvider(this, 'kubernetes', { configPath: '~/.kube/config' });

    const storage = new EncryptedStorageClass(this, 'RedisStorage', {
      name: 'redis-encrypted',
      encryption: StorageEncryption.awsEbs(),
    });

    // The bucket and its KMS key come from the platform stack that owns them (this library creates no bucket).
    const bucket = new TerraformVariable(this, 'backup_bucket', { type: 'string', description: 'S3 bucket for Redis backups' });
    const kmsKey = new TerraformVariable(this, 'backup_kms_key_arn', { type: 'string', description: 'KMS key that encrypts the backups (SSE-KMS)' });

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
      backup: Backups.toObjectStorage({
        storage: ObjectStorage.s3({
          bucket: bucket.stringValue,
          prefix: 'redis',
          region: 'eu-north-1',
          serverSideEncryption: ServerSideEncryption.kms(kmsKey.stringValue),
          // IRSA: the backup pods' ServiceAccount is bound to an IAM role; no key exists anywhere.
          credentials: StorageCredentials.workloadIdentity({ serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/redis-backup' } }),
        }),
        // S3's regional endpoints over HTTPS (narrow this to your VPC endpoint's CIDR where there is one).
        egress: [AccessEgress.toCidr('0.0.0.0/0', [443])],
        schedule: '0 * * * *',
        retention: { keepLast: 48, maxAgeDays: 14 },
      }),
    });

    this.cache = new SentinelRedis(this, 'Cache', {
      namespace: 'redis-system',
      availability: Availability.HIGH_AVAILABILITY,
      storage: DataStorage.ephemeral(),
      memoryLimit: '1Gi',
      evictionPolicy: EvictionPolicy.ALLKEYS_LRU,
      persistence: Persistence.none(),
      accessLabel: { prefix: 'elastisys.io' },
      elastisysConfigMap: false,
      backup: Backups.disabled(),
    });

    this.portal = new HaproxyPortal(this, 'SessionsPortal', {
      backend: this.redis,
      clients: [AccessClient.namespace('shop', { 'app.kubernetes.io/name': 'checkout' })],
      accessLabel: { prefix: 'elastisys.io' },
      connection: { namespaces: ['shop'] },
    });
  }
}

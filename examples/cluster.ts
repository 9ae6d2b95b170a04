import { Construct } from 'constructs';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { TerraformStack } from '../lib/core/cdktf';
import {
  AccessClient, AccessEgress, AzureTier, Backups, ClientSideEncryption, ClusterPolicy, ClusterSizing, DataStorage, EncryptedStorageClass, ObjectStorage,
  PortalCertificates, ShardedRedisCluster, StorageCredentials, StorageEncryption,
} from '../lib';

/**
 * Two Redis Clusters (seeds 003 and 004): `catalog` with the OSS policy (3 shards of a primary
 * and a replica, clients speak the Cluster protocol to the members), and `sessions` with the
 * enterprise policy (sized from Azure's Balanced 12 GB SKU, one TLS endpoint through Envoy for
 * clients that do not speak the Cluster protocol). The catalog is backed up every night, shard by
 * shard, to an in-cluster MinIO, encrypted client-side; the sessions are rebuilt at login, so they
 * are not backed up, on purpose.
 */
export class ClusterStack extends TerraformStack {
  public readonly catalog: ShardedRedisCluster;
  public readonly sessions: ShardedRedisCluster;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    new KubernetesProvider(this, 'kubernetes', { configPath: '~/.kube/config' });
    const storage = new EncryptedStorageClass(this, 'ClusterStorage', {
      name: 'redis-cluster-encrypted',
      encryption: StorageEncryption.awsEbs(),
    });

    this.catalog = new ShardedRedisCluster(this, 'Catalog', {
      namespace: 'redis-cluster',
      storage: DataStorage.encrypted(storage, '20Gi'),
      shards: 3,
      replicasPerShard: 1,
      memoryLimit: '4Gi',
      clients: [AccessClient.namespace('shop', { 'app.kubernetes.io/name': 'catalog' })],
      connectionConfigMap: { namespaces: ['redis-cluster', 'shop'] },
      backup: Backups.toObjectStorage({
        storage: ObjectStorage.s3({
          endpoint: 'http://minio.minio.svc:9000',
          provider: 'Minio',
          bucket: 'redis-backups',
          credentials: StorageCredentials.fromSecret('minio-backup-credentials'),
        }),
        clientSideEncryption: ClientSideEncryption.fromSecret('redis-backup-crypt'),
        egress: [AccessEgress.toNamespace('minio', [9000])],
        schedule: '15 2 * * *',
        retention: { keepLast: 14 },
      }),
    });

    this.sessions = new ShardedRedisCluster(this, 'Sessions', {
      namespace: 'redis-cluster',
      storage: DataStorage.encrypted(storage, '40Gi'),
      sizing: ClusterSizing.azure(AzureTier.BALANCED, 12),
      policy: ClusterPolicy.enterprise({ certificates: PortalCertificates.selfSigned() }),
      clients: [AccessClient.namespace('shop', { 'app.kubernetes.io/name': 'checkout' })],
      connectionConfigMap: { namespaces: ['redis-cluster', 'shop'] },
      backup: Backups.disabled(),
    });
  }
}

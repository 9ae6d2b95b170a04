import { Construct } from 'constructs';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { TerraformStack } from '../lib/core/cdktf';
import {
  AccessClient, AccessEgress, Backups, ClientSideEncryption, DataStorage, EncryptedStorageClass, FlashSizing, FlashTierRedis, HaproxyPortal, ObjectStorage,
  StorageCredentials, StorageEncryption,
} from '../lib';

/**
 * Azure Managed Redis Flash Optimized 240 GB (seed 004) on your cluster: Apache Kvrocks with 20% of
 * the capacity in RAM as RocksDB caches and the whole dataset on encrypted NVMe-class volumes, a
 * primary and a replica behind three sentinels, and two TLS portals for clients without Sentinel
 * support. For a read-heavy product catalogue with a hot subset of large values. Backed up daily as
 * RocksDB checkpoints to the in-cluster MinIO, encrypted client-side.
 */
export class FlashStack extends TerraformStack {
  public readonly catalog: FlashTierRedis;
  public readonly portal: HaproxyPortal;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    new KubernetesProvider(this, 'kubernetes', { configPath: '~/.kube/config' });
    // io2 volumes (the fastest EBS class), encrypted with the account's EBS key.
    const nvme = new EncryptedStorageClass(this, 'FlashStorage', {
      name: 'redis-flash-encrypted',
      encryption: StorageEncryption.awsEbs({ volumeType: 'io2' }),
    });

    this.catalog = new FlashTierRedis(this, 'Catalog', {
      namespace: 'redis-flash',
      sizing: FlashSizing.azure(240),
      storage: DataStorage.encrypted(nvme, '300Gi'),
      clients: [AccessClient.namespace('shop', { 'app.kubernetes.io/name': 'catalog' })],
      // Each member has a backup CronJob that runs beside it (its checkpoint is on its own volume);
      // at each run only the one beside the chosen replica uploads.
      backup: Backups.toObjectStorage({
        storage: ObjectStorage.s3({
          provider: 'Minio',
          endpoint: 'http://minio.minio.svc.cluster.local:9000',
          bucket: 'redis-backups',
          prefix: 'flash',
          credentials: StorageCredentials.fromSecret('minio-backup-credentials'),
        }),
        clientSideEncryption: ClientSideEncryption.fromSecret('flash-backup-crypt'),
        egress: [AccessEgress.toNamespace('minio', [9000])],
        schedule: '30 2 * * *',
        retention: { keepLast: 7 },
      }),
    });

    this.portal = new HaproxyPortal(this, 'CatalogPortal', {
      backend: this.catalog,
      clients: [AccessClient.namespace('shop', { 'app.kubernetes.io/name': 'catalog' })],
      connection: { namespaces: ['shop'] },
    });
  }
}

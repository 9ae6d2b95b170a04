import { Construct } from 'constructs';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { TerraformStack } from '../lib/core/cdktf';
import { AccessClient, DataStorage, EncryptedStorageClass, FlashSizing, FlashTierRedis, HaproxyPortal, StorageEncryption } from '../lib';

/**
 * Azure Managed Redis Flash Optimized 240 GB (seed 004) on your cluster: Apache Kvrocks with 20% of
 * the capacity in RAM as RocksDB caches and the whole dataset on encrypted NVMe-class volumes, a
 * primary and a replica behind three sentinels, and two TLS portals for clients without Sentinel
 * support. For a read-heavy product catalogue with a hot subset of large values.
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
    });

    this.portal = new HaproxyPortal(this, 'CatalogPortal', {
      backend: this.catalog,
      clients: [AccessClient.namespace('shop', { 'app.kubernetes.io/name': 'catalog' })],
      connection: { namespaces: ['shop'] },
    });
  }
}

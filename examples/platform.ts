import { Construct } from 'constructs';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { TerraformStack } from '../lib/core/cdktf';
import { AccessClient, AccessPolicy, EncryptedStorageClass, StorageEncryption } from '../lib';

/**
 * The shared building blocks on their own: an encrypted StorageClass per common CSI driver and a
 * deny-by-default access policy, as a platform team would declare them once per cluster.
 */
export class PlatformStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new KubernetesProvider(this, 'kubernetes', { configPath: '~/.kube/config' });

    new EncryptedStorageClass(this, 'EbsEncrypted', {
      name: 'redis-ebs-encrypted',
      encryption: StorageEncryption.awsEbs({ kmsKeyId: 'arn:aws:kms:eu-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab' }),
    });
    new EncryptedStorageClass(this, 'GcePdCmek', {
      name: 'redis-pd-cmek',
      encryption: StorageEncryption.gcePd({ kmsKey: 'projects/acme/locations/europe-north1/keyRings/redis/cryptoKeys/disks' }),
    });
    new EncryptedStorageClass(this, 'AzureDiskCmk', {
      name: 'redis-azure-cmk',
      encryption: StorageEncryption.azureDisk({
        diskEncryptionSetId: '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/platform/providers/Microsoft.Compute/diskEncryptionSets/redis',
      }),
    });
    new EncryptedStorageClass(this, 'CephRbdLuks', {
      name: 'redis-ceph-luks',
      encryption: StorageEncryption.cephRbd({ clusterId: 'b9127830-b0cc-4e34-aa47-9d1a2e9949a8', pool: 'redis', secretName: 'csi-rbd-secret', secretNamespace: 'ceph-csi', encryptionKmsId: 'vault-kms' }),
    });
    new EncryptedStorageClass(this, 'LonghornCrypto', {
      name: 'redis-longhorn-crypto',
      encryption: StorageEncryption.longhorn({ secretName: 'longhorn-crypto', secretNamespace: 'longhorn-system' }),
    });

    new AccessPolicy(this, 'LegacyCacheAccess', {
      namespace: 'legacy',
      name: 'legacy-cache',
      podSelector: { 'app.kubernetes.io/instance': 'legacy-cache' },
      clientPorts: [6379],
      peerPorts: [6379],
      clients: [AccessClient.namespace('billing', { app: 'invoicer' }), AccessClient.ipBlock('10.20.0.0/16')],
      accessLabel: { prefix: 'elastisys.io' },
      metricsPorts: [9121],
    });
  }
}

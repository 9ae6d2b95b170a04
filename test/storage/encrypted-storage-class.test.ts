import { DataStorage, EncryptedStorageClass, ReclaimPolicy, StorageEncryption } from '../../lib';
import { PropsValidator } from '../../lib/core/validation';
import { Construct } from 'constructs';
import { emptyStack, synth } from '../helpers';

const SC = 'kubernetes_storage_class_v1';

describe('EncryptedStorageClass', () => {
  test('snapshot: one class per supported driver', () => {
    const out = synth((s) => {
      new EncryptedStorageClass(s, 'Ebs', { encryption: StorageEncryption.awsEbs({ kmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/abc' }) });
      new EncryptedStorageClass(s, 'Pd', { encryption: StorageEncryption.gcePd({ kmsKey: 'projects/p/locations/l/keyRings/r/cryptoKeys/k' }) });
      new EncryptedStorageClass(s, 'Azure', { encryption: StorageEncryption.azureDisk({ diskEncryptionSetId: '/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/diskEncryptionSets/d' }) });
      new EncryptedStorageClass(s, 'Ceph', { encryption: StorageEncryption.cephRbd({ clusterId: 'fsid', pool: 'rbd', secretName: 'csi', secretNamespace: 'ceph', encryptionKmsId: 'vault' }) });
      new EncryptedStorageClass(s, 'Longhorn', { encryption: StorageEncryption.longhorn({ secretName: 'lh', secretNamespace: 'longhorn-system' }) });
    });
    expect(out.resources(SC)).toMatchSnapshot();
  });

  test('secure defaults: WaitForFirstConsumer, expansion, Retain', () => {
    const out = synth((s) => new EncryptedStorageClass(s, 'RedisData', { encryption: StorageEncryption.awsEbs() }));
    const sc = out.named(SC, 'redis-data');
    expect(sc.volume_binding_mode).toBe('WaitForFirstConsumer');
    expect(sc.allow_volume_expansion).toBe(true);
    expect(sc.reclaim_policy).toBe('Retain');
    expect(sc.storage_provisioner).toBe('ebs.csi.aws.com');
    expect(sc.parameters).toEqual({ encrypted: 'true', type: 'gp3' });
  });

  test.each([
    ['awsEbs', StorageEncryption.awsEbs({ kmsKeyId: 'alias/redis' }), 'ebs.csi.aws.com', { encrypted: 'true', kmsKeyId: 'alias/redis' }],
    ['gcePd', StorageEncryption.gcePd({ kmsKey: 'projects/p/locations/l/keyRings/r/cryptoKeys/k' }), 'pd.csi.storage.gke.io', { 'disk-encryption-kms-key': 'projects/p/locations/l/keyRings/r/cryptoKeys/k' }],
    ['azureDisk', StorageEncryption.azureDisk({ diskEncryptionSetId: '/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/diskEncryptionSets/d' }), 'disk.csi.azure.com', { diskEncryptionSetID: '/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/diskEncryptionSets/d' }],
    ['cephRbd', StorageEncryption.cephRbd({ clusterId: 'c', pool: 'p', secretName: 's', secretNamespace: 'n', encryptionKmsId: 'vault' }), 'rbd.csi.ceph.com', { encrypted: 'true', encryptionKMSID: 'vault', clusterID: 'c', pool: 'p' }],
    ['longhorn', StorageEncryption.longhorn({ secretName: 's', secretNamespace: 'n' }), 'driver.longhorn.io', { encrypted: 'true', 'csi.storage.k8s.io/provisioner-secret-name': 's', 'csi.storage.k8s.io/node-publish-secret-name': 's', 'csi.storage.k8s.io/node-stage-secret-name': 's' }],
  ])('%s uses the driver\'s real encryption parameters', (_name, encryption, provisioner, params) => {
    const out = synth((s) => new EncryptedStorageClass(s, 'Sc', { encryption, reclaimPolicy: ReclaimPolicy.DELETE, allowedZones: ['z1'] }));
    const sc = out.named(SC, 'sc');
    expect(sc.storage_provisioner).toBe(provisioner);
    expect(sc.parameters).toMatchObject(params);
    expect(sc.reclaim_policy).toBe('Delete');
    expect(sc.allowed_topologies.match_label_expressions).toEqual([{ key: 'topology.kubernetes.io/zone', values: ['z1'] }]);
  });

  test.each([
    [() => StorageEncryption.awsEbs({ kmsKeyId: 'my-key' }), 'test/Sc: invalid prop "encryption.kmsKeyId" = "my-key"; allowed: a KMS key ARN'],
    [() => StorageEncryption.gcePd({ kmsKey: 'key' }), 'invalid prop "encryption.kmsKey" = "key"; allowed: a Cloud KMS key: projects/'],
    [() => StorageEncryption.azureDisk({ diskEncryptionSetId: 'des' }), 'invalid prop "encryption.diskEncryptionSetId" = "des"'],
    [() => StorageEncryption.cephRbd({ clusterId: '', pool: 'p', secretName: 's', secretNamespace: 'n' }), 'invalid prop "encryption.clusterId" = ""'],
    [() => StorageEncryption.longhorn({ secretName: 'Bad_Name', secretNamespace: 'n' }), 'invalid prop "encryption.secretName" = "Bad_Name"'],
    [() => StorageEncryption.longhorn({ secretName: 's', secretNamespace: 'n', numberOfReplicas: 0 }), 'invalid prop "encryption.numberOfReplicas" = 0'],
  ])('bad encryption settings fail at synth (%#)', (make, message) => {
    expect(() => new EncryptedStorageClass(emptyStack(), 'Sc', { encryption: make() })).toThrow(message);
  });

  test('bad name fails with the construct path', () => {
    expect(() => new EncryptedStorageClass(emptyStack(), 'Sc', { name: 'Not Valid', encryption: StorageEncryption.awsEbs() }))
      .toThrow('test/Sc: invalid prop "name" = "Not Valid"; allowed: a StorageClass name: a DNS-1123 subdomain');
  });

  test('an existing class can be vouched for', () => {
    const existing = EncryptedStorageClass.fromExisting(emptyStack(), 'Default', { storageClassName: 'gp3-encrypted', vouchedBy: 'EBS encryption by default' });
    expect(existing.storageClassName).toBe('gp3-encrypted');
    expect(existing.encryptionDescription).toContain('EBS encryption by default');
    expect(() => EncryptedStorageClass.fromExisting(emptyStack(), 'X', { storageClassName: 'gp3', vouchedBy: ' ' }))
      .toThrow('test/X: invalid prop "vouchedBy" = " "');
  });
});

describe('DataStorage', () => {
  const validate = (storage: DataStorage) => {
    const v = new PropsValidator(new Construct(emptyStack(), 'Topo'));
    storage._validate(v, 'storage');
    v.throwIfInvalid();
  };

  test('encrypted storage carries the class and its description', () => {
    const sc = EncryptedStorageClass.fromExisting(emptyStack(), 'E', { storageClassName: 'enc', vouchedBy: 'platform' });
    const st = DataStorage.encrypted(sc, '10Gi');
    expect(st).toMatchObject({ kind: 'persistent', storageClassName: 'enc', encrypted: true, size: '10Gi' });
    expect(() => validate(st)).not.toThrow();
    expect(() => validate(DataStorage.encrypted(sc, '10 gigs'))).toThrow('test/Topo: invalid prop "storage.size" = "10 gigs"');
  });

  test('unencrypted persistent storage needs an explicit opt-out', () => {
    expect(() => validate(DataStorage.unencrypted({ size: '1Gi', acknowledgeUnencrypted: false })))
      .toThrow('invalid prop "storage.acknowledgeUnencrypted" = false; allowed: true');
    const ok = DataStorage.unencrypted({ size: '1Gi', acknowledgeUnencrypted: true });
    expect(ok.encrypted).toBe(false);
    expect(() => validate(ok)).not.toThrow();
  });

  test('ephemeral storage is an emptyDir', () => {
    expect(DataStorage.ephemeral({ sizeLimit: '1Gi' })).toMatchObject({ kind: 'ephemeral', size: '1Gi' });
    expect(() => validate(DataStorage.ephemeral({ sizeLimit: 'big' }))).toThrow('"storage.sizeLimit" = "big"');
  });
});

import {
  EncryptedStorageClass, EncryptedStorageClassProps, ReclaimPolicy, StorageEncryption, ZONE_ALLOWED,
} from '../../lib';
import { TerraformVariable } from '../../lib/core/cdktf';
import { emptyStack, synth } from '../helpers';
import { NAME_ALLOWED, problems, SC } from './problems';

const ENCRYPTION_FACTORIES = 'StorageEncryption.awsEbs(...), StorageEncryption.gcePd(...), StorageEncryption.azureDisk(...), StorageEncryption.cephRbd(...), StorageEncryption.longhorn(...)';

const storageClass = (props: Partial<EncryptedStorageClassProps>) => () =>
  new EncryptedStorageClass(emptyStack(), 'Sc', { encryption: StorageEncryption.awsEbs(), ...props } as EncryptedStorageClassProps);
const withEncryption = (encryption: StorageEncryption) => storageClass({ encryption });

describe('EncryptedStorageClass props', () => {
  test('zone names: a space is refused with the exact message', () => {
    expect(problems(storageClass({ allowedZones: ['eu north 1a'] }))).toEqual([
      `test/Sc: invalid prop "allowedZones[0]" = "eu north 1a"; allowed: ${ZONE_ALLOWED}`,
    ]);
  });

  test('zone names: no duplicates, no empty list, no empty name, strings only', () => {
    expect(problems(storageClass({ allowedZones: ['eu-north-1a', 'eu-north-1b', 'eu-north-1a'] }))).toEqual([
      'test/Sc: invalid prop "allowedZones[2]" = "eu-north-1a"; allowed: a zone not already in the list',
    ]);
    expect(problems(storageClass({ allowedZones: [] }))).toEqual([
      'test/Sc: invalid prop "allowedZones" = []; allowed: a non-empty list of zone names such as ["eu-north-1a", "eu-north-1b"] (omit the prop for any zone)',
    ]);
    expect(problems(storageClass({ allowedZones: [''] }))[0]).toContain('invalid prop "allowedZones[0]" = ""');
    expect(problems(storageClass({ allowedZones: [undefined as any] }))[0]).toContain('invalid prop "allowedZones[0]" = undefined; allowed: a zone name');
    expect(problems(storageClass({ allowedZones: 'eu-north-1a' as any }))[0]).toContain('invalid prop "allowedZones" = "eu-north-1a"; allowed: a non-empty list');
  });

  test('StorageClass name: a DNS-1123 subdomain', () => {
    expect(problems(storageClass({ name: 'Redis_Data' }))).toEqual([`test/Sc: invalid prop "name" = "Redis_Data"; allowed: ${NAME_ALLOWED}`]);
    expect(problems(storageClass({ name: 'a'.repeat(254) }))[0]).toContain('invalid prop "name"');
    expect(problems(storageClass({ name: 42 as any }))).toEqual([`test/Sc: invalid prop "name" = 42; allowed: ${NAME_ALLOWED}`]);
    expect(() => storageClass({ name: 'redis.data-1' })()).not.toThrow();
  });

  test('mount options: non-empty, no whitespace or newlines', () => {
    const allowed = 'a mount option such as noatime or discard: non-empty, without whitespace or newlines';
    expect(problems(storageClass({ mountOptions: ['noatime', '', 'no atime', 'a\nb'] }))).toEqual([
      `test/Sc: invalid prop "mountOptions[1]" = ""; allowed: ${allowed}`,
      `test/Sc: invalid prop "mountOptions[2]" = "no atime"; allowed: ${allowed}`,
      `test/Sc: invalid prop "mountOptions[3]" = "a\\nb"; allowed: ${allowed}`,
    ]);
    expect(problems(storageClass({ mountOptions: 'noatime' as any }))[0]).toContain('invalid prop "mountOptions" = "noatime"; allowed: a list of mount options');
    const out = synth((s) => new EncryptedStorageClass(s, 'Sc', { encryption: StorageEncryption.awsEbs(), mountOptions: ['noatime', 'discard'] }));
    expect(out.named(SC, 'sc').mount_options).toEqual(['noatime', 'discard']);
  });

  test('booleans are booleans', () => {
    expect(problems(storageClass({ allowVolumeExpansion: 'yes' as any, waitForFirstConsumer: 0 as any }))).toEqual([
      'test/Sc: invalid prop "allowVolumeExpansion" = "yes"; allowed: true or false',
      'test/Sc: invalid prop "waitForFirstConsumer" = 0; allowed: true or false',
    ]);
  });

  test('every problem of the construct is reported at once', () => {
    const lines = problems(storageClass({
      encryption: StorageEncryption.awsEbs({ kmsKeyId: 'my key', volumeType: 'gp4' }),
      name: 'Bad Name',
      reclaimPolicy: 'Retain' as any,
      allowedZones: ['eu north 1a'],
      mountOptions: [' '],
    }));
    expect(lines.map((l) => /invalid prop "([^"]+)"/.exec(l)![1])).toEqual([
      'encryption.kmsKeyId', 'encryption.volumeType', 'name', 'reclaimPolicy', 'allowedZones[0]', 'mountOptions[0]',
    ]);
  });
});

describe('reclaimPolicy and encryption are real instances', () => {
  test.each([
    ['a look-alike object', { value: 'Retain' }, '{"value":"Retain"}'],
    ['a string', 'Retain', '"Retain"'],
    ['an object of another class', StorageEncryption.awsEbs(), 'a StorageEncryption'],
  ])('reclaimPolicy: %s is refused', (_what, value, shown) => {
    const [line] = problems(storageClass({ reclaimPolicy: value as any }));
    expect(line.startsWith(`test/Sc: invalid prop "reclaimPolicy" = ${shown}`)).toBe(true);
    expect(line.endsWith('; allowed: one of ReclaimPolicy.RETAIN, ReclaimPolicy.DELETE')).toBe(true);
  });

  test('the exact message for a look-alike reclaim policy', () => {
    expect(problems(storageClass({ reclaimPolicy: { value: 'Retain' } as any }))).toEqual([
      'test/Sc: invalid prop "reclaimPolicy" = {"value":"Retain"}; allowed: one of ReclaimPolicy.RETAIN, ReclaimPolicy.DELETE',
    ]);
  });

  test('the real policies render', () => {
    const out = synth((s) => {
      new EncryptedStorageClass(s, 'Keep', { encryption: StorageEncryption.awsEbs(), reclaimPolicy: ReclaimPolicy.RETAIN });
      new EncryptedStorageClass(s, 'Drop', { encryption: StorageEncryption.awsEbs(), reclaimPolicy: ReclaimPolicy.DELETE });
    });
    expect(out.named(SC, 'keep').reclaim_policy).toBe('Retain');
    expect(out.named(SC, 'drop').reclaim_policy).toBe('Delete');
    expect(String(ReclaimPolicy.RETAIN)).toBe('ReclaimPolicy(Retain)');
  });

  test('encryption: a look-alike object or a string is refused', () => {
    const lookAlike = { provisioner: 'ebs.csi.aws.com', parameters: { encrypted: 'true' }, description: 'aws', _validate: () => undefined };
    expect(problems(storageClass({ encryption: lookAlike as any }))).toEqual([
      `test/Sc: invalid prop "encryption" = ${JSON.stringify(lookAlike)}; allowed: one of ${ENCRYPTION_FACTORIES}`,
    ]);
    expect(problems(storageClass({ encryption: 'aws-ebs' as any }))).toEqual([
      `test/Sc: invalid prop "encryption" = "aws-ebs"; allowed: one of ${ENCRYPTION_FACTORIES}`,
    ]);
  });

  test('from JavaScript, a missing encryption (or no props at all) is a validation message, not a TypeError', () => {
    const missing = `test/Sc: invalid prop "encryption" = undefined; allowed: ${ENCRYPTION_FACTORIES} (required)`;
    expect(problems(() => new EncryptedStorageClass(emptyStack(), 'Sc', {} as any))).toEqual([missing]);
    expect(problems(() => new EncryptedStorageClass(emptyStack(), 'Sc', undefined as any))).toEqual([missing]);
    expect(problems(() => new EncryptedStorageClass(emptyStack(), 'Sc', { encryption: null } as any))[0])
      .toBe(`test/Sc: invalid prop "encryption" = null; allowed: ${ENCRYPTION_FACTORIES} (required)`);
  });

  test('the option classes are nominal: object literals do not type-check', () => {
    // @ts-expect-error a look-alike is not a ReclaimPolicy (private member)
    const policy: ReclaimPolicy = { value: 'Retain' };
    // @ts-expect-error a look-alike is not a StorageEncryption (private member)
    const encryption: StorageEncryption = { provisioner: 'x', parameters: {}, description: 'x', _validate: () => undefined };
    expect([policy, encryption]).toHaveLength(2);
  });
});

describe('encryption options', () => {
  test.each([
    // AWS EBS
    [StorageEncryption.awsEbs({ kmsKeyId: '' }), 'encryption.kmsKeyId', '""'],
    [StorageEncryption.awsEbs({ kmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/ab cd' }), 'encryption.kmsKeyId', '"arn:aws:kms:eu-west-1:111122223333:key/ab cd"'],
    [StorageEncryption.awsEbs({ volumeType: 'gp4' }), 'encryption.volumeType', '"gp4"'],
    [StorageEncryption.awsEbs({ fsType: 'ntfs' }), 'encryption.fsType', '"ntfs"'],
    // GCE PD
    [StorageEncryption.gcePd({ kmsKey: 'projects/p/locations/l/keyRings/r/cryptoKeys/my key' }), 'encryption.kmsKey', '"projects/p/locations/l/keyRings/r/cryptoKeys/my key"'],
    [StorageEncryption.gcePd({ diskType: 'PD SSD' }), 'encryption.diskType', '"PD SSD"'],
    // Azure Disk
    [StorageEncryption.azureDisk({ skuName: 'Premium' }), 'encryption.skuName', '"Premium"'],
    [StorageEncryption.azureDisk({ diskEncryptionSetId: '/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/diskEncryptionSets/d e' }), 'encryption.diskEncryptionSetId', '"/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/diskEncryptionSets/d e"'],
    // Ceph RBD
    [StorageEncryption.cephRbd({ clusterId: 'x'.repeat(37), pool: 'p', secretName: 's', secretNamespace: 'n' }), 'encryption.clusterId', `"${'x'.repeat(37)}"`],
    [StorageEncryption.cephRbd({ clusterId: 'c', pool: 'my pool', secretName: 's', secretNamespace: 'n' }), 'encryption.pool', '"my pool"'],
    [StorageEncryption.cephRbd({ clusterId: 'c', pool: 'p', secretName: 'S', secretNamespace: 'n' }), 'encryption.secretName', '"S"'],
    [StorageEncryption.cephRbd({ clusterId: 'c', pool: 'p', secretName: 's', secretNamespace: 'ceph.csi' }), 'encryption.secretNamespace', '"ceph.csi"'],
    [StorageEncryption.cephRbd({ clusterId: 'c', pool: 'p', secretName: 's', secretNamespace: 'n', encryptionKmsId: ' ' }), 'encryption.encryptionKmsId', '" "'],
    [StorageEncryption.cephRbd({ clusterId: 'c', pool: 'p', secretName: 's', secretNamespace: 'n', imageFeatures: 'layering,fast-diff' }), 'encryption.imageFeatures', '"layering,fast-diff"'],
    [StorageEncryption.cephRbd({ clusterId: 'c', pool: 'p', secretName: 's', secretNamespace: 'n', imageFeatures: 'layering,layering' }), 'encryption.imageFeatures', '"layering,layering"'],
    [StorageEncryption.cephRbd({ clusterId: 'c', pool: 'p', secretName: 's', secretNamespace: 'n', fsType: 'btrfs' }), 'encryption.fsType', '"btrfs"'],
    // Longhorn
    [StorageEncryption.longhorn({ secretName: 's', secretNamespace: 'n', numberOfReplicas: 0 }), 'encryption.numberOfReplicas', '0'],
    [StorageEncryption.longhorn({ secretName: 's', secretNamespace: 'n', numberOfReplicas: 11 }), 'encryption.numberOfReplicas', '11'],
    [StorageEncryption.longhorn({ secretName: 's', secretNamespace: 'n', numberOfReplicas: 2.5 }), 'encryption.numberOfReplicas', '2.5'],
    [StorageEncryption.longhorn({ secretName: 's', secretNamespace: 'n', numberOfReplicas: '3' as any }), 'encryption.numberOfReplicas', '"3"'],
    [StorageEncryption.longhorn({ secretName: 's', secretNamespace: 'longhorn_system' }), 'encryption.secretNamespace', '"longhorn_system"'],
  ])('%#: %s refused', (encryption, prop, shown) => {
    const lines = problems(withEncryption(encryption));
    expect(lines).toHaveLength(1);
    expect(lines[0].startsWith(`test/Sc: invalid prop "${prop}" = ${shown}; allowed: `)).toBe(true);
  });

  test('exact messages for several encryption options', () => {
    expect(problems(withEncryption(StorageEncryption.awsEbs({ kmsKeyId: 'my-key' })))).toEqual([
      'test/Sc: invalid prop "encryption.kmsKeyId" = "my-key"; allowed: a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), an alias ARN, a key id or alias/<name>, without whitespace',
    ]);
    expect(problems(withEncryption(StorageEncryption.awsEbs({ volumeType: 'gp4' })))).toEqual([
      'test/Sc: invalid prop "encryption.volumeType" = "gp4"; allowed: one of "gp3", "gp2", "io2", "io1", "st1", "sc1", "standard", "sbp1", "sbg1"',
    ]);
    expect(problems(withEncryption(StorageEncryption.azureDisk({ skuName: 'Premium' })))).toEqual([
      'test/Sc: invalid prop "encryption.skuName" = "Premium"; allowed: one of "Premium_LRS", "PremiumV2_LRS", "Premium_ZRS", "StandardSSD_LRS", "StandardSSD_ZRS", "Standard_LRS", "UltraSSD_LRS"',
    ]);
    expect(problems(withEncryption(StorageEncryption.cephRbd({ clusterId: 'c', pool: 'p', secretName: 's', secretNamespace: 'n', fsType: 'btrfs' })))).toEqual([
      'test/Sc: invalid prop "encryption.fsType" = "btrfs"; allowed: one of "ext4", "xfs"',
    ]);
    expect(problems(withEncryption(StorageEncryption.longhorn({ secretName: 's', secretNamespace: 'n', numberOfReplicas: 0 })))).toEqual([
      'test/Sc: invalid prop "encryption.numberOfReplicas" = 0; allowed: an integer from 1 to 10',
    ]);
    expect(problems(withEncryption(StorageEncryption.cephRbd({ clusterId: 'c', pool: 'p', secretName: 's', secretNamespace: 'n', imageFeatures: 'journaling' })))).toEqual([
      'test/Sc: invalid prop "encryption.imageFeatures" = "journaling"; allowed: a comma-separated list of RBD image features, each once, from layering, exclusive-lock, object-map, fast-diff, deep-flatten, journaling (object-map and journaling need exclusive-lock, fast-diff needs object-map)',
    ]);
  });

  test('valid non-default settings are accepted and rendered', () => {
    const out = synth((s) => {
      new EncryptedStorageClass(s, 'Ebs', { encryption: StorageEncryption.awsEbs({ kmsKeyId: 'mrk-1234abcd12ab34cd56ef1234567890ab', volumeType: 'io2', fsType: 'xfs' }) });
      new EncryptedStorageClass(s, 'Alias', { encryption: StorageEncryption.awsEbs({ kmsKeyId: 'arn:aws:kms:eu-north-1:111122223333:alias/redis' }) });
      new EncryptedStorageClass(s, 'Pd', { encryption: StorageEncryption.gcePd({ diskType: 'hyperdisk-balanced' }) });
      new EncryptedStorageClass(s, 'Az', { encryption: StorageEncryption.azureDisk({ skuName: 'PremiumV2_LRS' }) });
      new EncryptedStorageClass(s, 'Ceph', {
        encryption: StorageEncryption.cephRbd({ clusterId: 'b9127830-b0cc-4e34-aa47-9d1a2e9949a8', pool: 'redis', secretName: 'csi-rbd-secret', secretNamespace: 'ceph-csi', imageFeatures: 'layering,exclusive-lock,object-map,fast-diff', fsType: 'xfs' }),
      });
      new EncryptedStorageClass(s, 'Lh', { encryption: StorageEncryption.longhorn({ secretName: 'lh', secretNamespace: 'longhorn-system', numberOfReplicas: 2 }) });
    });
    expect(out.named(SC, 'ebs').parameters).toEqual({ encrypted: 'true', type: 'io2', kmsKeyId: 'mrk-1234abcd12ab34cd56ef1234567890ab', 'csi.storage.k8s.io/fstype': 'xfs' });
    expect(out.named(SC, 'pd').parameters).toEqual({ type: 'hyperdisk-balanced' });
    expect(out.named(SC, 'az').parameters).toEqual({ skuName: 'PremiumV2_LRS' });
    expect(out.named(SC, 'ceph').parameters).toMatchObject({ imageFeatures: 'layering,exclusive-lock,object-map,fast-diff', 'csi.storage.k8s.io/fstype': 'xfs' });
    expect(out.named(SC, 'lh').parameters.numberOfReplicas).toBe('2');
  });

  test('from JavaScript: missing options and required fields are validation messages, not TypeErrors', () => {
    expect(problems(withEncryption(StorageEncryption.cephRbd(undefined as any)))).toEqual([
      'test/Sc: invalid prop "encryption" = undefined; allowed: StorageEncryption.cephRbd({ clusterId, pool, secretName, secretNamespace, encryptionKmsId?, imageFeatures?, fsType? }) (required)',
    ]);
    expect(problems(withEncryption(StorageEncryption.longhorn({} as any)))).toEqual([
      'test/Sc: invalid prop "encryption.secretName" = undefined; allowed: a Secret name: a DNS-1123 subdomain (dot-separated labels of lower-case letters, digits and "-", at most 253 characters) (required)',
      'test/Sc: invalid prop "encryption.secretNamespace" = undefined; allowed: a namespace name: a DNS-1123 label (lower-case letters, digits and "-", at most 63 characters) (required)',
    ]);
    expect(problems(withEncryption(StorageEncryption.awsEbs('arn:aws:kms:eu-west-1:111122223333:key/abc' as any)))).toEqual([
      'test/Sc: invalid prop "encryption" = "arn:aws:kms:eu-west-1:111122223333:key/abc"; allowed: StorageEncryption.awsEbs({ kmsKeyId?, volumeType?, fsType? })',
    ]);
    expect(problems(withEncryption(StorageEncryption.awsEbs({ kmsKeyId: 42 as any })))[0]).toContain('invalid prop "encryption.kmsKeyId" = 42; allowed: a KMS key ARN');
    expect(problems(withEncryption(StorageEncryption.cephRbd({ clusterId: 'c', secretName: 's', secretNamespace: 'n' } as any)))).toEqual([
      'test/Sc: invalid prop "encryption.pool" = undefined; allowed: an RBD pool name: non-empty, without whitespace (required)',
    ]);
  });

  test('Terraform tokens are accepted where Kubernetes checks the value at apply time, and synthesize', () => {
    const out = synth((s) => {
      const kms = new TerraformVariable(s, 'kms_key', { type: 'string' });
      const zone = new TerraformVariable(s, 'zone', { type: 'string' });
      const zones = new TerraformVariable(s, 'zones', { type: 'list(string)' });
      const replicas = new TerraformVariable(s, 'replicas', { type: 'number' });
      const ns = new TerraformVariable(s, 'secret_ns', { type: 'string' });
      const scName = new TerraformVariable(s, 'sc_name', { type: 'string' });
      new EncryptedStorageClass(s, 'Ebs', { encryption: StorageEncryption.awsEbs({ kmsKeyId: kms.stringValue }), allowedZones: ['eu-north-1a', zone.stringValue] });
      new EncryptedStorageClass(s, 'Lh', {
        name: scName.stringValue,
        encryption: StorageEncryption.longhorn({ secretName: 'lh', secretNamespace: ns.stringValue, numberOfReplicas: replicas.numberValue }),
        allowedZones: zones.listValue,
      });
    });
    const ebs = out.named(SC, 'ebs');
    expect(ebs.parameters.kmsKeyId).toBe('${var.kms_key}');
    expect(ebs.metadata.annotations['redis-topologies.io/encryption']).toBe('aws-ebs: KMS key ${var.kms_key}');
    expect(ebs.allowed_topologies.match_label_expressions[0].values).toEqual(['eu-north-1a', '${var.zone}']);
    const lh = out.named(SC, '${var.sc_name}');
    expect(lh.parameters.numberOfReplicas).toBe('${var.replicas}');
    expect(lh.parameters['csi.storage.k8s.io/node-stage-secret-namespace']).toBe('${var.secret_ns}');
    expect(lh.allowed_topologies.match_label_expressions[0].values).toBe('${var.zones}');
  });
});

describe('EncryptedStorageClass.fromExisting', () => {
  test('storageClassName and vouchedBy are required, with exact messages', () => {
    expect(problems(() => EncryptedStorageClass.fromExisting(emptyStack(), 'X', { storageClassName: 'Bad Name', vouchedBy: 'platform' }))).toEqual([
      `test/X: invalid prop "storageClassName" = "Bad Name"; allowed: ${NAME_ALLOWED}`,
    ]);
    expect(problems(() => EncryptedStorageClass.fromExisting(emptyStack(), 'X', {} as any))).toEqual([
      `test/X: invalid prop "storageClassName" = undefined; allowed: ${NAME_ALLOWED} (required)`,
      'test/X: invalid prop "vouchedBy" = undefined; allowed: a non-empty statement of how the class encrypts (required)',
    ]);
    expect(problems(() => EncryptedStorageClass.fromExisting(emptyStack(), 'X', undefined as any))).toEqual([
      'test/X: invalid prop "attrs" = undefined; allowed: { storageClassName, vouchedBy } (required)',
    ]);
  });

  test('a token class name is accepted', () => {
    const stack = emptyStack();
    const name = new TerraformVariable(stack, 'sc', { type: 'string' }).stringValue;
    expect(EncryptedStorageClass.fromExisting(stack, 'X', { storageClassName: name, vouchedBy: 'platform' }).storageClassName).toBe(name);
  });
});

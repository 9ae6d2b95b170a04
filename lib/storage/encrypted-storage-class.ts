import { Construct } from 'constructs';
import { StorageClassV1 } from '@cdktf/provider-kubernetes/lib/storage-class-v1';
import { standardLabels } from '../core/labels';
import { isDnsSubdomain, resourceName } from '../core/names';
import { PropsValidator } from '../core/validation';
import { kubernetesObject } from '../core/registry';

/**
 * A StorageClass whose volumes are encrypted at rest. Topologies take this type for persistent
 * data, so an unencrypted class cannot be passed by mistake.
 */
export interface IEncryptedStorageClass {
  /** The StorageClass name that PersistentVolumeClaims use. */
  readonly storageClassName: string;
  /** How the class encrypts, for docs and plan review (e.g. `aws-ebs: kms key arn:...`). */
  readonly encryptionDescription: string;
}

/** Aspects of one CSI driver's encryption: its provisioner name and real StorageClass parameters. */
export class StorageEncryption {
  /**
   * AWS EBS CSI (`ebs.csi.aws.com`): `encrypted: "true"`, with the account's default EBS key unless
   * `kmsKeyId` (a key ARN) is given.
   */
  public static awsEbs(options: AwsEbsEncryptionOptions = {}): StorageEncryption {
    const parameters: Record<string, string> = {
      encrypted: 'true',
      type: options.volumeType ?? 'gp3',
    };
    if (options.kmsKeyId !== undefined) parameters.kmsKeyId = options.kmsKeyId;
    if (options.fsType !== undefined) parameters['csi.storage.k8s.io/fstype'] = options.fsType;
    return new StorageEncryption('ebs.csi.aws.com', parameters,
      options.kmsKeyId ? `aws-ebs: KMS key ${options.kmsKeyId}` : 'aws-ebs: account default EBS KMS key',
      (v) => v.check('encryption.kmsKeyId', options.kmsKeyId, (k) => /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/.+|alias\/.+|[0-9a-f-]{36})$/.test(k),
        'a KMS key ARN, key id or alias/<name>'));
  }

  /**
   * GCE Persistent Disk CSI (`pd.csi.storage.gke.io`). Persistent disks are always encrypted with
   * Google-managed keys; `kmsKey` (`disk-encryption-kms-key`) switches to a customer-managed key.
   */
  public static gcePd(options: GcePdEncryptionOptions = {}): StorageEncryption {
    const parameters: Record<string, string> = { type: options.diskType ?? 'pd-balanced' };
    if (options.kmsKey !== undefined) parameters['disk-encryption-kms-key'] = options.kmsKey;
    return new StorageEncryption('pd.csi.storage.gke.io', parameters,
      options.kmsKey ? `gce-pd: CMEK ${options.kmsKey}` : 'gce-pd: Google-managed keys',
      (v) => v.check('encryption.kmsKey', options.kmsKey, (k) => /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/.test(k),
        'projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>'));
  }

  /**
   * Azure Disk CSI (`disk.csi.azure.com`). Managed disks are always encrypted with platform-managed
   * keys; `diskEncryptionSetId` (`diskEncryptionSetID`) switches to customer-managed keys.
   */
  public static azureDisk(options: AzureDiskEncryptionOptions = {}): StorageEncryption {
    const parameters: Record<string, string> = { skuName: options.skuName ?? 'Premium_LRS' };
    if (options.diskEncryptionSetId !== undefined) parameters.diskEncryptionSetID = options.diskEncryptionSetId;
    return new StorageEncryption('disk.csi.azure.com', parameters,
      options.diskEncryptionSetId ? `azure-disk: disk encryption set ${options.diskEncryptionSetId}` : 'azure-disk: platform-managed keys',
      (v) => v.check('encryption.diskEncryptionSetId', options.diskEncryptionSetId,
        (k) => /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/diskEncryptionSets\/[^/]+$/i.test(k),
        '/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Compute/diskEncryptionSets/<name>'));
  }

  /**
   * Ceph RBD CSI (`rbd.csi.ceph.com`): LUKS encryption with `encrypted: "true"`; the passphrase comes
   * from the KMS configuration named by `encryptionKmsId` (`encryptionKMSID`), else from the
   * driver's default (secrets metadata).
   */
  public static cephRbd(options: CephRbdEncryptionOptions): StorageEncryption {
    const ns = options.secretNamespace;
    const parameters: Record<string, string> = {
      clusterID: options.clusterId,
      pool: options.pool,
      imageFeatures: options.imageFeatures ?? 'layering',
      encrypted: 'true',
      'csi.storage.k8s.io/fstype': options.fsType ?? 'ext4',
      'csi.storage.k8s.io/provisioner-secret-name': options.secretName,
      'csi.storage.k8s.io/provisioner-secret-namespace': ns,
      'csi.storage.k8s.io/controller-expand-secret-name': options.secretName,
      'csi.storage.k8s.io/controller-expand-secret-namespace': ns,
      'csi.storage.k8s.io/node-stage-secret-name': options.secretName,
      'csi.storage.k8s.io/node-stage-secret-namespace': ns,
    };
    if (options.encryptionKmsId !== undefined) parameters.encryptionKMSID = options.encryptionKmsId;
    return new StorageEncryption('rbd.csi.ceph.com', parameters,
      `ceph-rbd: LUKS, KMS ${options.encryptionKmsId ?? 'secrets-metadata (driver default)'}`,
      (v) => {
        v.check('encryption.clusterId', options.clusterId, (s) => s.length > 0, 'the Ceph cluster id (fsid)');
        v.check('encryption.pool', options.pool, (s) => s.length > 0, 'an RBD pool name');
        v.check('encryption.secretName', options.secretName, isDnsSubdomain, 'a Secret name (DNS-1123 subdomain)');
        v.check('encryption.secretNamespace', options.secretNamespace, isDnsSubdomain, 'a namespace name');
      });
  }

  /**
   * Longhorn (`driver.longhorn.io`): `encrypted: "true"`, with the LUKS passphrase in the Secret that
   * the provisioner, node-publish and node-stage secret parameters name.
   */
  public static longhorn(options: LonghornEncryptionOptions): StorageEncryption {
    const ns = options.secretNamespace;
    const parameters: Record<string, string> = {
      encrypted: 'true',
      numberOfReplicas: String(options.numberOfReplicas ?? 3),
      staleReplicaTimeout: '2880',
      'csi.storage.k8s.io/provisioner-secret-name': options.secretName,
      'csi.storage.k8s.io/provisioner-secret-namespace': ns,
      'csi.storage.k8s.io/node-publish-secret-name': options.secretName,
      'csi.storage.k8s.io/node-publish-secret-namespace': ns,
      'csi.storage.k8s.io/node-stage-secret-name': options.secretName,
      'csi.storage.k8s.io/node-stage-secret-namespace': ns,
    };
    return new StorageEncryption('driver.longhorn.io', parameters, `longhorn: LUKS, passphrase in Secret ${ns}/${options.secretName}`,
      (v) => {
        v.check('encryption.secretName', options.secretName, isDnsSubdomain, 'a Secret name (DNS-1123 subdomain)');
        v.check('encryption.secretNamespace', options.secretNamespace, isDnsSubdomain, 'a namespace name');
        v.integer('encryption.numberOfReplicas', options.numberOfReplicas, 1, 10);
      });
  }

  private constructor(
    /** The CSI provisioner name. */
    public readonly provisioner: string,
    /** StorageClass parameters, including the driver's encryption settings. */
    public readonly parameters: Readonly<Record<string, string>>,
    /** Human-readable summary of how volumes are encrypted. */
    public readonly description: string,
    private readonly validator: (v: PropsValidator) => void,
  ) {}

  /** @internal */
  public _validate(v: PropsValidator): void {
    this.validator(v);
  }
}

export interface AwsEbsEncryptionOptions {
  /** KMS key ARN, key id or alias. @default the account's default EBS key (aws/ebs) */
  readonly kmsKeyId?: string;
  /** EBS volume type. @default gp3 */
  readonly volumeType?: string;
  /** Filesystem. @default the driver's default (ext4) */
  readonly fsType?: string;
}

export interface GcePdEncryptionOptions {
  /** Cloud KMS key for customer-managed encryption. @default Google-managed keys */
  readonly kmsKey?: string;
  /** Disk type. @default pd-balanced */
  readonly diskType?: string;
}

export interface AzureDiskEncryptionOptions {
  /** Disk encryption set resource id for customer-managed keys. @default platform-managed keys */
  readonly diskEncryptionSetId?: string;
  /** Disk SKU. @default Premium_LRS */
  readonly skuName?: string;
}

export interface CephRbdEncryptionOptions {
  /** Ceph cluster id (fsid) as configured in the ceph-csi config map. */
  readonly clusterId: string;
  /** RBD pool. */
  readonly pool: string;
  /** Secret with the Ceph user credentials used to provision, expand and stage volumes. */
  readonly secretName: string;
  /** Namespace of that Secret. */
  readonly secretNamespace: string;
  /** KMS configuration id from ceph-csi's KMS config. @default the driver's secrets-metadata KMS */
  readonly encryptionKmsId?: string;
  /** RBD image features. @default layering */
  readonly imageFeatures?: string;
  /** Filesystem. @default ext4 */
  readonly fsType?: string;
}

export interface LonghornEncryptionOptions {
  /** Secret holding CRYPTO_KEY_VALUE and the other Longhorn crypto keys. */
  readonly secretName: string;
  /** Namespace of that Secret. */
  readonly secretNamespace: string;
  /** Longhorn replicas per volume. @default 3 */
  readonly numberOfReplicas?: number;
}

/** What happens to a volume when its claim is deleted. */
export class ReclaimPolicy {
  /** Keep the volume (and the data) after the claim is deleted. */
  public static readonly RETAIN = new ReclaimPolicy('Retain');
  /** Delete the volume with the claim. */
  public static readonly DELETE = new ReclaimPolicy('Delete');
  private constructor(public readonly value: string) {}
}

export interface EncryptedStorageClassProps {
  /** The CSI driver and its encryption settings. */
  readonly encryption: StorageEncryption;
  /** StorageClass name. @default derived from the construct id */
  readonly name?: string;
  /** @default ReclaimPolicy.RETAIN, so deleting a claim never deletes data by accident */
  readonly reclaimPolicy?: ReclaimPolicy;
  /** @default true */
  readonly allowVolumeExpansion?: boolean;
  /**
   * Bind volumes when the pod is scheduled (WaitForFirstConsumer), so a volume is created in the zone
   * of the pod that uses it. `false` binds immediately.
   * @default true
   */
  readonly waitForFirstConsumer?: boolean;
  /** Restrict volumes to these zones (allowedTopologies on topology.kubernetes.io/zone). @default any zone */
  readonly allowedZones?: string[];
  /** @default none */
  readonly mountOptions?: string[];
}

/** A StorageClass with encryption at rest for one of the common CSI drivers. */
export class EncryptedStorageClass extends Construct implements IEncryptedStorageClass {
  /**
   * An existing StorageClass that the platform vouches for as encrypted at rest (for example, one
   * that a cluster add-on manages). `vouchedBy` is recorded as the encryption description.
   */
  public static fromExisting(scope: Construct, id: string, attrs: ExistingEncryptedStorageClassAttributes): IEncryptedStorageClass {
    const c = new Construct(scope, id);
    const v = new PropsValidator(c);
    v.check('storageClassName', attrs.storageClassName, isDnsSubdomain, 'a StorageClass name (DNS-1123 subdomain)');
    v.check('vouchedBy', attrs.vouchedBy, (s) => s.trim().length > 0, 'a non-empty statement of how the class encrypts');
    v.throwIfInvalid();
    return { storageClassName: attrs.storageClassName, encryptionDescription: `existing class, vouched: ${attrs.vouchedBy}` };
  }

  public readonly storageClassName: string;
  public readonly encryptionDescription: string;
  /** The underlying resource. */
  public readonly resource: StorageClassV1;

  constructor(scope: Construct, id: string, props: EncryptedStorageClassProps) {
    super(scope, id);
    const v = new PropsValidator(this);
    const name = resourceName(this, props.name);
    v.check('name', props.name, isDnsSubdomain, 'a DNS-1123 subdomain of at most 253 characters');
    props.encryption._validate(v);
    v.check('allowedZones', props.allowedZones, (zones) => zones.length > 0 && zones.every((z) => z.length > 0), 'a non-empty list of zone names');
    v.throwIfInvalid();

    this.storageClassName = name;
    this.encryptionDescription = props.encryption.description;
    this.resource = new StorageClassV1(this, 'Resource', kubernetesObject(this, 'StorageClass', {
      metadata: {
        name,
        labels: standardLabels({ name: 'storage', instance: name, component: 'storage-class', partOf: 'redis-topologies' }),
        annotations: { 'redis-topologies.io/encryption': props.encryption.description },
      },
      storageProvisioner: props.encryption.provisioner,
      parameters: { ...props.encryption.parameters },
      reclaimPolicy: (props.reclaimPolicy ?? ReclaimPolicy.RETAIN).value,
      volumeBindingMode: props.waitForFirstConsumer === false ? 'Immediate' : 'WaitForFirstConsumer',
      allowVolumeExpansion: props.allowVolumeExpansion ?? true,
      mountOptions: props.mountOptions,
      allowedTopologies: props.allowedZones
        ? { matchLabelExpressions: [{ key: 'topology.kubernetes.io/zone', values: [...props.allowedZones] }] }
        : undefined,
    }));
  }
}

export interface ExistingEncryptedStorageClassAttributes {
  readonly storageClassName: string;
  /** Who or what guarantees encryption, e.g. "cluster default class, EBS encryption by default on". */
  readonly vouchedBy: string;
}

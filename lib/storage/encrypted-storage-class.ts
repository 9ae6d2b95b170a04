import { Construct } from 'constructs';
import { StorageClassV1 } from '@cdktf/provider-kubernetes/lib/storage-class-v1';
import { Token } from '../core/cdktf';
import { standardLabels } from '../core/labels';
import { isDnsSubdomain, resourceName } from '../core/names';
import { isZoneName, validateNamespace, ZONE_ALLOWED } from '../core/rules';
import { isUnresolved, PropsValidator } from '../core/validation';
import { kubernetesObject } from '../core/registry';
import { asOptions, checkBoolean, checkOptions, isWord } from './checks';

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

// --- what each prop allows, in the words of the validation messages ---------------------------

export const STORAGE_CLASS_NAME_ALLOWED = 'a StorageClass name: a DNS-1123 subdomain (dot-separated labels of lower-case letters, digits and "-", at most 253 characters)';
export const SECRET_NAME_ALLOWED = 'a Secret name: a DNS-1123 subdomain (dot-separated labels of lower-case letters, digits and "-", at most 253 characters)';
export const MOUNT_OPTION_ALLOWED = 'a mount option such as noatime or discard: non-empty, without whitespace or newlines';
export const AWS_KMS_KEY_ALLOWED = 'a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), an alias ARN, a key id or alias/<name>, without whitespace';
export const GCP_KMS_KEY_ALLOWED = 'a Cloud KMS key: projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>, without whitespace';
export const GCE_DISK_TYPE_ALLOWED = 'a GCE disk type such as pd-balanced, pd-ssd, pd-standard, pd-extreme or hyperdisk-balanced (lower-case letters, digits and "-")';
export const AZURE_DISK_ENCRYPTION_SET_ALLOWED = 'a disk encryption set id: /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Compute/diskEncryptionSets/<name>, without whitespace';
export const CEPH_CLUSTER_ID_ALLOWED = 'the ceph-csi cluster id (usually the Ceph fsid): at most 36 characters, non-empty, without whitespace';
export const CEPH_POOL_ALLOWED = 'an RBD pool name: non-empty, without whitespace';
export const CEPH_KMS_ID_ALLOWED = "a KMS configuration id from ceph-csi's KMS config: non-empty, without whitespace";

/** EBS volume types the AWS EBS CSI driver documents for `type`. */
export const EBS_VOLUME_TYPES = ['gp3', 'gp2', 'io2', 'io1', 'st1', 'sc1', 'standard', 'sbp1', 'sbg1'] as const;
/** Filesystems the AWS EBS CSI driver documents for `csi.storage.k8s.io/fstype`. */
export const EBS_FS_TYPES = ['ext4', 'xfs', 'ext3', 'ext2'] as const;
/** Azure managed disk SKUs (the Azure Disk CSI driver's `skuName`). */
export const AZURE_DISK_SKUS = ['Premium_LRS', 'PremiumV2_LRS', 'Premium_ZRS', 'StandardSSD_LRS', 'StandardSSD_ZRS', 'Standard_LRS', 'UltraSSD_LRS'] as const;
/** Filesystems ceph-csi formats RBD volumes with. */
export const CEPH_RBD_FS_TYPES = ['ext4', 'xfs'] as const;
/** RBD image features ceph-csi accepts in `imageFeatures`, with the features each one needs. */
export const CEPH_RBD_IMAGE_FEATURES: Readonly<Record<string, readonly string[]>> = {
  'layering': [],
  'exclusive-lock': [],
  'object-map': ['exclusive-lock'],
  'fast-diff': ['object-map'],
  'deep-flatten': [],
  'journaling': ['exclusive-lock'],
};
export const CEPH_IMAGE_FEATURES_ALLOWED = `a comma-separated list of RBD image features, each once, from ${Object.keys(CEPH_RBD_IMAGE_FEATURES).join(', ')} (object-map and journaling need exclusive-lock, fast-diff needs object-map)`;

const AWS_KMS_KEY_RE = /^(?:arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(?:key|alias)\/\S+|alias\/[A-Za-z0-9/_-]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const GCP_KMS_KEY_RE = /^projects\/[^/\s]+\/locations\/[^/\s]+\/keyRings\/[^/\s]+\/cryptoKeys\/[^/\s]+$/;
const AZURE_DES_RE = /^\/subscriptions\/[^/\s]+\/resourceGroups\/[^/\s]+\/providers\/Microsoft\.Compute\/diskEncryptionSets\/[^/\s]+$/i;

function isCephImageFeatures(value: string): boolean {
  const features = value.split(',');
  if (new Set(features).size !== features.length) return false;
  return features.every((f) => f in CEPH_RBD_IMAGE_FEATURES && CEPH_RBD_IMAGE_FEATURES[f].every((needed) => features.includes(needed)));
}

/** A number for a StorageClass parameter (a string map), keeping a Terraform token a token. */
function numberParameter(n: number): string {
  return isUnresolved(n) ? Token.asString(n) : String(n);
}

/** The factories that make a StorageEncryption, for validation messages. */
export const STORAGE_ENCRYPTION_FACTORIES = 'StorageEncryption.awsEbs(...), StorageEncryption.gcePd(...), StorageEncryption.azureDisk(...), StorageEncryption.cephRbd(...), StorageEncryption.longhorn(...)';

/** Aspects of one CSI driver's encryption: its provisioner name and real StorageClass parameters. */
export class StorageEncryption {
  /**
   * AWS EBS CSI (`ebs.csi.aws.com`): `encrypted: "true"`, with the account's default EBS key unless
   * `kmsKeyId` (a key ARN) is given.
   */
  public static awsEbs(options: AwsEbsEncryptionOptions = {}): StorageEncryption {
    const o = asOptions<AwsEbsEncryptionOptions>(options);
    const parameters: Record<string, string> = {
      encrypted: 'true',
      type: o.volumeType ?? 'gp3',
    };
    if (o.kmsKeyId !== undefined) parameters.kmsKeyId = o.kmsKeyId;
    if (o.fsType !== undefined) parameters['csi.storage.k8s.io/fstype'] = o.fsType;
    return new StorageEncryption('ebs.csi.aws.com', parameters,
      o.kmsKeyId ? `aws-ebs: KMS key ${o.kmsKeyId}` : 'aws-ebs: account default EBS KMS key',
      (v) => {
        if (!checkOptions(v, 'encryption', options, false, 'StorageEncryption.awsEbs({ kmsKeyId?, volumeType?, fsType? })')) return;
        v.string('encryption.kmsKeyId', o.kmsKeyId, (k) => AWS_KMS_KEY_RE.test(k), AWS_KMS_KEY_ALLOWED);
        if (v.type('encryption.volumeType', o.volumeType, 'string', `one of ${EBS_VOLUME_TYPES.map((t) => JSON.stringify(t)).join(', ')}`)) {
          v.oneOf('encryption.volumeType', o.volumeType, EBS_VOLUME_TYPES as readonly string[]);
        }
        if (v.type('encryption.fsType', o.fsType, 'string', `one of ${EBS_FS_TYPES.map((t) => JSON.stringify(t)).join(', ')}`)) {
          v.oneOf('encryption.fsType', o.fsType, EBS_FS_TYPES as readonly string[]);
        }
      });
  }

  /**
   * GCE Persistent Disk CSI (`pd.csi.storage.gke.io`). Persistent disks are always encrypted with
   * Google-managed keys; `kmsKey` (`disk-encryption-kms-key`) switches to a customer-managed key.
   */
  public static gcePd(options: GcePdEncryptionOptions = {}): StorageEncryption {
    const o = asOptions<GcePdEncryptionOptions>(options);
    const parameters: Record<string, string> = { type: o.diskType ?? 'pd-balanced' };
    if (o.kmsKey !== undefined) parameters['disk-encryption-kms-key'] = o.kmsKey;
    return new StorageEncryption('pd.csi.storage.gke.io', parameters,
      o.kmsKey ? `gce-pd: CMEK ${o.kmsKey}` : 'gce-pd: Google-managed keys',
      (v) => {
        if (!checkOptions(v, 'encryption', options, false, 'StorageEncryption.gcePd({ kmsKey?, diskType? })')) return;
        v.string('encryption.kmsKey', o.kmsKey, (k) => GCP_KMS_KEY_RE.test(k), GCP_KMS_KEY_ALLOWED);
        v.string('encryption.diskType', o.diskType, (t) => /^[a-z][a-z0-9-]*[a-z0-9]$/.test(t), GCE_DISK_TYPE_ALLOWED);
      });
  }

  /**
   * Azure Disk CSI (`disk.csi.azure.com`). Managed disks are always encrypted with platform-managed
   * keys; `diskEncryptionSetId` (`diskEncryptionSetID`) switches to customer-managed keys.
   */
  public static azureDisk(options: AzureDiskEncryptionOptions = {}): StorageEncryption {
    const o = asOptions<AzureDiskEncryptionOptions>(options);
    const parameters: Record<string, string> = { skuName: o.skuName ?? 'Premium_LRS' };
    if (o.diskEncryptionSetId !== undefined) parameters.diskEncryptionSetID = o.diskEncryptionSetId;
    return new StorageEncryption('disk.csi.azure.com', parameters,
      o.diskEncryptionSetId ? `azure-disk: disk encryption set ${o.diskEncryptionSetId}` : 'azure-disk: platform-managed keys',
      (v) => {
        if (!checkOptions(v, 'encryption', options, false, 'StorageEncryption.azureDisk({ diskEncryptionSetId?, skuName? })')) return;
        v.string('encryption.diskEncryptionSetId', o.diskEncryptionSetId, (k) => AZURE_DES_RE.test(k), AZURE_DISK_ENCRYPTION_SET_ALLOWED);
        if (v.type('encryption.skuName', o.skuName, 'string', `one of ${AZURE_DISK_SKUS.map((t) => JSON.stringify(t)).join(', ')}`)) {
          v.oneOf('encryption.skuName', o.skuName, AZURE_DISK_SKUS as readonly string[]);
        }
      });
  }

  /**
   * Ceph RBD CSI (`rbd.csi.ceph.com`): LUKS encryption with `encrypted: "true"`; the passphrase comes
   * from the KMS configuration named by `encryptionKmsId` (`encryptionKMSID`), else from the
   * driver's default (secrets metadata).
   */
  public static cephRbd(options: CephRbdEncryptionOptions): StorageEncryption {
    const o = asOptions<CephRbdEncryptionOptions>(options);
    const ns = o.secretNamespace as string;
    const secret = o.secretName as string;
    const parameters: Record<string, string> = {
      clusterID: o.clusterId as string,
      pool: o.pool as string,
      imageFeatures: o.imageFeatures ?? 'layering',
      encrypted: 'true',
      'csi.storage.k8s.io/fstype': o.fsType ?? 'ext4',
      'csi.storage.k8s.io/provisioner-secret-name': secret,
      'csi.storage.k8s.io/provisioner-secret-namespace': ns,
      'csi.storage.k8s.io/controller-expand-secret-name': secret,
      'csi.storage.k8s.io/controller-expand-secret-namespace': ns,
      'csi.storage.k8s.io/node-stage-secret-name': secret,
      'csi.storage.k8s.io/node-stage-secret-namespace': ns,
    };
    if (o.encryptionKmsId !== undefined) parameters.encryptionKMSID = o.encryptionKmsId;
    return new StorageEncryption('rbd.csi.ceph.com', parameters,
      `ceph-rbd: LUKS, KMS ${o.encryptionKmsId ?? 'secrets-metadata (driver default)'}`,
      (v) => {
        if (!checkOptions(v, 'encryption', options, true, 'StorageEncryption.cephRbd({ clusterId, pool, secretName, secretNamespace, encryptionKmsId?, imageFeatures?, fsType? })')) return;
        v.requiredString('encryption.clusterId', o.clusterId, (s) => isWord(s) && s.length <= 36, CEPH_CLUSTER_ID_ALLOWED);
        v.requiredString('encryption.pool', o.pool, isWord, CEPH_POOL_ALLOWED);
        v.requiredString('encryption.secretName', o.secretName, isDnsSubdomain, SECRET_NAME_ALLOWED);
        validateNamespace(v, 'encryption.secretNamespace', o.secretNamespace, true);
        v.string('encryption.encryptionKmsId', o.encryptionKmsId, isWord, CEPH_KMS_ID_ALLOWED);
        v.string('encryption.imageFeatures', o.imageFeatures, isCephImageFeatures, CEPH_IMAGE_FEATURES_ALLOWED);
        if (v.type('encryption.fsType', o.fsType, 'string', `one of ${CEPH_RBD_FS_TYPES.map((t) => JSON.stringify(t)).join(', ')}`)) {
          v.oneOf('encryption.fsType', o.fsType, CEPH_RBD_FS_TYPES as readonly string[]);
        }
      });
  }

  /**
   * Longhorn (`driver.longhorn.io`): `encrypted: "true"`, with the LUKS passphrase in the Secret that
   * the provisioner, node-publish and node-stage secret parameters name.
   */
  public static longhorn(options: LonghornEncryptionOptions): StorageEncryption {
    const o = asOptions<LonghornEncryptionOptions>(options);
    const ns = o.secretNamespace as string;
    const secret = o.secretName as string;
    const parameters: Record<string, string> = {
      encrypted: 'true',
      numberOfReplicas: numberParameter(o.numberOfReplicas ?? 3),
      staleReplicaTimeout: '2880',
      'csi.storage.k8s.io/provisioner-secret-name': secret,
      'csi.storage.k8s.io/provisioner-secret-namespace': ns,
      'csi.storage.k8s.io/node-publish-secret-name': secret,
      'csi.storage.k8s.io/node-publish-secret-namespace': ns,
      'csi.storage.k8s.io/node-stage-secret-name': secret,
      'csi.storage.k8s.io/node-stage-secret-namespace': ns,
    };
    return new StorageEncryption('driver.longhorn.io', parameters, `longhorn: LUKS, passphrase in Secret ${ns}/${secret}`,
      (v) => {
        if (!checkOptions(v, 'encryption', options, true, 'StorageEncryption.longhorn({ secretName, secretNamespace, numberOfReplicas? })')) return;
        v.requiredString('encryption.secretName', o.secretName, isDnsSubdomain, SECRET_NAME_ALLOWED);
        validateNamespace(v, 'encryption.secretNamespace', o.secretNamespace, true);
        if (v.type('encryption.numberOfReplicas', o.numberOfReplicas, 'number', 'an integer from 1 to 10')) {
          v.integer('encryption.numberOfReplicas', o.numberOfReplicas, 1, 10);
        }
      });
  }

  private constructor(
    /** The CSI provisioner name. */
    public readonly provisioner: string,
    /** StorageClass parameters, including the driver's encryption settings. */
    public readonly parameters: Readonly<Record<string, string>>,
    /** Human-readable summary of how volumes are encrypted. */
    public readonly description: string,
    /** The checks of the factory's options, run with the consuming construct's validator. */
    private readonly validator: (v: PropsValidator) => void,
  ) {}

  public toString(): string {
    return `StorageEncryption(${this.provisioner})`;
  }

  /** @internal */
  public _validate(v: PropsValidator): void {
    this.validator(v);
  }
}

export interface AwsEbsEncryptionOptions {
  /**
   * KMS key ARN, alias ARN, key id or `alias/<name>`, without whitespace (a Terraform token is
   * accepted, e.g. an `aws_kms_key` ARN).
   * @default the account's default EBS key (aws/ebs)
   */
  readonly kmsKeyId?: string;
  /** EBS volume type: gp3, gp2, io2, io1, st1, sc1, standard, sbp1 or sbg1. @default gp3 */
  readonly volumeType?: string;
  /** Filesystem: ext4, xfs, ext3 or ext2. @default the driver's default (ext4) */
  readonly fsType?: string;
}

export interface GcePdEncryptionOptions {
  /**
   * Cloud KMS key for customer-managed encryption:
   * `projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>`.
   * @default Google-managed keys
   */
  readonly kmsKey?: string;
  /** Disk type, e.g. pd-balanced, pd-ssd, hyperdisk-balanced. @default pd-balanced */
  readonly diskType?: string;
}

export interface AzureDiskEncryptionOptions {
  /** Disk encryption set resource id for customer-managed keys. @default platform-managed keys */
  readonly diskEncryptionSetId?: string;
  /**
   * Disk SKU: Premium_LRS, PremiumV2_LRS, Premium_ZRS, StandardSSD_LRS, StandardSSD_ZRS,
   * Standard_LRS or UltraSSD_LRS.
   * @default Premium_LRS
   */
  readonly skuName?: string;
}

export interface CephRbdEncryptionOptions {
  /** Ceph cluster id (usually the fsid) as configured in the ceph-csi config map; at most 36 characters. */
  readonly clusterId: string;
  /** RBD pool. */
  readonly pool: string;
  /** Secret with the Ceph user credentials used to provision, expand and stage volumes. */
  readonly secretName: string;
  /** Namespace of that Secret. */
  readonly secretNamespace: string;
  /** KMS configuration id from ceph-csi's KMS config. @default the driver's secrets-metadata KMS */
  readonly encryptionKmsId?: string;
  /**
   * RBD image features, comma-separated, from layering, exclusive-lock, object-map, fast-diff,
   * deep-flatten, journaling.
   * @default layering
   */
  readonly imageFeatures?: string;
  /** Filesystem: ext4 or xfs. @default ext4 */
  readonly fsType?: string;
}

export interface LonghornEncryptionOptions {
  /** Secret holding CRYPTO_KEY_VALUE and the other Longhorn crypto keys. */
  readonly secretName: string;
  /** Namespace of that Secret. */
  readonly secretNamespace: string;
  /** Longhorn replicas per volume, an integer from 1 to 10. @default 3 */
  readonly numberOfReplicas?: number;
}

/** What happens to a volume when its claim is deleted. */
export class ReclaimPolicy {
  /** Keep the volume (and the data) after the claim is deleted. */
  public static readonly RETAIN = new ReclaimPolicy('Retain');
  /** Delete the volume with the claim. */
  public static readonly DELETE = new ReclaimPolicy('Delete');

  /** Makes the class nominal: an object literal with the same fields is not a ReclaimPolicy. */
  private readonly optionClass = 'ReclaimPolicy';

  private constructor(/** Kubernetes's name for it: `Retain` or `Delete`. */ public readonly value: string) {}

  public toString(): string {
    return `${this.optionClass}(${this.value})`;
  }
}

/** The factories that make a ReclaimPolicy, for validation messages. */
export const RECLAIM_POLICY_FACTORIES = 'ReclaimPolicy.RETAIN, ReclaimPolicy.DELETE';

export interface EncryptedStorageClassProps {
  /** The CSI driver and its encryption settings, from one of the StorageEncryption factories. */
  readonly encryption: StorageEncryption;
  /** StorageClass name, a DNS-1123 subdomain. @default derived from the construct id */
  readonly name?: string;
  /** What happens to a volume when its claim is deleted. @default ReclaimPolicy.RETAIN, so deleting a claim never deletes data by accident */
  readonly reclaimPolicy?: ReclaimPolicy;
  /** Whether claims can be resized. @default true */
  readonly allowVolumeExpansion?: boolean;
  /**
   * Bind volumes when the pod is scheduled (WaitForFirstConsumer), so a volume is created in the zone
   * of the pod that uses it. `false` binds immediately.
   * @default true
   */
  readonly waitForFirstConsumer?: boolean;
  /**
   * Restrict volumes to these zones (allowedTopologies on topology.kubernetes.io/zone): a non-empty
   * list of zone names such as eu-north-1a, each once.
   * @default any zone
   */
  readonly allowedZones?: string[];
  /** Mount options of the volumes, each non-empty without whitespace (e.g. noatime). @default none */
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
    const a = asOptions<ExistingEncryptedStorageClassAttributes>(attrs);
    if (checkOptions(v, 'attrs', attrs, true, '{ storageClassName, vouchedBy }')) {
      v.requiredString('storageClassName', a.storageClassName, isDnsSubdomain, STORAGE_CLASS_NAME_ALLOWED);
      v.requiredString('vouchedBy', a.vouchedBy, (s) => s.trim().length > 0, 'a non-empty statement of how the class encrypts');
    }
    v.throwIfInvalid();
    return { storageClassName: a.storageClassName!, encryptionDescription: `existing class, vouched: ${a.vouchedBy}` };
  }

  public readonly storageClassName: string;
  public readonly encryptionDescription: string;
  /** The underlying resource. */
  public readonly resource: StorageClassV1;

  constructor(scope: Construct, id: string, props: EncryptedStorageClassProps) {
    super(scope, id);
    const v = new PropsValidator(this);
    if (props !== undefined && (props === null || typeof props !== 'object' || Array.isArray(props))) {
      v.fail('props', props, 'an EncryptedStorageClassProps object { encryption, name?, reclaimPolicy?, ... }');
    }
    const p = asOptions<EncryptedStorageClassProps>(props);
    validateProps(v, p);
    v.throwIfInvalid();

    const encryption = p.encryption!;
    const name = resourceName(this, p.name);
    this.storageClassName = name;
    this.encryptionDescription = encryption.description;
    this.resource = new StorageClassV1(this, 'Resource', kubernetesObject(this, 'StorageClass', {
      metadata: {
        name,
        labels: standardLabels({ name: 'storage', instance: name, component: 'storage-class', partOf: 'redis-topologies' }),
        annotations: { 'redis-topologies.io/encryption': encryption.description },
      },
      storageProvisioner: encryption.provisioner,
      parameters: { ...encryption.parameters },
      reclaimPolicy: (p.reclaimPolicy ?? ReclaimPolicy.RETAIN).value,
      volumeBindingMode: p.waitForFirstConsumer === false ? 'Immediate' : 'WaitForFirstConsumer',
      allowVolumeExpansion: p.allowVolumeExpansion ?? true,
      mountOptions: p.mountOptions === undefined || isUnresolved(p.mountOptions) ? p.mountOptions : [...p.mountOptions],
      allowedTopologies: p.allowedZones
        ? { matchLabelExpressions: [{ key: 'topology.kubernetes.io/zone', values: isUnresolved(p.allowedZones) ? p.allowedZones : [...p.allowedZones] }] }
        : undefined,
    }));
  }
}

/** Every prop of an EncryptedStorageClass; each problem recorded, none thrown. */
function validateProps(v: PropsValidator, p: Partial<EncryptedStorageClassProps>): void {
  if (v.requiredOption('encryption', p.encryption, StorageEncryption, STORAGE_ENCRYPTION_FACTORIES)) {
    p.encryption._validate(v);
  }
  v.string('name', p.name, isDnsSubdomain, STORAGE_CLASS_NAME_ALLOWED);
  v.option('reclaimPolicy', p.reclaimPolicy, ReclaimPolicy, RECLAIM_POLICY_FACTORIES);
  checkBoolean(v, 'allowVolumeExpansion', p.allowVolumeExpansion);
  checkBoolean(v, 'waitForFirstConsumer', p.waitForFirstConsumer);
  validateZones(v, 'allowedZones', p.allowedZones);
  validateMountOptions(v, 'mountOptions', p.mountOptions);
}

const ZONES_ALLOWED = 'a non-empty list of zone names such as ["eu-north-1a", "eu-north-1b"] (omit the prop for any zone)';

/** Zone names of allowedTopologies: a non-empty list, each a valid zone, none twice. */
function validateZones(v: PropsValidator, prop: string, zones: unknown): void {
  if (zones === undefined || isUnresolved(zones)) return;
  if (!v.type(prop, zones, 'array', ZONES_ALLOWED)) return;
  const list = zones as unknown[];
  if (list.length === 0) v.fail(prop, zones, ZONES_ALLOWED);
  const seen = new Set<string>();
  list.forEach((z, i) => {
    if (!v.requiredString(`${prop}[${i}]`, z, isZoneName, ZONE_ALLOWED) || isUnresolved(z)) return;
    if (seen.has(z as string)) v.fail(`${prop}[${i}]`, z, 'a zone not already in the list');
    seen.add(z as string);
  });
}

/** Mount options: a list of non-empty options without whitespace. */
function validateMountOptions(v: PropsValidator, prop: string, options: unknown): void {
  if (options === undefined || isUnresolved(options)) return;
  if (!v.type(prop, options, 'array', `a list of mount options, each ${MOUNT_OPTION_ALLOWED}`)) return;
  (options as unknown[]).forEach((o, i) => v.requiredString(`${prop}[${i}]`, o, isWord, MOUNT_OPTION_ALLOWED));
}

export interface ExistingEncryptedStorageClassAttributes {
  /** The name of the existing StorageClass, a DNS-1123 subdomain. */
  readonly storageClassName: string;
  /** Who or what guarantees encryption, e.g. "cluster default class, EBS encryption by default on". */
  readonly vouchedBy: string;
}

/**
 * Object storage for backups, through rclone: one tool for S3 and S3-compatible stores (MinIO,
 * Ceph RGW), Google Cloud Storage and Azure Blob Storage. Every setting reaches rclone as an
 * environment variable of the backup and restore containers (`RCLONE_CONFIG_<REMOTE>_<OPTION>`):
 * plain values for what is not secret, `secretKeyRef` for keys, never a ConfigMap.
 *
 * The factories have no construct scope, so they never throw: what is wrong with their arguments
 * is recorded and reported by the topology that takes them, with its construct path.
 */
import { isDnsSubdomain } from '../core/names';
import { validateLabels } from '../core/rules';
import { PropsValidator } from '../core/validation';
import { asOptions, checkOptions } from '../storage/checks';

/** The rclone remote of the bucket itself. */
export const STORE_REMOTE = 'store';
/** The rclone crypt remote layered over it when client-side encryption is on. */
export const SECURE_REMOTE = 'secure';
/** Where the client-side encryption Secret is mounted in backup and restore containers. */
export const CRYPT_KEY_DIR = '/etc/redis-topologies/backup-crypt';

type Checks = (v: PropsValidator, prop: string) => void;

/** A container env entry: a plain value, or a key of a Secret. */
export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { readonly secretKeyRef: { readonly name: string; readonly key: string } };
}

const SECRET_NAME_ALLOWED = 'a Secret name (a DNS-1123 subdomain)';
const BUCKET_ALLOWED = 'a bucket name: 3 to 63 lower-case letters, digits, "-" and ".", starting and ending with a letter or digit';
const PREFIX_ALLOWED = 'a path inside the bucket: "/"-separated segments of letters, digits, ".", "_" and "-", no leading or trailing "/"';
const URL_ALLOWED = 'an http:// or https:// URL such as https://minio.storage.svc:9000';

function isBucket(b: string): boolean {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b);
}

/** A path prefix inside a bucket: segments of safe characters (they are used unquoted in object keys). */
export function isObjectPrefix(p: string): boolean {
  return p.length <= 200 && p.split('/').every((s) => /^[A-Za-z0-9._-]+$/.test(s) && s !== '.' && s !== '..');
}

function isUrl(u: string): boolean {
  return /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[^\s]*)?$/.test(u);
}

/** How the backup and restore pods authenticate to the object store. */
export class StorageCredentials {
  /**
   * Keys of an existing Secret in the topology's namespace (Terraform never reads it):
   * - S3: `access-key-id` and `secret-access-key`;
   * - GCS: `service-account.json` (a service account key file);
   * - Azure Blob: `account-key`.
   * They reach rclone as `secretKeyRef` environment variables, never through a ConfigMap.
   */
  public static fromSecret(secretName: string): StorageCredentials {
    return new StorageCredentials('secret', secretName, {}, {}, (v, prop) => {
      v.requiredString(`${prop}.secretName`, secretName, isDnsSubdomain, SECRET_NAME_ALLOWED);
    });
  }

  /**
   * The cloud's workload identity: a dedicated ServiceAccount carries `serviceAccountAnnotations`
   * (EKS: `eks.amazonaws.com/role-arn`; GKE: `iam.gke.io/gcp-service-account`; AKS:
   * `azure.workload.identity/client-id`) and the pods carry `podLabels` (AKS:
   * `azure.workload.identity/use: "true"`). rclone reads the identity from its environment
   * (`env_auth`). No key exists anywhere.
   */
  public static workloadIdentity(options: WorkloadIdentityOptions): StorageCredentials {
    const o = asOptions<WorkloadIdentityOptions>(options);
    return new StorageCredentials('workload-identity', undefined, { ...(o.serviceAccountAnnotations ?? {}) }, { ...(o.podLabels ?? {}) }, (v, prop) => {
      if (!checkOptions(v, prop, options, true, 'StorageCredentials.workloadIdentity({ serviceAccountAnnotations, podLabels? })')) return;
      if (v.required(`${prop}.serviceAccountAnnotations`, o.serviceAccountAnnotations, 'object', 'annotations of the ServiceAccount that bind it to a cloud identity (at least one)')) {
        v.check(`${prop}.serviceAccountAnnotations`, o.serviceAccountAnnotations, (a) => Object.keys(a).length > 0, 'at least one annotation, such as { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/redis-backup" }');
        validateLabels(v, `${prop}.serviceAccountAnnotations`, Object.fromEntries(Object.keys(o.serviceAccountAnnotations ?? {}).map((k) => [k, ''])));
      }
      validateLabels(v, `${prop}.podLabels`, o.podLabels);
    });
  }

  /** Makes the class nominal: an object literal with the same fields is not a StorageCredentials. */
  private readonly optionClass = 'StorageCredentials';

  private constructor(
    /** `secret` or `workload-identity`. */
    public readonly kind: 'secret' | 'workload-identity',
    /** The Secret with the keys (kind `secret`). */
    public readonly secretName: string | undefined,
    /** Annotations of the backup ServiceAccount (kind `workload-identity`). */
    public readonly serviceAccountAnnotations: Readonly<Record<string, string>>,
    /** Labels of the backup and restore pods (kind `workload-identity`). */
    public readonly podLabels: Readonly<Record<string, string>>,
    /** @internal */
    public readonly _checks: Checks,
  ) {}

  public toString(): string {
    return this.kind === 'secret' ? `${this.optionClass}.fromSecret(${JSON.stringify(this.secretName)})` : `${this.optionClass}.workloadIdentity(...)`;
  }
}

export interface WorkloadIdentityOptions {
  /** Annotations of the dedicated ServiceAccount (at least one). */
  readonly serviceAccountAnnotations: Record<string, string>;
  /** Labels the pods need for the identity webhook. @default none */
  readonly podLabels?: Record<string, string>;
}

/** Server-side encryption of stored objects (S3 and S3-compatible stores). */
export class ServerSideEncryption {
  /**
   * No encryption header: the bucket's default encryption applies (AWS encrypts every new object
   * with SSE-S3 since January 2023; check what your S3-compatible store does).
   */
  public static bucketDefault(): ServerSideEncryption {
    return new ServerSideEncryption('bucket-default', undefined);
  }

  /** SSE-S3: AES-256 with keys the store manages (`server_side_encryption = AES256`). */
  public static s3Managed(): ServerSideEncryption {
    return new ServerSideEncryption('AES256', undefined);
  }

  /**
   * SSE-KMS with the given key (`server_side_encryption = aws:kms`, `sse_kms_key_id`). rclone must
   * be told: with SSE-KMS the ETag is not the MD5 of the object, and small uploads would fail their
   * MD5 check otherwise. The backup pods' identity needs kms:GenerateDataKey and kms:Decrypt on it.
   */
  public static kms(keyId: string): ServerSideEncryption {
    return new ServerSideEncryption('aws:kms', keyId);
  }

  private readonly optionClass = 'ServerSideEncryption';

  private constructor(public readonly mode: 'bucket-default' | 'AES256' | 'aws:kms', public readonly kmsKeyId: string | undefined) {}

  public toString(): string {
    return this.mode === 'aws:kms' ? `${this.optionClass}.kms(${JSON.stringify(this.kmsKeyId)})` : `${this.optionClass}(${this.mode})`;
  }
}

const SSE_FACTORIES = 'ServerSideEncryption.bucketDefault(), ServerSideEncryption.s3Managed(), ServerSideEncryption.kms(keyId)';
const CREDENTIALS_FACTORIES = 'StorageCredentials.fromSecret(secretName), StorageCredentials.workloadIdentity({ ... })';

/** S3 providers rclone knows that this library documents. */
export const S3_PROVIDERS = ['AWS', 'Minio', 'Ceph', 'Other'] as const;
export type S3Provider = typeof S3_PROVIDERS[number];

export interface S3StorageOptions {
  /** The bucket (it must exist; the library never creates buckets). */
  readonly bucket: string;
  /** Path inside the bucket under which backups go. @default none: the bucket's root */
  readonly prefix?: string;
  /** Region. @default 'us-east-1' */
  readonly region?: string;
  /** Endpoint URL of an S3-compatible store. @default AWS's endpoint for the region */
  readonly endpoint?: string;
  /** rclone's S3 provider. @default 'AWS' without endpoint, 'Other' with one */
  readonly provider?: S3Provider;
  /** Path-style addressing (`endpoint/bucket/key`), which MinIO and Ceph usually need. @default false for AWS, true otherwise */
  readonly pathStyle?: boolean;
  /** @default ServerSideEncryption.bucketDefault() */
  readonly serverSideEncryption?: ServerSideEncryption;
  readonly credentials: StorageCredentials;
}

export interface GcsStorageOptions {
  readonly bucket: string;
  /** @default none */
  readonly prefix?: string;
  readonly credentials: StorageCredentials;
}

export interface AzureBlobStorageOptions {
  /** The storage account. */
  readonly account: string;
  /** The blob container (it must exist). */
  readonly container: string;
  /** @default none */
  readonly prefix?: string;
  readonly credentials: StorageCredentials;
}

type Backend = 's3' | 'gcs' | 'azureblob';

/** Where backups are stored: a bucket (or blob container) and a prefix in it. */
export class ObjectStorage {
  /** Amazon S3, or an S3-compatible store (MinIO, Ceph RGW) with `endpoint`. */
  public static s3(options: S3StorageOptions): ObjectStorage {
    const o = asOptions<S3StorageOptions>(options);
    const provider = o.provider ?? (o.endpoint === undefined ? 'AWS' : 'Other');
    const sse = o.serverSideEncryption;
    const env: Record<string, string> = {
      TYPE: 's3',
      PROVIDER: provider,
      REGION: o.region ?? 'us-east-1',
      ...(o.endpoint !== undefined ? { ENDPOINT: o.endpoint } : {}),
      FORCE_PATH_STYLE: String(o.pathStyle ?? provider !== 'AWS'),
      // Never try to create the bucket: the identity needs no s3:CreateBucket.
      NO_CHECK_BUCKET: 'true',
      ...(sse instanceof ServerSideEncryption && sse.mode !== 'bucket-default' ? { SERVER_SIDE_ENCRYPTION: sse.mode } : {}),
      ...(sse instanceof ServerSideEncryption && sse.kmsKeyId !== undefined ? { SSE_KMS_KEY_ID: sse.kmsKeyId } : {}),
    };
    const secretKeys = { ACCESS_KEY_ID: 'access-key-id', SECRET_ACCESS_KEY: 'secret-access-key' };
    return new ObjectStorage('s3', o.bucket as string, o.prefix, env, secretKeys, o.credentials as StorageCredentials, (v, prop) => {
      if (!checkOptions(v, prop, options, true, 'ObjectStorage.s3({ bucket, credentials, prefix?, region?, endpoint?, provider?, pathStyle?, serverSideEncryption? })')) return;
      v.requiredString(`${prop}.bucket`, o.bucket, isBucket, BUCKET_ALLOWED);
      v.string(`${prop}.region`, o.region, (r) => /^[a-z0-9-]{2,32}$/.test(r), 'a region name such as eu-north-1');
      v.string(`${prop}.endpoint`, o.endpoint, isUrl, URL_ALLOWED);
      v.oneOf(`${prop}.provider`, o.provider, S3_PROVIDERS);
      v.type(`${prop}.pathStyle`, o.pathStyle, 'boolean', 'true or false');
      if (v.option(`${prop}.serverSideEncryption`, sse, ServerSideEncryption, SSE_FACTORIES) && sse?.mode === 'aws:kms') {
        v.requiredString(`${prop}.serverSideEncryption.keyId`, sse.kmsKeyId, (k) => /^[A-Za-z0-9:/_-]{1,2048}$/.test(k), 'a KMS key id, alias or ARN');
      }
    });
  }

  /** Google Cloud Storage. */
  public static gcs(options: GcsStorageOptions): ObjectStorage {
    const o = asOptions<GcsStorageOptions>(options);
    // Uniform bucket-level access: rclone sets no per-object ACL.
    const env = { TYPE: 'google cloud storage', BUCKET_POLICY_ONLY: 'true' };
    return new ObjectStorage('gcs', o.bucket as string, o.prefix, env, { SERVICE_ACCOUNT_CREDENTIALS: 'service-account.json' }, o.credentials as StorageCredentials, (v, prop) => {
      if (!checkOptions(v, prop, options, true, 'ObjectStorage.gcs({ bucket, credentials, prefix? })')) return;
      v.requiredString(`${prop}.bucket`, o.bucket, isBucket, BUCKET_ALLOWED);
    });
  }

  /** Azure Blob Storage. */
  public static azureBlob(options: AzureBlobStorageOptions): ObjectStorage {
    const o = asOptions<AzureBlobStorageOptions>(options);
    const env = { TYPE: 'azureblob', ACCOUNT: o.account as string };
    return new ObjectStorage('azureblob', o.container as string, o.prefix, env, { KEY: 'account-key' }, o.credentials as StorageCredentials, (v, prop) => {
      if (!checkOptions(v, prop, options, true, 'ObjectStorage.azureBlob({ account, container, credentials, prefix? })')) return;
      v.requiredString(`${prop}.account`, o.account, (a) => /^[a-z0-9]{3,24}$/.test(a), 'a storage account name: 3 to 24 lower-case letters and digits');
      v.requiredString(`${prop}.container`, o.container, (c) => /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(c), 'a blob container name: 3 to 63 lower-case letters, digits and single "-"');
    });
  }

  private readonly optionClass = 'ObjectStorage';

  private constructor(
    /** rclone backend. */
    public readonly backend: Backend,
    /** Bucket or blob container. */
    public readonly bucket: string,
    /** Path inside it. */
    public readonly prefix: string | undefined,
    private readonly settings: Readonly<Record<string, string>>,
    private readonly secretKeys: Readonly<Record<string, string>>,
    public readonly credentials: StorageCredentials,
    private readonly checks: Checks,
  ) {}

  /** @internal Records what is wrong with the arguments under `prop`. Returns whether they passed. */
  public _validate(v: PropsValidator, prop: string): boolean {
    this.checks(v, prop);
    v.string(`${prop}.prefix`, this.prefix, isObjectPrefix, PREFIX_ALLOWED);
    if (v.requiredOption(`${prop}.credentials`, this.credentials, StorageCredentials, CREDENTIALS_FACTORIES)) this.credentials._checks(v, `${prop}.credentials`);
    return !v.failed(prop);
  }

  /** The bucket path backups go under, `<bucket>[/<prefix>]`. */
  public get root(): string {
    return this.prefix ? `${this.bucket}/${this.prefix}` : this.bucket;
  }

  /**
   * @internal The environment that configures the rclone remote {@link STORE_REMOTE}: settings as
   * plain values, keys as secretKeyRef (workload identity: `env_auth`, no key at all).
   */
  public _rcloneEnv(): EnvVar[] {
    const name = (option: string) => `RCLONE_CONFIG_${STORE_REMOTE.toUpperCase()}_${option.replace(/ /g, '_')}`;
    const env: EnvVar[] = Object.entries(this.settings).map(([k, value]) => ({ name: name(k), value }));
    if (this.credentials.kind === 'workload-identity') {
      env.push({ name: name('ENV_AUTH'), value: 'true' });
    } else {
      for (const [option, key] of Object.entries(this.secretKeys)) {
        env.push({ name: name(option), valueFrom: { secretKeyRef: { name: this.credentials.secretName!, key } } });
      }
    }
    return env;
  }

  public toString(): string {
    return `${this.optionClass}.${this.backend}(${this.root})`;
  }
}

/**
 * Client-side encryption through rclone's crypt remote: objects are encrypted (NaCl secretbox,
 * XSalsa20 + Poly1305) before they leave the pod, so a leaked bucket leaks nothing. File and
 * directory names stay readable (the timestamps tell when each backup was taken); contents do not.
 */
export class ClientSideEncryption {
  /**
   * The key is the `password` key of an existing Secret in the topology's namespace (and, if
   * present, the optional `salt` key, rclone's password2). Lose it and every backup made with it
   * is unreadable: keep a copy outside the cluster.
   */
  public static fromSecret(secretName: string): ClientSideEncryption {
    return new ClientSideEncryption(secretName);
  }

  private readonly optionClass = 'ClientSideEncryption';

  private constructor(public readonly secretName: string) {}

  /** @internal */
  public _validate(v: PropsValidator, prop: string): void {
    v.requiredString(`${prop}.secretName`, this.secretName, isDnsSubdomain, SECRET_NAME_ALLOWED);
  }

  /** @internal The crypt remote over `store:<root>`; its password is obscured at run time from the mounted Secret. */
  public _rcloneEnv(storage: ObjectStorage): EnvVar[] {
    const name = (option: string) => `RCLONE_CONFIG_${SECURE_REMOTE.toUpperCase()}_${option}`;
    return [
      { name: name('TYPE'), value: 'crypt' },
      { name: name('REMOTE'), value: `${STORE_REMOTE}:${storage.root}` },
      { name: name('FILENAME_ENCRYPTION'), value: 'off' },
      { name: name('DIRECTORY_NAME_ENCRYPTION'), value: 'false' },
    ];
  }

  public toString(): string {
    return `${this.optionClass}.fromSecret(${JSON.stringify(this.secretName)})`;
  }
}

export const OBJECT_STORAGE_FACTORIES = 'ObjectStorage.s3({ ... }), ObjectStorage.gcs({ ... }), ObjectStorage.azureBlob({ ... })';
export const CLIENT_SIDE_ENCRYPTION_FACTORIES = 'ClientSideEncryption.fromSecret(secretName)';

import { Construct } from 'constructs';
import { isDnsSubdomain } from '../core/names';
import { isMemory } from '../core/rules';
import { PropsValidator } from '../core/validation';
import { asOptions, checkOptions } from './checks';
import { IEncryptedStorageClass, STORAGE_CLASS_NAME_ALLOWED } from './encrypted-storage-class';
import { ClaimStorage, StatefulSetClaims, statefulSetClaims, StatefulSetClaimsOptions } from './volume-claims';

/** The factories that make a DataStorage, for validation messages. */
export const DATA_STORAGE_FACTORIES = 'DataStorage.encrypted(...), DataStorage.unencrypted(...) or DataStorage.ephemeral()';

export const STORAGE_SIZE_ALLOWED = 'a storage quantity above zero, such as 10Gi or 500Mi';
export const ENCRYPTED_STORAGE_CLASS_ALLOWED = 'an IEncryptedStorageClass: new EncryptedStorageClass(...) or EncryptedStorageClass.fromExisting(...)';
export const ACKNOWLEDGE_UNENCRYPTED_ALLOWED = 'true (unencrypted persistent volumes need an explicit opt-out), or use DataStorage.encrypted(...)';

/** The checks of one factory call, run later with the consuming topology's validator and prop name. */
type StorageChecks = (v: PropsValidator, prop: string) => void;

/**
 * Where a topology keeps its data. Persistent storage must be on an encrypted class unless the
 * user opts out by name with {@link DataStorage.unencrypted}.
 *
 * The factories have no construct scope, so they never throw: what is wrong with their arguments
 * is recorded and reported by the topology that takes the storage, with its construct path (see
 * {@link DataStorage._check}).
 */
export class DataStorage {
  /**
   * One PersistentVolumeClaim per pod on an encrypted StorageClass.
   * @param storageClass an {@link EncryptedStorageClass} or `EncryptedStorageClass.fromExisting(...)`
   * @param size claim size, a storage quantity above zero such as `10Gi` (a Terraform token is accepted)
   */
  public static encrypted(storageClass: IEncryptedStorageClass, size: string): DataStorage {
    const sc: Partial<IEncryptedStorageClass> = asOptions<IEncryptedStorageClass>(storageClass);
    const isClass = sc === storageClass && typeof sc.storageClassName === 'string' && typeof sc.encryptionDescription === 'string';
    return new DataStorage('persistent', size, sc.storageClassName, true, isClass ? sc.encryptionDescription! : 'encrypted (invalid storage class)',
      (v, prop) => {
        if (!isClass) v.fail(`${prop}.storageClass`, storageClass, ENCRYPTED_STORAGE_CLASS_ALLOWED);
        else v.requiredString(`${prop}.storageClass.storageClassName`, sc.storageClassName, isDnsSubdomain, STORAGE_CLASS_NAME_ALLOWED);
        v.requiredString(`${prop}.size`, size, isMemory, STORAGE_SIZE_ALLOWED);
      });
  }

  /**
   * Persistent volumes WITHOUT encryption at rest. Only for clusters where the risk is accepted:
   * `acknowledgeUnencrypted` must be exactly `true`; the plan carries an annotation saying so.
   */
  public static unencrypted(options: UnencryptedStorageOptions): DataStorage {
    const o = asOptions<UnencryptedStorageOptions>(options);
    const accepted = o.acknowledgeUnencrypted === true;
    return new DataStorage('persistent', o.size, o.storageClassName, false,
      `UNENCRYPTED (accepted: ${accepted ? 'yes' : 'no'})`,
      (v, prop) => {
        if (!checkOptions(v, prop, options, true, 'DataStorage.unencrypted({ size, storageClassName?, acknowledgeUnencrypted: true })')) return;
        v.requiredString(`${prop}.size`, o.size, isMemory, STORAGE_SIZE_ALLOWED);
        v.string(`${prop}.storageClassName`, o.storageClassName, isDnsSubdomain, STORAGE_CLASS_NAME_ALLOWED);
        if (!accepted) v.fail(`${prop}.acknowledgeUnencrypted`, o.acknowledgeUnencrypted, ACKNOWLEDGE_UNENCRYPTED_ALLOWED);
      });
  }

  /**
   * An emptyDir: the data lives only as long as the pod. For caches, where a restarted member
   * resynchronises from the primary and losing everything is acceptable.
   */
  public static ephemeral(options: EphemeralStorageOptions = {}): DataStorage {
    const o = asOptions<EphemeralStorageOptions>(options);
    return new DataStorage('ephemeral', o.sizeLimit, undefined, false, 'emptyDir (no data at rest beyond the pod)',
      (v, prop) => {
        if (!checkOptions(v, prop, options, false, 'DataStorage.ephemeral({ sizeLimit? })')) return;
        v.string(`${prop}.sizeLimit`, o.sizeLimit, isMemory, STORAGE_SIZE_ALLOWED);
      });
  }

  /**
   * The check a topology makes on its storage prop: records "required" when it is missing, "one of
   * the factories" when it is not a DataStorage (a look-alike object or a string from JavaScript),
   * and otherwise every problem with the factory's arguments ({@link DataStorage._validate}).
   * Returns whether `value` is a DataStorage (its fields can then be read for checks that involve
   * other props); problems inside it are recorded on `v` either way.
   *
   * ```ts
   * DataStorage._check(v, 'storage', props.storage);
   * ```
   * @internal
   */
  public static _check(v: PropsValidator, prop: string, value: unknown): value is DataStorage {
    if (value === undefined || value === null) {
      v.required(prop, value, 'object', DATA_STORAGE_FACTORIES);
      return false;
    }
    if (!v.option(prop, value as DataStorage, DataStorage, DATA_STORAGE_FACTORIES)) return false;
    (value as DataStorage)._validate(v, prop);
    return true;
  }

  private constructor(
    /** `persistent` (a PVC per pod) or `ephemeral` (emptyDir). */
    public readonly kind: 'persistent' | 'ephemeral',
    /** Claim size, or the emptyDir size limit. */
    public readonly size: string | undefined,
    /** StorageClass of the claims; undefined means the cluster default (unencrypted opt-out only). */
    public readonly storageClassName: string | undefined,
    /** Whether volumes are encrypted at rest. */
    public readonly encrypted: boolean,
    /** Summary for annotations and docs. */
    public readonly description: string,
    /** What is wrong with the factory's arguments, recorded when a topology validates its props. */
    private readonly checks: StorageChecks,
  ) {}

  public toString(): string {
    return `DataStorage(${this.kind}, ${this.description})`;
  }

  /**
   * Records every problem with the factory's arguments on `v`, under `prop` (e.g. `storage.size`).
   * Prefer {@link DataStorage._check}, which also refuses a value that is not a DataStorage.
   * @internal
   */
  public _validate(v: PropsValidator, prop: string): void {
    this.checks(v, prop);
  }

  /**
   * @internal The claims of a StatefulSet's pods on this storage, managed by Terraform so that a
   * larger size grows them in place (see {@link statefulSetClaims}): the volume claim template, one
   * `kubernetes_persistent_volume_claim_v1` per pod (children `<idPrefix><ordinal>` of `scope`), and
   * the `lifecycle` and `dependsOn` the StatefulSet's config takes. Ephemeral storage has no claims:
   * every field is undefined or empty. `options.size` overrides the storage's size.
   *
   * ```ts
   * const claims = storage._claims(this, 'DataClaim', { templateName: 'data', statefulSetName, namespace, replicas, labels });
   * new StatefulSetV1(this, 'Data', kubernetesObject(this, 'StatefulSet', {
   *   metadata, spec: { ..., volumeClaimTemplate: claims.template },
   *   lifecycle: claims.lifecycle, dependsOn: claims.dependsOn,
   * }));
   * ```
   */
  public _claims(scope: Construct, idPrefix: string, options: StatefulSetClaimsOptions): StatefulSetClaims {
    if (this.kind !== 'persistent') return { template: undefined, claims: [], lifecycle: undefined, dependsOn: undefined };
    return statefulSetClaims(scope, idPrefix, this.claimStorage(options.size), options);
  }

  private claimStorage(size: string | undefined): ClaimStorage {
    return { storageClassName: this.storageClassName, description: this.description, size: size ?? this.size! };
  }
}

export interface UnencryptedStorageOptions {
  /** Claim size, a storage quantity above zero such as 10Gi. */
  readonly size: string;
  /** StorageClass, a DNS-1123 subdomain. @default the cluster's default StorageClass */
  readonly storageClassName?: string;
  /**
   * Must be `true`: a deliberate opt-out of encryption at rest. Omitting it, `false` or anything
   * else (such as 'yes' from JavaScript) is refused.
   */
  readonly acknowledgeUnencrypted: boolean;
}

export interface EphemeralStorageOptions {
  /** emptyDir size limit, a storage quantity above zero such as 1Gi. @default no limit */
  readonly sizeLimit?: string;
}

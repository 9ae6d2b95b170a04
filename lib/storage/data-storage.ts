import { isQuantity } from '../core/quantity';
import { PropsValidator } from '../core/validation';
import { IEncryptedStorageClass } from './encrypted-storage-class';

/**
 * Where a topology keeps its data. Persistent storage must be on an encrypted class unless the
 * user opts out by name with {@link DataStorage.unencrypted}.
 */
export class DataStorage {
  /** One PersistentVolumeClaim per pod on an encrypted StorageClass. */
  public static encrypted(storageClass: IEncryptedStorageClass, size: string): DataStorage {
    return new DataStorage('persistent', size, storageClass.storageClassName, true, storageClass.encryptionDescription);
  }

  /**
   * Persistent volumes WITHOUT encryption at rest. Only for clusters where the risk is accepted;
   * the plan carries an annotation saying so.
   */
  public static unencrypted(options: UnencryptedStorageOptions): DataStorage {
    return new DataStorage('persistent', options.size, options.storageClassName, false,
      `UNENCRYPTED (accepted: ${options.acknowledgeUnencrypted ? 'yes' : 'no'})`, options.acknowledgeUnencrypted);
  }

  /**
   * An emptyDir: the data lives only as long as the pod. For caches, where a restarted member
   * resynchronises from the primary and losing everything is acceptable.
   */
  public static ephemeral(options: EphemeralStorageOptions = {}): DataStorage {
    return new DataStorage('ephemeral', options.sizeLimit, undefined, false, 'emptyDir (no data at rest beyond the pod)');
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
    private readonly acknowledged = true,
  ) {}

  /** @internal */
  public _validate(v: PropsValidator, prop: string): void {
    if (this.kind === 'persistent') {
      v.check(`${prop}.size`, this.size, isQuantity, 'a Kubernetes quantity such as 10Gi');
      if (this.size === undefined) v.fail(`${prop}.size`, undefined, 'a Kubernetes quantity such as 10Gi');
    } else {
      v.check(`${prop}.sizeLimit`, this.size, isQuantity, 'a Kubernetes quantity such as 1Gi');
    }
    if (!this.acknowledged) {
      v.fail(`${prop}.acknowledgeUnencrypted`, false, 'true (unencrypted persistent volumes need an explicit opt-out), or use DataStorage.encrypted(...)');
    }
  }
}

export interface UnencryptedStorageOptions {
  /** Claim size, e.g. 10Gi. */
  readonly size: string;
  /** StorageClass. @default the cluster's default StorageClass */
  readonly storageClassName?: string;
  /** Must be true: a deliberate opt-out of encryption at rest. */
  readonly acknowledgeUnencrypted: boolean;
}

export interface EphemeralStorageOptions {
  /** emptyDir size limit. @default no limit */
  readonly sizeLimit?: string;
}

import { Construct } from 'constructs';
import { AccessPolicy, AccessTarget, ClientAccessProps } from '../access/access-policy';
import { RedisAuthSecretRef } from '../auth/redis-auth';
import { Backups, BACKUPS_FACTORIES, BackupSource, RESTORE_FROM_FACTORIES, RestoreFrom } from '../backup/backups';
import { isDnsLabel, resourceName } from '../core/names';
import { WorkloadPlacementProps } from '../core/pod-template';
import { parseQuantity } from '../core/quantity';
import { IMAGE_ALLOWED, isImage, validateNamespace } from '../core/rules';
import { isUnresolved, PropsValidator } from '../core/validation';
import { ISentinelRedis } from '../endpoint';
import { SentinelRedis, SentinelRedisProps } from '../sentinel/sentinel-redis';
import { DataStorage } from '../storage/data-storage';
import { describeCapacity, FlashCapacityPlan, flashCapacityPlan, mib } from './capacity';
import { renderKvrocksConf } from './kvrocks-conf';
import { FLASH_SIZING_FACTORIES, FlashSizing } from './sizing';

/** The Kvrocks image when none is given (Apache Kvrocks 2.17.0; uid 999 like Redis's). */
export const DEFAULT_KVROCKS_IMAGE = 'apache/kvrocks:2.17.0';

/** The SentinelRedis props a flash tier takes as they are (the sentinels, their timing, auth, publishing). */
export type FlashTierSentinelProps = Pick<SentinelRedisProps,
  'namespace' | 'name' | 'dataMembers' | 'sentinels' | 'quorum' | 'masterName' | 'auth' | 'timeoutSeconds' | 'downAfterMilliseconds'
  | 'failoverTimeoutMilliseconds' | 'elastisysConfigMap' | 'passwordSecret' | 'outputs' | 'outputPrefix' | 'bootTimeoutSeconds'
  | 'backup' | 'restoreFrom'>;

export interface FlashTierRedisProps extends FlashTierSentinelProps, WorkloadPlacementProps, ClientAccessProps {
  /** Capacity and RAM share: FlashSizing.azure(capacityGb) or FlashSizing.explicit({ capacity, ramRatio? }). */
  readonly sizing: FlashSizing;
  /**
   * The data volumes: persistent, on the fastest class you have (local NVMe or the provider's
   * fastest SSD), encrypted unless explicitly opted out, at least 1.25 × the capacity.
   */
  readonly storage: DataStorage;
  /** Kvrocks image (with sh, redis-cli and coreutils, as the official one has). @default 'apache/kvrocks:2.17.0' */
  readonly image?: string;
  /** The sentinels' image. @default 'redis:7.2.7' */
  readonly sentinelImage?: string;
}

/**
 * Azure Managed Redis Flash Optimized, on your cluster: Apache Kvrocks keeps the whole dataset in
 * RocksDB on a fast volume and a share of the capacity (20% by default) in RAM as RocksDB's block
 * cache and memtables. Highly available through SentinelRedis's sentinels and boot logic (the same
 * scripts, with Kvrocks's config keys), and reachable through a HaproxyPortal like any
 * ISentinelRedis. For read-heavy workloads with a hot subset and large values; not for
 * write-heavy or uniform workloads, or small values under long keys.
 */
export class FlashTierRedis extends Construct implements ISentinelRedis {
  public readonly name: string;
  public readonly namespace: string;
  public readonly dataMemberHosts: string[];
  public readonly redisPort: number;
  public readonly auth: RedisAuthSecretRef;
  public readonly tlsEnabled = false;
  public readonly tlsSecretName?: string;
  public readonly accessTarget: AccessTarget;
  public readonly masterName: string;
  public readonly sentinelServiceHost: string;
  public readonly sentinelPort: number;
  public readonly sentinelHosts: string[];
  public readonly highlyAvailable = true;
  /** The password (sensitive), as SentinelRedis.password. */
  public readonly password?: string;
  /** Where the bytes go. */
  public readonly capacity: FlashCapacityPlan;
  /** The sentinels, data members, Services, policies and connection details. */
  public readonly topology: SentinelRedis;
  public readonly accessPolicy: AccessPolicy;
  /** Where this flash tier's backups are, for a RestoreFrom (undefined without backups). */
  public readonly backupSource?: BackupSource;

  constructor(scope: Construct, id: string, props: FlashTierRedisProps) {
    super(scope, id);
    this.validate(props);
    const name = resourceName(this, props.name, 40);
    const sizing = props.sizing;
    const capacity = flashCapacityPlan(sizing.capacityGiB, sizing.ramRatio);
    this.capacity = capacity;
    const split = describeCapacity(capacity);
    const kvrocksConf = renderKvrocksConf({
      namespace: props.namespace, name, port: 6379, dbName: name, workers: sizing.workers, timeoutSeconds: props.timeoutSeconds ?? 0, capacity,
      // A backup Job has its deadline to upload the checkpoint; without backups, Kvrocks's shipped value.
      backupKeepHours: props.backup?.enabled ? Math.ceil((props.backup.options.deadlineSeconds ?? 3600) / 3600) + 1 : 24,
    });

    this.topology = new SentinelRedis(this, 'Topology', {
      namespace: props.namespace,
      name,
      storage: props.storage,
      dataMembers: props.dataMembers,
      sentinels: props.sentinels,
      quorum: props.quorum,
      masterName: props.masterName,
      image: props.sentinelImage,
      cpuRequest: sizing.cpuRequest,
      auth: props.auth,
      timeoutSeconds: props.timeoutSeconds,
      downAfterMilliseconds: props.downAfterMilliseconds,
      failoverTimeoutMilliseconds: props.failoverTimeoutMilliseconds,
      elastisysConfigMap: props.elastisysConfigMap,
      passwordSecret: props.passwordSecret,
      outputs: props.outputs,
      outputPrefix: props.outputPrefix,
      bootTimeoutSeconds: props.bootTimeoutSeconds,
      backup: props.backup,
      restoreFrom: props.restoreFrom,
      clients: props.clients,
      accessLabel: props.accessLabel,
      dns: props.dns,
      zoneSpread: props.zoneSpread,
      nodeSpread: props.nodeSpread,
      nodeSelector: props.nodeSelector,
      tolerations: props.tolerations,
      clusterDomain: props.clusterDomain,
      _engine: {
        kind: 'kvrocks',
        image: props.image ?? DEFAULT_KVROCKS_IMAGE,
        configFiles: { 'kvrocks.conf': kvrocksConf },
        memoryLimit: mib(capacity.memoryLimitMiB),
        annotations: {
          'redis-topologies.io/engine': 'kvrocks',
          'redis-topologies.io/flash-sizing': sizing.description,
          'redis-topologies.io/flash-capacity': split.capacity,
          'redis-topologies.io/flash-ram': split.ram,
          'redis-topologies.io/flash-memory': split.memory,
        },
      },
    });
    const t = this.topology;
    this.name = t.name;
    this.namespace = t.namespace;
    this.dataMemberHosts = t.dataMemberHosts;
    this.redisPort = t.redisPort;
    this.auth = t.auth;
    this.accessTarget = t.accessTarget;
    this.masterName = t.masterName;
    this.sentinelServiceHost = t.sentinelServiceHost;
    this.sentinelPort = t.sentinelPort;
    this.sentinelHosts = t.sentinelHosts;
    this.password = t.password;
    this.accessPolicy = t.accessPolicy;
    this.backupSource = t.backupSource;
  }

  private validate(props: FlashTierRedisProps): void {
    const v = new PropsValidator(this);
    if (!v.required('props', props, 'object', 'a FlashTierRedisProps object')) v.throwIfInvalid();
    validateNamespace(v, 'namespace', props.namespace, true);
    const NAME = 'a DNS-1123 label of at most 40 characters (also the Kvrocks db-name, which replicas must share)';
    if (v.type('name', props.name, 'string', NAME) && v.known('name', props.name, 'object names, DNS names and db-name are derived from it')) {
      v.check('name', props.name, (n) => isDnsLabel(n, 40), NAME);
    }
    if (v.requiredOption('sizing', props.sizing, FlashSizing, FLASH_SIZING_FACTORIES)) props.sizing._validate(v, 'sizing');
    if (DataStorage._check(v, 'storage', props.storage) && !v.failed('sizing')) {
      if (props.storage.kind === 'ephemeral') {
        v.fail('storage', 'DataStorage.ephemeral()', 'persistent storage (DataStorage.encrypted(...) or, explicitly, DataStorage.unencrypted(...)): Kvrocks keeps the whole dataset on the volume');
      } else if (typeof props.storage.size === 'string' && !isUnresolved(props.storage.size)) {
        const need = flashCapacityPlan(props.sizing.capacityGiB, props.sizing.ramRatio).minVolumeGiB;
        if (parseQuantity(props.storage.size) < need * 2 ** 30) {
          v.fail('storage.size', props.storage.size, `at least ${need}Gi: the capacity (${props.sizing.capacityGiB} GiB, max-db-size) and 25% for compaction and checkpoints`);
        }
      }
    }
    if (v.option('backup', props.backup, Backups, BACKUPS_FACTORIES) && props.backup) props.backup._validate(v, 'backup');
    if (v.option('restoreFrom', props.restoreFrom, RestoreFrom, RESTORE_FROM_FACTORIES) && props.restoreFrom) props.restoreFrom._validate(v, 'restoreFrom', 'kvrocks');
    v.string('image', props.image, isImage, IMAGE_ALLOWED);
    v.string('sentinelImage', props.sentinelImage, isImage, IMAGE_ALLOWED);
    for (const [prop, why] of Object.entries(UNSUPPORTED)) {
      if ((props as unknown as Record<string, unknown>)[prop] !== undefined) v.fail(prop, (props as unknown as Record<string, unknown>)[prop], why);
    }
    v.throwIfInvalid();
  }
}

/** SentinelRedis props a JavaScript caller might pass that the flash tier does not take, and why. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  tlsSecretName: 'unset: Kvrocks cannot close its plaintext port (both ports listen on every bind address); clients get TLS 1.2+ through a HaproxyPortal',
  aclUsers: 'unset: Kvrocks has no ACL users (one password, requirepass)',
  persistence: 'unset: Kvrocks persists every write in RocksDB (its WAL), there is no AOF or RDB to choose',
  evictionPolicy: 'unset: Kvrocks does not evict; max-db-size refuses writes when the capacity is reached',
  memoryLimit: 'unset: derived from sizing (RAM share plus headroom)',
  metrics: 'unset: the redis_exporter sidecar is not wired for Kvrocks yet (kvrocks_exporter)',
};

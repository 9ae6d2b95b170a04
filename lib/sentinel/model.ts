import { RedisServerSettings } from '../redis/redis-conf';

/**
 * The validated, plain description of one SentinelRedis that the renderers turn into files.
 * Nothing here refers to cdktf: renderers are pure functions of this model.
 */
export interface SentinelRedisModel extends RedisServerSettings {
  readonly name: string;
  readonly namespace: string;
  readonly clusterDomain: string;
  readonly masterName: string;
  /** Number of data members (primary + replicas). */
  readonly dataMembers: number;
  /** Number of sentinels; 0 in development mode. */
  readonly sentinels: number;
  readonly quorum: number;
  readonly sentinelPort: number;
  /** StatefulSet and headless Service names; pod DNS is `<sts>-<i>.<headless>.<ns>.svc.<domain>`. */
  readonly dataStatefulSet: string;
  readonly dataHeadlessService: string;
  readonly sentinelStatefulSet: string;
  readonly sentinelHeadlessService: string;
  readonly downAfterMilliseconds: number;
  readonly failoverTimeoutMilliseconds: number;
  readonly parallelSyncs: number;
  readonly minReplicasToWrite: number;
  readonly minReplicasMaxLagSeconds: number;
  /** ACL users: name and rules (passwords come from the auth Secret at boot). */
  readonly aclUsers: ReadonlyArray<{ readonly name: string; readonly rules: string }>;
  /** Upper bound for a member's boot decision before it exits and lets Kubernetes restart it. */
  readonly bootTimeoutSeconds: number;
  /**
   * Created with restoreFrom: at the topology's first boot the first member loads the staged backup
   * (restore-load.sh) before it serves. @default false
   */
  readonly restore?: boolean;
  /**
   * The data members' server: Redis (default), or Kvrocks for the flash tier (FlashTierRedis), which
   * reads kvrocks.conf, persists in RocksDB and has no planned handover. @default 'redis'
   */
  readonly engine?: 'redis' | 'kvrocks';
  /** Upper bound of a primary's planned handover in its preStop hook (inside the grace period). */
  readonly handoverSeconds: number;
}

/** The stable DNS name of data member `i`. */
export function dataMemberHost(m: Pick<SentinelRedisModel, 'dataStatefulSet' | 'dataHeadlessService' | 'namespace' | 'clusterDomain'>, i: number): string {
  return `${m.dataStatefulSet}-${i}.${m.dataHeadlessService}.${m.namespace}.svc.${m.clusterDomain}`;
}

/** The stable DNS name of sentinel `i`. */
export function sentinelHost(m: Pick<SentinelRedisModel, 'sentinelStatefulSet' | 'sentinelHeadlessService' | 'namespace' | 'clusterDomain'>, i: number): string {
  return `${m.sentinelStatefulSet}-${i}.${m.sentinelHeadlessService}.${m.namespace}.svc.${m.clusterDomain}`;
}

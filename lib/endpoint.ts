import { AccessTarget } from './access/access-policy';
import { RedisAuthSecretRef } from './auth/redis-auth';

/**
 * The data members of a topology: what a proxy (HaproxyPortal) or a backup job needs to reach
 * them. Implemented by SentinelRedis, by its imports from attributes, and by later topologies.
 */
export interface IRedisDataMembers {
  /** Topology name. */
  readonly name: string;
  /** Namespace the data members run in. */
  readonly namespace: string;
  /** Stable DNS name of every data member, ordinal order. */
  readonly dataMemberHosts: string[];
  /** Redis port of the data members. */
  readonly redisPort: number;
  /** The Secret holding the password (in the topology's namespace). */
  readonly auth: RedisAuthSecretRef;
  /** Whether the data members speak TLS on redisPort. */
  readonly tlsEnabled: boolean;
  /** When tlsEnabled: the Secret (in the topology's namespace) whose `ca.crt` signs the members' certificates. */
  readonly tlsSecretName?: string;
  /** What to grant access to: namespace, pod selector and client ports. */
  readonly accessTarget: AccessTarget;
  /**
   * The password, when Terraform knows it (a generated one: a reference to random_password).
   * Sensitive: only ever written into Secrets and sensitive outputs. @default unknown (in a Secret Terraform does not read)
   */
  readonly password?: string;
}

/** A Sentinel-managed Redis: data members plus the sentinels that know the current primary. */
export interface ISentinelRedis extends IRedisDataMembers {
  /** Sentinel master group name. */
  readonly masterName: string;
  /** The sentinel Service as `<service>.<namespace>` (resolves from any namespace). */
  readonly sentinelServiceHost: string;
  /** Sentinel port. */
  readonly sentinelPort: number;
  /** Stable DNS name of every sentinel pod. */
  readonly sentinelHosts: string[];
  /** Whether sentinels run (false in development mode). */
  readonly highlyAvailable: boolean;
}

/**
 * A Redis Cluster: its shards and their members, for what consumes a cluster (backups, monitoring,
 * a proxy). `dataMemberHosts` lists every member, shard by shard.
 */
export interface IRedisCluster extends IRedisDataMembers {
  /** Each shard's members (member 0 is its first primary) and the slots it was created with. */
  readonly shards: ReadonlyArray<{
    readonly index: number;
    readonly memberHosts: string[];
    /** The slot range the bootstrap gave the shard at creation (slots move only by a rebalance); undefined for standalone shards behind twemproxy. */
    readonly initialSlots?: { readonly first: number; readonly last: number };
  }>;
  /** The cluster bus port, between members only. */
  readonly busPort: number;
  /** The client Service over every ready member, `<service>.<namespace>` (a seed for cluster clients). */
  readonly serviceHost: string;
}

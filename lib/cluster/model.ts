import { RedisServerSettings } from '../redis/redis-conf';

/** Redis Cluster's hash slots: 0 to 16383. */
export const CLUSTER_SLOTS = 16384;

/**
 * The validated, plain description of one ShardedRedisCluster that the renderers turn into files.
 * Nothing here refers to cdktf: renderers are pure functions of this model.
 */
export interface ShardedRedisClusterModel extends RedisServerSettings {
  readonly name: string;
  readonly namespace: string;
  readonly clusterDomain: string;
  /**
   * `cluster`: Redis Cluster (cluster-enabled yes, slots, the bus, the bootstrap). `standalone`:
   * independent shards behind twemproxy, no cluster state.
   */
  readonly mode: 'cluster' | 'standalone';
  /** Primaries, each owning a slot range. */
  readonly shards: number;
  /** Replicas per shard: each shard is a StatefulSet of replicas + 1 members. */
  readonly replicasPerShard: number;
  /** The cluster bus port (client port + 10000). */
  readonly busPort: number;
  /** One headless Service for every member: pod DNS is `<name>-shard-<s>-<i>.<headless>.<ns>.svc.<domain>`. */
  readonly headlessService: string;
  readonly clusterNodeTimeoutMs: number;
  /** ACL users: name and rules (passwords come from the auth Secret at boot). */
  readonly aclUsers: ReadonlyArray<{ readonly name: string; readonly rules: string }>;
  /** Upper bound for the bootstrap to find every member, and for a member's boot. */
  readonly bootTimeoutSeconds: number;
  /**
   * Created with restoreFrom: at the topology's first boot the first member loads the staged backup
   * (restore-load.sh) before it serves. @default false
   */
  readonly restore?: boolean;
  /** Upper bound of a primary's planned handover to its replica in its preStop hook. */
  readonly handoverSeconds: number;
}

/** The StatefulSet of shard `s`: `<name>-shard-<s>`. */
export function shardStatefulSetName(name: string, s: number): string {
  return `${name}-shard-${s}`;
}

/** The stable DNS name of member `i` of shard `s`. */
export function clusterMemberHost(m: Pick<ShardedRedisClusterModel, 'name' | 'headlessService' | 'namespace' | 'clusterDomain'>, s: number, i: number): string {
  return `${shardStatefulSetName(m.name, s)}-${i}.${m.headlessService}.${m.namespace}.svc.${m.clusterDomain}`;
}

/** A shard's slots, first and last inclusive. */
export interface SlotRange {
  readonly first: number;
  readonly last: number;
}

/**
 * The slot ranges of `shards` primaries, split exactly as `redis-cli --cluster create` splits them
 * (each range ends at round((k + 1) * 16384 / shards - 1)): 3 shards own 0-5460, 5461-10922 and
 * 10923-16383. Chosen over the Scaleway document's 0-5500 / 5501-11000 / 11001-16383 because it is
 * even to one slot for every shard count, while Scaleway's leaves the last shard 118 slots short
 * (2%) and is given only for 3 shards; and it is the layout redis-cli and its users already know.
 */
export function slotRanges(shards: number): SlotRange[] {
  const per = CLUSTER_SLOTS / shards;
  const ranges: SlotRange[] = [];
  let first = 0;
  for (let k = 0; k < shards; k++) {
    const last = k === shards - 1 ? CLUSTER_SLOTS - 1 : Math.max(first, Math.round((k + 1) * per - 1));
    ranges.push({ first, last });
    first = last + 1;
  }
  return ranges;
}

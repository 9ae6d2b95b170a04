/** Enum-like option classes for SentinelRedis. */

/** High availability (sentinels and failover) or a single development instance. */
export class Availability {
  /** A primary, replicas and a quorum of sentinels that fail over automatically. */
  public static readonly HIGH_AVAILABILITY = new Availability('high-availability', true);
  /**
   * One data member and no sentinels: no failover, no redundancy. For development only; the plan
   * carries the annotation `redis-topologies.io/availability: development`.
   */
  public static readonly DEVELOPMENT = new Availability('development', false);
  private constructor(public readonly value: string, public readonly highlyAvailable: boolean) {}
}

/** Redis `maxmemory-policy`. */
export class EvictionPolicy {
  /** Refuse writes when memory is full (IBM's default, seed 000): nothing is ever silently dropped. */
  public static readonly NOEVICTION = new EvictionPolicy('noeviction');
  /** Evict any key, least recently used first (Elastisys's default for caches, seed 001). */
  public static readonly ALLKEYS_LRU = new EvictionPolicy('allkeys-lru');
  public static readonly ALLKEYS_LFU = new EvictionPolicy('allkeys-lfu');
  public static readonly ALLKEYS_RANDOM = new EvictionPolicy('allkeys-random');
  public static readonly VOLATILE_LRU = new EvictionPolicy('volatile-lru');
  public static readonly VOLATILE_LFU = new EvictionPolicy('volatile-lfu');
  public static readonly VOLATILE_RANDOM = new EvictionPolicy('volatile-random');
  public static readonly VOLATILE_TTL = new EvictionPolicy('volatile-ttl');
  private constructor(public readonly value: string) {}
}

/** How data survives a restart of a data member. */
export class Persistence {
  /**
   * Append-only file, fsync every second (at most about one second of writes lost on a crash). The
   * default for high availability: a primary restarted without persistence comes back empty, and
   * its replica resynchronises to empty.
   */
  public static aofEverySecond(): Persistence {
    return new Persistence('aof', []);
  }

  /** RDB snapshots at the given save points (seconds, changes). @default 3600/1, 300/100, 60/10000 */
  public static rdb(savePoints: RdbSavePoint[] = [{ seconds: 3600, changes: 1 }, { seconds: 300, changes: 100 }, { seconds: 60, changes: 10000 }]): Persistence {
    return new Persistence('rdb', savePoints);
  }

  /** Nothing on disk: an ephemeral cache. Only with replicas and sentinels does the data outlive a pod. */
  public static none(): Persistence {
    return new Persistence('none', []);
  }

  private constructor(public readonly mode: 'aof' | 'rdb' | 'none', public readonly savePoints: readonly RdbSavePoint[]) {}
}

export interface RdbSavePoint {
  readonly seconds: number;
  readonly changes: number;
}

/** What a Redis ACL user may do. */
export class AclPermissions {
  /**
   * Every command on every key and channel except the `@dangerous` and `@admin` categories
   * (FLUSHALL, FLUSHDB, CONFIG, DEBUG, KEYS, SHUTDOWN, MONITOR, REPLICAOF, ...).
   */
  public static application(): AclPermissions {
    return new AclPermissions('~* &* +@all -@dangerous -@admin');
  }

  /** Read commands only, on every key. */
  public static readOnly(): AclPermissions {
    return new AclPermissions('~* &* +@read +@connection -@dangerous');
  }

  /** Raw ACL rules (everything after the user name and password), e.g. `~app:* +@read +@write`. */
  public static custom(rules: string): AclPermissions {
    return new AclPermissions(rules);
  }

  private constructor(public readonly rules: string) {}
}

export interface AclUser {
  /** User name (letters, digits, '-', '_'). */
  readonly name: string;
  /** Permissions. @default AclPermissions.application() */
  readonly permissions?: AclPermissions;
}

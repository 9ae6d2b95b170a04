/**
 * Enum-like option classes for SentinelRedis. Each has a private constructor and a private member,
 * so only the static factories make one: an object literal with the same fields does not
 * type-check, and SentinelRedis refuses one at run time (for JavaScript callers).
 */

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

  /** Makes the class nominal: an object literal with the same fields is not an EvictionPolicy. */
  private readonly optionClass = 'EvictionPolicy';

  private constructor(/** Redis's name for it. */ public readonly value: string) {}

  public toString(): string {
    return `${this.optionClass}(${this.value})`;
  }
}

/** The factories that make an EvictionPolicy, for validation messages. */
export const EVICTION_POLICY_FACTORIES = 'EvictionPolicy.NOEVICTION, ALLKEYS_LRU, ALLKEYS_LFU, ALLKEYS_RANDOM, VOLATILE_LRU, VOLATILE_LFU, VOLATILE_RANDOM, VOLATILE_TTL';

/** How data survives a restart of a data member. */
export class Persistence {
  /**
   * Append-only file, fsync every second: at most about one second of acknowledged writes is lost
   * when a member crashes. The default for high availability: a primary restarted without
   * persistence comes back empty, and its replica resynchronises to empty.
   */
  public static aofEverySecond(): Persistence {
    return new Persistence('aof', [], 'append-only file, fsync every second');
  }

  /**
   * RDB snapshots at the given save points (after `seconds`, if at least `changes` writes): a crash
   * loses every write since the last snapshot, up to the longest interval. At least one save point;
   * for no persistence at all say so with {@link Persistence.none}.
   * @default save points 3600 s / 1 change, 300 s / 100 changes, 60 s / 10000 changes
   */
  public static rdb(savePoints: RdbSavePoint[] = [{ seconds: 3600, changes: 1 }, { seconds: 300, changes: 100 }, { seconds: 60, changes: 10000 }]): Persistence {
    return new Persistence('rdb', savePoints, 'RDB snapshots');
  }

  /**
   * Nothing on disk: a restarted member starts empty. Only with replicas and sentinels does the
   * data outlive a pod; a restart of every member loses everything. For caches.
   */
  public static none(): Persistence {
    return new Persistence('none', [], 'no persistence: a restart of every member loses all data');
  }

  /** Makes the class nominal: an object literal with the same fields is not a Persistence. */
  private readonly optionClass = 'Persistence';

  private constructor(
    /** `aof`, `rdb` or `none`. */
    public readonly mode: 'aof' | 'rdb' | 'none',
    /** RDB save points (rdb only). */
    public readonly savePoints: readonly RdbSavePoint[],
    /** What this mode keeps, in words (used in docs and annotations). */
    public readonly description: string,
  ) {}

  public toString(): string {
    return `${this.optionClass}.${this.mode}`;
  }
}

/** The factories that make a Persistence, for validation messages. */
export const PERSISTENCE_FACTORIES = 'Persistence.aofEverySecond(), Persistence.rdb(savePoints), Persistence.none()';

export interface RdbSavePoint {
  readonly seconds: number;
  readonly changes: number;
}

/**
 * The flash tier's capacity model: a total capacity and the share of it kept in RAM, turned into
 * Kvrocks's RocksDB cache and memtable sizes, the container memory limit, `max-db-size` and the
 * smallest data volume. A pure function, so every split is tested over many sizes and shown in the
 * plan (the kvrocks.conf comments and the pod annotations).
 *
 * What RocksDB keeps in RAM in Kvrocks (read from apache/kvrocks src/storage/storage.cc and
 * kvrocks.conf of the tree in test/flash/fixtures/kvrocks-conf-keys.json):
 * - one block cache (`rocksdb.block_cache_size`, MB) shared by the default, metadata, zset_score and
 *   stream column families, with their index and filter blocks inside it
 *   (`rocksdb.cache_index_and_filter_blocks yes`);
 * - memtables: `rocksdb.write_buffer_size` (MB) × `rocksdb.max_write_buffer_number`, per column
 *   family, for every one of its 8 column families (default, metadata, zset_score, pubsub,
 *   propagate, stream, search, index);
 * - the four small families (pubsub, propagate, search, index) have RocksDB's own default block
 *   cache each, outside the shared one (counted as 32 MB each);
 * - `rocksdb.row_cache_size` is deprecated there (accepted, no effect): not used.
 * Beyond the caches, a process needs room for table readers (`rocksdb.max_open_files`), compaction
 * buffers, client and replication buffers and its worker threads: the headroom.
 */

/** Kvrocks's column families in the tree read (src/storage/storage.h). */
export const KVROCKS_COLUMN_FAMILIES = ['default', 'metadata', 'zset_score', 'pubsub', 'propagate', 'stream', 'search', 'index'] as const;
/** The families with a cache of their own outside the shared block cache, and its size in MB. */
export const SMALL_FAMILY_CACHES = { families: ['pubsub', 'propagate', 'search', 'index'], mb: 32 } as const;
/** Memtables per column family (active + immutable): Kvrocks's default. */
export const MAX_WRITE_BUFFER_NUMBER = 4;
/** The memtable size per family is a share of RAM, between these bounds (MB; Kvrocks's default is 64). */
export const WRITE_BUFFER_MB = { min: 8, max: 64 } as const;
/** Share of the RAM budget the memtables may take at most. */
export const MEMTABLE_SHARE = 0.25;
/** Process memory beyond the caches: a base plus a share of the RAM budget. */
export const HEADROOM = { baseMiB: 512, share: 0.15 } as const;
/** The volume holds the dataset plus room for compaction and a checkpoint's new files. */
export const VOLUME_FACTOR = 1.25;
/** The RAM share when none is given: Azure Flash Optimized keeps 20% in RAM (seed 004). */
export const DEFAULT_RAM_RATIO = 0.2;
/** Bounds of the RAM share: below 5% the caches hold too little to matter, above 50% a RAM tier (SentinelRedis) costs less. */
export const RAM_RATIO_RANGE = { min: 0.05, max: 0.5 } as const;
/** Bounds of the total capacity in GiB: below 8 GiB RAM is the cheaper answer; above 64 TiB one RocksDB instance is not the tool. */
export const CAPACITY_GIB_RANGE = { min: 8, max: 65536 } as const;

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Where the bytes go. Sizes in MiB unless named otherwise. */
export interface FlashCapacityPlan {
  /** The dataset capacity, GiB (`max-db-size`, Kvrocks's unit GB read as 2^30 bytes). */
  readonly capacityGiB: number;
  readonly ramRatio: number;
  /** The RAM budget: capacity × ratio. */
  readonly ramMiB: number;
  /** `rocksdb.block_cache_size`. */
  readonly blockCacheMiB: number;
  /** `rocksdb.write_buffer_size` (per column family, per memtable). */
  readonly writeBufferMiB: number;
  /** `rocksdb.max_write_buffer_number`. */
  readonly maxWriteBufferNumber: number;
  /** Memtables at most: families × write buffer × buffers. */
  readonly memtablesMiB: number;
  /** The small families' own caches. */
  readonly smallCachesMiB: number;
  /** Process memory beyond the caches. */
  readonly headroomMiB: number;
  /** The container's memory limit (and request): RAM budget + headroom. */
  readonly memoryLimitMiB: number;
  /** The smallest data volume, GiB. */
  readonly minVolumeGiB: number;
}

/**
 * The split of a flash tier of `capacityGiB` with `ramRatio` in RAM: memtables take up to a quarter
 * of the RAM budget (8 families × 4 buffers, each 8-64 MiB), the small families' caches theirs, the
 * block cache the rest; the container gets the budget plus 512 MiB and 15% as headroom.
 */
export function flashCapacityPlan(capacityGiB: number, ramRatio = DEFAULT_RAM_RATIO): FlashCapacityPlan {
  const ramMiB = Math.floor(capacityGiB * ramRatio * 1024);
  const families = KVROCKS_COLUMN_FAMILIES.length;
  const writeBufferMiB = Math.max(WRITE_BUFFER_MB.min, Math.min(WRITE_BUFFER_MB.max, Math.floor((ramMiB * MEMTABLE_SHARE) / (families * MAX_WRITE_BUFFER_NUMBER))));
  const memtablesMiB = families * MAX_WRITE_BUFFER_NUMBER * writeBufferMiB;
  const smallCachesMiB = SMALL_FAMILY_CACHES.families.length * SMALL_FAMILY_CACHES.mb;
  const blockCacheMiB = ramMiB - memtablesMiB - smallCachesMiB;
  const headroomMiB = HEADROOM.baseMiB + Math.ceil(ramMiB * HEADROOM.share);
  return {
    capacityGiB,
    ramRatio,
    ramMiB,
    blockCacheMiB,
    writeBufferMiB,
    maxWriteBufferNumber: MAX_WRITE_BUFFER_NUMBER,
    memtablesMiB,
    smallCachesMiB,
    headroomMiB,
    memoryLimitMiB: ramMiB + headroomMiB,
    minVolumeGiB: Math.ceil(capacityGiB * VOLUME_FACTOR),
  };
}

/** Why a capacity and ratio cannot make a flash tier, or undefined when they can. */
export function flashCapacityProblem(capacityGiB: number, ramRatio: number): string | undefined {
  const plan = flashCapacityPlan(capacityGiB, ramRatio);
  if (plan.blockCacheMiB < 512) {
    return `${capacityGiB} GiB × ${ramRatio} leaves a ${plan.blockCacheMiB} MiB block cache after ${plan.memtablesMiB} MiB of memtables and ${plan.smallCachesMiB} MiB of small caches; give at least 1 GiB of block cache room (a larger capacity or RAM share)`;
  }
  return undefined;
}

/** The split as `key: value` lines for the plan's annotations and the kvrocks.conf header. */
export function describeCapacity(p: FlashCapacityPlan): Record<string, string> {
  return {
    capacity: `${p.capacityGiB} GiB on the volume (max-db-size), at least ${p.minVolumeGiB} GiB volume`,
    ram: `${p.ramMiB} MiB (${Math.round(p.ramRatio * 100)}%): block cache ${p.blockCacheMiB} MiB + memtables ${p.memtablesMiB} MiB (${KVROCKS_COLUMN_FAMILIES.length} families × ${p.maxWriteBufferNumber} × ${p.writeBufferMiB} MiB) + small caches ${p.smallCachesMiB} MiB`,
    memory: `limit ${p.memoryLimitMiB} MiB = RAM ${p.ramMiB} MiB + headroom ${p.headroomMiB} MiB (table readers, compaction, buffers, threads)`,
  };
}

/** A quantity string for MiB. */
export function mib(n: number): string {
  return `${n}Mi`;
}

export const BYTES = { MiB, GiB } as const;

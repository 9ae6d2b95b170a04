/**
 * kvrocks.conf for a flash tier's data members, rendered by a pure function. Every key is one the
 * Kvrocks tree in test/flash/fixtures/kvrocks-conf-keys.json accepts (a unit test checks each line).
 * Secrets (`requirepass`, `masterauth`) and the member's own lines (`replica-announce-ip`,
 * `slaveof`) are appended by the entrypoint at boot: Kvrocks has no `include`, so the runtime file
 * is this file plus those lines.
 */
import { PATHS } from '../redis/paths';
import { describeCapacity, FlashCapacityPlan, KVROCKS_COLUMN_FAMILIES } from './capacity';

export interface KvrocksConfModel {
  readonly namespace: string;
  readonly name: string;
  readonly port: number;
  /** Replicas sync only from a primary with the same db-name. */
  readonly dbName: string;
  readonly workers: number;
  readonly timeoutSeconds: number;
  readonly capacity: FlashCapacityPlan;
  /**
   * Hours Kvrocks keeps a BGSAVE checkpoint in backup-dir before purging it: long enough for a
   * backup Job to upload it, short enough that its hard-linked table files do not hold disk for a day.
   */
  readonly backupKeepHours: number;
}

/** The lines of kvrocks.conf, `key value` each, comments first. */
export function renderKvrocksConf(m: KvrocksConfModel): string {
  const c = m.capacity;
  const split = describeCapacity(c);
  return `# kvrocks.conf for ${m.namespace}/${m.name}, rendered by redis-topologies.
# Where the bytes go (RocksDB keeps the whole dataset on the volume; RAM is a cache, not a first tier):
#   ${split.capacity}
#   ${split.ram}
#   ${split.memory}
# Column families: ${KVROCKS_COLUMN_FAMILIES.join(', ')}.
bind 0.0.0.0
port ${m.port}
daemonize no
supervised no
dir ${PATHS.data}
pidfile ${PATHS.run}/kvrocks.pid
log-dir stdout
log-level info
db-name ${m.dbName}
workers ${m.workers}
timeout ${m.timeoutSeconds}
slave-read-only yes
slave-serve-stale-data yes
slave-priority 100
max-db-size ${c.capacityGiB}
max-backup-to-keep 1
max-backup-keep-hours ${m.backupKeepHours}
rocksdb.block_cache_size ${c.blockCacheMiB}
rocksdb.cache_index_and_filter_blocks yes
rocksdb.write_buffer_size ${c.writeBufferMiB}
rocksdb.max_write_buffer_number ${c.maxWriteBufferNumber}
`;
}

/**
 * The backup and restore options of the topologies: `backup` (Backups.toObjectStorage or, on
 * purpose, Backups.disabled) and `restoreFrom` (RestoreFrom.latest or RestoreFrom.backup).
 */
import { AccessEgress } from '../access/access-policy';
import { isDnsLabel } from '../core/names';
import { IMAGE_ALLOWED, isImage } from '../core/rules';
import { PropsValidator } from '../core/validation';
import { asOptions, checkOptions } from '../storage/checks';
import { BACKUP_ID_PATTERN } from './backup-scripts';
import { CLIENT_SIDE_ENCRYPTION_FACTORIES, ClientSideEncryption, OBJECT_STORAGE_FACTORIES, ObjectStorage, SECURE_REMOTE, STORE_REMOTE } from './object-storage';

/** rclone's image when none is given (Alpine, busybox sh; runs as any user). */
export const DEFAULT_RCLONE_IMAGE = 'rclone/rclone:1.68.2';

const EGRESS_ALLOWED = 'a non-empty list of AccessEgress.toCidr(cidr, ports) or AccessEgress.toNamespace(namespace, ports): where the object store is (its endpoint\'s CIDRs and ports, or the namespace of an in-cluster store), since the pods may reach nothing else';

/** How many backups are kept. */
export interface BackupRetention {
  /** Complete backups kept per shard, newest first (at least 1). @default 30 */
  readonly keepLast?: number;
  /** Complete backups older than this many days are deleted, except the newest. @default none (count only) */
  readonly maxAgeDays?: number;
}

export interface ObjectStorageBackupOptions {
  /** Where backups go: `<root>/<namespace>/<name>/<shard>/<UTC timestamp>/`. */
  readonly storage: ObjectStorage;
  /**
   * Where the object store is: the backup pods (and, with restoreFrom, the data pods) get egress to
   * exactly these, besides DNS and the topology's client port.
   */
  readonly egress: AccessEgress[];
  /** Cron schedule, five fields. @default '0 * * * *' (hourly, on the hour) */
  readonly schedule?: string;
  /** Time zone of the schedule (IANA name). @default 'Etc/UTC' */
  readonly timeZone?: string;
  /** @default { keepLast: 30 } */
  readonly retention?: BackupRetention;
  /** Client-side encryption through rclone's crypt remote. @default none: the store's server-side encryption only */
  readonly clientSideEncryption?: ClientSideEncryption;
  /** rclone image (upload, retention, restore download). @default 'rclone/rclone:1.68.2' */
  readonly rcloneImage?: string;
  /** A backup Job taking longer than this fails (snapshot, upload and retention together). @default 3600 */
  readonly deadlineSeconds?: number;
  /** Finished Jobs kept, each: the succeeded ones and the failed ones. @default 3 */
  readonly jobHistory?: number;
}

/** Whether and where a topology is backed up. */
export class Backups {
  /**
   * Scheduled backups to object storage: a CronJob per topology (per shard for a cluster) takes a
   * snapshot from a replica in sync, verifies it, uploads it with a manifest, proves the stored copy
   * and applies retention.
   */
  public static toObjectStorage(options: ObjectStorageBackupOptions): Backups {
    return new Backups(true, asOptions<ObjectStorageBackupOptions>(options), options);
  }

  /**
   * No backups, on purpose: for caches whose data can be rebuilt (Elastisys offers no disaster
   * recovery for its cache tier). The plan says so in an annotation; leaving `backup` out instead
   * gives a synth warning.
   */
  public static disabled(): Backups {
    return new Backups(false, {}, undefined);
  }

  private readonly optionClass = 'Backups';

  private constructor(
    public readonly enabled: boolean,
    /** The options (enabled only). */
    public readonly options: Partial<ObjectStorageBackupOptions>,
    private readonly raw: unknown,
  ) {}

  /** @internal */
  public _validate(v: PropsValidator, prop: string): void {
    if (!this.enabled) return;
    const o = this.options;
    if (!checkOptions(v, prop, this.raw, true, 'Backups.toObjectStorage({ storage, egress, schedule?, timeZone?, retention?, clientSideEncryption?, rcloneImage?, deadlineSeconds?, jobHistory? })')) return;
    validateLocation(v, prop, o);
    v.string(`${prop}.schedule`, o.schedule, isCronSchedule, 'a cron schedule of five fields, such as "0 * * * *" (hourly) or "30 2 * * *" (daily at 02:30)');
    v.string(`${prop}.timeZone`, o.timeZone, (z) => /^[A-Za-z]+(?:[/_+-][A-Za-z0-9_+-]+)*$/.test(z) && z.length <= 64, 'an IANA time zone such as Etc/UTC or Europe/Stockholm');
    if (v.type(`${prop}.retention`, o.retention, 'object', 'retention { keepLast?, maxAgeDays? }') && o.retention) {
      v.integer(`${prop}.retention.keepLast`, o.retention.keepLast, 1, 10000);
      v.integer(`${prop}.retention.maxAgeDays`, o.retention.maxAgeDays, 1, 36500);
    }
    v.integer(`${prop}.deadlineSeconds`, o.deadlineSeconds, 60, 7 * 86400);
    v.integer(`${prop}.jobHistory`, o.jobHistory, 0, 100);
  }

  public toString(): string {
    return this.enabled ? `${this.optionClass}.toObjectStorage(${String(this.options.storage)})` : `${this.optionClass}.disabled()`;
  }
}

/** Where a topology's backups are: what a restore needs to find them. */
export interface BackupSource {
  /** The object storage the backups were written to. */
  readonly storage: ObjectStorage;
  /** Namespace of the topology that was backed up. */
  readonly namespace: string;
  /** Name of the topology that was backed up. */
  readonly name: string;
  /** The key the backups were encrypted with, if they were. @default none */
  readonly clientSideEncryption?: ClientSideEncryption;
  /** Egress of the restoring data pods to the object store. */
  readonly egress: AccessEgress[];
  /** rclone image of the restore download. @default 'rclone/rclone:1.68.2' */
  readonly rcloneImage?: string;
  /**
   * What wrote the backups: 'redis' (RDB files) or 'kvrocks' (RocksDB checkpoints of a
   * FlashTierRedis). A topology restores only its own engine's backups. @default 'redis'
   */
  readonly engine?: BackupEngine;
}

/** The data engines whose backups a topology can restore. */
export const BACKUP_ENGINES = ['redis', 'kvrocks'] as const;
export type BackupEngine = typeof BACKUP_ENGINES[number];

/**
 * A new topology's initial data: on its first boot, member 0 (of each shard) downloads a backup,
 * checks it and loads it before it serves; its replicas then sync from it. On a topology that has
 * data already it does nothing (see the README's runbook for an in-place restore).
 */
export class RestoreFrom {
  /** The newest complete backup. */
  public static latest(source: BackupSource): RestoreFrom {
    return new RestoreFrom('latest', source);
  }

  /**
   * The backup with this id (a UTC timestamp such as `20261201T080000Z`): for each shard, the
   * newest complete backup taken at or before it (the shards' Jobs start together and end seconds
   * apart).
   */
  public static backup(id: string, source: BackupSource): RestoreFrom {
    return new RestoreFrom(id, source);
  }

  private readonly optionClass = 'RestoreFrom';

  private constructor(
    /** `latest` or a backup id. */
    public readonly selection: string,
    public readonly source: BackupSource,
  ) {}

  /** @internal `engine`: the restoring topology's data engine. */
  public _validate(v: PropsValidator, prop: string, engine: BackupEngine = 'redis'): void {
    if (this.selection !== 'latest') {
      v.requiredString(`${prop}.id`, this.selection, (id) => BACKUP_ID_PATTERN.test(id), 'a backup id: the UTC timestamp of its directory, such as 20261201T080000Z');
    }
    const s = asOptions<BackupSource>(this.source);
    if (!checkOptions(v, `${prop}.source`, this.source, true, 'a BackupSource { storage, namespace, name, egress, clientSideEncryption?, rcloneImage? } (a topology\'s backupSource)')) return;
    validateLocation(v, `${prop}.source`, s);
    v.requiredString(`${prop}.source.namespace`, s.namespace, (n) => isDnsLabel(n), 'the namespace of the topology that was backed up');
    v.requiredString(`${prop}.source.name`, s.name, (n) => isDnsLabel(n, 40), 'the name of the topology that was backed up');
    const allowed = engine === 'kvrocks'
      ? "'kvrocks': a flash tier loads RocksDB checkpoints of a FlashTierRedis, not Redis RDB files"
      : "'redis' or unset: Redis loads RDB files, not the RocksDB checkpoints of a FlashTierRedis";
    if (v.string(`${prop}.source.engine`, s.engine, (e) => (BACKUP_ENGINES as readonly string[]).includes(e), allowed)) {
      v.check(`${prop}.source.engine`, s.engine ?? 'redis', (e) => e === engine, allowed);
    }
  }

  public toString(): string {
    return this.selection === 'latest' ? `${this.optionClass}.latest(...)` : `${this.optionClass}.backup(${JSON.stringify(this.selection)}, ...)`;
  }
}

/** The checks a backup and a restore share: storage, egress, encryption, image. */
function validateLocation(v: PropsValidator, prop: string, o: Partial<BackupSource & ObjectStorageBackupOptions>): void {
  if (v.requiredOption(`${prop}.storage`, o.storage, ObjectStorage, OBJECT_STORAGE_FACTORIES)) o.storage._validate(v, `${prop}.storage`);
  if (v.required(`${prop}.egress`, o.egress, 'array', EGRESS_ALLOWED) && v.known(`${prop}.egress`, o.egress, 'each entry becomes a NetworkPolicy rule')) {
    if (o.egress!.length === 0) v.fail(`${prop}.egress`, [], EGRESS_ALLOWED);
    o.egress!.forEach((e, i) => {
      if (v.requiredOption(`${prop}.egress[${i}]`, e, AccessEgress, 'AccessEgress.toCidr(), AccessEgress.toNamespace()')) e._validate(v, `${prop}.egress[${i}]`);
    });
  }
  if (v.option(`${prop}.clientSideEncryption`, o.clientSideEncryption, ClientSideEncryption, CLIENT_SIDE_ENCRYPTION_FACTORIES) && o.clientSideEncryption) {
    o.clientSideEncryption._validate(v, `${prop}.clientSideEncryption`);
  }
  v.string(`${prop}.rcloneImage`, o.rcloneImage, isImage, IMAGE_ALLOWED);
}

/** The ranges of the five cron fields: minute, hour, day of month, month, day of week (7 is Sunday too). */
const CRON_RANGES: ReadonlyArray<readonly [number, number]> = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 7]];

/**
 * Five cron fields, each a comma-separated list of `*`, `N` or `N-M`, with an optional `/step`,
 * every number inside its field's range (names like MON are not accepted).
 */
export function isCronSchedule(s: string): boolean {
  const fields = s.trim().split(/\s+/);
  return fields.length === 5 && fields.every((field, i) => field.split(',').every((part) => {
    const m = /^(\*|([0-9]+)(?:-([0-9]+))?)(?:\/([0-9]+))?$/.exec(part);
    if (!m) return false;
    const [lo, hi] = CRON_RANGES[i];
    const inRange = (x: string | undefined) => x === undefined || (Number(x) >= lo && Number(x) <= hi);
    return inRange(m[2]) && inRange(m[3]) && (m[3] === undefined || Number(m[3]) >= Number(m[2])) && (m[4] === undefined || Number(m[4]) >= 1);
  }));
}

/** The rclone path of a topology's backups: through the crypt remote when they are encrypted. */
export function backupRoot(location: { readonly storage: ObjectStorage; readonly clientSideEncryption?: ClientSideEncryption }, namespace: string, name: string): string {
  return location.clientSideEncryption
    ? `${SECURE_REMOTE}:${namespace}/${name}`
    : `${STORE_REMOTE}:${location.storage.root}/${namespace}/${name}`;
}

/** The rclone environment of a backup or restore container: the store, and the crypt remote over it. */
export function rcloneEnv(location: { readonly storage: ObjectStorage; readonly clientSideEncryption?: ClientSideEncryption }) {
  return [
    ...location.storage._rcloneEnv(),
    ...(location.clientSideEncryption ? location.clientSideEncryption._rcloneEnv(location.storage) : []),
  ];
}

export const BACKUPS_FACTORIES = 'Backups.toObjectStorage({ ... }), Backups.disabled()';
export const RESTORE_FROM_FACTORIES = 'RestoreFrom.latest(source), RestoreFrom.backup(id, source)';

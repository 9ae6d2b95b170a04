/**
 * The backup and restore scripts, rendered by pure functions. Terraform escaping happens once,
 * later, in core/escaping (inside these template literals `\\n` and `\${` are escaped for
 * JavaScript only, so the rendered text carries them for the shell).
 *
 * A backup is a directory `<root>/<namespace>/<name>/<shard>/<id>/` holding `dump.rdb` and
 * `manifest.json`; `<id>` is the UTC time the snapshot began (`20261201T080000Z`), so names sort
 * by age. The manifest is written last: a directory without one is an unfinished backup, never
 * restored and removed by the next retention pass.
 */
import { PATHS } from '../redis/paths';
import { SH_LOG, SH_PASSWORD, SH_RCLI, shellConstants, shellQuote } from '../redis/shell';
import { renderKvrocksRestoreLoadSh, renderKvrocksSnapshotSh, renderKvrocksUploadSh } from './kvrocks-backup-scripts';
import { CRYPT_KEY_DIR } from './object-storage';

/** Where the backup ConfigMap is mounted in the backup Job's containers. */
export const BACKUP_SCRIPTS_DIR = '/etc/redis-topologies/backup';
/** The backup Job's scratch volume: the snapshot and its manifest, between the two containers. */
export const BACKUP_WORK_DIR = '/backup';
/** Where a restore is staged on the data volume before it is checked and loaded. */
export const RESTORE_STAGE_DIR = `${PATHS.data}/restore`;
/** The manifest's format version. */
export const MANIFEST_FORMAT = 1;

/** What a backup's source is: its shards (one for SentinelRedis), each with the hosts of its members. */
export interface BackupScriptModel {
  readonly namespace: string;
  readonly name: string;
  /** `sentinel`: one primary and replicas; `cluster`: Redis Cluster shards; `standalone`: shards behind twemproxy. */
  readonly kind: 'sentinel' | 'cluster' | 'standalone';
  readonly redisPort: number;
  readonly tls: boolean;
  /** One entry per shard, in shard order: its directory name and its members' stable DNS names. */
  readonly shards: ReadonlyArray<{ readonly path: string; readonly hosts: readonly string[] }>;
  /** The rclone path of the topology's backups, e.g. `store:bucket/prefix/ns/name` or `secure:ns/name`. */
  readonly root: string;
  /** Whether the remote is rclone's crypt remote (client-side encryption). */
  readonly crypt: boolean;
  /** Retention: the newest `keepLast` complete backups are kept... */
  readonly keepLast: number;
  /** ...and, when above 0, none older than this many days. The newest complete backup is always kept. */
  readonly maxAgeDays: number;
  /** Bound of the snapshot transfer, in seconds. */
  readonly snapshotTimeoutSeconds: number;
  /** Kvrocks (FlashTierRedis): a RocksDB checkpoint on a member's own volume instead of an RDB. @default Redis */
  readonly engine?: 'kvrocks';
}

/** What a restore takes: where from, which backup, and how the restored member keeps its data. */
export interface RestoreScriptModel {
  readonly namespace: string;
  readonly name: string;
  /** The rclone path of the SOURCE topology's backups. */
  readonly root: string;
  readonly crypt: boolean;
  /** `latest`, or a backup id: the newest complete backup taken at or before it. */
  readonly selection: string;
  /** How the restored member persists: `aof` converts the loaded RDB into an AOF before serving. */
  readonly persistence: 'aof' | 'rdb' | 'none';
  readonly bootTimeoutSeconds: number;
  /** Kvrocks (FlashTierRedis): the backup is a RocksDB checkpoint, restored as the member's db directory. @default Redis */
  readonly engine?: 'kvrocks';
}

/** A backup id: the UTC time a snapshot began. */
export const BACKUP_ID_PATTERN = /^[0-9]{8}T[0-9]{6}Z$/;

/**
 * rclone helpers for the backup and restore containers (rclone image: busybox sh, rclone).
 * `rclone_setup` turns the crypt key from the mounted Secret into rclone's obscured form in the
 * environment (never on a command line, never on disk); `complete_backups PATH` lists the ids of
 * the complete backups under a shard directory, oldest first; `id_epoch ID` is its time in seconds.
 */
const SH_RCLONE = `rclone_setup() {
  if [ "$CRYPT" = 1 ]; then
    [ -s "$CRYPT_KEY_DIR/password" ] || die "client-side encryption is on, but the key Secret has no 'password'"
    RCLONE_CONFIG_SECURE_PASSWORD=$(rclone obscure - < "$CRYPT_KEY_DIR/password")
    export RCLONE_CONFIG_SECURE_PASSWORD
    if [ -s "$CRYPT_KEY_DIR/salt" ]; then
      RCLONE_CONFIG_SECURE_PASSWORD2=$(rclone obscure - < "$CRYPT_KEY_DIR/salt")
      export RCLONE_CONFIG_SECURE_PASSWORD2
    fi
  fi
  export RCLONE_CONFIG="\${TMPDIR:-/tmp}/rclone.conf"
  : > "$RCLONE_CONFIG"
}
# complete_backups SHARD_PATH: ids of the backups whose manifest was written, oldest first (status 1
# when the store cannot be listed; rclone's error is in the log).
complete_backups() {
  _out=$(rclone lsf -R --files-only "$ROOT/$1") || return 1
  printf '%s\\n' "$_out" | sed -n 's#^\\([0-9]\\{8\\}T[0-9]\\{6\\}Z\\)/manifest\\.json$#\\1#p' | sort
}
# every_backup SHARD_PATH: ids of every backup directory, complete or not, oldest first.
every_backup() {
  _out=$(rclone lsf --dirs-only "$ROOT/$1") || return 1
  printf '%s\\n' "$_out" | sed -n 's#^\\([0-9]\\{8\\}T[0-9]\\{6\\}Z\\)/$#\\1#p' | sort
}
id_epoch() {
  _i=$1
  date -u -d "$(printf '%s-%s-%s %s:%s:%s' "$(echo "$_i" | cut -c1-4)" "$(echo "$_i" | cut -c5-6)" "$(echo "$_i" | cut -c7-8)" "$(echo "$_i" | cut -c10-11)" "$(echo "$_i" | cut -c12-13)" "$(echo "$_i" | cut -c14-15)")" +%s
}
`;

export const SH_DIE = `die() { log "$*"; exit 1; }`;

/** `older A B`: whether version A (dotted numbers) is older than version B. */
export const SH_OLDER = `older() { # older A B: version A is older than version B
  [ "$1" != "$2" ] && [ "$(printf '%s\\n%s\\n' "$1" "$2" | sort -t . -k1,1n -k2,2n -k3,3n | head -n 1)" = "$1" ]
}`;

/** `load_shard INDEX`: SHARD_PATH and HOSTS (its members' DNS names) of that line of the shards file. */
const SH_LOAD_SHARD = `load_shard() {
  _line=$(awk -v s="$1" '$1 == s' "$BACKUP_DIR/shards")
  [ -n "$_line" ] || die "shard $1 is not in this topology's layout"
  SHARD_PATH=$(printf '%s\\n' "$_line" | cut -d ' ' -f 2)
  HOSTS=$(printf '%s\\n' "$_line" | cut -d ' ' -f 3-)
}`;

/**
 * `check_rdb FILE REPORT`: redis-check-rdb's verdict on FILE, its full output in REPORT. On a
 * refusal, prints what it found wrong (the lines after "RDB ERROR DETECTED", offsets dropped).
 */
const SH_CHECK_RDB = `check_rdb() {
  redis-check-rdb "$1" > "$2" 2>&1 && return 0
  sed -n '/RDB ERROR DETECTED/,$p' "$2" | sed -n '2,4s/^\\[[a-z ]*[0-9]*\\] //p' | tr '\\n' ' '
  return 1
}`;

/** `manifest_field FILE KEY`: a field of a manifest, which has one "key": value per line. */
export const SH_MANIFEST_FIELD = `manifest_field() { sed -n "s/^ *\\"$2\\": *\\"\\{0,1\\}\\([^\\",]*\\)\\"\\{0,1\\},\\{0,1\\} *$/\\1/p" "$1" | head -n 1; }`;

/**
 * `pick_source SHARD_PATH HOST...`: sets `primary` (the member answering as primary), `source` (a
 * replica of it in sync, in the order given, else the primary) and `lag` (the source's replication
 * lag in bytes, or sequence numbers for Kvrocks). Redis and Kvrocks answer INFO replication with
 * the same fields for this.
 */
export const SH_PICK_SOURCE = `field() { printf '%s\\n' "$1" | tr -d '\\r' | sed -n "s/^$2://p"; }
pick_source() {
  _shard=$1; shift
  primary=""
  for h in "$@"; do
    info=$(rcli "$h" "$REDIS_PORT" INFO replication) || continue
    [ "$(field "$info" role)" = master ] && primary=$h
  done
  [ -n "$primary" ] || die "no member of shard $_shard answers as primary ($*): not backed up"
  pinfo=$(rcli "$primary" "$REDIS_PORT" INFO replication)
  primary_offset=$(field "$pinfo" master_repl_offset)
  source=$primary; lag=0
  for h in "$@"; do
    [ "$h" != "$primary" ] || continue
    info=$(rcli "$h" "$REDIS_PORT" INFO replication) || continue
    [ "$(field "$info" role)" = slave ] && [ "$(field "$info" master_link_status)" = up ] && [ "$(field "$info" master_sync_in_progress)" = 0 ] || continue
    source=$h; lag=$(( primary_offset - $(field "$info" slave_repl_offset) )); break
  done
  if [ "$source" = "$primary" ]; then
    log "no replica of $primary is in sync: snapshot from the primary itself"
  else
    log "snapshot from replica $source ($lag behind primary $primary)"
  fi
}`;

/**
 * `apply_retention SHARD_PATH ID`, after backup ID of SHARD_PATH is stored: complete backups beyond
 * the newest KEEP_LAST, or older than MAX_AGE_DAYS, are deleted, never the newest complete one;
 * unfinished ones older than it go too.
 */
export const SH_RETENTION = `apply_retention() {
  _shard=$1; _id=$2
  complete=$(complete_backups "$_shard") || die "retention: cannot list $ROOT/$_shard"
  newest=$(printf '%s\\n' "$complete" | tail -n 1)
  [ "$newest" = "$_id" ] || die "retention skipped: the newest complete backup is $newest, not $_id"
  total=$(printf '%s\\n' "$complete" | grep -c . || true)
  now=$(date -u +%s)
  rank=$total
  for id in $complete; do
    if [ "$id" != "$newest" ]; then
      drop=""
      [ "$rank" -gt "$KEEP_LAST" ] && drop="beyond the newest $KEEP_LAST"
      if [ -z "$drop" ] && [ "$MAX_AGE_DAYS" -gt 0 ] && [ $(( now - $(id_epoch "$id") )) -gt $(( MAX_AGE_DAYS * 86400 )) ]; then drop="older than $MAX_AGE_DAYS days"; fi
      if [ -n "$drop" ]; then
        log "retention: deleting $id ($drop)"
        rclone purge "$ROOT/$_shard/$id" || die "retention: could not delete $id"
      fi
    fi
    rank=$((rank - 1))
  done
  all=$(every_backup "$_shard") || die "retention: cannot list $ROOT/$_shard"
  for id in $all; do
    if [ "$id" \\< "$newest" ] && ! printf '%s\\n' "$complete" | grep -qx "$id"; then
      log "retention: deleting unfinished backup $id"
      rclone purge "$ROOT/$_shard/$id" || die "retention: could not delete $id"
    fi
  done
  log "retention: $(complete_backups "$_shard" | grep -c . || true) complete backups of $_shard kept"
}`;

/** backup-common.sh: the backup Job's constants and helpers, sourced by both of its containers. */
export function renderBackupCommonSh(m: BackupScriptModel): string {
  const constants: Record<string, string | number> = {
    ENGINE: m.engine ?? 'redis',
    NAMESPACE: m.namespace,
    NAME: m.name,
    KIND: m.kind,
    REDIS_PORT: m.redisPort,
    TLS: m.tls ? 1 : 0,
    DATA_DIR: PATHS.data,
    AUTH_DIR: PATHS.auth,
    TLS_DIR: PATHS.tls,
    BACKUP_DIR: BACKUP_SCRIPTS_DIR,
    WORK: BACKUP_WORK_DIR,
    ROOT: m.root,
    CRYPT: m.crypt ? 1 : 0,
    CRYPT_KEY_DIR,
    KEEP_LAST: m.keepLast,
    MAX_AGE_DAYS: m.maxAgeDays,
    SNAPSHOT_TIMEOUT: m.snapshotTimeoutSeconds,
    MANIFEST_FORMAT,
  };
  return `# backup-common.sh for ${m.namespace}/${m.name}, rendered by redis-topologies. Sourced, not run.
${shellConstants(constants)}
: "\${POD_NAME:?POD_NAME must be set (fieldRef metadata.name)}"

${SH_LOG}
${SH_DIE}

${SH_PASSWORD}

${SH_RCLI}

${SH_RCLONE}

${SH_CHECK_RDB}

${SH_LOAD_SHARD}

${SH_PICK_SOURCE}

${SH_RETENTION}
`;
}

/** shards: one line per shard, `<index> <directory> <member host>...`. */
export function renderShardsFile(m: BackupScriptModel): string {
  return `${m.shards.map((s, i) => [i, s.path, ...s.hosts].join(' ')).join('\n')}\n`;
}

/**
 * snapshot.sh SHARD (redis image): picks the source, a replica in sync where there is one, else the
 * primary; takes an RDB with `redis-cli --rdb` (the source forks and streams; nothing is written to
 * its disk by us); checks it with redis-check-rdb; writes the manifest. Every failure exits non-zero,
 * so the Job fails and no upload happens.
 */
export function renderSnapshotSh(m: BackupScriptModel): string {
  return `#!/bin/sh
# Backup snapshot for ${m.namespace}/${m.name}, rendered by redis-topologies.
set -eu
. ${BACKUP_SCRIPTS_DIR}/backup-common.sh
SHARD=\${1:?usage: snapshot.sh SHARD}
load_shard "$SHARD"
ID=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$WORK"
rm -f "$WORK/dump.rdb" "$WORK/manifest.json" "$WORK/check.txt"

# 1. The primary among the shard's members, and a replica of it in sync to read from.
pick_source "$SHARD_PATH" $HOSTS
# 2. What the snapshot covers: the whole dataset, a cluster shard's slots, or a twemproxy shard.
primary_id=""; source_id=""; identity="all"
case "$KIND" in
  cluster)
    nodes=$(rcli "$primary" "$REDIS_PORT" CLUSTER NODES | tr -d '\\r')
    primary_id=$(printf '%s\\n' "$nodes" | awk '$3 ~ /myself/ { print $1 }')
    slots=$(printf '%s\\n' "$nodes" | awk '$3 ~ /myself/ { s = ""; for (k = 9; k <= NF; k++) if ($k !~ /^\\[/) s = s (s == "" ? "" : ",") $k; print s }')
    [ -n "$slots" ] || die "primary $primary ($primary_id) owns no slot: nothing to back up for shard $SHARD_PATH"
    if printf '%s\\n' "$nodes" | awk '$3 ~ /myself/' | grep -q '\\['; then
      die "a slot of $primary is migrating or importing: a snapshot now could miss keys in flight; retry after the move"
    fi
    source_id=$(rcli "$source" "$REDIS_PORT" CLUSTER MYID | tr -d '\\r')
    identity="slots:$slots" ;;
  standalone) identity="ring:$SHARD_PATH" ;;
esac

# 3. The snapshot: the source forks and streams an RDB (the same as a replica's full sync).
tls_args=""
if [ "$TLS" = 1 ]; then tls_args="--tls --cacert $TLS_DIR/ca.crt"; fi
# shellcheck disable=SC2086
if ! REDISCLI_AUTH="$(password)" timeout "$SNAPSHOT_TIMEOUT" redis-cli --no-auth-warning $tls_args -h "$source" -p "$REDIS_PORT" --rdb "$WORK/dump.rdb" > "$WORK/rdb.log" 2>&1; then
  die "redis-cli --rdb from $source failed or took over \${SNAPSHOT_TIMEOUT}s: $(tail -n 3 "$WORK/rdb.log" | tr '\\n' ' ')"
fi

# 4. Verified before anything is uploaded.
if ! why=$(check_rdb "$WORK/dump.rdb" "$WORK/check.txt"); then
  die "redis-check-rdb refused the snapshot from $source: $why"
fi
keys=$(sed -n 's/^\\[info\\] \\([0-9]*\\) keys read$/\\1/p' "$WORK/check.txt")
expires=$(sed -n 's/^\\[info\\] \\([0-9]*\\) expires$/\\1/p' "$WORK/check.txt")
version=$(sed -n "s/.*AUX FIELD redis-ver = '\\([0-9.]*\\)'.*/\\1/p" "$WORK/check.txt" | head -n 1)
rdb_version=$(head -c 9 "$WORK/dump.rdb" | tail -c 4)
sha=$(sha256sum "$WORK/dump.rdb" | cut -d ' ' -f 1)
bytes=$(wc -c < "$WORK/dump.rdb" | tr -d ' ')

# 5. The manifest: one "key": value per line, so a shell can read it back.
cat > "$WORK/manifest.json.tmp" <<EOF
{
  "format": $MANIFEST_FORMAT,
  "backupId": "$ID",
  "completedAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "topologyKind": "$KIND",
  "namespace": "$NAMESPACE",
  "name": "$NAME",
  "shard": "$SHARD_PATH",
  "identity": "$identity",
  "primaryHost": "$primary",
  "primaryNodeId": "$primary_id",
  "sourceHost": "$source",
  "sourceNodeId": "$source_id",
  "replicationLagBytes": $lag,
  "file": "dump.rdb",
  "sha256": "$sha",
  "bytes": $bytes,
  "keys": \${keys:-0},
  "expires": \${expires:-0},
  "redisVersion": "$version",
  "rdbVersion": "$rdb_version"
}
EOF
mv "$WORK/manifest.json.tmp" "$WORK/manifest.json"
printf '%s %s\\n' "$ID" "$SHARD_PATH" > "$WORK/backup"
log "snapshot $ID of $SHARD_PATH ($identity): $bytes bytes, \${keys:-0} keys, Redis $version, sha256 $sha"
`;
}

/**
 * upload.sh (rclone image): uploads the snapshot, proves the stored copy (cryptcheck through the
 * crypt remote, else a byte comparison), then the manifest, then applies retention.
 */
export function renderUploadSh(m: BackupScriptModel): string {
  return `#!/bin/sh
# Backup upload and retention for ${m.namespace}/${m.name}, rendered by redis-topologies.
set -eu
. ${BACKUP_SCRIPTS_DIR}/backup-common.sh
[ -s "$WORK/backup" ] && [ -s "$WORK/manifest.json" ] || die "no verified snapshot to upload"
read -r ID SHARD_PATH < "$WORK/backup"
rclone_setup
DEST="$ROOT/$SHARD_PATH/$ID"
mkdir -p "$WORK/upload"
mv "$WORK/dump.rdb" "$WORK/upload/dump.rdb"

rclone copyto --retries 3 "$WORK/upload/dump.rdb" "$DEST/dump.rdb" || die "upload of $DEST/dump.rdb failed"
if [ "$CRYPT" = 1 ]; then
  # Encrypted objects: cryptcheck compares the stored ciphertext's hash with the local file encrypted again.
  rclone cryptcheck --one-way "$WORK/upload" "$DEST" || die "cryptcheck of $DEST/dump.rdb failed: the stored object differs from the snapshot"
else
  rclone check --one-way --download "$WORK/upload" "$DEST" || die "check of $DEST/dump.rdb failed: the stored object differs from the snapshot"
fi
rclone copyto --retries 3 "$WORK/manifest.json" "$DEST/manifest.json" || die "upload of $DEST/manifest.json failed"
log "backup $ID stored at $DEST"

apply_retention "$SHARD_PATH" "$ID"
`;
}

/** The backup ConfigMap's files. */
export function renderBackupScripts(m: BackupScriptModel): Record<string, string> {
  return {
    'backup-common.sh': renderBackupCommonSh(m),
    shards: renderShardsFile(m),
    'snapshot.sh': m.engine === 'kvrocks' ? renderKvrocksSnapshotSh(m) : renderSnapshotSh(m),
    'upload.sh': m.engine === 'kvrocks' ? renderKvrocksUploadSh(m) : renderUploadSh(m),
  };
}

export function restoreConstants(m: RestoreScriptModel): string {
  return shellConstants({
    NAMESPACE: m.namespace,
    NAME: m.name,
    DATA_DIR: PATHS.data,
    RUN_DIR: PATHS.run,
    CONFIG_DIR: PATHS.config,
    STAGE: RESTORE_STAGE_DIR,
    ROOT: m.root,
    CRYPT: m.crypt ? 1 : 0,
    CRYPT_KEY_DIR,
    SELECTION: m.selection,
    PERSISTENCE: m.persistence,
    BOOT_TIMEOUT: m.bootTimeoutSeconds,
  });
}

/**
 * restore-fetch.sh (rclone image, an init container of the data pods): on member 0 of an empty
 * member only, finds the selected complete backup whose identity is `RESTORE_IDENTITY` (the whole
 * dataset; a cluster shard's slot range; a twemproxy shard) and stages it on the data volume. The
 * member's entrypoint checks and loads it (restore-load.sh) only if this boot is the topology's
 * first: a member that joins a running primary discards it.
 */
export function renderRestoreFetchSh(m: RestoreScriptModel): string {
  return `#!/bin/sh
# Restore download for ${m.namespace}/${m.name}, rendered by redis-topologies.
set -eu
${restoreConstants(m)}
: "\${POD_NAME:?POD_NAME must be set (fieldRef metadata.name)}"
: "\${RESTORE_IDENTITY:?RESTORE_IDENTITY must be set}"
${SH_LOG}
${SH_DIE}
${SH_RCLONE}
${SH_MANIFEST_FIELD}

if [ "\${POD_NAME##*-}" != 0 ]; then log "restore: only member 0 loads a backup; the others sync from it"; exit 0; fi
if ${m.engine === 'kvrocks' ? '[ -e "$DATA_DIR/db/CURRENT" ]' : '[ -e "$DATA_DIR/appendonlydir" ] || [ -e "$DATA_DIR/dump.rdb" ] || [ -s "$DATA_DIR/nodes.conf" ]'}; then
  log "restore: this member has data already; a restore acts only on a new, empty topology"
  exit 0
fi
rclone_setup
rm -rf "$STAGE/incoming"
mkdir -p "$STAGE/incoming"
# One recursive listing: "<shard>/<id>/manifest.json" marks each complete backup.
listing=$(rclone lsf -R --files-only "$ROOT" 2>"$STAGE/list.err") || die "restore: cannot list $ROOT: $(tail -n 2 "$STAGE/list.err" | tr '\\n' ' ')"
found=""; seen=""
for dir in $(printf '%s\\n' "$listing" | sed -n 's#^\\([^/]*\\)/[0-9]\\{8\\}T[0-9]\\{6\\}Z/manifest\\.json$#\\1#p' | sort -u); do
  pick=""
  for id in $(printf '%s\\n' "$listing" | sed -n "s#^$dir/\\([0-9]\\{8\\}T[0-9]\\{6\\}Z\\)/manifest\\.json\\$#\\1#p" | sort); do
    if [ "$SELECTION" = latest ] || [ ! "$id" \\> "$SELECTION" ]; then pick=$id; fi
  done
  [ -n "$pick" ] || continue
  rclone copyto "$ROOT/$dir/$pick/manifest.json" "$STAGE/incoming/manifest.json" 2>"$STAGE/fetch.err" \\
    || die "restore: cannot read $ROOT/$dir/$pick/manifest.json: $(tail -n 2 "$STAGE/fetch.err" | tr '\\n' ' ')"
  identity=$(manifest_field "$STAGE/incoming/manifest.json" identity)
  seen="$seen $dir/$pick=$identity"
  if [ "$identity" = "$RESTORE_IDENTITY" ]; then found="$dir/$pick"; break; fi
done
if [ -z "$found" ]; then
  hint=""
  if printf '%s\\n' "$listing" | grep -q 'manifest\\.json\\.bin$'; then hint=" (the stored objects end in .bin: these backups are encrypted client-side; restore with their clientSideEncryption key)"; fi
  die "restore: no complete backup of $RESTORE_IDENTITY (selection: $SELECTION) under $ROOT; found:\${seen:- nothing}$hint. A cluster restores into the same shard layout it was backed up from."
fi
${m.engine === 'kvrocks'
    // The checkpoint directory and the list of its files' checksums the backup wrote.
    ? `fetch() { rclone "$@" 2>"$STAGE/fetch.err"; }
if ! fetch copy "$ROOT/$found/checkpoint" "$STAGE/incoming/checkpoint" || ! fetch copyto "$ROOT/$found/files.sha256" "$STAGE/incoming/files.sha256"; then`
    : `fetch() { rclone "$@" 2>"$STAGE/fetch.err"; }
if ! fetch copyto "$ROOT/$found/dump.rdb" "$STAGE/incoming/dump.rdb"; then`}
  if grep -qi 'decrypt\\|authenticate' "$STAGE/fetch.err"; then die "restore: cannot decrypt $found: the client-side encryption key is not the one the backup was made with"; fi
  die "restore: download of $ROOT/$found failed: $(tail -n 2 "$STAGE/fetch.err" | tr '\\n' ' ')"
fi
log "restore: staged $found ($(du -sk "$STAGE/incoming" | cut -f 1) KiB); the entrypoint checks and loads it"
`;
}

/**
 * restore-load.sh (redis image), run by a member's entrypoint on the topology's first boot before
 * the server starts: checks the staged backup (sha256 against the manifest, redis-check-rdb, the
 * Redis version that wrote it), then loads it. With AOF persistence the RDB is loaded by a private
 * server (unix socket only, AOF off), which then turns AOF on (`CONFIG SET appendonly yes` rewrites
 * the dataset into appendonlydir) and shuts down, so the real server starts from an AOF holding the
 * data instead of an empty one that would hide dump.rdb. Nothing is moved into the data directory
 * unless every check passed.
 */
export function renderRestoreLoadSh(m: RestoreScriptModel): string {
  return `#!/bin/sh
# Restore load for ${m.namespace}/${m.name}, rendered by redis-topologies.
set -eu
${restoreConstants(m)}
${SH_LOG}
${SH_DIE}
${SH_MANIFEST_FIELD}
${SH_CHECK_RDB}
IN="$STAGE/incoming"
[ -s "$IN/manifest.json" ] && [ -e "$IN/dump.rdb" ] || { log "restore: nothing staged"; exit 0; }
id=$(manifest_field "$IN/manifest.json" backupId)

want=$(manifest_field "$IN/manifest.json" sha256)
got=$(sha256sum "$IN/dump.rdb" | cut -d ' ' -f 1)
[ "$got" = "$want" ] || die "restore of $id refused: checksum mismatch (manifest sha256 $want, downloaded file $got); the backup is damaged or was altered; nothing was loaded"
why=$(check_rdb "$IN/dump.rdb" "$IN/check.txt") || die "restore of $id refused: redis-check-rdb: $why; nothing was loaded"
source_version=$(manifest_field "$IN/manifest.json" redisVersion)
target_version=$(redis-server --version | sed -n 's/.* v=\\([0-9.]*\\) .*/\\1/p')
${SH_OLDER}
if older "$target_version" "$source_version"; then
  die "restore of $id refused: it was written by Redis $source_version and this image runs Redis $target_version; RDB files are not readable by older versions. Use an image of Redis $source_version or newer"
fi
keys=$(manifest_field "$IN/manifest.json" keys)

mv "$IN/dump.rdb" "$DATA_DIR/dump.rdb"
if [ "$PERSISTENCE" = aof ]; then
  conf="$RUN_DIR/restore.conf"; sock="$RUN_DIR/restore.sock"
  umask 077
  {
    printf 'include %s/redis.conf\\n' "$CONFIG_DIR"
    # Private: no TCP listener, a socket only this user can open; AOF off so dump.rdb is what loads.
    printf 'port 0\\ntls-port 0\\ncluster-enabled no\\nunixsocket %s\\nunixsocketperm 700\\n' "$sock"
    printf 'dir %s\\ndbfilename dump.rdb\\nappendonly no\\nsave ""\\n' "$DATA_DIR"
  } > "$conf"
  redis-server "$conf" > "$RUN_DIR/restore.log" 2>&1 &
  pid=$!
  local_cli() { redis-cli -s "$sock" "$@" 2>/dev/null | tr -d '\\r'; }
  stat() { local_cli INFO persistence | sed -n "s/^$1://p"; }
  waited=0
  until [ "$(local_cli PING)" = PONG ] && [ "$(stat loading)" = 0 ]; do
    kill -0 "$pid" 2>/dev/null || die "restore of $id: the server loading it exited: $(tail -n 3 "$RUN_DIR/restore.log" | tr '\\n' ' ')"
    [ "$waited" -lt "$BOOT_TIMEOUT" ] || { kill "$pid"; die "restore of $id: not loaded after \${BOOT_TIMEOUT}s"; }
    sleep 1; waited=$((waited + 1))
  done
  loaded=$(local_cli DBSIZE)
  [ "$(local_cli CONFIG SET appendonly yes)" = OK ] || { kill "$pid"; die "restore of $id: CONFIG SET appendonly yes failed"; }
  until [ "$(stat aof_enabled)" = 1 ] && [ "$(stat aof_rewrite_in_progress)" = 0 ] && [ "$(stat aof_rewrite_scheduled)" = 0 ]; do
    [ "$waited" -lt "$BOOT_TIMEOUT" ] || { kill "$pid"; die "restore of $id: the AOF rewrite did not finish in \${BOOT_TIMEOUT}s"; }
    sleep 1; waited=$((waited + 1))
  done
  [ "$(stat aof_last_bgrewrite_status)" = ok ] || { kill "$pid"; die "restore of $id: the AOF rewrite failed: $(tail -n 3 "$RUN_DIR/restore.log" | tr '\\n' ' ')"; }
  local_cli SHUTDOWN >/dev/null || true
  wait "$pid" || true
  rm -f "$DATA_DIR/dump.rdb" "$conf"
  log "restore: backup $id loaded, $loaded keys (the manifest counted $keys, expired ones included), written to the AOF"
else
  log "restore: backup $id in place as dump.rdb ($keys keys counted by the manifest)"
fi
printf '%s\\n' "$id" > "$STAGE/restored"
rm -rf "$IN"
`;
}

/** The restore scripts a topology's scripts ConfigMap carries when it is created with restoreFrom. */
export function renderRestoreScripts(m: RestoreScriptModel): Record<string, string> {
  return { 'restore-fetch.sh': renderRestoreFetchSh(m), 'restore-load.sh': m.engine === 'kvrocks' ? renderKvrocksRestoreLoadSh(m) : renderRestoreLoadSh(m) };
}

/** The line an entrypoint runs at a first boot to check and load a staged backup (before it serves). */
export const RESTORE_LOAD_LINE = `sh "$SCRIPTS_DIR/restore-load.sh"`;
/** The line an entrypoint runs when this boot is not a first boot: a staged backup is not used. */
export const RESTORE_DISCARD_LINE = `if [ -d ${shellQuote(RESTORE_STAGE_DIR)}/incoming ]; then log "a staged restore is not used: this member joins a running topology"; rm -rf ${shellQuote(RESTORE_STAGE_DIR)}/incoming; fi`;

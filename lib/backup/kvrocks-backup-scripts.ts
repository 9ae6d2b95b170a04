/**
 * The backup and restore scripts of a Kvrocks topology (FlashTierRedis), rendered by pure
 * functions beside the Redis ones in backup-scripts.ts, with the same layout in the store, the same
 * manifest (plus the engine's fields), the same retention and the same restore selection.
 *
 * Kvrocks's BGSAVE writes a RocksDB checkpoint into `backup-dir` (`<dir>/backup`) on the member's
 * own volume: hard links to the immutable SST files plus the flushed memtables, written to
 * `backup.tmp` and renamed when complete (Storage::CreateBackup). So the backup Job of a member runs
 * beside it (same node) and reads that directory from the member's claim, read-only. There is one
 * CronJob per member: at each run, every Job picks the same source (a replica in sync, else the
 * primary) and only the Job beside it takes the checkpoint; the others end successfully with
 * nothing to do. A restore puts the checkpoint's files in place as `<dir>/db` before Kvrocks starts.
 */
import { BACKUP_SCRIPTS_DIR, BackupScriptModel, RestoreScriptModel, SH_DIE, SH_MANIFEST_FIELD, SH_OLDER, restoreConstants } from './backup-scripts';
import { SH_LOG } from '../redis/shell';

/** Where Kvrocks's BGSAVE leaves its checkpoint, relative to the data directory (backup-dir's default). */
export const KVROCKS_CHECKPOINT_DIR = 'backup';

/**
 * snapshot.sh SHARD MEMBER (Kvrocks image: sh, redis-cli, busybox): if this Job's member is the
 * source of this run, BGSAVE on it, wait for the checkpoint, check its structure (CURRENT names a
 * MANIFEST that is there), hash every file, and write the manifest. Every failure exits non-zero.
 */
export function renderKvrocksSnapshotSh(m: BackupScriptModel): string {
  return `#!/bin/sh
# Backup checkpoint for ${m.namespace}/${m.name} (Kvrocks), rendered by redis-topologies.
set -eu
. ${BACKUP_SCRIPTS_DIR}/backup-common.sh
SHARD=\${1:?usage: snapshot.sh SHARD MEMBER}
MEMBER=\${2:?usage: snapshot.sh SHARD MEMBER}
load_shard "$SHARD"
SELF=$(printf '%s\\n' "$HOSTS" | awk -v m="$MEMBER" '{ print $(m + 1) }')
[ -n "$SELF" ] || die "member $MEMBER is not in shard $SHARD_PATH ($HOSTS)"
CKPT="$DATA_DIR/${KVROCKS_CHECKPOINT_DIR}"
ID=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$WORK"
rm -f "$WORK/backup" "$WORK/manifest.json" "$WORK/files.sha256" "$WORK/skip"

# 1. The source: every member's Job picks the same one; only the Job beside it goes on.
pick_source "$SHARD_PATH" $HOSTS
if [ "$source" != "$SELF" ]; then
  log "this run's checkpoint is taken by the Job beside $source; nothing to do beside $SELF"
  printf '%s\\n' "$source" > "$WORK/skip"
  exit 0
fi

# 2. BGSAVE: Kvrocks writes a RocksDB checkpoint to backup-dir (no fork, hard links to SST files).
persist() { rcli "$SELF" "$REDIS_PORT" INFO persistence | tr -d '\\r' | sed -n "s/^$1://p"; }
t0=$(date +%s)
waited=0
until out=$(rcli "$SELF" "$REDIS_PORT" BGSAVE | tr -d '\\r') && [ "$out" = OK ]; do
  [ "$waited" -lt "$SNAPSHOT_TIMEOUT" ] || die "BGSAVE on $SELF refused for \${SNAPSHOT_TIMEOUT}s: $out"
  log "BGSAVE on $SELF: $out; retrying"
  sleep 2; waited=$((waited + 2))
done
until [ "$(persist bgsave_in_progress)" = 0 ] && [ "$(persist last_bgsave_time)" -ge "$t0" ] 2>/dev/null; do
  [ "$waited" -lt "$SNAPSHOT_TIMEOUT" ] || die "the checkpoint on $SELF was not done after \${SNAPSHOT_TIMEOUT}s"
  sleep 1; waited=$((waited + 1))
done
status=$(persist last_bgsave_status)
[ "$status" = ok ] || die "BGSAVE on $SELF failed (last_bgsave_status: $status); its log says why"
taken=$(persist last_bgsave_time)

# 3. Verified before anything is uploaded: a RocksDB directory whose CURRENT names a MANIFEST that is there.
[ -s "$CKPT/CURRENT" ] || die "no checkpoint at $CKPT after BGSAVE on $SELF (is backup-dir changed from <dir>/backup?)"
manifest_file=$(head -n 1 "$CKPT/CURRENT")
case "$manifest_file" in MANIFEST-[0-9]*) ;; *) die "the checkpoint's CURRENT does not name a MANIFEST: $manifest_file" ;; esac
[ -s "$CKPT/$manifest_file" ] || die "the checkpoint's CURRENT names $manifest_file, which is not in $CKPT"
( cd "$CKPT" && find . -type f | sed 's#^\\./##' | LC_ALL=C sort > "$WORK/files.list" )
( cd "$CKPT" && xargs sha256sum < "$WORK/files.list" ) > "$WORK/files.sha256" || die "cannot read the checkpoint in $CKPT"
[ "$(persist last_bgsave_time)" = "$taken" ] || die "another BGSAVE replaced the checkpoint while it was read; the next run retries"
files=$(wc -l < "$WORK/files.sha256" | tr -d ' ')
bytes=$( (cd "$CKPT" && xargs cat < "$WORK/files.list") | wc -c | tr -d ' ')
sha=$(sha256sum "$WORK/files.sha256" | cut -d ' ' -f 1)
version=$(rcli "$SELF" "$REDIS_PORT" INFO server | tr -d '\\r' | sed -n 's/^kvrocks_version://p')

# 4. The manifest: one "key": value per line, so a shell can read it back.
cat > "$WORK/manifest.json.tmp" <<EOF
{
  "format": $MANIFEST_FORMAT,
  "backupId": "$ID",
  "completedAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "topologyKind": "$KIND",
  "engine": "kvrocks",
  "namespace": "$NAMESPACE",
  "name": "$NAME",
  "shard": "$SHARD_PATH",
  "identity": "all",
  "primaryHost": "$primary",
  "sourceHost": "$source",
  "replicationLagSequence": $lag,
  "checkpointStartedAt": $taken,
  "file": "checkpoint/",
  "files": $files,
  "sha256": "$sha",
  "bytes": $bytes,
  "kvrocksVersion": "$version"
}
EOF
mv "$WORK/manifest.json.tmp" "$WORK/manifest.json"
printf '%s %s\\n' "$ID" "$SHARD_PATH" > "$WORK/backup"
log "checkpoint $ID of $SHARD_PATH from $SELF: $files files, $bytes bytes, Kvrocks $version, sha256 of its file list $sha"
`;
}

/**
 * upload.sh (rclone image, the member's claim mounted read-only): uploads the checkpoint's files,
 * reads every stored object back and compares its sha256 with the list the snapshot took (through
 * the crypt remote when encrypted), then the list and the manifest, then applies retention.
 */
export function renderKvrocksUploadSh(m: BackupScriptModel): string {
  return `#!/bin/sh
# Backup upload and retention for ${m.namespace}/${m.name} (Kvrocks), rendered by redis-topologies.
set -eu
. ${BACKUP_SCRIPTS_DIR}/backup-common.sh
if [ -s "$WORK/skip" ]; then log "nothing to upload: the Job beside $(cat "$WORK/skip") takes this run's checkpoint"; exit 0; fi
[ -s "$WORK/backup" ] && [ -s "$WORK/manifest.json" ] && [ -s "$WORK/files.sha256" ] || die "no verified checkpoint to upload"
read -r ID SHARD_PATH < "$WORK/backup"
rclone_setup
DEST="$ROOT/$SHARD_PATH/$ID"
CKPT="$DATA_DIR/${KVROCKS_CHECKPOINT_DIR}"
sed 's/^[0-9a-f]*  //' "$WORK/files.sha256" > "$WORK/files.list"
rclone copy --retries 3 --files-from "$WORK/files.list" "$CKPT" "$DEST/checkpoint" || die "upload of the checkpoint to $DEST/checkpoint failed"
# The stored copy, read back: every object must hash as the snapshot hashed the checkpoint.
rclone hashsum sha256 --download "$DEST/checkpoint" > "$WORK/stored.sha256" || die "cannot read back $DEST/checkpoint"
LC_ALL=C sort -k 2 "$WORK/files.sha256" > "$WORK/want.sha256"
LC_ALL=C sort -k 2 "$WORK/stored.sha256" > "$WORK/got.sha256"
if ! cmp -s "$WORK/want.sha256" "$WORK/got.sha256"; then
  die "the stored checkpoint at $DEST differs from the one taken (a newer BGSAVE during the upload?): $(diff "$WORK/want.sha256" "$WORK/got.sha256" | grep '^[-+][0-9a-f]' | head -n 3 | tr '\\n' ' ')"
fi
rclone copyto --retries 3 "$WORK/files.sha256" "$DEST/files.sha256" || die "upload of $DEST/files.sha256 failed"
rclone copyto --retries 3 "$WORK/manifest.json" "$DEST/manifest.json" || die "upload of $DEST/manifest.json failed"
log "backup $ID stored at $DEST"
apply_retention "$SHARD_PATH" "$ID"
`;
}

/**
 * restore-load.sh (Kvrocks image), run by member 0's entrypoint on the topology's first boot before
 * Kvrocks starts: checks the staged checkpoint (its file list against the manifest's sha256, every
 * file against the list, nothing missing or extra, CURRENT and its MANIFEST, the Kvrocks version
 * that wrote it), then moves it into place as the db directory. Nothing is moved unless every
 * check passed.
 */
export function renderKvrocksRestoreLoadSh(m: RestoreScriptModel): string {
  return `#!/bin/sh
# Restore load for ${m.namespace}/${m.name} (Kvrocks), rendered by redis-topologies.
set -eu
${restoreConstants(m)}
${SH_LOG}
${SH_DIE}
${SH_MANIFEST_FIELD}
IN="$STAGE/incoming"
[ -s "$IN/manifest.json" ] && [ -d "$IN/checkpoint" ] || { log "restore: nothing staged"; exit 0; }
id=$(manifest_field "$IN/manifest.json" backupId)
[ "$(manifest_field "$IN/manifest.json" engine)" = kvrocks ] || die "restore of $id refused: it is not a Kvrocks checkpoint (Kvrocks cannot load a Redis RDB); nothing was loaded"
want=$(manifest_field "$IN/manifest.json" sha256)
got=$(sha256sum "$IN/files.sha256" | cut -d ' ' -f 1)
[ "$got" = "$want" ] || die "restore of $id refused: checksum mismatch of the checkpoint's file list (manifest sha256 $want, downloaded $got); the backup is damaged or was altered; nothing was loaded"
if ! (cd "$IN/checkpoint" && sha256sum -c "$IN/files.sha256") > "$IN/check.txt" 2>&1; then
  die "restore of $id refused: checksum mismatch: $(grep -v ': OK$' "$IN/check.txt" | head -n 3 | tr '\\n' ' '); the backup is damaged or was altered; nothing was loaded"
fi
listed=$(wc -l < "$IN/files.sha256" | tr -d ' ')
present=$(cd "$IN/checkpoint" && find . -type f | wc -l | tr -d ' ')
[ "$present" = "$listed" ] || die "restore of $id refused: $present files downloaded, $listed listed; nothing was loaded"
manifest_file=$(head -n 1 "$IN/checkpoint/CURRENT" 2>/dev/null || true)
[ -n "$manifest_file" ] && [ -s "$IN/checkpoint/$manifest_file" ] || die "restore of $id refused: not a RocksDB checkpoint (CURRENT does not name a MANIFEST that is there); nothing was loaded"
source_version=$(manifest_field "$IN/manifest.json" kvrocksVersion)
target_version=$(kvrocks -v | sed -n 's/^kvrocks version \\([0-9.]*\\).*/\\1/p')
${SH_OLDER}
if [ -z "$source_version" ] || [ -z "$target_version" ]; then
  log "restore: the Kvrocks versions are not both release numbers (backup: \${source_version:-unknown}, image: $(kvrocks -v)); not compared"
elif older "$target_version" "$source_version"; then
  die "restore of $id refused: it was written by Kvrocks $source_version and this image runs Kvrocks $target_version; an older RocksDB may not read a newer one's files. Use an image of Kvrocks $source_version or newer"
fi
rm -rf "$DATA_DIR/db"
mv "$IN/checkpoint" "$DATA_DIR/db"
printf '%s\\n' "$id" > "$STAGE/restored"
rm -rf "$IN"
log "restore: backup $id in place as the db directory ($listed files)"
`;
}

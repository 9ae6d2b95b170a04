/**
 * The Kvrocks backup and restore scripts (FlashTierRedis), run under dash with Debian's real rclone
 * against a local folder as the store. No Kvrocks binary is in the registries these machines reach,
 * so `redis-cli` and `kvrocks` are stand-ins that answer as Kvrocks does (src/server/server.cc:
 * INFO replication's role, master_link_status, master_sync_in_progress, *_repl_offset; INFO
 * persistence's bgsave_in_progress, last_bgsave_time, last_bgsave_status; INFO server's
 * kvrocks_version; src/storage/storage.cc Storage::CreateBackup: BGSAVE writes a checkpoint to
 * `<backup-dir>.tmp`, then renames it to backup-dir; src/cli/main.cc: `kvrocks -v` prints
 * "kvrocks version X.Y.Z (commit ...)"). What this proves: our scripts' choice of source, the wait
 * for the checkpoint, its verification, the upload and read-back, the manifest, retention, and the
 * restore's checks and placement. What it does not: Kvrocks itself.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BackupScriptModel, renderBackupScripts, renderRestoreScripts, RestoreScriptModel } from '../../lib/backup/backup-scripts';

const HOSTS = ['cache-0.cache-headless.data.svc.cluster.local', 'cache-1.cache-headless.data.svc.cluster.local'];
const MODEL: BackupScriptModel = {
  namespace: 'data', name: 'cache', kind: 'sentinel', redisPort: 6379, tls: false, engine: 'kvrocks',
  shards: [{ path: 'main', hosts: HOSTS }], root: 'store:unused', crypt: false, keepLast: 2, maxAgeDays: 0, snapshotTimeoutSeconds: 20,
};
const RESTORE: RestoreScriptModel = {
  namespace: 'data', name: 'restored', root: 'store:unused', crypt: false, selection: 'latest', persistence: 'none', bootTimeoutSeconds: 60, engine: 'kvrocks',
};

const REDIS_CLI = `#!/bin/sh
# Stand-in redis-cli answering as Kvrocks, from the state folder of each host.
host=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-auth-warning) shift ;;
    -h) host=$2; shift 2 ;;
    -p) shift 2 ;;
    *) break ;;
  esac
done
st="$FAKE_KV/$host"
[ -d "$st" ] || { echo "Could not connect to Redis at $host:6379: Connection refused" >&2; exit 1; }
[ "$REDISCLI_AUTH" = pw ] || { echo "NOAUTH Authentication required."; exit 0; }
case "$1 \${2:-}" in
  "INFO replication") cat "$st/replication" ;;
  "INFO persistence") cat "$st/persistence" 2>/dev/null || printf 'bgsave_in_progress:0\\r\\nlast_bgsave_time:0\\r\\nlast_bgsave_status:ok\\r\\n' ;;
  "INFO server") printf '# Server\\r\\nversion:2.17.0\\r\\nkvrocks_version:2.17.0\\r\\n' ;;
  "BGSAVE "*)
    # Storage::CreateBackup: a checkpoint into <backup-dir>.tmp, renamed to backup-dir when complete.
    now=$(date +%s)
    rm -rf "$st/data/backup.tmp"; cp -r "$st/data/db" "$st/data/backup.tmp"
    rm -rf "$st/data/backup"; mv "$st/data/backup.tmp" "$st/data/backup"
    [ ! -e "$st/corrupt-next" ] || { rm -f "$st/data/backup/CURRENT"; rm "$st/corrupt-next"; }
    printf 'bgsave_in_progress:0\\r\\nlast_bgsave_time:%s\\r\\nlast_bgsave_status:ok\\r\\n' "$now" > "$st/persistence"
    echo OK ;;
  *) echo "ERR stand-in: unsupported command $*" ;;
esac
`;

/** Replication state as Kvrocks's INFO replication prints it. */
const replication = (role: 'master' | 'slave', o: { link?: string; seq?: number } = {}) => role === 'master'
  ? '# Replication\r\nrole:master\r\nconnected_slaves:1\r\nmaster_repl_offset:1200\r\n'
  : `# Replication\r\nrole:slave\r\nmaster_host:${HOSTS[0]}\r\nmaster_port:6379\r\nmaster_link_status:${o.link ?? 'up'}\r\nmaster_sync_unrecoverable_error:no\r\nmaster_sync_in_progress:0\r\nmaster_last_io_seconds_ago:0\r\nslave_repl_offset:${o.seq ?? 1190}\r\nslave_priority:100\r\nconnected_slaves:0\r\nmaster_repl_offset:${o.seq ?? 1190}\r\n`;

/** A RocksDB directory: CURRENT names the MANIFEST; tables, options and a WAL. */
const DB_FILES: Record<string, string> = {
  CURRENT: 'MANIFEST-000005\n',
  'MANIFEST-000005': 'manifest bytes \u0001\u0002',
  '000007.sst': 'sst table one '.repeat(500),
  '000009.sst': 'sst table two '.repeat(300),
  'OPTIONS-000011': '[DBOptions]\n',
  '000012.log': 'wal',
};

function scratch() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-kvrocks-backup-'));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'redis-cli'), REDIS_CLI, { mode: 0o755 });
  fs.writeFileSync(path.join(bin, 'kvrocks'), '#!/bin/sh\n[ "$1" = -v ] && echo "kvrocks version ${FAKE_KVROCKS_VERSION:-2.17.0} (commit 1a2b3c4)"\n', { mode: 0o755 });
  fs.mkdirSync(path.join(dir, 'auth'));
  fs.writeFileSync(path.join(dir, 'auth', 'password'), 'pw');
  const store = path.join(dir, 'store', 'data', 'cache');
  fs.mkdirSync(store, { recursive: true });
  HOSTS.forEach((h, i) => {
    const db = path.join(dir, 'kv', h, 'data', 'db');
    fs.mkdirSync(db, { recursive: true });
    for (const [f, text] of Object.entries(DB_FILES)) fs.writeFileSync(path.join(db, f), `${text}${f.endsWith('.sst') ? ` of ${h}` : ''}`);
    fs.writeFileSync(path.join(dir, 'kv', h, 'replication'), replication(i === 0 ? 'master' : 'slave'));
  });
  const files = renderBackupScripts(MODEL);
  const common = files['backup-common.sh']
    .replace("ROOT='store:unused'", () => `ROOT='${store}'`)
    .replace("AUTH_DIR='/etc/redis-topologies/auth'", () => `AUTH_DIR='${dir}/auth'`)
    .replace("BACKUP_DIR='/etc/redis-topologies/backup'", () => `BACKUP_DIR='${dir}/scripts'`);
  fs.mkdirSync(path.join(dir, 'scripts'));
  fs.writeFileSync(path.join(dir, 'scripts', 'backup-common.sh'), common);
  fs.writeFileSync(path.join(dir, 'scripts', 'shards'), files.shards);
  const env = { PATH: `${bin}:${process.env.PATH}`, FAKE_KV: path.join(dir, 'kv'), TMPDIR: dir, HOME: dir };
  /** One Job of member `member`'s CronJob: the snapshot container, then the upload container, sharing a work folder. */
  const job = (member: number, between?: () => void) => {
    const work = fs.mkdtempSync(path.join(dir, 'work-'));
    // The member's claim, mounted at DATA_DIR in both containers.
    const perJob = (script: string) => script
      .replace(". /etc/redis-topologies/backup/backup-common.sh", () => `. ${dir}/scripts/backup-common.sh\nDATA_DIR='${dir}/kv/${HOSTS[member]}/data'\nWORK='${work}'`);
    const run = (script: string, args: string[]) => spawnSync('/bin/sh', ['-c', perJob(script), 'sh', ...args], { encoding: 'utf8', env: { ...env, POD_NAME: `cache-backup-${member}-x` }, timeout: 60_000 });
    const snapshot = run(files['snapshot.sh'], ['0', String(member)]);
    if (snapshot.status !== 0) return { snapshot, work };
    between?.();
    const upload = run(files['upload.sh'], []);
    return { snapshot, upload, work, id: /backup ([0-9T]+Z) stored at/.exec(upload.stderr)?.[1] };
  };
  /** restore-fetch.sh then restore-load.sh on member 0 of a new topology whose data folder is `data`. */
  const restore = (data: string, extraEnv: Record<string, string> = {}) => {
    const r = renderRestoreScripts({ ...RESTORE, root: store });
    const local = (script: string) => script
      .replace("DATA_DIR='/data'", () => `DATA_DIR='${data}'`)
      .replace("STAGE='/data/restore'", () => `STAGE='${data}/restore'`);
    const opts = { encoding: 'utf8' as const, env: { ...env, ...extraEnv, POD_NAME: 'restored-0', RESTORE_IDENTITY: 'all' }, timeout: 60_000 };
    const fetch = spawnSync('/bin/sh', ['-c', local(r['restore-fetch.sh'])], opts);
    if (fetch.status !== 0) return { fetch };
    return { fetch, load: spawnSync('/bin/sh', ['-c', local(r['restore-load.sh'])], opts) };
  };
  return { dir, store, job, restore, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

const rcloneVersion = spawnSync('rclone', ['version'], { encoding: 'utf8' });
const listFiles = (d: string): string[] => fs.readdirSync(d, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile()).map((e) => path.relative(d, path.join(e.parentPath ?? (e as any).path, e.name))).sort();

describe('Kvrocks checkpoints: backup and restore scripts (dash, real rclone, Kvrocks stand-ins)', () => {
  let s: ReturnType<typeof scratch>;
  beforeAll(() => {
    if (rcloneVersion.status !== 0) throw new Error('rclone is not installed: apt-get install rclone (.ci/run does)');
    s = scratch();
  });
  afterAll(() => s?.cleanup());

  test('the Job beside the primary does nothing when a replica is in sync; its upload container ends successfully', () => {
    const r = s.job(0);
    expect(r.snapshot.status).toBe(0);
    expect(r.snapshot.stderr).toContain(`this run's checkpoint is taken by the Job beside ${HOSTS[1]}; nothing to do beside ${HOSTS[0]}`);
    expect(r.upload?.status).toBe(0);
    expect(r.upload?.stderr).toContain('nothing to upload');
    expect(fs.existsSync(path.join(s.dir, 'kv', HOSTS[0], 'data', 'backup'))).toBe(false);
    expect(listFiles(s.store)).toEqual([]);
  });

  test('the Job beside the replica: BGSAVE, the checkpoint verified and hashed, uploaded, read back, manifest last', () => {
    const r = s.job(1);
    expect({ status: r.snapshot.status, err: r.snapshot.stderr }).toMatchObject({ status: 0 });
    expect(r.snapshot.stderr).toMatch(/checkpoint \d{8}T\d{6}Z of main from cache-1\.\S+: 6 files, \d+ bytes, Kvrocks 2\.17\.0/);
    expect({ status: r.upload?.status, err: r.upload?.stderr }).toMatchObject({ status: 0 });
    const dest = path.join(s.store, 'main', r.id!);
    expect(listFiles(dest)).toEqual([...Object.keys(DB_FILES).map((f) => `checkpoint/${f}`), 'files.sha256', 'manifest.json'].sort());
    for (const f of Object.keys(DB_FILES)) {
      expect(fs.readFileSync(path.join(dest, 'checkpoint', f))).toEqual(fs.readFileSync(path.join(s.dir, 'kv', HOSTS[1], 'data', 'db', f)));
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(dest, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      format: 1, backupId: r.id, engine: 'kvrocks', topologyKind: 'sentinel', namespace: 'data', name: 'cache', shard: 'main', identity: 'all',
      primaryHost: HOSTS[0], sourceHost: HOSTS[1], replicationLagSequence: 10, file: 'checkpoint/', files: 6, kvrocksVersion: '2.17.0',
    });
    expect(manifest.bytes).toBe(listFiles(path.join(dest, 'checkpoint')).reduce((n, f) => n + fs.statSync(path.join(dest, 'checkpoint', f)).size, 0));
    expect(manifest.bytes).toBeGreaterThan(10_000);
    const list = fs.readFileSync(path.join(dest, 'files.sha256'));
    expect(manifest.sha256).toBe(require('crypto').createHash('sha256').update(list).digest('hex'));
  });

  test('no replica in sync: the primary\'s Job takes the checkpoint', () => {
    fs.writeFileSync(path.join(s.dir, 'kv', HOSTS[1], 'replication'), replication('slave', { link: 'down' }));
    try {
      expect(s.job(1).snapshot.stderr).toContain(`the Job beside ${HOSTS[0]}`);
      const r = s.job(0);
      expect(r.snapshot.stderr).toContain(`no replica of ${HOSTS[0]} is in sync: snapshot from the primary itself`);
      expect(r.upload?.status).toBe(0);
      expect(JSON.parse(fs.readFileSync(path.join(s.store, 'main', r.id!, 'manifest.json'), 'utf8')).sourceHost).toBe(HOSTS[0]);
    } finally {
      fs.writeFileSync(path.join(s.dir, 'kv', HOSTS[1], 'replication'), replication('slave'));
    }
  });

  test('a checkpoint that changes between the snapshot and the upload is not stored as a backup', () => {
    const before = listFiles(s.store).filter((f) => f.endsWith('manifest.json')).length;
    const r = s.job(1, () => fs.appendFileSync(path.join(s.dir, 'kv', HOSTS[1], 'data', 'backup', '000007.sst'), 'changed'));
    expect(r.upload?.status).toBe(1);
    expect(r.upload?.stderr).toMatch(/the stored checkpoint at \S+ differs from the one taken/);
    expect(listFiles(s.store).filter((f) => f.endsWith('manifest.json')).length).toBe(before);
  });

  test('a checkpoint without CURRENT fails the snapshot; nothing is uploaded', () => {
    fs.writeFileSync(path.join(s.dir, 'kv', HOSTS[1], 'corrupt-next'), '');
    const r = s.job(1);
    expect(r.snapshot.status).toBe(1);
    expect(r.snapshot.stderr).toContain('no checkpoint at');
    expect(r.upload).toBeUndefined();
  });

  test('retention keeps the newest 2 complete backups and deletes unfinished older ones', () => {
    // Older backups: two complete, one unfinished (no manifest).
    const newest = listFiles(s.store).filter((f) => f.endsWith('manifest.json')).map((f) => f.split('/')[1]).sort().pop()!;
    for (const [id, complete] of [['20261101T000000Z', true], ['20261102T000000Z', true], ['20261103T000000Z', false]] as const) {
      fs.cpSync(path.join(s.store, 'main', newest), path.join(s.store, 'main', id), { recursive: true });
      if (!complete) fs.rmSync(path.join(s.store, 'main', id, 'manifest.json'));
    }
    spawnSync('sleep', ['1']);
    const r = s.job(1);
    expect(r.upload?.status).toBe(0);
    const kept = fs.readdirSync(path.join(s.store, 'main')).sort();
    expect(kept).toEqual([newest, r.id].sort());
    expect(r.upload?.stderr).toContain('retention: deleting unfinished backup 20261103T000000Z');
  });

  test('restore into a new, empty member 0: every file checked, then the checkpoint is its db directory', () => {
    const data = fs.mkdtempSync(path.join(s.dir, 'restored-'));
    const r = s.restore(data);
    expect({ status: r.fetch.status, err: r.fetch.stderr }).toMatchObject({ status: 0 });
    expect({ status: r.load?.status, err: r.load?.stderr }).toMatchObject({ status: 0 });
    expect(r.load?.stderr).toMatch(/restore: backup \d{8}T\d{6}Z in place as the db directory \(6 files\)/);
    expect(listFiles(path.join(data, 'db'))).toEqual(Object.keys(DB_FILES).sort());
    expect(fs.readFileSync(path.join(data, 'db', '000007.sst'), 'utf8')).toBe(`${DB_FILES['000007.sst']} of ${HOSTS[1]}`);
    expect(fs.existsSync(path.join(data, 'restore', 'incoming'))).toBe(false);
    // A member that has data already: the download does nothing.
    const again = s.restore(data);
    expect(again.fetch.stderr).toContain('this member has data already');
  });

  test('a damaged or altered stored file, an extra file, or an older Kvrocks: refused, nothing placed', () => {
    const latest = fs.readdirSync(path.join(s.store, 'main')).sort().pop()!;
    const ckpt = path.join(s.store, 'main', latest, 'checkpoint');
    const sst = fs.readFileSync(path.join(ckpt, '000009.sst'));
    const attempt = (env: Record<string, string> = {}) => {
      const data = fs.mkdtempSync(path.join(s.dir, 'refused-'));
      const r = s.restore(data, env);
      return { status: r.load?.status, err: r.load?.stderr ?? r.fetch.stderr, placed: fs.existsSync(path.join(data, 'db')) };
    };
    fs.writeFileSync(path.join(ckpt, '000009.sst'), Buffer.concat([sst.subarray(0, 100)]));
    expect(attempt()).toMatchObject({ status: 1, placed: false, err: expect.stringMatching(/restore of \S+ refused: checksum mismatch: 000009\.sst: FAILED/) });
    fs.writeFileSync(path.join(ckpt, '000009.sst'), sst);
    fs.writeFileSync(path.join(ckpt, '000099.sst'), 'not from the checkpoint');
    expect(attempt()).toMatchObject({ status: 1, placed: false, err: expect.stringContaining('7 files downloaded, 6 listed') });
    fs.rmSync(path.join(ckpt, '000099.sst'));
    expect(attempt({ FAKE_KVROCKS_VERSION: '2.16.1' })).toMatchObject({
      status: 1, placed: false, err: expect.stringContaining('written by Kvrocks 2.17.0 and this image runs Kvrocks 2.16.1'),
    });
    expect(attempt()).toMatchObject({ status: 0, placed: true });
  });
});

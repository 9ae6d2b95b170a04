import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  BACKUP_ID_PATTERN, BackupScriptModel, renderBackupScripts, renderRestoreFetchSh, renderRestoreLoadSh, renderRestoreScripts, renderShardsFile,
  RESTORE_DISCARD_LINE, RESTORE_LOAD_LINE, RestoreScriptModel,
} from '../../lib/backup/backup-scripts';
import { escapeTemplateLiteral } from '../../lib/core/escaping';
import { checkTemplate, declarationsOf, renderLiteral } from '../terraform/template';

/** The backup and restore renderers alone: pure functions, no synth. */

const hosts = (sts: string, n: number) => Array.from({ length: n }, (_, i) => `${sts}-${i}.kv-headless.data.svc.cluster.local`);

const SENTINEL: BackupScriptModel = {
  namespace: 'data', name: 'cache', kind: 'sentinel', redisPort: 6379, tls: false,
  shards: [{ path: 'main', hosts: ['cache-0.cache-headless.data.svc.cluster.local', 'cache-1.cache-headless.data.svc.cluster.local'] }],
  root: 'store:redis-backups/prod/data/cache', crypt: false, keepLast: 30, maxAgeDays: 0, snapshotTimeoutSeconds: 3600,
};
const CLUSTER: BackupScriptModel = {
  namespace: 'data', name: 'kv', kind: 'cluster', redisPort: 6379, tls: true,
  shards: [0, 1, 2].map((s) => ({ path: `shard-${s}`, hosts: hosts(`kv-shard-${s}`, 2) })),
  root: 'secure:data/kv', crypt: true, keepLast: 7, maxAgeDays: 14, snapshotTimeoutSeconds: 7200,
};
const STANDALONE: BackupScriptModel = {
  ...CLUSTER, name: 'tw', kind: 'standalone', tls: false, crypt: false, root: 'store:b/data/tw',
  shards: [0, 1].map((s) => ({ path: `shard-${s}`, hosts: hosts(`tw-shard-${s}`, 1) })),
};
const BACKUP_MODELS: Array<[string, BackupScriptModel]> = [['sentinel', SENTINEL], ['cluster, TLS, crypt', CLUSTER], ['standalone', STANDALONE]];

const restoreModel = (over: Partial<RestoreScriptModel> = {}): RestoreScriptModel => ({
  namespace: 'data', name: 'kv', root: 'store:redis-backups/old/kv', crypt: false, selection: 'latest', persistence: 'aof', bootTimeoutSeconds: 600, ...over,
});
const RESTORE_MODELS: Array<[string, RestoreScriptModel]> = [
  ['latest, AOF', restoreModel()],
  ['backup id, RDB, crypt', restoreModel({ selection: '20261201T080000Z', persistence: 'rdb', crypt: true, root: 'secure:old/kv' })],
  ['latest, no persistence', restoreModel({ persistence: 'none' })],
];

/** Every rendered shell script, named. */
function everyScript(): Array<[string, string]> {
  return [
    ...BACKUP_MODELS.flatMap(([what, m]) => Object.entries(renderBackupScripts(m)).filter(([k]) => k.endsWith('.sh')).map(([k, v]): [string, string] => [`${what}: ${k}`, v])),
    ...RESTORE_MODELS.flatMap(([what, m]): Array<[string, string]> => [[`${what}: restore-fetch.sh`, renderRestoreFetchSh(m)], [`${what}: restore-load.sh`, renderRestoreLoadSh(m)]]),
  ];
}

function shParse(script: string) {
  const r = spawnSync('/bin/sh', ['-n'], { input: script, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

describe('the renderers produce POSIX sh', () => {
  test('/bin/sh is dash here: the parse check is not bash being lenient', () => {
    expect(fs.realpathSync('/bin/sh')).toMatch(/dash$/);
  });

  test.each(everyScript())('%s parses with sh -n, and has no control characters but newlines', (_name, script) => {
    expect(shParse(script)).toEqual({ status: 0, stderr: '' });
    expect(script.match(/[\u0000-\u0009\u000b-\u001f\u007f]/g) ?? []).toEqual([]);
    expect(script.startsWith('#!/bin/sh\n') || script.startsWith('# backup-common.sh')).toBe(true);
    // Every script stops at the first failure; a failed step fails the Job or the pod.
    if (script.startsWith('#!/bin/sh')) expect(script).toContain('\nset -eu\n');
  });

  test('the parse check catches a broken script', () => {
    expect(shParse(`${renderRestoreLoadSh(restoreModel())}\nif then fi\n`).status).not.toBe(0);
  });

  test('the lines the entrypoints splice in parse', () => {
    expect(shParse(`SCRIPTS_DIR=/x\nlog() { :; }\nif true; then ${RESTORE_LOAD_LINE}; else ${RESTORE_DISCARD_LINE}; fi\n`)).toEqual({ status: 0, stderr: '' });
    expect(RESTORE_DISCARD_LINE).toContain("'/data/restore'/incoming");
  });
});

describe('Terraform escaping of the rendered text', () => {
  const none = declarationsOf({});
  test.each(everyScript())('%s: escaped once, Terraform reads back exactly the text, and evaluates nothing', (_name, script) => {
    const escaped = escapeTemplateLiteral(script);
    expect(checkTemplate(escaped, none)).toEqual([]);
    expect(renderLiteral(escaped)).toBe(script);
  });

  test('the scripts do use ${...}: unescaped, Terraform would read shell expansions as its own', () => {
    const withExpansions = everyScript().filter(([, s]) => s.includes('${'));
    expect(withExpansions.length).toBeGreaterThanOrEqual(6);
    for (const [, s] of withExpansions) expect(checkTemplate(s, none).length).toBeGreaterThan(0);
  });

  test('a shards file and the constants hold no template sequences', () => {
    for (const [, m] of BACKUP_MODELS) expect(checkTemplate(renderShardsFile(m), none)).toEqual([]);
  });
});

describe('what the renderers write', () => {
  test('backup-common.sh: the model as shell constants, sourced by both containers', () => {
    const common = renderBackupScripts(CLUSTER)['backup-common.sh'];
    expect(common).toContain([
      "ENGINE='redis'", "NAMESPACE='data'", "NAME='kv'", "KIND='cluster'", 'REDIS_PORT=6379', 'TLS=1',
      "DATA_DIR='/data'", "AUTH_DIR='/etc/redis-topologies/auth'", "TLS_DIR='/etc/redis-topologies/tls'", "BACKUP_DIR='/etc/redis-topologies/backup'", "WORK='/backup'",
      "ROOT='secure:data/kv'", 'CRYPT=1', "CRYPT_KEY_DIR='/etc/redis-topologies/backup-crypt'", 'KEEP_LAST=7', 'MAX_AGE_DAYS=14', 'SNAPSHOT_TIMEOUT=7200', 'MANIFEST_FORMAT=1',
    ].join('\n'));
    expect(renderBackupScripts(SENTINEL)['backup-common.sh']).toContain("ROOT='store:redis-backups/prod/data/cache'\nCRYPT=0\nCRYPT_KEY_DIR='/etc/redis-topologies/backup-crypt'\nKEEP_LAST=30\nMAX_AGE_DAYS=0\n");
    for (const s of ['snapshot.sh', 'upload.sh']) expect(renderBackupScripts(CLUSTER)[s]).toContain('\n. /etc/redis-topologies/backup/backup-common.sh\n');
  });

  test('shards: one line per shard, index, directory, member hosts', () => {
    expect(renderShardsFile(CLUSTER)).toBe(CLUSTER.shards.map((s, i) => `${i} shard-${i} ${s.hosts.join(' ')}`).join('\n') + '\n');
    expect(renderBackupScripts(SENTINEL).shards).toBe('0 main cache-0.cache-headless.data.svc.cluster.local cache-1.cache-headless.data.svc.cluster.local\n');
  });

  test('snapshot.sh: verified with redis-check-rdb before the manifest; the manifest before the hand-over file', () => {
    const s = renderBackupScripts(SENTINEL)['snapshot.sh'];
    const at = (needle: string) => {
      const i = s.indexOf(needle);
      expect({ needle, found: i >= 0 }).toEqual({ needle, found: true });
      return i;
    };
    expect(at('--rdb "$WORK/dump.rdb"')).toBeLessThan(at('check_rdb "$WORK/dump.rdb"'));
    expect(at('check_rdb "$WORK/dump.rdb"')).toBeLessThan(at('cat > "$WORK/manifest.json.tmp"'));
    expect(at('mv "$WORK/manifest.json.tmp" "$WORK/manifest.json"')).toBeLessThan(at('> "$WORK/backup"'));
    // The password reaches redis-cli through the environment, never its command line.
    expect(s).toContain('REDISCLI_AUTH="$(password)"');
    expect(s).not.toMatch(/redis-cli[^\n]* -a /);
  });

  test('upload.sh: data, proof of the stored copy, manifest, then retention', () => {
    const u = renderBackupScripts(CLUSTER)['upload.sh'];
    const order = ['copyto --retries 3 "$WORK/upload/dump.rdb"', 'rclone cryptcheck --one-way', 'rclone check --one-way --download', 'copyto --retries 3 "$WORK/manifest.json"', 'apply_retention "$SHARD_PATH" "$ID"'];
    // Retention, shared with the Kvrocks upload, is defined once in backup-common.sh.
    const common = renderBackupScripts(SENTINEL)['backup-common.sh'];
    expect(common).toContain('\napply_retention() {\n');
    expect(common.indexOf('complete_backups "$_shard"')).toBeLessThan(common.indexOf('rclone purge "$ROOT/$_shard/$id"'));
    const positions = order.map((n) => u.indexOf(n));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(u).toContain('rclone_setup\n');
  });

  test('restore-fetch.sh: member 0 of an empty member only, the source root and the selection as constants', () => {
    const f = renderRestoreFetchSh(restoreModel({ selection: '20261201T080000Z', crypt: true, root: 'secure:old/kv' }));
    expect(f).toContain("ROOT='secure:old/kv'\nCRYPT=1\n");
    expect(f).toContain("SELECTION='20261201T080000Z'\nPERSISTENCE='aof'\nBOOT_TIMEOUT=600\n");
    expect(f).toContain(': "${RESTORE_IDENTITY:?RESTORE_IDENTITY must be set}"');
    expect(f.indexOf('"${POD_NAME##*-}" != 0')).toBeLessThan(f.indexOf('rclone_setup\n'));
    expect(renderRestoreScripts(restoreModel())).toEqual({ 'restore-fetch.sh': renderRestoreFetchSh(restoreModel()), 'restore-load.sh': renderRestoreLoadSh(restoreModel()) });
  });

  test('restore-load.sh: every check passes before anything moves into the data directory; AOF rewrites after loading', () => {
    const l = renderRestoreLoadSh(restoreModel());
    const move = l.indexOf('mv "$IN/dump.rdb" "$DATA_DIR/dump.rdb"');
    expect(move).toBeGreaterThan(0);
    for (const check of ['[ "$got" = "$want" ] || die', 'check_rdb "$IN/dump.rdb"', 'if older "$target_version" "$source_version"']) {
      expect({ check, before: l.indexOf(check) >= 0 && l.indexOf(check) < move }).toEqual({ check, before: true });
    }
    expect(l).toContain("PERSISTENCE='aof'");
    expect(l).toContain('CONFIG SET appendonly yes');
    // The private loading server listens on no TCP port.
    expect(l).toContain("port 0\\ntls-port 0\\ncluster-enabled no\\nunixsocket %s\\nunixsocketperm 700\\n");
    expect(renderRestoreLoadSh(restoreModel({ persistence: 'rdb' }))).toContain("PERSISTENCE='rdb'");
  });

  test('backup ids: the UTC timestamp format', () => {
    expect(BACKUP_ID_PATTERN.test('20261201T080000Z')).toBe(true);
    for (const bad of ['2026-12-01T08:00:00Z', '20261201T0800Z', '20261201T080000', 'latest', ' 20261201T080000Z']) expect(BACKUP_ID_PATTERN.test(bad)).toBe(false);
  });
});

// --- the shell helpers, run under dash with a stand-in rclone over a folder -----------------------

/**
 * A scratch folder with a stand-in `rclone` that serves `lsf` and `copyto` from `store/` (paths
 * under the remote `store:b` map to it), enough for the listing and selection logic.
 */
function scratch() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-backup-sh-'));
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.mkdirSync(path.join(dir, 'store'));
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'bin', 'rclone'), `#!/bin/sh
set -eu
rel() { r=\${1#"$FAKE_ROOT"}; r=\${r#/}; printf '%s' "$FAKE_STORE/$r"; }
case "$1" in
  lsf)
    shift; files=0; dirs=0; rec=0
    while [ $# -gt 1 ]; do case "$1" in -R) rec=1 ;; --files-only) files=1 ;; --dirs-only) dirs=1 ;; esac; shift; done
    d=$(rel "$1"); [ -d "$d" ] || { echo "directory not found" >&2; exit 3; }
    cd "$d"
    if [ "$dirs" = 1 ]; then for x in */; do [ -d "$x" ] && printf '%s\\n' "$x"; done; exit 0; fi
    if [ "$rec" = 1 ]; then find . -type f | sed 's#^\\./##' | sort; else ls -1p | grep -v /$ || true; fi ;;
  copyto) cp "$(rel "$2")" "$3" ;;
  obscure) cat ;;
  *) echo "stand-in rclone: unsupported $*" >&2; exit 2 ;;
esac
`, { mode: 0o755 });
  const put = (rel: string, text = '') => {
    fs.mkdirSync(path.dirname(path.join(dir, 'store', rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'store', rel), text);
  };
  const run = (script: string, env: Record<string, string>, args: string[] = []) => spawnSync('/bin/sh', ['-c', script, 'sh', ...args], {
    encoding: 'utf8',
    env: { PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, FAKE_STORE: path.join(dir, 'store'), FAKE_ROOT: 'store:b', TMPDIR: dir, HOME: dir, ...env },
    timeout: 10_000,
  });
  return { dir, put, run, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A manifest as snapshot.sh writes it: one "key": value per line. */
const manifest = (id: string, identity: string) => `{
  "format": 1,
  "backupId": "${id}",
  "identity": "${identity}",
  "sha256": "${'ab'.repeat(32)}",
  "keys": 42,
  "redisVersion": "7.2.7"
}
`;

describe('the shell helpers behave (dash, stand-in rclone)', () => {
  let s: ReturnType<typeof scratch>;
  beforeAll(() => {
    s = scratch();
    // shard-0: two complete backups, one unfinished (no manifest), a stray folder.
    s.put('shard-0/20261130T230000Z/dump.rdb');
    s.put('shard-0/20261130T230000Z/manifest.json', manifest('20261130T230000Z', 'slots:0-5460'));
    s.put('shard-0/20261201T080000Z/dump.rdb');
    s.put('shard-0/20261201T080000Z/manifest.json', manifest('20261201T080000Z', 'slots:0-5460'));
    s.put('shard-0/20261201T090000Z/dump.rdb');
    s.put('shard-0/notes/manifest.json', '{}');
    // shard-1: complete backups on both days.
    for (const id of ['20261201T080001Z', '20261202T080001Z']) {
      s.put(`shard-1/${id}/dump.rdb`, `rdb of shard-1 ${id}`);
      s.put(`shard-1/${id}/manifest.json`, manifest(id, 'slots:5461-10922'));
    }
  });
  afterAll(() => s.cleanup());

  test('complete_backups lists the ids with a manifest, oldest first; every_backup lists every backup folder', () => {
    const common = renderBackupScripts(CLUSTER)['backup-common.sh'].replace("ROOT='secure:data/kv'", "ROOT='store:b'").replace('CRYPT=1', 'CRYPT=0');
    const r = s.run(`${common}\nrclone_setup\necho "complete: $(complete_backups shard-0 | tr '\\n' ' ')"\necho "every: $(every_backup shard-0 | tr '\\n' ' ')"\nid_epoch 20261201T080000Z`, { POD_NAME: 'kv-backup-0-abcde' });
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual([
      'complete: 20261130T230000Z 20261201T080000Z ',
      'every: 20261130T230000Z 20261201T080000Z 20261201T090000Z ',
      String(Date.UTC(2026, 11, 1, 8, 0, 0) / 1000),
      '',
    ]);
    expect(s.run(`${common}\ncomplete_backups shard-9`, { POD_NAME: 'p' }).status).toBe(1);
  });

  /** restore-fetch.sh with its data folder in the scratch folder. */
  function fetch(selection: string, identity: string, podName = 'kv-shard-1-0') {
    const data = path.join(s.dir, 'data');
    fs.rmSync(data, { recursive: true, force: true });
    fs.mkdirSync(data);
    const script = renderRestoreFetchSh(restoreModel({ selection, root: 'store:b' }))
      .replace("DATA_DIR='/data'", () => `DATA_DIR='${data}'`)
      .replace("STAGE='/data/restore'", () => `STAGE='${data}/restore'`);
    const r = s.run(script, { POD_NAME: podName, RESTORE_IDENTITY: identity });
    const staged = (f: string) => (fs.existsSync(path.join(data, 'restore/incoming', f)) ? fs.readFileSync(path.join(data, 'restore/incoming', f), 'utf8') : undefined);
    return { status: r.status, stderr: r.stderr, manifest: staged('manifest.json'), rdb: staged('dump.rdb') };
  }

  test('restore-fetch.sh, latest: stages the newest complete backup of its own slot range', () => {
    const r = fetch('latest', 'slots:5461-10922');
    expect(r.status).toBe(0);
    expect(r.rdb).toBe('rdb of shard-1 20261202T080001Z');
    expect(r.manifest).toContain('"backupId": "20261202T080001Z"');
    expect(r.stderr).toContain('restore: staged shard-1/20261202T080001Z');
  });

  test('restore-fetch.sh, a backup id: the newest complete backup taken at or before it', () => {
    expect(fetch('20261201T120000Z', 'slots:5461-10922').rdb).toBe('rdb of shard-1 20261201T080001Z');
    expect(fetch('20261202T080001Z', 'slots:5461-10922').rdb).toBe('rdb of shard-1 20261202T080001Z');
    // shard-0's newest complete backup by then is 20261201T080000Z (20261201T090000Z has no manifest).
    expect(fetch('20261231T000000Z', 'slots:0-5460', 'kv-shard-0-0').manifest).toContain('"backupId": "20261201T080000Z"');
  });

  test('restore-fetch.sh: no backup of the identity fails the pod, saying what it found', () => {
    const r = fetch('latest', 'slots:0-16383');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('restore: no complete backup of slots:0-16383 (selection: latest) under store:b; found: shard-0/20261201T080000Z=slots:0-5460 shard-1/20261202T080001Z=slots:5461-10922');
    expect(r.rdb).toBeUndefined();
    const early = fetch('20261101T000000Z', 'slots:5461-10922');
    expect(early.status).toBe(1);
    expect(early.stderr).toContain('found: nothing');
  });

  test('restore-fetch.sh: members other than 0 download nothing', () => {
    const r = fetch('latest', 'slots:5461-10922', 'kv-shard-1-1');
    expect(r).toMatchObject({ status: 0, rdb: undefined, manifest: undefined });
    expect(r.stderr).toContain('only member 0 loads a backup');
  });

  test('manifest_field reads the manifest snapshot.sh writes', () => {
    const fn = renderRestoreLoadSh(restoreModel()).split('\n').find((l) => l.startsWith('manifest_field() {'))!;
    const file = path.join(s.dir, 'store/shard-1/20261202T080001Z/manifest.json');
    const r = s.run(`${fn}\nfor k in backupId identity sha256 keys redisVersion format missing; do printf '%s=%s\\n' "$k" "$(manifest_field "$1" "$k")"; done`, {}, [file]);
    expect(r.stdout).toBe(`backupId=20261202T080001Z\nidentity=slots:5461-10922\nsha256=${'ab'.repeat(32)}\nkeys=42\nredisVersion=7.2.7\nformat=1\nmissing=\n`);
  });
});

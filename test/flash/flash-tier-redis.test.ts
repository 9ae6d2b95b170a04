import { execFileSync } from 'child_process';
import { Construct } from 'constructs';
import {
  AccessClient, AccessEgress, AZURE_FLASH_OPTIMIZED, Backups, ClientSideEncryption, DataStorage, ObjectStorage, RestoreFrom, SentinelRedis, StorageCredentials, EncryptedStorageClass, FlashSizing, FlashTierRedis, FlashTierRedisProps, flashCapacityPlan,
  HaproxyPortal, KVROCKS_COLUMN_FAMILIES, renderKvrocksConf, StorageEncryption,
} from '../../lib';
import { CM, emptyStack, NP, STS, Synthed, synth } from '../helpers';
import { renderLiteral } from '../terraform/template';

const fixture = require('./fixtures/kvrocks-conf-keys.json') as { version: string; keys: Record<string, unknown> };

function storage(scope: Construct, size = '300Gi') {
  return DataStorage.encrypted(new EncryptedStorageClass(scope, 'Sc', { encryption: StorageEncryption.awsEbs({ volumeType: 'io2' }) }), size);
}

describe('capacity model: where the bytes go, over many sizes and RAM shares', () => {
  const capacities = [8, 16, 32, 64, 100, 240, 480, 720, 960, 1440, 1920, 4500, 10000, 65536];
  const ratios = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5];
  test.each(capacities.flatMap((c) => ratios.map((r) => [c, r] as const)))('%i GiB at %f', (capacityGiB, ratio) => {
    const p = flashCapacityPlan(capacityGiB, ratio);
    expect(p.ramMiB).toBe(Math.floor(capacityGiB * ratio * 1024));
    // The RAM budget is exactly the block cache, the memtables and the small families' caches.
    expect(p.blockCacheMiB + p.memtablesMiB + p.smallCachesMiB).toBe(p.ramMiB);
    expect(p.memtablesMiB).toBe(KVROCKS_COLUMN_FAMILIES.length * p.maxWriteBufferNumber * p.writeBufferMiB);
    expect(p.writeBufferMiB).toBeGreaterThanOrEqual(8);
    expect(p.writeBufferMiB).toBeLessThanOrEqual(64);
    // Memtables take at most a quarter of the budget unless the 8 MiB floor forces more.
    if (p.writeBufferMiB > 8) expect(p.memtablesMiB).toBeLessThanOrEqual(p.ramMiB * 0.25);
    expect(p.memoryLimitMiB).toBe(p.ramMiB + p.headroomMiB);
    expect(p.headroomMiB).toBe(512 + Math.ceil(p.ramMiB * 0.15));
    expect(p.minVolumeGiB).toBe(Math.ceil(capacityGiB * 1.25));
  });

  test('Azure Flash Optimized 240 GB: 48 GiB of RAM, a 46,976 MiB block cache, 2 GiB of memtables, a 57,037 MiB limit', () => {
    expect(flashCapacityPlan(240, 0.2)).toEqual({
      capacityGiB: 240, ramRatio: 0.2, ramMiB: 49152, blockCacheMiB: 46976, writeBufferMiB: 64, maxWriteBufferNumber: 4, memtablesMiB: 2048,
      smallCachesMiB: 128, headroomMiB: 7885, memoryLimitMiB: 57037, minVolumeGiB: 300,
    });
  });
});

describe('sizing presets', () => {
  test.each(Object.entries(AZURE_FLASH_OPTIMIZED).map(([gb, row]) => [Number(gb), row.vcpus, row.shards] as const))('Azure %i GB (%i vCPUs, %i shards)', (gb, vcpus) => {
    const s = FlashSizing.azure(gb);
    expect(s.capacityGiB).toBe(gb);
    expect(s.ramRatio).toBe(0.2);
    expect(s.cpuRequest).toBe(String(vcpus / 2));
    expect(s.workers).toBe(Math.max(4, Math.min(64, vcpus / 2)));
  });
  test('explicit: the capacity is rounded up to whole GiB', () => {
    expect(FlashSizing.explicit({ capacity: '500G', ramRatio: 0.3 })).toMatchObject({ capacityGiB: 466, ramRatio: 0.3, cpuRequest: '2', workers: 8 });
  });
});

describe('kvrocks.conf', () => {
  const conf = renderKvrocksConf({ namespace: 'ns', name: 'cat', port: 6379, dbName: 'cat', workers: 8, timeoutSeconds: 0, capacity: flashCapacityPlan(240), backupKeepHours: 2 });
  const lines = conf.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));

  test(`every key is one Kvrocks accepts (${fixture.version})`, () => {
    const unknown = lines.map((l) => l.split(' ')[0]).filter((k) => !(k in fixture.keys));
    expect(unknown).toEqual([]);
  });
  test('no key twice, and none the entrypoint appends (secrets, replication, announce)', () => {
    const keys = lines.map((l) => l.split(' ')[0]);
    expect(new Set(keys).size).toBe(keys.length);
    for (const k of ['requirepass', 'masterauth', 'slaveof', 'replicaof', 'replica-announce-ip']) expect(keys).not.toContain(k);
  });
  test('the split in the file: the capacity caps the database, the caches use RAM', () => {
    expect(conf).toContain('max-db-size 240\n');
    expect(conf).toContain('rocksdb.block_cache_size 46976\n');
    expect(conf).toContain('rocksdb.write_buffer_size 64\nrocksdb.max_write_buffer_number 4\n');
    expect(conf).toMatch(/# {3}49152 MiB \(20%\): block cache 46976 MiB \+ memtables 2048 MiB/);
    expect(conf).toContain('db-name cat\n');
    expect(conf).toContain('dir /data\n');
  });
});

describe('FlashTierRedis with a HaproxyPortal: SentinelRedis\'s sentinels and scripts, Kvrocks data members', () => {
  let out: Synthed;
  let flash: FlashTierRedis | undefined;
  beforeAll(() => {
    out = synth((stack) => {
      flash = new FlashTierRedis(stack, 'Catalog', { namespace: 'flash', sizing: FlashSizing.azure(240), storage: storage(stack), clients: [AccessClient.namespace('shop')] });
      new HaproxyPortal(stack, 'Portal', { backend: flash });
    });
  });
  const scripts = () => out.named(CM, 'catalog-scripts').data;
  const delivered = (text: string) => renderLiteral(text);

  test('data members run Kvrocks with the derived memory, sentinels run Redis', () => {
    const data = out.named(STS, 'catalog');
    const c = data.spec.template.spec.container[0];
    expect(c.image).toBe('apache/kvrocks:2.17.0');
    expect(c.resources).toEqual({ limits: { memory: '57037Mi' }, requests: { cpu: '4', memory: '57037Mi' } });
    expect(data.spec.template.metadata.annotations['redis-topologies.io/flash-ram']).toMatch(/^49152 MiB \(20%\): block cache 46976 MiB/);
    expect(out.named(STS, 'catalog-sentinel').spec.template.spec.container[0].image).toBe('redis:7.2.7');
    expect(Object.keys(out.named(CM, 'catalog-config').data).sort()).toEqual(['kvrocks.conf', 'sentinel-master.conf', 'sentinel.conf']);
  });

  test('the entrypoint writes a Kvrocks runtime config (no include) and execs kvrocks; data is RocksDB\'s', () => {
    const entry = delivered(scripts()['redis-entrypoint.sh']);
    expect(entry).toContain('cat "$CONFIG_DIR/kvrocks.conf"');
    expect(entry).toContain(`printf 'slaveof %s %s\\n' "$1" "$REDIS_PORT"`);
    expect(entry).toContain('exec kvrocks -c "$RUNTIME"');
    expect(entry).not.toContain('redis-server');
    const common = delivered(scripts()['common.sh']);
    expect(common).toContain('data_empty() { [ ! -e "$DATA_DIR/db/CURRENT" ]; }');
    expect(common).toContain('CONFIG GET slave-priority');
    for (const name of ['common.sh', 'redis-entrypoint.sh', 'redis-probe.sh', 'redis-prestop.sh', 'sentinel-entrypoint.sh']) {
      execFileSync('sh', ['-n'], { input: delivered(scripts()[name]) });
    }
  });

  test('no planned handover through SENTINEL FAILOVER (Kvrocks has no FAILOVER, kvrocks#2848)', () => {
    const preStop = delivered(scripts()['redis-prestop.sh']);
    expect(preStop).not.toMatch(/SENTINEL FAILOVER|CLIENT PAUSE/);
    expect(preStop).toContain('no planned handover with Kvrocks');
  });

  test('an ISentinelRedis: the portal routes to its data members, through the same policies', () => {
    expect(flash!.dataMemberHosts).toEqual(['catalog-0.catalog-headless.flash.svc.cluster.local', 'catalog-1.catalog-headless.flash.svc.cluster.local']);
    const cfg = out.named(CM, 'catalog-portal-config').data['haproxy.cfg'];
    expect(cfg).toContain('server cache-0'.replace('cache', 'catalog'));
    expect(out.list('kubernetes_network_policy_v1').map((p: any) => p.metadata.name)).toEqual(expect.arrayContaining(['catalog-default-deny', 'catalog-allow-clients', 'catalog-portal-default-deny']));
  });

  test('restricted pods: non-root uid 999 on the data members, no privilege escalation', () => {
    const spec = out.named(STS, 'catalog').spec.template.spec;
    expect(spec.security_context).toMatchObject({ run_as_non_root: true, run_as_user: '999', run_as_group: '999', fs_group: '999' });
    expect(spec.container[0].security_context).toMatchObject({ allow_privilege_escalation: false, read_only_root_filesystem: true, capabilities: { drop: ['ALL'] } });
  });
});

describe('FlashTierRedis backups: Kvrocks checkpoints, one CronJob beside each member; restoreFrom places a checkpoint', () => {
  const CRON = 'kubernetes_cron_job_v1';
  const store = () => ObjectStorage.s3({ endpoint: 'http://minio.minio.svc:9000', provider: 'Minio', bucket: 'flash-backups', credentials: StorageCredentials.fromSecret('minio') });
  const backup = () => Backups.toObjectStorage({
    storage: store(), clientSideEncryption: ClientSideEncryption.fromSecret('crypt'), egress: [AccessEgress.toNamespace('minio', [9000])], schedule: '30 2 * * *', retention: { keepLast: 7 },
  });
  let out: Synthed;
  let flash: FlashTierRedis | undefined;
  let restored: FlashTierRedis | undefined;
  beforeAll(() => {
    out = synth((stack) => {
      flash = new FlashTierRedis(stack, 'Catalog', { namespace: 'flash', sizing: FlashSizing.azure(240), storage: storage(stack), dataMembers: 3, backup: backup() });
      restored = new FlashTierRedis(stack, 'Restored', {
        namespace: 'flash', name: 'restored', sizing: FlashSizing.azure(240), storage: DataStorage.encrypted(new EncryptedStorageClass(stack, 'Sc2', { encryption: StorageEncryption.awsEbs() }), '300Gi'),
        restoreFrom: RestoreFrom.latest(flash.backupSource!), backup: Backups.disabled(),
      });
    });
  });
  const jobPod = (name: string) => out.named(CRON, name).spec.job_template.spec.template.spec;

  test('one CronJob per member, each pinned to its member\'s node and reading its claim read-only', () => {
    expect(out.list(CRON).map((c: any) => c.metadata.name).sort()).toEqual(['catalog-backup-0', 'catalog-backup-1', 'catalog-backup-2']);
    for (const i of [0, 1, 2]) {
      const cron = out.named(CRON, `catalog-backup-${i}`);
      expect(cron.spec).toMatchObject({ schedule: '30 2 * * *', concurrency_policy: 'Forbid' });
      const pod = jobPod(`catalog-backup-${i}`);
      expect(pod.affinity.pod_affinity.required_during_scheduling_ignored_during_execution).toEqual([{
        label_selector: [{ match_labels: { 'statefulset.kubernetes.io/pod-name': `catalog-${i}` } }], topology_key: 'kubernetes.io/hostname',
      }]);
      expect(pod.volume.find((v: any) => v.name === 'data')).toEqual({ name: 'data', persistent_volume_claim: { claim_name: `data-catalog-${i}`, read_only: true } });
      // The claim name is the StatefulSet's own claim of that member (Terraform manages it).
      expect(out.list('kubernetes_persistent_volume_claim_v1').map((c: any) => c.metadata.name)).toContain(`data-catalog-${i}`);
      for (const c of [pod.init_container[0], pod.container[0]]) {
        expect(c.volume_mount.find((m: any) => m.name === 'data')).toEqual({ name: 'data', mount_path: '/data', read_only: true });
      }
      expect(pod.init_container[0].image).toBe('apache/kvrocks:2.17.0');
      expect(pod.init_container[0].command).toEqual(['sh', '/etc/redis-topologies/backup/snapshot.sh', '0', String(i)]);
      expect(pod.security_context).toMatchObject({ run_as_user: '999', fs_group: '999', run_as_non_root: true });
    }
    expect(out.named(STS, 'catalog').metadata.annotations['redis-topologies.io/backups']).toContain('30 2 * * *');
    // Kvrocks keeps the checkpoint for the Job's deadline (1 h) and an hour more, then purges it.
    expect(renderLiteral(out.named(CM, 'catalog-config').data['kvrocks.conf'])).toContain('\nmax-backup-to-keep 1\nmax-backup-keep-hours 2\n');
    expect(renderLiteral(out.named(CM, 'restored-config').data['kvrocks.conf'])).toContain('\nmax-backup-keep-hours 24\n');
  });

  test('the backup ConfigMap carries the Kvrocks scripts; the source says what wrote the backups', () => {
    const files = out.named(CM, 'catalog-backup-scripts').data;
    expect(renderLiteral(files['snapshot.sh'])).toContain('BGSAVE');
    expect(renderLiteral(files['snapshot.sh'])).not.toContain('redis-check-rdb');
    expect(renderLiteral(files['upload.sh'])).toContain('rclone hashsum sha256 --download');
    expect(renderLiteral(files['backup-common.sh'])).toContain("ENGINE='kvrocks'");
    expect(flash!.backupSource).toMatchObject({ engine: 'kvrocks', namespace: 'flash', name: 'catalog' });
  });

  test('the backup pods reach the members and the store only; the members admit them', () => {
    const egress = out.named(NP, 'catalog-backup-allow-egress').spec.egress;
    expect(egress.map((e: any) => e.ports.map((p: any) => p.port))).toEqual([['6379'], ['9000']]);
    expect(egress[0].to).toEqual([{ pod_selector: { match_labels: { 'app.kubernetes.io/instance': 'catalog', 'app.kubernetes.io/part-of': 'sentinel-redis' } } }]);
    const clients = out.named(NP, 'catalog-allow-clients').spec.ingress;
    expect(JSON.stringify(clients)).toContain('redis-backup');
  });

  test('restoreFrom: member 0 downloads the checkpoint before Kvrocks starts, and the load places it as the db directory', () => {
    const sts = out.named(STS, 'restored');
    const init = sts.spec.template.spec.init_container[0];
    expect(init.command).toEqual(['sh', '/etc/redis-topologies/scripts/restore-fetch.sh']);
    const scripts = out.named(CM, 'restored-scripts').data;
    const fetch = renderLiteral(scripts['restore-fetch.sh']);
    expect(fetch).toContain('"$ROOT/$found/checkpoint"');
    expect(fetch).toContain('if [ -e "$DATA_DIR/db/CURRENT" ]; then');
    const load = renderLiteral(scripts['restore-load.sh']);
    expect(load).toContain('mv "$IN/checkpoint" "$DATA_DIR/db"');
    expect(renderLiteral(scripts['redis-entrypoint.sh'])).toContain('sh "$SCRIPTS_DIR/restore-load.sh"');
    expect(restored!.backupSource).toBeUndefined();
  });
});

describe('FlashTierRedis validation', () => {
  function messageFor(over: Record<string, unknown>): string {
    const s = emptyStack();
    try {
      new FlashTierRedis(s, 'Flash', { namespace: 'flash', sizing: FlashSizing.azure(240), storage: storage(s), ...over } as FlashTierRedisProps);
      return '';
    } catch (e) {
      return (e as Error).message;
    }
  }
  test.each<[string, Record<string, unknown>, string]>([
    ['a RAM share above half', { sizing: FlashSizing.explicit({ capacity: '100Gi', ramRatio: 0.9 }) }, 'test/Flash: invalid prop "sizing.ramRatio" = 0.9; allowed: a number from 0.05 to 0.5'],
    ['no RAM at all', { sizing: FlashSizing.explicit({ capacity: '100Gi', ramRatio: 0 }) }, 'invalid prop "sizing.ramRatio" = 0; allowed: a number from 0.05 to 0.5'],
    ['a capacity below 8Gi', { sizing: FlashSizing.explicit({ capacity: '4Gi' }) }, 'invalid prop "sizing.capacity" = "4Gi"; allowed: a storage quantity from 8Gi to 64Ti'],
    ['not a quantity', { sizing: FlashSizing.explicit({ capacity: 'lots' }) }, 'invalid prop "sizing.capacity" = "lots"'],
    ['too little RAM for the caches', { sizing: FlashSizing.explicit({ capacity: '8Gi', ramRatio: 0.05 }) }, 'leaves a 25 MiB block cache'],
    ['an unknown Azure capacity', { sizing: FlashSizing.azure(250) }, 'invalid prop "sizing.capacityGb" = 250; allowed: one of the Flash Optimized capacities in GB: 240, 480, 720, 960, 1440, 1920, 4500'],
    ['a look-alike sizing', { sizing: { capacityGiB: 240, ramRatio: 0.2 } }, 'invalid prop "sizing"'],
    ['no storage', { storage: undefined }, 'invalid prop "storage"'],
    ['TLS inside (JavaScript)', { tlsSecretName: 'tls' }, 'invalid prop "tlsSecretName" = "tls"; allowed: unset: Kvrocks cannot close its plaintext port'],
    ['ACL users (JavaScript)', { aclUsers: [{ name: 'app' }] }, 'allowed: unset: Kvrocks has no ACL users'],
    ['a look-alike backup', { backup: { enabled: true } }, 'invalid prop "backup"'],
    ['a Redis backup to restore', { restoreFrom: RestoreFrom.latest({ storage: ObjectStorage.gcs({ bucket: 'old-backups', credentials: StorageCredentials.fromSecret('gcs') }), namespace: 'redis-system', name: 'sessions', egress: [AccessEgress.toCidr('10.0.0.0/8', [443])] }) },
      'test/Flash: invalid prop "restoreFrom.source.engine" = "redis"; allowed: \'kvrocks\': a flash tier loads RocksDB checkpoints of a FlashTierRedis, not Redis RDB files'],
  ])('%s', (_what, over, expected) => {
    expect(messageFor(over)).toContain(expected);
  });
  test('the volume must hold the capacity and a quarter more', () => {
    const s = emptyStack();
    expect(() => new FlashTierRedis(s, 'Flash', { namespace: 'flash', sizing: FlashSizing.azure(240), storage: storage(s, '250Gi') }))
      .toThrow('invalid prop "storage.size" = "250Gi"; allowed: at least 300Gi');
  });
  test('a Redis topology refuses a flash tier\'s checkpoints as its restoreFrom', () => {
    const s = emptyStack();
    const source = { storage: ObjectStorage.gcs({ bucket: 'old-backups', credentials: StorageCredentials.fromSecret('gcs') }), namespace: 'flash', name: 'catalog', egress: [AccessEgress.toCidr('10.0.0.0/8', [443])], engine: 'kvrocks' as const };
    expect(() => new SentinelRedis(s, 'Redis', { namespace: 'redis', storage: DataStorage.ephemeral(), restoreFrom: RestoreFrom.latest(source) }))
      .toThrow('test/Redis: invalid prop "restoreFrom.source.engine" = "kvrocks"; allowed: \'redis\' or unset: Redis loads RDB files');
  });
  test('ephemeral storage is refused', () => {
    const s = emptyStack();
    expect(() => new FlashTierRedis(s, 'Flash', { namespace: 'flash', sizing: FlashSizing.azure(240), storage: DataStorage.ephemeral() }))
      .toThrow('Kvrocks keeps the whole dataset on the volume');
  });
});

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { IConstruct } from 'constructs';
import {
  AccessEgress, Backups, ClientSideEncryption, DataStorage, EncryptedStorageClass, ObjectStorage, rcloneEnv, RedisTopologyValidationError, RestoreFrom,
  SentinelRedis, SentinelRedisProps, ServerSideEncryption, ShardedRedisCluster, ShardedRedisClusterProps, StorageCredentials,
} from '../../lib';
import { App, TerraformStack, TerraformVariable } from '../../lib/core/cdktf';
import { renderScripts } from '../../lib/sentinel/scripts';
import { CM, emptyStack, NP, STS, synth, Synthed } from '../helpers';
import { formatFinding, scanPlan } from '../terraform/plan-check';

const CRON = 'kubernetes_cron_job_v1';
const SA = 'kubernetes_service_account_v1';
const ROLE_ARN = 'arn:aws:iam::111122223333:role/redis-backup';
const RESTORE_CLIENT_ID = '00000000-0000-0000-0000-000000000001';

/**
 * One stack for the whole file (each synth costs a few hundred ms), with one topology per case:
 * - `cache`: SentinelRedis, S3 with keys from a Secret, every backup default, no restore;
 * - `sessions`: SentinelRedis with TLS, S3 through workload identity, SSE-KMS, client-side
 *   encryption, every backup option set, the bucket and KMS key as Terraform variables, and a
 *   restore through another workload identity;
 * - `plain`: SentinelRedis with Backups.disabled(); `bare`: SentinelRedis without `backup`;
 * - `kv`: ShardedRedisCluster (3 shards) backed up to MinIO with client-side encryption and
 *   restored from a backup id.
 */
interface Built {
  cache: SentinelRedis;
  sessions: SentinelRedis;
  plain: SentinelRedis;
  bare: SentinelRedis;
  kv: ShardedRedisCluster;
}

function buildAll(stack: TerraformStack): Built {
  const bucket = new TerraformVariable(stack, 'backup_bucket', { type: 'string' }).stringValue;
  const kmsKey = new TerraformVariable(stack, 'backup_kms_key', { type: 'string' }).stringValue;
  const cache = new SentinelRedis(stack, 'Cache', {
    namespace: 'data',
    storage: DataStorage.ephemeral(),
    backup: Backups.toObjectStorage({
      storage: ObjectStorage.s3({ bucket: 'redis-backups', prefix: 'prod/redis', credentials: StorageCredentials.fromSecret('s3-keys') }),
      egress: [AccessEgress.toCidr('10.20.0.0/16', [443])],
    }),
  });
  const sessions = new SentinelRedis(stack, 'Sessions', {
    namespace: 'data',
    storage: DataStorage.ephemeral(),
    image: 'redis:7.4.1',
    memoryLimit: '2Gi',
    tlsSecretName: 'sessions-tls',
    backup: Backups.toObjectStorage({
      storage: ObjectStorage.s3({
        bucket,
        prefix: 'redis',
        region: 'eu-north-1',
        serverSideEncryption: ServerSideEncryption.kms(kmsKey),
        credentials: StorageCredentials.workloadIdentity({ serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': ROLE_ARN } }),
      }),
      egress: [AccessEgress.toCidr('0.0.0.0/0', [443]), AccessEgress.toNamespace('vault', [8200], { app: 'kms-proxy' })],
      schedule: '30 2 * * *',
      timeZone: 'Europe/Stockholm',
      retention: { keepLast: 7, maxAgeDays: 14 },
      clientSideEncryption: ClientSideEncryption.fromSecret('sessions-backup-crypt'),
      rcloneImage: 'rclone/rclone:1.69.0',
      deadlineSeconds: 7200,
      jobHistory: 5,
    }),
    restoreFrom: RestoreFrom.latest({
      storage: ObjectStorage.azureBlob({
        account: 'oldbackups',
        container: 'redis',
        prefix: 'sessions',
        credentials: StorageCredentials.workloadIdentity({
          serviceAccountAnnotations: { 'azure.workload.identity/client-id': RESTORE_CLIENT_ID },
          podLabels: { 'azure.workload.identity/use': 'true' },
        }),
      }),
      namespace: 'old',
      name: 'sessions',
      egress: [AccessEgress.toCidr('10.30.0.0/16', [443])],
    }),
  });
  const plain = new SentinelRedis(stack, 'Plain', { namespace: 'data', storage: DataStorage.ephemeral(), backup: Backups.disabled() });
  const bare = new SentinelRedis(stack, 'Bare', { namespace: 'data', storage: DataStorage.ephemeral() });

  const minio = ObjectStorage.s3({ endpoint: 'http://minio.minio.svc:9000', provider: 'Minio', bucket: 'redis-backups', credentials: StorageCredentials.fromSecret('minio-keys') });
  const minioEgress = [AccessEgress.toNamespace('minio', [9000])];
  const kv = new ShardedRedisCluster(stack, 'Kv', {
    namespace: 'data',
    storage: DataStorage.encrypted(EncryptedStorageClass.fromExisting(stack, 'Sc', { storageClassName: 'enc', vouchedBy: 'test' }), '5Gi'),
    shards: 3,
    backup: Backups.toObjectStorage({ storage: minio, egress: minioEgress, clientSideEncryption: ClientSideEncryption.fromSecret('kv-crypt') }),
    restoreFrom: RestoreFrom.backup('20261201T080000Z', {
      storage: minio, namespace: 'old', name: 'kv', egress: minioEgress, clientSideEncryption: ClientSideEncryption.fromSecret('kv-crypt'),
    }),
  });
  return { cache, sessions, plain, bare, kv };
}

let out: Synthed;
let t: Built;
beforeAll(() => {
  out = synth((stack) => { t = buildAll(stack); });
});

// --- helpers ------------------------------------------------------------------------------------

const podSpec = (cronJob: any) => cronJob.spec.job_template.spec.template.spec;
const envMap = (container: any): Record<string, any> => Object.fromEntries((container.env ?? []).map((e: any) => [e.name, e]));
const valueOf = (container: any, name: string) => envMap(container)[name]?.value;
/** Whether a NetworkPolicy pod selector (match_labels only) selects pods with these labels. */
const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
const backupPodLabels = (cronJob: any): Record<string, string> => cronJob.spec.job_template.spec.template.metadata.labels;
const tcp = (...ports: number[]) => ports.map((p) => ({ port: String(p), protocol: 'TCP' }));

/** rclone options that hold a secret: never a plain env value. */
const SECRET_OPTIONS = /_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|SERVICE_ACCOUNT_CREDENTIALS|KEY|ACCOUNT_KEY|SAS_URL|PASSWORD|PASSWORD2|CLIENT_SECRET)$/;

function everyContainer(spec: any): any[] {
  return [...(spec.init_container ?? []), ...(spec.container ?? [])];
}

function warnings(root: IConstruct): string[] {
  return root.node.findAll().flatMap((c) => c.node.metadata).filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data));
}

// --- 1. the backup CronJob of a SentinelRedis ---------------------------------------------------

describe('SentinelRedis with Backups.toObjectStorage: the CronJob', () => {
  test('exactly one CronJob, <name>-backup, one per topology with backups', () => {
    const jobs = out.list(CRON);
    expect(jobs.filter((j) => j.metadata.labels['app.kubernetes.io/instance'] === 'cache').map((j) => j.metadata.name)).toEqual(['cache-backup']);
    expect(jobs.map((j) => j.metadata.name).sort()).toEqual(['cache-backup', 'kv-backup-0', 'kv-backup-1', 'kv-backup-2', 'sessions-backup']);
    expect(out.named(CRON, 'cache-backup').metadata.namespace).toBe('data');
  });

  test('defaults: hourly on the hour in UTC, Forbid, bounded start, history and run time', () => {
    const cj = out.named(CRON, 'cache-backup');
    expect(cj.spec).toMatchObject({
      schedule: '0 * * * *',
      timezone: 'Etc/UTC',
      concurrency_policy: 'Forbid',
      starting_deadline_seconds: 3600,
      successful_jobs_history_limit: 3,
      failed_jobs_history_limit: 3,
    });
    expect(cj.spec.job_template.spec.backoff_limit).toBe(1);
    expect(cj.spec.job_template.spec.active_deadline_seconds).toBe(3600);
    expect(podSpec(cj).restart_policy).toBe('Never');
  });

  test('options: schedule, time zone, deadline (the start deadline capped at an hour), history, rclone image', () => {
    const cj = out.named(CRON, 'sessions-backup');
    expect(cj.spec).toMatchObject({
      schedule: '30 2 * * *',
      timezone: 'Europe/Stockholm',
      concurrency_policy: 'Forbid',
      starting_deadline_seconds: 3600,
      successful_jobs_history_limit: 5,
      failed_jobs_history_limit: 5,
    });
    expect(cj.spec.job_template.spec.active_deadline_seconds).toBe(7200);
    expect(cj.spec.job_template.spec.backoff_limit).toBe(1);
    expect(podSpec(cj).container[0].image).toBe('rclone/rclone:1.69.0');
  });

  test('init container `snapshot` runs the topology\'s Redis image; container `upload` runs rclone (default 1.68.2)', () => {
    const cache = podSpec(out.named(CRON, 'cache-backup'));
    expect(cache.init_container.map((c: any) => [c.name, c.image])).toEqual([['snapshot', 'redis:7.2.7']]);
    expect(cache.init_container[0].command).toEqual(['sh', '/etc/redis-topologies/backup/snapshot.sh', '0']);
    expect(cache.container.map((c: any) => [c.name, c.image])).toEqual([['upload', 'rclone/rclone:1.68.2']]);
    expect(cache.container[0].command).toEqual(['sh', '/etc/redis-topologies/backup/upload.sh']);
    const sessions = podSpec(out.named(CRON, 'sessions-backup'));
    expect(sessions.init_container[0].image).toBe('redis:7.4.1');
    expect(sessions.init_container[0].image).toBe(out.named(STS, 'sessions').spec.template.spec.container[0].image);
  });

  test('the snapshot container has the password and, with TLS, the CA; the upload container has neither', () => {
    const cache = podSpec(out.named(CRON, 'cache-backup'));
    const mounts = (c: any) => c.volume_mount.map((m: any) => m.name).sort();
    expect(mounts(cache.init_container[0])).toEqual(['auth', 'backup-scripts', 'tmp', 'work']);
    expect(mounts(cache.container[0])).toEqual(['backup-scripts', 'tmp', 'work']);
    const sessions = podSpec(out.named(CRON, 'sessions-backup'));
    expect(mounts(sessions.init_container[0])).toEqual(['auth', 'backup-scripts', 'tls', 'tmp', 'work']);
    expect(sessions.volume.find((v: any) => v.name === 'tls').secret.secret_name).toBe('sessions-tls');
    // The scratch volume between the two containers is bounded by the data container's memory.
    expect(cache.volume.find((v: any) => v.name === 'work').empty_dir.size_limit).toBe('1Gi');
    expect(sessions.volume.find((v: any) => v.name === 'work').empty_dir.size_limit).toBe('2Gi');
  });

  test('restricted pods: non-root, no escalation, no capabilities, RuntimeDefault seccomp, read-only root, no token', () => {
    for (const cj of out.list(CRON)) {
      const spec = podSpec(cj);
      expect(spec.security_context).toMatchObject({ run_as_non_root: true, seccomp_profile: { type: 'RuntimeDefault' } });
      expect(spec.security_context.run_as_user).not.toBe('0');
      expect(spec.automount_service_account_token).toBe(false);
      expect(spec.enable_service_links).toBe(false);
      const containers = everyContainer(spec);
      expect(containers).toHaveLength(2);
      for (const c of containers) {
        expect({ job: cj.metadata.name, container: c.name, sc: c.security_context }).toMatchObject({
          job: cj.metadata.name,
          container: c.name,
          sc: {
            run_as_non_root: true,
            allow_privilege_escalation: false,
            privileged: false,
            capabilities: { drop: ['ALL'] },
            seccomp_profile: { type: 'RuntimeDefault' },
            read_only_root_filesystem: true,
          },
        });
        expect(c.resources.limits.memory).toBeDefined();
      }
    }
  });

  test('the pods run as the dedicated ServiceAccount <name>-backup, which mounts no token', () => {
    const spec = podSpec(out.named(CRON, 'cache-backup'));
    const sa = out.named(SA, 'cache-backup');
    expect(sa.automount_service_account_token).toBe(false);
    expect(sa.metadata.namespace).toBe('data');
    const [id] = Object.entries(out.resources(SA)).find(([, r]) => r === sa)!;
    expect(spec.service_account_name).toBe(`\${${SA}.${id}.metadata[0].name}`);
    // With keys from a Secret, the ServiceAccount carries no cloud identity.
    expect(sa.metadata.annotations ?? {}).toEqual({});
  });

  test('S3 keys come from the named Secret by secretKeyRef; the rest of the remote is plain settings', () => {
    const upload = podSpec(out.named(CRON, 'cache-backup')).container[0];
    const env = envMap(upload);
    expect(env.RCLONE_CONFIG_STORE_ACCESS_KEY_ID).toEqual({ name: 'RCLONE_CONFIG_STORE_ACCESS_KEY_ID', value_from: { secret_key_ref: { name: 's3-keys', key: 'access-key-id' } } });
    expect(env.RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY).toEqual({ name: 'RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY', value_from: { secret_key_ref: { name: 's3-keys', key: 'secret-access-key' } } });
    expect(valueOf(upload, 'RCLONE_CONFIG_STORE_TYPE')).toBe('s3');
    expect(valueOf(upload, 'RCLONE_CONFIG_STORE_PROVIDER')).toBe('AWS');
    expect(valueOf(upload, 'RCLONE_CONFIG_STORE_REGION')).toBe('us-east-1');
    expect(valueOf(upload, 'RCLONE_CONFIG_STORE_NO_CHECK_BUCKET')).toBe('true');
    expect(env.RCLONE_CONFIG_STORE_ENV_AUTH).toBeUndefined();
    // Bucket default encryption: no SSE header.
    expect(env.RCLONE_CONFIG_STORE_SERVER_SIDE_ENCRYPTION).toBeUndefined();
    // The snapshot container, which talks to Redis only, gets no store settings at all.
    const snapshot = podSpec(out.named(CRON, 'cache-backup')).init_container[0];
    expect(Object.keys(envMap(snapshot)).filter((n) => n.startsWith('RCLONE_'))).toEqual([]);
  });

  test('no env entry of any backup or restore container carries a secret as a plain value', () => {
    const specs = [...out.list(CRON).map(podSpec), ...out.list(STS).map((s) => s.spec.template.spec)];
    let checked = 0;
    for (const spec of specs) {
      for (const c of everyContainer(spec)) {
        for (const e of c.env ?? []) {
          if (!SECRET_OPTIONS.test(e.name)) continue;
          checked += 1;
          expect({ container: c.name, name: e.name, value: e.value, ref: e.value_from?.secret_key_ref !== undefined }).toEqual({ container: c.name, name: e.name, value: undefined, ref: true });
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(2 + 3 * 4);
    // The crypt password is obscured at run time from the mounted Secret (rclone_setup), never in the plan.
    const names = specs.flatMap((spec) => everyContainer(spec).flatMap((c) => (c.env ?? []).map((e: any) => e.name)));
    expect(names).toContain('RCLONE_CONFIG_SECURE_TYPE');
    expect(names.filter((n) => /PASSWORD/.test(n))).toEqual([]);
  });

  test('workload identity: RCLONE_CONFIG_STORE_ENV_AUTH=true, no key at all, the ServiceAccount carries the annotations', () => {
    const upload = podSpec(out.named(CRON, 'sessions-backup')).container[0];
    const env = envMap(upload);
    expect(valueOf(upload, 'RCLONE_CONFIG_STORE_ENV_AUTH')).toBe('true');
    expect(Object.values(env).filter((e: any) => e.value_from?.secret_key_ref)).toEqual([]);
    expect(Object.keys(env).filter((n) => /ACCESS_KEY|SECRET|CREDENTIALS/.test(n))).toEqual([]);
    expect(out.named(SA, 'sessions-backup').metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': ROLE_ARN });
    expect(out.named(SA, 'sessions-backup').automount_service_account_token).toBe(false);
  });

  test('SSE-KMS: server_side_encryption aws:kms and the key id (a Terraform variable here)', () => {
    const upload = podSpec(out.named(CRON, 'sessions-backup')).container[0];
    expect(valueOf(upload, 'RCLONE_CONFIG_STORE_SERVER_SIDE_ENCRYPTION')).toBe('aws:kms');
    expect(valueOf(upload, 'RCLONE_CONFIG_STORE_SSE_KMS_KEY_ID')).toBe('${var.backup_kms_key}');
    expect(valueOf(upload, 'RCLONE_CONFIG_STORE_REGION')).toBe('eu-north-1');
  });

  test('client-side encryption: the crypt Secret is mounted read-only in upload; RCLONE_CONFIG_SECURE_* layers crypt over store:<bucket>/<prefix>', () => {
    const spec = podSpec(out.named(CRON, 'sessions-backup'));
    const upload = spec.container[0];
    expect(spec.volume.find((v: any) => v.name === 'crypt')).toEqual({ name: 'crypt', secret: { secret_name: 'sessions-backup-crypt', default_mode: '0440' } });
    expect(upload.volume_mount).toContainEqual({ name: 'crypt', mount_path: '/etc/redis-topologies/backup-crypt', read_only: true });
    expect(spec.init_container[0].volume_mount.map((m: any) => m.name)).not.toContain('crypt');
    expect(valueOf(upload, 'RCLONE_CONFIG_SECURE_TYPE')).toBe('crypt');
    // The bucket is a Terraform variable: the remote is written with its reference.
    expect(valueOf(upload, 'RCLONE_CONFIG_SECURE_REMOTE')).toBe('store:${var.backup_bucket}/redis');
    expect(valueOf(upload, 'RCLONE_CONFIG_SECURE_FILENAME_ENCRYPTION')).toBe('off');
    const kv = podSpec(out.named(CRON, 'kv-backup-0')).container[0];
    expect(valueOf(kv, 'RCLONE_CONFIG_SECURE_REMOTE')).toBe('store:redis-backups');
    // Without client-side encryption there is no crypt remote and no crypt volume.
    const cache = podSpec(out.named(CRON, 'cache-backup'));
    expect(Object.keys(envMap(cache.container[0])).filter((n) => n.startsWith('RCLONE_CONFIG_SECURE_'))).toEqual([]);
    expect(cache.volume.map((v: any) => v.name)).not.toContain('crypt');
  });

  test('every store reaches rclone as environment: settings as values, keys by secretKeyRef (GCS, Azure, S3 options)', () => {
    const ref = (name: string, secret: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: secret, key } } });
    expect(rcloneEnv({ storage: ObjectStorage.gcs({ bucket: 'redis-backups', credentials: StorageCredentials.fromSecret('gcs-key') }) })).toEqual([
      { name: 'RCLONE_CONFIG_STORE_TYPE', value: 'google cloud storage' },
      { name: 'RCLONE_CONFIG_STORE_BUCKET_POLICY_ONLY', value: 'true' },
      ref('RCLONE_CONFIG_STORE_SERVICE_ACCOUNT_CREDENTIALS', 'gcs-key', 'service-account.json'),
    ]);
    expect(rcloneEnv({ storage: ObjectStorage.azureBlob({ account: 'backups', container: 'redis', credentials: StorageCredentials.fromSecret('az-key') }) })).toEqual([
      { name: 'RCLONE_CONFIG_STORE_TYPE', value: 'azureblob' },
      { name: 'RCLONE_CONFIG_STORE_ACCOUNT', value: 'backups' },
      ref('RCLONE_CONFIG_STORE_KEY', 'az-key', 'account-key'),
    ]);
    const minio = rcloneEnv({ storage: ObjectStorage.s3({ bucket: 'b-1', endpoint: 'https://minio.example:9000', provider: 'Minio', serverSideEncryption: ServerSideEncryption.s3Managed(), credentials: StorageCredentials.fromSecret('k') }) });
    expect(Object.fromEntries(minio.filter((e) => e.value !== undefined).map((e) => [e.name.replace('RCLONE_CONFIG_STORE_', ''), e.value]))).toEqual({
      TYPE: 's3', PROVIDER: 'Minio', REGION: 'us-east-1', ENDPOINT: 'https://minio.example:9000', FORCE_PATH_STYLE: 'true', NO_CHECK_BUCKET: 'true', SERVER_SIDE_ENCRYPTION: 'AES256',
    });
    expect(rcloneEnv({ storage: ObjectStorage.s3({ bucket: 'b-1', endpoint: 'https://s3.example', pathStyle: false, credentials: StorageCredentials.fromSecret('k') }) }))
      .toContainEqual({ name: 'RCLONE_CONFIG_STORE_FORCE_PATH_STYLE', value: 'false' });
  });

  test('the backup scripts know where the backups go: <root>/<namespace>/<name>, through crypt when encrypted', () => {
    expect(out.renderedData(CM, 'cache-backup-scripts')['backup-common.sh']).toContain("ROOT='store:redis-backups/prod/redis/data/cache'\nCRYPT=0\n");
    expect(out.renderedData(CM, 'cache-backup-scripts')['backup-common.sh']).toContain('KEEP_LAST=30\nMAX_AGE_DAYS=0\nSNAPSHOT_TIMEOUT=3600\n');
    const sessions = out.renderedData(CM, 'sessions-backup-scripts')['backup-common.sh'];
    expect(sessions).toContain("ROOT='secure:data/sessions'\nCRYPT=1\n");
    expect(sessions).toContain('KEEP_LAST=7\nMAX_AGE_DAYS=14\nSNAPSHOT_TIMEOUT=7200\n');
    expect(sessions).toContain("KIND='sentinel'\nREDIS_PORT=6379\nTLS=1\n");
    expect(out.renderedData(CM, 'cache-backup-scripts').shards).toBe('0 main cache-0.cache-headless.data.svc.cluster.local cache-1.cache-headless.data.svc.cluster.local\n');
  });

  test('the StatefulSet says what backs it up; the topology exposes where its backups are', () => {
    expect(out.named(STS, 'cache').metadata.annotations['redis-topologies.io/backups']).toBe('0 * * * * to ObjectStorage.s3(redis-backups/prod/redis)');
    expect(out.named(STS, 'sessions').metadata.annotations['redis-topologies.io/backups']).toBe('30 2 * * * to ObjectStorage.s3(${var.backup_bucket}/redis)');
    expect(t.cache.backupSource).toMatchObject({ namespace: 'data', name: 'cache', rcloneImage: undefined, clientSideEncryption: undefined });
    expect(t.cache.backupSource!.storage.root).toBe('redis-backups/prod/redis');
    expect(t.sessions.backupSource!.clientSideEncryption!.secretName).toBe('sessions-backup-crypt');
    expect(t.plain.backupSource).toBeUndefined();
    expect(t.bare.backupSource).toBeUndefined();
  });
});

// --- 2. network policies ------------------------------------------------------------------------

describe('backup pods: deny by default, out to DNS, the topology\'s client port and the store only', () => {
  test('<name>-backup-default-deny, -allow-dns and -allow-egress select exactly the backup pods', () => {
    const labels = backupPodLabels(out.named(CRON, 'cache-backup'));
    const names = out.list(NP).map((p) => p.metadata.name).filter((n) => n.startsWith('cache-backup-')).sort();
    expect(names).toEqual(['cache-backup-allow-dns', 'cache-backup-allow-egress', 'cache-backup-default-deny']);
    const deny = out.named(NP, 'cache-backup-default-deny');
    expect(deny.spec.policy_types).toEqual(['Ingress', 'Egress']);
    expect(deny.spec.ingress).toBeUndefined();
    expect(deny.spec.egress).toBeUndefined();
    for (const n of names) {
      const selector = out.named(NP, n).spec.pod_selector.match_labels;
      expect(selector).toEqual(t.cache.backupSchedule!.podSelector);
      expect(selects(selector, labels)).toBe(true);
      expect(out.named(NP, n).metadata.namespace).toBe('data');
    }
    expect(out.named(NP, 'cache-backup-allow-dns').spec.policy_types).toEqual(['Egress']);
    expect(out.named(NP, 'cache-backup-allow-dns').spec.egress).toEqual(out.named(NP, 'cache-allow-dns').spec.egress);
  });

  test('-allow-egress: exactly the Redis client port to the topology\'s pods, then the user\'s egress', () => {
    const topology = out.named(NP, 'cache-default-deny').spec.pod_selector.match_labels;
    expect(out.named(NP, 'cache-backup-allow-egress').spec).toEqual({
      pod_selector: { match_labels: t.cache.backupSchedule!.podSelector },
      policy_types: ['Egress'],
      egress: [
        { to: [{ pod_selector: { match_labels: topology } }], ports: tcp(6379) },
        { to: [{ ip_block: { cidr: '10.20.0.0/16' } }], ports: tcp(443) },
      ],
    });
    expect(out.named(NP, 'sessions-backup-allow-egress').spec.egress).toEqual([
      { to: [{ pod_selector: { match_labels: out.named(NP, 'sessions-default-deny').spec.pod_selector.match_labels } }], ports: tcp(6379) },
      { to: [{ ip_block: { cidr: '0.0.0.0/0' } }], ports: tcp(443) },
      { to: [{ namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'vault' } }, pod_selector: { match_labels: { app: 'kms-proxy' } } }], ports: tcp(8200) },
    ]);
    // A cluster's backup pods reach its members on the client port, never the bus port.
    expect(out.named(NP, 'kv-backup-allow-egress').spec.egress).toEqual([
      { to: [{ pod_selector: { match_labels: out.named(NP, 'kv-default-deny').spec.pod_selector.match_labels } }], ports: tcp(6379) },
      { to: [{ namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'minio' } } }], ports: tcp(9000) },
    ]);
  });

  test('the topology\'s allow-clients policy admits the backup pods by their selector labels', () => {
    for (const [name, ports] of [['cache', tcp(6379, 26379)], ['sessions', tcp(6379, 26379)], ['kv', tcp(6379)]] as const) {
      const ingress = out.named(NP, `${name}-allow-clients`).spec.ingress;
      expect(ingress).toHaveLength(1);
      expect(ingress[0].ports).toEqual(ports);
      const jobs = out.list(CRON).filter((j) => j.metadata.labels['app.kubernetes.io/instance'] === name);
      const peer = ingress[0].from.find((f: any) => f.pod_selector && !f.namespace_selector && jobs.every((j) => selects(f.pod_selector.match_labels, backupPodLabels(j))));
      expect(peer).toEqual({ pod_selector: { match_labels: (name === 'kv' ? t.kv : t[name]).backupSchedule!.podSelector } });
    }
    // Without backups, no such peer.
    const plainFrom = out.named(NP, 'plain-allow-clients').spec.ingress[0].from;
    expect(plainFrom.filter((f: any) => f.pod_selector?.match_labels?.['app.kubernetes.io/component'] === 'backup')).toEqual([]);
  });

  test('the backup pods are not selected by any topology policy, nor topology pods by the backup policies', () => {
    const jobs = out.list(CRON);
    const backupPolicies = out.list(NP).filter((p) => /-backup-(default-deny|allow-dns|allow-egress)$/.test(p.metadata.name));
    expect(backupPolicies).toHaveLength(3 * 3);
    for (const p of out.list(NP)) {
      const selector = p.spec.pod_selector.match_labels;
      const isBackupPolicy = backupPolicies.includes(p);
      for (const j of jobs) {
        const mine = isBackupPolicy && p.metadata.name.startsWith(`${j.metadata.labels['app.kubernetes.io/instance']}-backup-`);
        expect({ policy: p.metadata.name, job: j.metadata.name, selects: selects(selector, backupPodLabels(j)) }).toEqual({ policy: p.metadata.name, job: j.metadata.name, selects: mine });
      }
      if (isBackupPolicy) {
        for (const sts of out.list(STS)) expect(selects(selector, sts.spec.template.metadata.labels)).toBe(false);
      }
    }
    // The reason: a part-of label of their own, outside the topology selector.
    expect(backupPodLabels(out.named(CRON, 'cache-backup'))['app.kubernetes.io/part-of']).toBe('sentinel-redis-backup');
    expect(backupPodLabels(out.named(CRON, 'kv-backup-0'))['app.kubernetes.io/part-of']).toBe('sharded-redis-cluster-backup');
  });
});

// --- 3. ShardedRedisCluster ---------------------------------------------------------------------

describe('ShardedRedisCluster with backups and restoreFrom', () => {
  const SLOTS = ['slots:0-5460', 'slots:5461-10922', 'slots:10923-16383'];

  test('one CronJob per shard, <name>-backup-<s>, each snapshotting its own shard', () => {
    for (let s = 0; s < 3; s++) {
      const cj = out.named(CRON, `kv-backup-${s}`);
      expect(cj.spec.concurrency_policy).toBe('Forbid');
      expect(cj.metadata.labels['redis-topologies.io/backup-shard']).toBe(`shard-${s}`);
      expect(backupPodLabels(cj)['redis-topologies.io/backup-shard']).toBe(`shard-${s}`);
      expect(podSpec(cj).init_container[0].command).toEqual(['sh', '/etc/redis-topologies/backup/snapshot.sh', String(s)]);
      expect(podSpec(cj).init_container[0].image).toBe('redis:7.2.7');
    }
    expect(t.kv.backupSchedule!.cronJobs).toHaveLength(3);
    expect(out.list(SA).filter((a) => a.metadata.name.startsWith('kv-')).map((a) => a.metadata.name)).toEqual(['kv-backup']);
  });

  test('the shards file of the backup ConfigMap lists each shard\'s member hosts', () => {
    const hosts = (s: number) => [0, 1].map((i) => `kv-shard-${s}-${i}.kv-headless.data.svc.cluster.local`).join(' ');
    expect(out.renderedData(CM, 'kv-backup-scripts').shards).toBe(`0 shard-0 ${hosts(0)}\n1 shard-1 ${hosts(1)}\n2 shard-2 ${hosts(2)}\n`);
    expect(out.renderedData(CM, 'kv-backup-scripts')['backup-common.sh']).toContain("KIND='cluster'\n");
    expect(t.kv.shards.map((s) => s.memberHosts.join(' '))).toEqual([0, 1, 2].map(hosts));
  });

  test('restoreFrom: each shard\'s member pods first download the backup of that shard\'s slot range', () => {
    out.list(STS).filter((s) => s.metadata.name.startsWith('kv-shard-')).forEach((sts, s) => {
      expect(sts.metadata.name).toBe(`kv-shard-${s}`);
      const spec = sts.spec.template.spec;
      expect(spec.init_container.map((c: any) => c.name)).toEqual(['restore']);
      const restore = spec.init_container[0];
      expect(valueOf(restore, 'RESTORE_IDENTITY')).toBe(SLOTS[s]);
      expect(restore.image).toBe('rclone/rclone:1.68.2');
      expect(restore.command).toEqual(['sh', '/etc/redis-topologies/scripts/restore-fetch.sh']);
      expect(valueOf(restore, 'RCLONE_CONFIG_SECURE_REMOTE')).toBe('store:redis-backups');
      expect(envMap(restore).RCLONE_CONFIG_STORE_ACCESS_KEY_ID.value_from.secret_key_ref).toEqual({ name: 'minio-keys', key: 'access-key-id' });
      expect(restore.volume_mount).toContainEqual({ name: 'restore-crypt', mount_path: '/etc/redis-topologies/backup-crypt', read_only: true });
      expect(spec.volume).toContainEqual({ name: 'restore-crypt', secret: { secret_name: 'kv-crypt', default_mode: '0440' } });
      // Keys from a Secret: no ServiceAccount of its own.
      expect(spec.service_account_name).toBeUndefined();
    });
    expect(out.list(SA).map((a) => a.metadata.name)).not.toContain('kv-restore');
  });

  test('the scripts ConfigMap carries restore-fetch.sh and restore-load.sh; the member entrypoint loads at first boot', () => {
    const scripts = out.renderedData(CM, 'kv-scripts');
    expect(Object.keys(scripts)).toEqual(expect.arrayContaining(['restore-fetch.sh', 'restore-load.sh']));
    expect(scripts['restore-fetch.sh']).toContain("ROOT='secure:old/kv'\nCRYPT=1\n");
    expect(scripts['restore-fetch.sh']).toContain("SELECTION='20261201T080000Z'\n");
    expect(scripts['member-entrypoint.sh']).toContain('sh "$SCRIPTS_DIR/restore-load.sh"');
  });

  test('the members\' access policy gets the restore egress (the download runs in the member pods)', () => {
    expect(out.named(NP, 'kv-allow-egress').spec).toEqual({
      pod_selector: out.named(NP, 'kv-default-deny').spec.pod_selector,
      policy_types: ['Egress'],
      egress: [{ to: [{ namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'minio' } } }], ports: tcp(9000) }],
    });
  });
});

// --- 4. SentinelRedis restoreFrom ---------------------------------------------------------------

describe('SentinelRedis with restoreFrom', () => {
  test('the data StatefulSet has one init container `restore`: rclone, mounting scripts, data and tmp, identity "all"', () => {
    const spec = out.named(STS, 'sessions').spec.template.spec;
    expect(spec.init_container).toHaveLength(1);
    const restore = spec.init_container[0];
    expect(restore.name).toBe('restore');
    expect(restore.image).toBe('rclone/rclone:1.68.2');
    expect(restore.command).toEqual(['sh', '/etc/redis-topologies/scripts/restore-fetch.sh']);
    expect(restore.volume_mount).toEqual([
      { name: 'scripts', mount_path: '/etc/redis-topologies/scripts', read_only: true },
      { name: 'data', mount_path: '/data' },
      { name: 'tmp', mount_path: '/tmp' },
    ]);
    for (const m of restore.volume_mount) expect(spec.volume.map((v: any) => v.name)).toContain(m.name);
    expect(valueOf(restore, 'RESTORE_IDENTITY')).toBe('all');
    expect(envMap(restore).POD_NAME.value_from.field_ref.field_path).toBe('metadata.name');
    expect(restore.security_context).toMatchObject({ run_as_non_root: true, allow_privilege_escalation: false, read_only_root_filesystem: true, capabilities: { drop: ['ALL'] } });
    // Azure Blob through workload identity.
    expect(valueOf(restore, 'RCLONE_CONFIG_STORE_TYPE')).toBe('azureblob');
    expect(valueOf(restore, 'RCLONE_CONFIG_STORE_ACCOUNT')).toBe('oldbackups');
    expect(valueOf(restore, 'RCLONE_CONFIG_STORE_ENV_AUTH')).toBe('true');
    expect(envMap(restore).RCLONE_CONFIG_STORE_KEY).toBeUndefined();
    // The sentinels download nothing.
    expect(out.named(STS, 'sessions-sentinel').spec.template.spec.init_container).toBeUndefined();
  });

  test('workload identity: a ServiceAccount <name>-restore with the annotations runs the data pods, which carry the pod labels', () => {
    const sa = out.named(SA, 'sessions-restore');
    expect(sa.metadata.annotations).toEqual({ 'azure.workload.identity/client-id': RESTORE_CLIENT_ID });
    expect(sa.automount_service_account_token).toBe(false);
    const [id] = Object.entries(out.resources(SA)).find(([, r]) => r === sa)!;
    const data = out.named(STS, 'sessions');
    expect(data.spec.template.spec.service_account_name).toBe(`\${${SA}.${id}.metadata[0].name}`);
    expect(data.spec.template.metadata.labels['azure.workload.identity/use']).toBe('true');
    // The selector is immutable: the identity label is on the pods only.
    expect(data.spec.selector.match_labels['azure.workload.identity/use']).toBeUndefined();
    expect(out.named(STS, 'sessions-sentinel').spec.template.spec.service_account_name).toBeUndefined();
    // The backup ServiceAccount is another one, with the backup's identity.
    expect(out.named(SA, 'sessions-backup').metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': ROLE_ARN });
  });

  test('the scripts ConfigMap carries the restore scripts of the source; the entrypoint loads at first boot', () => {
    const scripts = out.renderedData(CM, 'sessions-scripts');
    expect(scripts['restore-fetch.sh']).toContain("ROOT='store:redis/sessions/old/sessions'\nCRYPT=0\n");
    expect(scripts['restore-fetch.sh']).toContain("SELECTION='latest'\nPERSISTENCE='aof'\n");
    expect(scripts['redis-entrypoint.sh']).toContain('if [ "$first_boot" = 1 ]; then sh "$SCRIPTS_DIR/restore-load.sh"; else');
    expect(out.named(NP, 'sessions-allow-egress').spec.egress).toEqual([{ to: [{ ip_block: { cidr: '10.30.0.0/16' } }], ports: tcp(443) }]);
  });

  test('without restoreFrom: no init container, no restore scripts, the default entrypoint', () => {
    for (const name of ['cache', 'plain', 'bare']) {
      const spec = out.named(STS, name).spec.template.spec;
      expect(spec.init_container).toBeUndefined();
      expect(spec.service_account_name).toBeUndefined();
      const scripts = out.renderedData(CM, `${name}-scripts`);
      expect(Object.keys(scripts).filter((k) => k.startsWith('restore'))).toEqual([]);
      expect(scripts['redis-entrypoint.sh']).not.toContain('restore-load.sh');
      expect(scripts['redis-entrypoint.sh']).not.toMatch(/restore|first_boot/);
    }
    expect(t.cache.model.restore).toBe(false);
    expect(t.cache.scriptFiles).toEqual(renderScripts(t.cache.model));
    expect(out.list(SA).map((a) => a.metadata.name)).not.toContain('cache-restore');
    expect(out.list(NP).map((p) => p.metadata.name)).not.toContain('cache-allow-egress');
  });
});

// --- 5. Backups.disabled() and no backup --------------------------------------------------------

describe('Backups.disabled() and leaving backup out', () => {
  test('Backups.disabled(): no CronJob, no backup objects, annotation "disabled", no warning', () => {
    expect(out.list(CRON).filter((j) => j.metadata.name.startsWith('plain'))).toEqual([]);
    expect(out.list(SA).filter((a) => a.metadata.name.startsWith('plain'))).toEqual([]);
    expect(out.list(NP).filter((p) => p.metadata.name.startsWith('plain-backup'))).toEqual([]);
    expect(out.named(STS, 'plain').metadata.annotations['redis-topologies.io/backups']).toBe('disabled');
    expect(warnings(t.plain)).toEqual([]);
    expect(t.plain.backupSchedule).toBeUndefined();
  });

  test('no backup prop: annotation "none" and a synth warning that names Backups.disabled()', () => {
    expect(out.list(CRON).filter((j) => j.metadata.name.startsWith('bare'))).toEqual([]);
    expect(out.named(STS, 'bare').metadata.annotations['redis-topologies.io/backups']).toBe('none');
    const w = warnings(t.bare);
    expect(w).toHaveLength(1);
    expect(w[0]).toContain('test/Bare: no backups');
    expect(w[0]).toContain('Backups.toObjectStorage(');
    expect(w[0]).toContain('Backups.disabled()');
  });

  test('topologies with backups warn about nothing', () => {
    for (const c of [t.cache, t.sessions, t.kv]) expect(warnings(c)).toEqual([]);
  });
});

// --- 7. what Terraform delivers ---------------------------------------------------------------

describe('Terraform escaping of the backup and restore scripts', () => {
  test('every string of the plan is what Terraform accepts: escaped shell, only declared references', () => {
    expect(scanPlan('test', out.json).map(formatFinding)).toEqual([]);
  });

  test('the backup ConfigMaps reach the pods as the renderers wrote them (Terraform escapes read)', () => {
    const cases: Array<[string, Readonly<Record<string, string>>]> = [
      ['cache-backup-scripts', t.cache.backupSchedule!.scriptFiles],
      ['sessions-backup-scripts', t.sessions.backupSchedule!.scriptFiles],
      ['kv-backup-scripts', t.kv.backupSchedule!.scriptFiles],
    ];
    for (const [name, files] of cases) {
      expect(Object.keys(files).sort()).toEqual(['backup-common.sh', 'shards', 'snapshot.sh', 'upload.sh']);
      expect(out.renderedData(CM, name)).toEqual(files);
    }
    // The escaping is exercised: shell expansions are written $${...} in the plan.
    const raw = out.named(CM, 'cache-backup-scripts').data;
    expect(raw['backup-common.sh']).toContain(': "$${POD_NAME:?POD_NAME must be set');
    expect(t.cache.backupSchedule!.scriptFiles['backup-common.sh']).toContain(': "${POD_NAME:?POD_NAME must be set');
    expect(raw['snapshot.sh']).toContain('$${SNAPSHOT_TIMEOUT}s');
  });

  test('the scripts ConfigMaps with restore scripts reach the pods as rendered', () => {
    expect(out.renderedData(CM, 'sessions-scripts')).toEqual(t.sessions.scriptFiles);
    expect(out.renderedData(CM, 'kv-scripts')).toEqual(t.kv.scriptFiles);
    const raw = out.named(CM, 'sessions-scripts').data['restore-fetch.sh'];
    expect(raw).toContain('if [ "$${POD_NAME##*-}" != 0 ]');
    expect(raw).toContain('found:$${seen:- nothing}');
  });

  test('every delivered backup and restore script is POSIX sh that parses (dash -n)', () => {
    const delivered = [
      ...['cache', 'sessions', 'kv'].flatMap((n) => Object.entries(out.renderedData(CM, `${n}-backup-scripts`)).filter(([k]) => k.endsWith('.sh')).map(([k, v]) => [`${n}-backup-scripts/${k}`, v])),
      ...['sessions', 'kv'].flatMap((n) => Object.entries(out.renderedData(CM, `${n}-scripts`)).filter(([k]) => k.startsWith('restore-')).map(([k, v]) => [`${n}-scripts/${k}`, v])),
    ];
    expect(delivered.length).toBe(3 * 3 + 2 * 2);
    for (const [name, script] of delivered) {
      const r = spawnSync('/bin/sh', ['-n'], { input: script, encoding: 'utf8' });
      expect({ name, status: r.status, stderr: r.stderr }).toEqual({ name, status: 0, stderr: '' });
    }
  });
});

// --- 8. determinism -----------------------------------------------------------------------------

describe('determinism', () => {
  test('the same stack synthesizes byte-identical JSON twice', () => {
    const again = synth((stack) => { buildAll(stack); });
    expect(JSON.stringify(again.json)).toBe(JSON.stringify(out.json));
  });
});

// --- 6. validation ------------------------------------------------------------------------------

const s3 = (over: Record<string, unknown> = {}) => ObjectStorage.s3({ bucket: 'redis-backups', credentials: StorageCredentials.fromSecret('s3-keys'), ...over } as any);
const EGRESS = [AccessEgress.toCidr('10.20.0.0/16', [443])];
const backups = (over: Record<string, unknown> = {}) => Backups.toObjectStorage({ storage: s3(), egress: EGRESS, ...over } as any);
const source = (over: Record<string, unknown> = {}) => ({ storage: s3(), namespace: 'old', name: 'cache', egress: EGRESS, ...over }) as any;

/** The error SentinelRedis `Cache` throws for these props (undefined when it builds). */
function errorFor(over: Record<string, unknown>, kind: 'sentinel' | 'cluster' = 'sentinel'): unknown {
  const s = emptyStack();
  try {
    if (kind === 'sentinel') {
      new SentinelRedis(s, 'Cache', { namespace: 'data', storage: DataStorage.ephemeral(), ...over } as SentinelRedisProps);
    } else {
      const storage = DataStorage.encrypted(EncryptedStorageClass.fromExisting(s, 'Sc', { storageClassName: 'enc', vouchedBy: 'test' }), '5Gi');
      new ShardedRedisCluster(s, 'Kv', { namespace: 'data', storage, ...over } as ShardedRedisClusterProps);
    }
    return undefined;
  } catch (e) {
    return e;
  }
}

function violationsFor(over: Record<string, unknown>, kind: 'sentinel' | 'cluster' = 'sentinel') {
  const e = errorFor(over, kind);
  expect(e).toBeInstanceOf(RedisTopologyValidationError);
  return (e as RedisTopologyValidationError).violations;
}

describe('backup and restore validation', () => {
  test.each<[string, Record<string, unknown>, { prop: string; value: unknown; allowed: string | RegExp }]>([
    // From TypeScript: the right shapes, wrong values.
    ['bad bucket name', { backup: backups({ storage: s3({ bucket: 'Redis_Backups' }) }) },
      { prop: 'backup.storage.bucket', value: 'Redis_Backups', allowed: /^a bucket name: 3 to 63 lower-case letters/ }],
    ['bad endpoint URL', { backup: backups({ storage: s3({ endpoint: 'minio.storage.svc:9000' }) }) },
      { prop: 'backup.storage.endpoint', value: 'minio.storage.svc:9000', allowed: /^an http:\/\/ or https:\/\/ URL/ }],
    ['bad prefix', { backup: backups({ storage: s3({ prefix: '/redis/' }) }) },
      { prop: 'backup.storage.prefix', value: '/redis/', allowed: /^a path inside the bucket/ }],
    ['kms with an empty key id', { backup: backups({ storage: s3({ serverSideEncryption: ServerSideEncryption.kms('') }) }) },
      { prop: 'backup.storage.serverSideEncryption.keyId', value: '', allowed: 'a KMS key id, alias or ARN' }],
    ['bad cron schedule', { backup: backups({ schedule: '@hourly' }) },
      { prop: 'backup.schedule', value: '@hourly', allowed: /^a cron schedule of five fields/ }],
    ['cron schedule with six fields', { backup: backups({ schedule: '0 0 * * * *' }) },
      { prop: 'backup.schedule', value: '0 0 * * * *', allowed: /^a cron schedule of five fields/ }],
    ['bad time zone', { backup: backups({ timeZone: 'Europe/Stockholm; rm' }) },
      { prop: 'backup.timeZone', value: 'Europe/Stockholm; rm', allowed: /^an IANA time zone/ }],
    ['retention.keepLast 0', { backup: backups({ retention: { keepLast: 0 } }) },
      { prop: 'backup.retention.keepLast', value: 0, allowed: 'an integer from 1 to 10000' }],
    ['deadlineSeconds too small', { backup: backups({ deadlineSeconds: 59 }) },
      { prop: 'backup.deadlineSeconds', value: 59, allowed: 'an integer from 60 to 604800' }],
    ['jobHistory too large', { backup: backups({ jobHistory: 101 }) },
      { prop: 'backup.jobHistory', value: 101, allowed: 'an integer from 0 to 100' }],
    ['empty egress', { backup: backups({ egress: [] }) },
      { prop: 'backup.egress', value: [], allowed: /^a non-empty list of AccessEgress\.toCidr\(cidr, ports\)/ }],
    ['bad egress CIDR', { backup: backups({ egress: [AccessEgress.toCidr('10.0.0.0/33', [443])] }) },
      { prop: 'backup.egress[0].cidr', value: '10.0.0.0/33', allowed: 'an IPv4 CIDR such as 10.0.0.0/16' }],
    ['bad rclone image', { backup: backups({ rcloneImage: 'rclone' }) },
      { prop: 'backup.rcloneImage', value: 'rclone', allowed: /^an image reference with a tag or a digest/ }],
    ['bad credentials Secret name', { backup: backups({ storage: s3({ credentials: StorageCredentials.fromSecret('S3 Keys') }) }) },
      { prop: 'backup.storage.credentials.secretName', value: 'S3 Keys', allowed: 'a Secret name (a DNS-1123 subdomain)' }],
    ['workload identity without annotations', { backup: backups({ storage: s3({ credentials: StorageCredentials.workloadIdentity({ serviceAccountAnnotations: {} }) }) }) },
      { prop: 'backup.storage.credentials.serviceAccountAnnotations', value: {}, allowed: /^at least one annotation/ }],
    ['bad client-side encryption Secret name', { backup: backups({ clientSideEncryption: ClientSideEncryption.fromSecret('') }) },
      { prop: 'backup.clientSideEncryption.secretName', value: '', allowed: 'a Secret name (a DNS-1123 subdomain)' }],
    ['bad GCS bucket', { backup: backups({ storage: ObjectStorage.gcs({ bucket: 'x', credentials: StorageCredentials.fromSecret('gcs') }) }) },
      { prop: 'backup.storage.bucket', value: 'x', allowed: /^a bucket name/ }],
    ['bad Azure account', { backup: backups({ storage: ObjectStorage.azureBlob({ account: 'Old-Backups', container: 'redis', credentials: StorageCredentials.fromSecret('az') }) }) },
      { prop: 'backup.storage.account', value: 'Old-Backups', allowed: /^a storage account name/ }],
    ['RestoreFrom.backup with an id that is not YYYYMMDDThhmmssZ', { restoreFrom: RestoreFrom.backup('2026-12-01T08:00:00Z', source()) },
      { prop: 'restoreFrom.id', value: '2026-12-01T08:00:00Z', allowed: /^a backup id: the UTC timestamp of its directory, such as 20261201T080000Z/ }],
    ['restore source with a bad namespace', { restoreFrom: RestoreFrom.latest(source({ namespace: 'Old NS' })) },
      { prop: 'restoreFrom.source.namespace', value: 'Old NS', allowed: 'the namespace of the topology that was backed up' }],
    // From JavaScript: missing fields, strings for enums, look-alike objects.
    ['missing storage', { backup: backups({ storage: undefined }) },
      { prop: 'backup.storage', value: undefined, allowed: 'ObjectStorage.s3({ ... }), ObjectStorage.gcs({ ... }), ObjectStorage.azureBlob({ ... }) (required)' }],
    ['missing egress', { backup: backups({ egress: undefined }) },
      { prop: 'backup.egress', value: undefined, allowed: /^a non-empty list of AccessEgress.*\(required\)$/ }],
    ['egress not a list', { backup: backups({ egress: AccessEgress.toCidr('10.0.0.0/8', [443]) }) },
      { prop: 'backup.egress', value: expect.anything(), allowed: /^a non-empty list of AccessEgress/ }],
    ['bad provider', { backup: backups({ storage: s3({ provider: 'aws' }) }) },
      { prop: 'backup.storage.provider', value: 'aws', allowed: 'one of "AWS", "Minio", "Ceph", "Other"' }],
    ['kms without a key id', { backup: backups({ storage: s3({ serverSideEncryption: ServerSideEncryption.kms(undefined as any) }) }) },
      { prop: 'backup.storage.serverSideEncryption.keyId', value: undefined, allowed: 'a KMS key id, alias or ARN (required)' }],
    ['missing bucket', { backup: backups({ storage: s3({ bucket: undefined }) }) },
      { prop: 'backup.storage.bucket', value: undefined, allowed: /^a bucket name.*\(required\)$/ }],
    ['missing credentials', { backup: backups({ storage: s3({ credentials: undefined }) }) },
      { prop: 'backup.storage.credentials', value: undefined, allowed: 'StorageCredentials.fromSecret(secretName), StorageCredentials.workloadIdentity({ ... }) (required)' }],
    ['a look-alike Backups', { backup: { enabled: true, options: { storage: s3(), egress: EGRESS } } },
      { prop: 'backup', value: { enabled: true, options: expect.anything() }, allowed: 'one of Backups.toObjectStorage({ ... }), Backups.disabled()' }],
    ['a string for Backups', { backup: 'disabled' },
      { prop: 'backup', value: 'disabled', allowed: 'one of Backups.toObjectStorage({ ... }), Backups.disabled()' }],
    ['a look-alike ObjectStorage', { backup: backups({ storage: { backend: 's3', bucket: 'redis-backups', prefix: undefined } }) },
      { prop: 'backup.storage', value: { backend: 's3', bucket: 'redis-backups' }, allowed: 'one of ObjectStorage.s3({ ... }), ObjectStorage.gcs({ ... }), ObjectStorage.azureBlob({ ... })' }],
    ['a look-alike StorageCredentials', { backup: backups({ storage: s3({ credentials: { kind: 'secret', secretName: 's3-keys' } }) }) },
      { prop: 'backup.storage.credentials', value: { kind: 'secret', secretName: 's3-keys' }, allowed: 'one of StorageCredentials.fromSecret(secretName), StorageCredentials.workloadIdentity({ ... })' }],
    ['a look-alike ServerSideEncryption', { backup: backups({ storage: s3({ serverSideEncryption: { mode: 'aws:kms', kmsKeyId: 'k' } }) }) },
      { prop: 'backup.storage.serverSideEncryption', value: { mode: 'aws:kms', kmsKeyId: 'k' }, allowed: /^one of ServerSideEncryption\.bucketDefault\(\)/ }],
    ['a look-alike ClientSideEncryption', { backup: backups({ clientSideEncryption: { secretName: 'crypt' } }) },
      { prop: 'backup.clientSideEncryption', value: { secretName: 'crypt' }, allowed: 'one of ClientSideEncryption.fromSecret(secretName)' }],
    ['a look-alike RestoreFrom', { restoreFrom: { selection: 'latest', source: source() } },
      { prop: 'restoreFrom', value: expect.objectContaining({ selection: 'latest' }), allowed: 'one of RestoreFrom.latest(source), RestoreFrom.backup(id, source)' }],
    ['restore source without a name', { restoreFrom: RestoreFrom.latest(source({ name: undefined })) },
      { prop: 'restoreFrom.source.name', value: undefined, allowed: 'the name of the topology that was backed up (required)' }],
    ['restore source without a namespace', { restoreFrom: RestoreFrom.latest(source({ namespace: undefined })) },
      { prop: 'restoreFrom.source.namespace', value: undefined, allowed: 'the namespace of the topology that was backed up (required)' }],
    ['restore source without storage', { restoreFrom: RestoreFrom.latest(source({ storage: undefined })) },
      { prop: 'restoreFrom.source.storage', value: undefined, allowed: /\(required\)$/ }],
    ['restore source without egress', { restoreFrom: RestoreFrom.latest(source({ egress: undefined })) },
      { prop: 'restoreFrom.source.egress', value: undefined, allowed: /\(required\)$/ }],
    ['no restore source at all', { restoreFrom: RestoreFrom.latest(undefined as any) },
      { prop: 'restoreFrom.source', value: undefined, allowed: /^a BackupSource \{ storage, namespace, name, egress.*\(required\)$/ }],
    ['a number for keepLast', { backup: backups({ retention: { keepLast: '7' } }) },
      { prop: 'backup.retention.keepLast', value: '7', allowed: 'an integer from 1 to 10000' }],
  ])('%s', (_what, over, expected) => {
    const violations = violationsFor(over);
    const allowed = expected.allowed instanceof RegExp ? expect.stringMatching(expected.allowed) : expected.allowed;
    expect(violations).toContainEqual({ constructPath: 'test/Cache', ...expected, allowed });
    // The message names the construct path, the prop, the value and what is allowed.
    const v = violations.find((x) => x.prop === expected.prop)!;
    expect((errorFor(over) as Error).message).toContain(`test/Cache: invalid prop "${v.prop}" = `);
  });

  test('the message is one line per problem: path, prop, value, allowed', () => {
    const e = errorFor({ backup: backups({ schedule: 'hourly', retention: { keepLast: 0 }, storage: s3({ bucket: 'B' }) }) }) as Error;
    expect(e).toBeInstanceOf(RedisTopologyValidationError);
    expect(e.message.split('\n')).toEqual([
      expect.stringMatching(/^test\/Cache: invalid prop "backup\.storage\.bucket" = "B"; allowed: a bucket name: /),
      expect.stringMatching(/^test\/Cache: invalid prop "backup\.schedule" = "hourly"; allowed: a cron schedule of five fields/),
      'test/Cache: invalid prop "backup.retention.keepLast" = 0; allowed: an integer from 1 to 10000',
    ]);
  });

  test('ShardedRedisCluster checks backup and restoreFrom the same way, under its own path', () => {
    expect(violationsFor({ backup: backups({ schedule: '61 * * * * *' }), restoreFrom: RestoreFrom.backup('latest-1', source()) }, 'cluster')).toEqual([
      { constructPath: 'test/Kv', prop: 'backup.schedule', value: '61 * * * * *', allowed: expect.stringMatching(/^a cron schedule of five fields/) },
      { constructPath: 'test/Kv', prop: 'restoreFrom.id', value: 'latest-1', allowed: expect.stringMatching(/^a backup id/) },
    ]);
    expect(violationsFor({ backup: { enabled: false } }, 'cluster')).toEqual([
      { constructPath: 'test/Kv', prop: 'backup', value: { enabled: false }, allowed: 'one of Backups.toObjectStorage({ ... }), Backups.disabled()' },
    ]);
  });

  test('from JavaScript, nothing the user passes turns into a TypeError', () => {
    const cases: unknown[] = [
      Backups.toObjectStorage(undefined as any),
      Backups.toObjectStorage('s3' as any),
      backups({ storage: ObjectStorage.s3(undefined as any) }),
      backups({ storage: ObjectStorage.gcs(null as any) }),
      backups({ storage: s3({ credentials: StorageCredentials.workloadIdentity(undefined as any) }) }),
      backups({ egress: [null] }),
      backups({ retention: 30 }),
    ];
    for (const backup of cases) {
      const e = errorFor({ backup });
      expect({ backup: String(backup), error: e instanceof RedisTopologyValidationError }).toEqual({ backup: String(backup), error: true });
    }
    for (const restoreFrom of [RestoreFrom.latest(null as any), RestoreFrom.latest('old/cache' as any), RestoreFrom.backup(null as any, source()), RestoreFrom.latest(source({ storage: 'store:bucket' }))]) {
      expect(errorFor({ restoreFrom })).toBeInstanceOf(RedisTopologyValidationError);
    }
  });

  test('from JavaScript, RestoreFrom.backup without an id is a validation error naming restoreFrom.id', () => {
    expect(violationsFor({ restoreFrom: RestoreFrom.backup(undefined as any, source()) })).toContainEqual({
      constructPath: 'test/Cache', prop: 'restoreFrom.id', value: undefined, allowed: expect.stringMatching(/^a backup id: .*\(required\)$/),
    });
  });

  test('Terraform tokens are accepted for the bucket and the KMS key (checked by Kubernetes and the store at run time)', () => {
    const s = emptyStack();
    const str = (n: string) => new TerraformVariable(s, n, { type: 'string' }).stringValue;
    expect(() => new SentinelRedis(s, 'Cache', {
      namespace: 'data',
      storage: DataStorage.ephemeral(),
      backup: Backups.toObjectStorage({
        storage: ObjectStorage.s3({ bucket: str('bucket'), endpoint: str('endpoint'), serverSideEncryption: ServerSideEncryption.kms(str('kms')), credentials: StorageCredentials.fromSecret(str('secret')) }),
        egress: EGRESS,
      }),
      restoreFrom: RestoreFrom.latest({ storage: ObjectStorage.gcs({ bucket: str('old'), credentials: StorageCredentials.fromSecret('gcs') }), namespace: 'old', name: 'cache', egress: EGRESS }),
    })).not.toThrow();
  });

  test('nothing is created or written when the props are invalid', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-backup-invalid-'));
    try {
      const stack = new TerraformStack(new App({ outdir, stackTraces: false }), 'test');
      expect(() => new SentinelRedis(stack, 'Cache', { namespace: 'data', storage: DataStorage.ephemeral(), backup: backups({ deadlineSeconds: 10 }) })).toThrow(RedisTopologyValidationError);
      expect(stack.node.findChild('Cache').node.children).toEqual([]);
      // The app made its (empty) stacks folder; no file was written.
      expect(fs.readdirSync(outdir, { recursive: true }).filter((f) => fs.statSync(path.join(outdir, String(f))).isFile())).toEqual([]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { buildExamples } from '../examples/main';
import { planFindings, podTemplates } from '../lib/review/invariants';
import { reviewDiff, reviewStack } from '../lib/review/review';

function synthTo(): { dir: string; stacks: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'rt-examples-'));
  buildExamples(dir).synth();
  const stacks: Record<string, string> = {};
  for (const name of readdirSync(join(dir, 'stacks'))) {
    stacks[name] = readFileSync(join(dir, 'stacks', name, 'cdk.tf.json'), 'utf8');
  }
  return { dir, stacks };
}

describe('examples', () => {
  const first = synthTo();
  const second = synthTo();
  afterAll(() => {
    rmSync(first.dir, { recursive: true, force: true });
    rmSync(second.dir, { recursive: true, force: true });
  });

  test('every example plan holds the invariants: encrypted claims, restricted pods, deny-by-default, no secret in a ConfigMap or plain env, Services that select pods and their ports', () => {
    const stacks = Object.keys(first.stacks).sort();
    expect(stacks).toEqual(['cluster', 'flash', 'platform', 'sentinel']);
    for (const name of stacks) expect({ stack: name, findings: planFindings(JSON.parse(first.stacks[name])) }).toEqual({ stack: name, findings: [] });
  });

  test('the review of each example: every workload, port and policy is in it (snapshot)', () => {
    for (const name of Object.keys(first.stacks).sort()) {
      const plan = JSON.parse(first.stacks[name]);
      const md = reviewStack(name, plan);
      for (const t of podTemplates(plan)) {
        const body = plan.resource[t.resource.split('.')[0]][t.resource.split('.')[1]];
        expect(md).toContain(`| ${body.metadata.name} |`);
        for (const c of t.spec.container) for (const p of c.port ?? []) expect(md).toContain(`${p.name ?? ''}:${p.container_port}`);
      }
      for (const np of Object.values<any>(plan.resource.kubernetes_network_policy_v1 ?? {})) expect(md).toContain(`| ${np.metadata.name} `);
      expect(md).toMatchSnapshot(name);
    }
  });

  test('review --base: a larger volume claim template replaces the StatefulSet; an unrelated stack reviews plainly', () => {
    const base = JSON.parse(first.stacks.sentinel);
    const head = JSON.parse(first.stacks.sentinel);
    const sts = Object.values<any>(head.resource.kubernetes_stateful_set_v1).find((x) => x.metadata.name === 'sessions');
    sts.spec.volume_claim_template[0].spec.resources.requests.storage = '20Gi';
    expect(reviewDiff('sentinel', base, head)).toMatch(/\*\*REPLACEMENT\*\* `kubernetes_stateful_set_v1\.Sessions_Data_[0-9A-F]+` \(spec\.volume_claim_template changed\): every pod of the StatefulSet is deleted and re-created at once/);
    const foreign = reviewStack('other', { resource: { aws_s3_bucket: { Bucket: { bucket: 'acme-backups' } } }, output: { bucket: { value: 'acme-backups' } } });
    expect(foreign).toContain('| `aws_s3_bucket` | 1 |');
    expect(foreign).toContain('### Warnings\n\nNone.');
  });

  test('synthesize byte-identical output from the same input', () => {
    expect(Object.keys(first.stacks).length).toBeGreaterThan(0);
    expect(second.stacks).toEqual(first.stacks);
  });

  test('platform stack: encrypted StorageClasses and deny-by-default NetworkPolicies', () => {
    const plan = JSON.parse(first.stacks.platform);
    const classes = Object.values<any>(plan.resource.kubernetes_storage_class_v1);
    expect(classes.length).toBe(5);
    for (const sc of classes) {
      expect(sc.volume_binding_mode).toBe('WaitForFirstConsumer');
      expect(sc.reclaim_policy).toBe('Retain');
      expect(sc.allow_volume_expansion).toBe(true);
    }
    const policies = Object.values<any>(plan.resource.kubernetes_network_policy_v1);
    const deny = policies.find((p) => p.metadata.name === 'legacy-cache-default-deny');
    expect(deny.spec.policy_types).toEqual(['Ingress', 'Egress']);
    expect(deny.spec.ingress).toBeUndefined();
  });
  test('sentinel stack: SentinelRedis StatefulSets, Services, PDBs, ConfigMaps, Secret and policies; two TLS portals; hourly backups to S3 with SSE-KMS; a cache without backups', () => {
    const plan = JSON.parse(first.stacks.sentinel);
    const names = (type: string) => Object.values<any>(plan.resource[type] ?? {}).map((r) => r.metadata.name).sort();
    expect(names('kubernetes_stateful_set_v1')).toEqual(['cache', 'cache-sentinel', 'sessions', 'sessions-sentinel']);
    expect(names('kubernetes_service_v1')).toEqual(['cache-headless', 'cache-sentinel', 'cache-sentinel-headless', 'sessions-headless', 'sessions-portal', 'sessions-sentinel', 'sessions-sentinel-headless']);
    expect(names('kubernetes_pod_disruption_budget_v1')).toEqual(['cache-data', 'cache-sentinel', 'sessions-data', 'sessions-portal', 'sessions-sentinel']);
    const cron = Object.values<any>(plan.resource.kubernetes_cron_job_v1);
    expect(cron.map((c) => [c.metadata.name, c.spec.schedule, c.spec.concurrency_policy])).toEqual([['sessions-backup', '0 * * * *', 'Forbid']]);
    const env = Object.fromEntries(cron[0].spec.job_template.spec.template.spec.container[0].env.map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({ RCLONE_CONFIG_STORE_SERVER_SIDE_ENCRYPTION: 'aws:kms', RCLONE_CONFIG_STORE_SSE_KMS_KEY_ID: '${var.backup_kms_key_arn}', RCLONE_CONFIG_STORE_ENV_AUTH: 'true' });
    const sts = (name: string) => Object.values<any>(plan.resource.kubernetes_stateful_set_v1).find((x) => x.metadata.name === name);
    expect(sts('cache').metadata.annotations['redis-topologies.io/backups']).toBe('disabled');
    expect(sts('sessions').metadata.annotations['redis-topologies.io/backups']).toMatch(/^0 \* \* \* \* to ObjectStorage\.s3/);
    expect(names('kubernetes_secret_v1')).toEqual(expect.arrayContaining(['sessions-auth', 'sessions-portal-tls']));
    expect(names('kubernetes_config_map_v1')).toEqual(expect.arrayContaining(['sessions-config', 'sessions-scripts', 'sessions-portal-config', 'sessions-portal-connection']));
    expect(names('kubernetes_network_policy_v1')).toEqual(expect.arrayContaining(['sessions-default-deny', 'sessions-portal-default-deny']));
    const portal = Object.values<any>(plan.resource.kubernetes_deployment_v1).find((d) => d.metadata.name === 'sessions-portal');
    expect(portal.spec.replicas).toBe('2');
    expect(Object.keys(plan.resource)).toEqual(expect.arrayContaining(['tls_private_key', 'tls_self_signed_cert', 'tls_locally_signed_cert']));
    expect(plan.output.redis_redis_system_sessions_portal_ca_pem).toBeDefined();
  });

  test('flash stack: Kvrocks data members sized from Azure Flash Optimized 240 GB, Redis sentinels, two TLS portals', () => {
    const plan = JSON.parse(first.stacks.flash);
    const names = (type: string) => Object.values<any>(plan.resource[type] ?? {}).map((r) => r.metadata.name).sort();
    expect(names('kubernetes_stateful_set_v1')).toEqual(['catalog', 'catalog-sentinel']);
    expect(names('kubernetes_deployment_v1')).toEqual(['catalog-portal']);
    const data = Object.values<any>(plan.resource.kubernetes_stateful_set_v1).find((x) => x.metadata.name === 'catalog');
    expect(data.spec.template.spec.container[0].image).toBe('apache/kvrocks:2.17.0');
    expect(data.spec.template.metadata.annotations['redis-topologies.io/flash-ram']).toMatch(/block cache 46976 MiB/);
    const config = Object.values<any>(plan.resource.kubernetes_config_map_v1).find((x) => x.metadata.name === 'catalog-config');
    expect(config.data['kvrocks.conf']).toContain('max-db-size 240');
  });

  test('cluster stack: an OSS cluster of 3 shards and an enterprise one behind two Envoy pods, each with its bootstrap Job', () => {
    const plan = JSON.parse(first.stacks.cluster);
    const names = (type: string) => Object.values<any>(plan.resource[type] ?? {}).map((r) => r.metadata.name).sort();
    expect(names('kubernetes_stateful_set_v1')).toEqual(['catalog-shard-0', 'catalog-shard-1', 'catalog-shard-2', 'sessions-shard-0', 'sessions-shard-1', 'sessions-shard-2']);
    expect(names('kubernetes_deployment_v1')).toEqual(['sessions-proxy']);
    expect(names('kubernetes_job_v1').map((n: string) => n.replace(/-[0-9a-f]{8}$/, ''))).toEqual(['catalog-bootstrap', 'sessions-bootstrap']);
    // The catalog is backed up shard by shard, encrypted client-side; the sessions on purpose not at all.
    expect(names('kubernetes_cron_job_v1')).toEqual(['catalog-backup-0', 'catalog-backup-1', 'catalog-backup-2']);
    for (const pvc of Object.values<any>(plan.resource.kubernetes_persistent_volume_claim_v1)) {
      expect(pvc.metadata.annotations['redis-topologies.io/encryption']).not.toMatch(/UNENCRYPTED/);
    }
  });
});

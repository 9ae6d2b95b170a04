import {
  AccessEgress, Backups, ClientSideEncryption, DataStorage, EncryptedStorageClass, HaproxyPortal, ObjectStorage, RestoreFrom, SentinelRedis, ShardedRedisCluster,
  StorageCredentials, StorageEncryption,
} from '../../lib';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { planFindings, PlanFinding } from '../../lib/review/invariants';
import { reviewDiff, reviewMarker, reviewStack, secretLocations, tlsEndpoints, unifiedDiff } from '../../lib/review/review';
import { main } from '../../lib/review/cli';
import { synth } from '../helpers';

/** A stack with backups and a restore on both topologies: the pods and policies the examples do not have. */
const plan = synth((stack) => {
  const sc = new EncryptedStorageClass(stack, 'Sc', { encryption: StorageEncryption.awsEbs() });
  const storage = ObjectStorage.s3({ bucket: 'backups', credentials: StorageCredentials.fromSecret('store') });
  const egress = [AccessEgress.toCidr('10.0.0.0/8', [443])];
  const encryption = ClientSideEncryption.fromSecret('crypt');
  const backup = Backups.toObjectStorage({ storage, egress, clientSideEncryption: encryption });
  new SentinelRedis(stack, 'Cache', {
    namespace: 'data', storage: DataStorage.encrypted(sc, '10Gi'), backup,
    restoreFrom: RestoreFrom.latest({ storage, namespace: 'data', name: 'old', egress, clientSideEncryption: encryption }),
  });
  new ShardedRedisCluster(stack, 'Kv', {
    namespace: 'data', storage: DataStorage.encrypted(sc, '10Gi'), backup,
    restoreFrom: RestoreFrom.latest({ storage, namespace: 'data', name: 'kv-old', egress }),
  });
}).json;

const rules = (f: PlanFinding[]) => f.map((x) => `${x.rule}: ${x.message}`);
const copy = () => JSON.parse(JSON.stringify(plan));

test('backups and restores keep every invariant (CronJob pods, restore init containers, their policies)', () => {
  expect(rules(planFindings(plan))).toEqual([]);
});

describe('each rule finds what breaks it', () => {
  test('a claim without an encryption statement, and one unencrypted without the opt-out', () => {
    const p = copy();
    const claims = Object.values<any>(p.resource.kubernetes_persistent_volume_claim_v1);
    delete claims[0].metadata.annotations;
    claims[1].metadata.annotations['redis-topologies.io/encryption'] = 'UNENCRYPTED (accepted: no)';
    expect(rules(planFindings(p)).filter((r) => r.startsWith('encrypted-storage'))).toEqual([
      expect.stringMatching(/says nothing about encryption/),
      expect.stringMatching(/unencrypted without the explicit opt-out/),
    ]);
  });

  test('a privileged init container, a root one, no seccomp, a hostPath volume, host networking', () => {
    const p = copy();
    const cron = Object.values<any>(p.resource.kubernetes_cron_job_v1)[0];
    const pod = cron.spec.job_template.spec.template.spec;
    pod.init_container[0].security_context.privileged = true;
    pod.init_container[0].security_context.run_as_user = '0';
    delete pod.container[0].security_context.seccomp_profile;
    delete pod.security_context.seccomp_profile;
    pod.volume.push({ name: 'host', host_path: { path: '/' } });
    pod.host_network = true;
    expect(rules(planFindings(p)).filter((r) => r.startsWith('restricted-pods')).sort()).toEqual([
      expect.stringMatching(/container snapshot is privileged/),
      expect.stringMatching(/container snapshot runs as uid 0/),
      expect.stringMatching(/container upload has no RuntimeDefault seccomp profile/),
      expect.stringMatching(/uses a host namespace/),
      expect.stringMatching(/volume host is of a kind the restricted profile forbids \(host_path\)/),
    ].sort((a, b) => String(a).localeCompare(String(b))));
  });

  test('pods no deny-by-default policy selects', () => {
    const p = copy();
    for (const [id, np] of Object.entries<any>(p.resource.kubernetes_network_policy_v1)) {
      if (np.metadata.name === 'cache-backup-default-deny') delete p.resource.kubernetes_network_policy_v1[id];
    }
    expect(rules(planFindings(p))).toEqual([expect.stringMatching(/^default-deny: no deny-by-default NetworkPolicy selects its pods .*redis-backup/)]);
  });

  test('a secret in a ConfigMap, and a password as a plain env value', () => {
    const p = copy();
    const cm = Object.values<any>(p.resource.kubernetes_config_map_v1)[0];
    cm.data['leak.conf'] = 'requirepass ${random_password.x.result}';
    const sts = Object.values<any>(p.resource.kubernetes_stateful_set_v1)[0];
    sts.spec.template.spec.container[0].env.push({ name: 'REDIS_PASSWORD', value: 'hunter2' });
    expect(rules(planFindings(p)).filter((r) => r.startsWith('secrets'))).toEqual([
      expect.stringMatching(/key leak.conf holds a secret value/),
      expect.stringMatching(/env REDIS_PASSWORD has a plain value/),
    ]);
  });

  test('a Service whose selector matches nothing, and one whose target port no pod has', () => {
    const p = copy();
    const services = Object.values<any>(p.resource.kubernetes_service_v1);
    services[0].spec.selector = { 'app.kubernetes.io/name': 'nothing' };
    services[1].spec.port[0].target_port = 'nope';
    expect(rules(planFindings(p)).filter((r) => r.startsWith('service-selectors'))).toEqual([
      expect.stringMatching(/matches no pod of the plan/),
      expect.stringMatching(/target port nope is no port of the pods it selects/),
    ]);
  });
});

describe('review: the Markdown a reviewer pastes', () => {
  const md = reviewStack('data', plan);

  test('marker, counts, workloads with their images, resources and storage', () => {
    expect(md.startsWith(`${reviewMarker('data')}\n## Stack \`data\``)).toBe(true);
    expect(md).toMatch(/\| `kubernetes_cron_job_v1` \| 4 \|/);
    expect(md).toMatch(/\| Cache \| CronJob \| cache-backup \| schedule `0 \* \* \* \*` \| redis:7\.2\.7, rclone\/rclone:1\.68\.2 \|/);
    expect(md).toMatch(/\| Cache \| StatefulSet \| cache \| 2 \| rclone\/rclone:1\.68\.2, redis:7\.2\.7 \| redis:6379 \| restore: 100m CPU, 256Mi; redis: 250m CPU, 1Gi \| data: 10Gi on sc \|/);
    expect(md).toMatch(/\| data-cache-0 \| 10Gi \| .* \| aws-ebs: account default EBS KMS key \|/);
  });

  test('our topologies, recognized by their labels', () => {
    expect(md).toContain('- SentinelRedis `cache` in data: StatefulSet cache, StatefulSet cache-sentinel');
    expect(md).toContain('- SentinelRedis backups `cache` in data: CronJob cache-backup');
    expect(md).toMatch(/- ShardedRedisCluster `kv` in data: Job kv-bootstrap-[0-9a-f]{8}, StatefulSet kv-shard-0, StatefulSet kv-shard-1, StatefulSet kv-shard-2/);
    expect(md).toContain('- ShardedRedisCluster backups `kv` in data: CronJob kv-backup-0, CronJob kv-backup-1, CronJob kv-backup-2');
  });

  test('who may reach what, from the policies: the backup pods are a client, their egress is listed', () => {
    expect(md).toMatch(/\| cache-allow-clients \| same namespace, pods app\.kubernetes\.io\/component=backup,app\.kubernetes\.io\/instance=cache,app\.kubernetes\.io\/name=redis-backup \| data: app\.kubernetes\.io\/instance=cache,app\.kubernetes\.io\/part-of=sentinel-redis \| 6379, 26379 \|/);
    expect(md).toMatch(/\| cache-backup-allow-egress \(egress\) \| .* \| CIDR 10\.0\.0\.0\/8 \| 443 \|/);
    expect(md).toMatch(/\| cache-backup-default-deny \| - \| .* \| deny all ingress and egress \|/);
    expect(md).toContain('```mermaid\nflowchart LR');
  });

  test('rendered files as the pod reads them, with real line breaks', () => {
    expect(md).toContain('<details><summary>cache-scripts: redis-entrypoint.sh</summary>');
    expect(md).toContain('\n#!/bin/sh\n# Data member entrypoint for data/cache');
    expect(md).toContain('"${POD_NAME:?POD_NAME must be set');
    expect(md).not.toContain('$${POD_NAME');
  });

  test('warnings: images without a digest; none from the invariants', () => {
    expect(md).toContain('- image without a digest: `redis:7.2.7`');
    expect(md).not.toMatch(/\*\*(encrypted-storage|restricted-pods|default-deny|secrets|service-selectors)\*\*/);
  });
});

describe('review --base: what changes, what is replaced, which pods roll', () => {
  const changed = copy();
  const byName = (type: string, name: string) => Object.values<any>(changed.resource[type]).find((r) => r.metadata.name === name);
  byName('kubernetes_stateful_set_v1', 'cache').spec.service_name = 'cache-renamed';
  byName('kubernetes_persistent_volume_claim_v1', 'data-cache-0').spec.storage_class_name = 'other';
  const sentinel = byName('kubernetes_stateful_set_v1', 'cache-sentinel');
  sentinel.spec.template.metadata.annotations['redis-topologies.io/config-checksum'] = 'changed';
  const scripts = byName('kubernetes_config_map_v1', 'cache-scripts');
  scripts.data['redis-entrypoint.sh'] = scripts.data['redis-entrypoint.sh'].replace('set -eu', 'set -eux');
  const md = reviewDiff('data', plan, changed);

  test('replacements name the forcing field and what it means for the pods and data', () => {
    expect(md).toMatch(/\*\*REPLACEMENT\*\* `kubernetes_stateful_set_v1\.[^`]+` \(spec\.service_name changed\): every pod of the StatefulSet is deleted and re-created at once/);
    expect(md).toMatch(/\*\*REPLACEMENT\*\* `kubernetes_persistent_volume_claim_v1\.[^`]+` \(spec\.storage_class_name changed\): the claim is deleted and a new, EMPTY one made/);
  });

  test('rolling pods and a line diff of the changed script', () => {
    expect(md).toContain('- `cache-sentinel` rolls: pod template annotations (config checksum) changed');
    expect(md).toContain('```diff');
    expect(md).toMatch(/\n-set -eu\n\+set -eux\n/);
    expect(md).toMatch(/4 changed\./);
  });

  test('a generated password whose length changes is a new password', () => {
    const p = copy();
    const pw = Object.values<any>(p.resource.random_password)[0];
    pw.length = 40;
    expect(reviewDiff('data', plan, p)).toMatch(/\*\*REPLACEMENT\*\* `random_password\.[^`]+` \(length changed\): a NEW password/);
  });

  test('an unchanged plan: nothing added, removed, replaced or rolled', () => {
    const same = reviewDiff('data', plan, copy());
    expect(same).toContain('0 added, 0 removed, 0 changed.');
    expect(same).toContain('None: every change is made in place.');
  });
});

test('unifiedDiff: context around each change, @@ between hunks', () => {
  const a = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].join('\n');
  const b = ['a', 'B', 'c', 'd', 'e', 'f', 'g', 'h', 'I'].join('\n');
  expect(unifiedDiff(a, b, 1)).toBe([' a', '-b', '+B', ' c', '@@', ' h', '-i', '+I'].join('\n'));
});

test('the command writes one review per stack, with the diff against a base', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rt-review-'));
  try {
    for (const [dir, p] of [['head', changed()], ['base', plan]] as const) {
      mkdirSync(join(root, dir, 'stacks', 'data'), { recursive: true });
      writeFileSync(join(root, dir, 'stacks', 'data', 'cdk.tf.json'), JSON.stringify(p));
    }
    expect(await main(['review', join(root, 'head'), '--base', join(root, 'base'), '--out', join(root, 'out')], () => undefined)).toBe(0);
    const text = readFileSync(join(root, 'out', 'data.md'), 'utf8');
    expect(text).toContain('## Stack `data`');
    expect(text).toContain('### Changes from the base plan');
    expect(await main(['review', join(root, 'nowhere')], () => undefined)).toBe(1);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  function changed() {
    const p = copy();
    Object.values<any>(p.resource.kubernetes_stateful_set_v1)[0].spec.replicas = '3';
    return p;
  }
});

describe('review: TLS endpoints, where secrets live, and the security diff', () => {
  test('secrets: the generated password is in Terraform state; the store keys and the crypt key are yours', () => {
    const where = secretLocations(plan);
    expect(where).toContain('Secret data/cache-auth (password): password generated by Terraform, so also in its state');
    expect(where).toContain('Secret data/store: yours, not in Terraform state; read by cache, cache-backup, kv-backup-0, kv-backup-1, kv-backup-2, kv-shard-0, kv-shard-1, kv-shard-2');
    expect(where).toContain('Secret data/crypt: yours, not in Terraform state; read by cache, cache-backup, kv-backup-0, kv-backup-1, kv-backup-2');
  });

  test('TLS: none inside this stack; a portal HAProxy endpoint with its minimum version', () => {
    expect(tlsEndpoints(plan)).toEqual([]);
    const withPortal = synth((stack) => {
      const sc = new EncryptedStorageClass(stack, 'Sc', { encryption: StorageEncryption.awsEbs() });
      const redis = new SentinelRedis(stack, 'Cache', { namespace: 'data', storage: DataStorage.encrypted(sc, '10Gi'), backup: Backups.disabled() });
      new HaproxyPortal(stack, 'Portal', { backend: redis });
    }).json;
    expect(tlsEndpoints(withPortal)).toEqual(['cache-portal-config/haproxy.cfg: port 6380, TLS from TLSv1.2 (HAProxy)']);
    const md = reviewStack('portal', withPortal);
    expect(md).toContain('### TLS endpoints\n\n- cache-portal-config/haproxy.cfg: port 6380, TLS from TLSv1.2 (HAProxy)');
  });

  test('a change that opens access, swaps an image and drops a Secret is listed as such', () => {
    const p = copy();
    const np = Object.values<any>(p.resource.kubernetes_network_policy_v1).find((x) => x.metadata.name === 'cache-allow-clients');
    np.spec.ingress[0].from.push({ namespace_selector: {} });
    const sts = Object.values<any>(p.resource.kubernetes_stateful_set_v1).find((x) => x.metadata.name === 'cache');
    sts.spec.template.spec.container[0].image = 'redis:7.4.0';
    for (const [id, sec] of Object.entries<any>(p.resource.kubernetes_secret_v1)) if (sec.metadata.name === 'cache-auth') delete p.resource.kubernetes_secret_v1[id];
    const md = reviewDiff('data', plan, p);
    expect(md).toContain('- access **added**: cache-allow-clients: ANY namespace, every pod -> data: app.kubernetes.io/instance=cache,app.kubernetes.io/part-of=sentinel-redis : 6379,26379');
    expect(md).toMatch(/- image \*\*added\*\*: kubernetes_stateful_set_v1\.[^/]+\/redis: redis:7\.4\.0/);
    expect(md).toMatch(/- image \*\*removed\*\*: kubernetes_stateful_set_v1\.[^/]+\/redis: redis:7\.2\.7/);
    expect(md).toContain('- secret **removed**: Secret data/cache-auth (password): password generated by Terraform, so also in its state');
    expect(reviewDiff('data', plan, copy())).toContain('No access, TLS, image or secret change.');
  });
});

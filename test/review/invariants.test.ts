import {
  AccessEgress, Backups, ClientSideEncryption, DataStorage, EncryptedStorageClass, ObjectStorage, RestoreFrom, SentinelRedis, ShardedRedisCluster,
  StorageCredentials, StorageEncryption,
} from '../../lib';
import { planFindings, PlanFinding } from '../../lib/review/invariants';
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

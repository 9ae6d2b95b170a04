import { spawnSync } from 'child_process';
import {
  AccessClient, AclPermissions, Availability, DataStorage, EncryptedStorageClass, EvictionPolicy, Persistence, RedisAuth,
  SentinelRedis, SentinelRedisProps, Spread,
} from '../../lib';
import { STS, SVC, PDB, CM, SECRET, NP, emptyStack, synth, Synthed } from '../helpers';
import { Construct } from 'constructs';


function storage(scope: Construct): DataStorage {
  return DataStorage.encrypted(EncryptedStorageClass.fromExisting(scope, 'Sc', { storageClassName: 'enc', vouchedBy: 'test' }), '5Gi');
}

function build(over: Partial<SentinelRedisProps> = {}): { out: Synthed; redis: SentinelRedis } {
  let redis!: SentinelRedis;
  const out = synth((s) => {
    redis = new SentinelRedis(s, 'Cache', { namespace: 'data', storage: storage(s), ...over });
  });
  return { out, redis };
}

function configOf(out: Synthed, file: string): string {
  return out.renderedData(CM, 'cache-config')[file];
}

describe('SentinelRedis topology', () => {
  const { out, redis } = build();

  test('snapshot', () => {
    expect(out.json.resource).toMatchSnapshot();
  });

  test('two data members and three sentinels in their own StatefulSets with headless Services', () => {
    const data = out.named(STS, 'cache');
    const sentinel = out.named(STS, 'cache-sentinel');
    expect(data.spec.replicas).toBe('2');
    expect(sentinel.spec.replicas).toBe('3');
    expect(data.spec.pod_management_policy).toBe('Parallel');
    const headless = out.named(SVC, 'cache-headless');
    expect(headless.spec.cluster_ip).toBe('None');
    expect(headless.spec.publish_not_ready_addresses).toBe(true);
    expect(headless.spec.selector).toEqual(data.spec.selector.match_labels);
    expect(out.named(SVC, 'cache-sentinel-headless').spec.cluster_ip).toBe('None');
    const svc = out.named(SVC, 'cache-sentinel');
    expect(svc.spec.port).toEqual([{ name: 'sentinel', port: 26379, target_port: 'sentinel' }]);
    expect(svc.spec.selector).toEqual(sentinel.spec.selector.match_labels);
    // no Service routes by a role label (OT#1153): there is no "master" Service at all
    expect(out.list(SVC).map((s) => s.metadata.name).sort()).toEqual(['cache-headless', 'cache-sentinel', 'cache-sentinel-headless']);
  });

  test('quorum is a majority; PDBs keep the quorum and a data member', () => {
    expect(redis.model.quorum).toBe(2);
    expect(out.named(PDB, 'cache-sentinel').spec.min_available).toBe('2');
    expect(out.named(PDB, 'cache-data').spec.max_unavailable).toBe('1');
  });

  test('spread over zones (preferred) and nodes (required)', () => {
    const spec = out.named(STS, 'cache').spec.template.spec;
    expect(spec.topology_spread_constraint[0]).toMatchObject({ topology_key: 'topology.kubernetes.io/zone', when_unsatisfiable: 'ScheduleAnyway', max_skew: 1 });
    expect(spec.affinity.pod_anti_affinity.required_during_scheduling_ignored_during_execution[0].topology_key).toBe('kubernetes.io/hostname');
  });

  test('redis.conf: maxmemory 80% of the limit, noeviction, timeout 0, AOF everysec, no secrets', () => {
    const conf = configOf(out, 'redis.conf');
    expect(conf).toContain(`maxmemory ${Math.floor(2 ** 30 * 0.8)}`);
    expect(conf).toContain('maxmemory-policy noeviction');
    expect(conf).toContain('timeout 0');
    expect(conf).toContain('appendonly yes');
    expect(conf).toContain('appendfsync everysec');
    expect(conf).not.toMatch(/requirepass|masterauth/);
    expect(JSON.stringify(out.resources(CM))).not.toContain('random_password');
  });

  test('sentinel.conf: hostnames resolved and announced; 2000/10000 failover timing', () => {
    expect(configOf(out, 'sentinel.conf')).toContain('sentinel resolve-hostnames yes');
    expect(configOf(out, 'sentinel.conf')).toContain('sentinel announce-hostnames yes');
    const master = configOf(out, 'sentinel-master.conf');
    expect(master).toContain('sentinel down-after-milliseconds mymaster 2000');
    expect(master).toContain('sentinel failover-timeout mymaster 10000');
  });

  test('sentinel entrypoint: stable run IDs, peers and replicas known from the start, only if they resolve', () => {
    const script = out.renderedData(CM, 'cache-scripts')['sentinel-entrypoint.sh'];
    expect(script).toContain(`printf 'sentinel myid %s\\n' "$(sentinel_id "$SELF")"`);
    expect(script).toMatch(/getent hosts "\$_h" >\/dev\/null 2>&1; then\n\s+printf 'sentinel known-replica/);
    expect(script).toMatch(/getent hosts "\$_h" >\/dev\/null 2>&1; then\n\s+printf 'sentinel known-sentinel/);
    expect(out.renderedData(CM, 'cache-scripts')['common.sh']).toContain(`sentinel_id() { printf '%s/%s' "$NAMESPACE" "$1" | sha1sum | cut -c1-40; }`);
  });

  test('boot decisions follow the highest sentinel config epoch, need a quorum of answers, and survive a full outage', () => {
    const scripts = out.renderedData(CM, 'cache-scripts');
    expect(scripts['common.sh']).toContain('if [ "$(printf \'%s\\n\' "$_views" | wc -l)" -ge "$QUORUM" ]; then');
    expect(scripts['common.sh']).toContain("best_view() { sort | uniq -c | sort -k2,2nr -k1,1nr | head -n 1 | awk '{ print $2, $3 }'; }");
    expect(scripts['redis-entrypoint.sh']).toContain('if [ "$ORDINAL" = 0 ] && data_empty && ! promotable_member_alive "$SELF" >/dev/null; then');
    // No member resumes the primary role on a timer while the sentinels could still promote another.
    expect(scripts['redis-entrypoint.sh']).not.toContain('SELF_FAILOVER_WAIT');
    expect(scripts['common.sh']).not.toContain('SELF_FAILOVER_WAIT');
    const sentinel = scripts['sentinel-entrypoint.sh'];
    expect(sentinel).toContain('cat "$STATE_DIR/view"');
    // A view pairs the config epoch with the primary the sentinel gives clients, read in that order:
    // during a failover's reconfiguration SENTINEL MASTER already holds the new epoch but still the old
    // address, so its "ip" field would pair the new epoch with the demoted member.
    const view = scripts['common.sh'].slice(scripts['common.sh'].indexOf('sentinel_view() {'));
    const epochAt = view.indexOf('SENTINEL MASTER "$MASTER_NAME"');
    const addrAt = view.indexOf('SENTINEL get-master-addr-by-name "$MASTER_NAME"');
    expect(epochAt).toBeGreaterThan(0);
    expect(addrAt).toBeGreaterThan(epochAt);
    expect(view.slice(0, view.indexOf('\n}'))).not.toContain('v["ip"] }');
    expect(sentinel).toContain("printf 'sentinel config-epoch %s %s\\n' \"$MASTER_NAME\" \"$epoch\"");
    // Cold start: a long down-after period until the primary answers, so no replica is promoted early.
    expect(sentinel).toContain("printf 'sentinel down-after-milliseconds %s %s\\n' \"$MASTER_NAME\" \"$COLD_DOWN_AFTER\"");
    expect(sentinel).toContain('COLD_DOWN_AFTER=30000');
    const spec = out.named(STS, 'cache-sentinel').spec.template.spec;
    // Persistent data: the sentinels' state is on a claim of its own on the same encrypted class.
    expect(spec.volume.find((v: any) => v.name === 'state')).toBeUndefined();
    const claim = out.named(STS, 'cache-sentinel').spec.volume_claim_template[0];
    expect(claim.metadata.name).toBe('state');
    expect(claim.spec.storage_class_name).toBe(out.named(STS, 'cache').spec.volume_claim_template[0].spec.storage_class_name);
    expect(claim.spec.resources.requests.storage).toBe('1Gi');
    expect(spec.container[0].volume_mount).toContainEqual({ name: 'state', mount_path: '/var/lib/redis-topologies' });
  });

  test('auth: generated password in a Secret, mounted, never in a ConfigMap', () => {
    const secret = out.named(SECRET, 'cache-auth');
    expect(secret.data.password).toMatch(/^\$\{random_password\.\w+\.result\}$/);
    const pw = Object.values<any>(out.resources('random_password'));
    expect(pw[0]).toMatchObject({ length: 32, special: false });
    const vol = out.named(STS, 'cache').spec.template.spec.volume.find((v: any) => v.name === 'auth');
    expect(vol.secret.secret_name).toContain('kubernetes_secret_v1');
    expect(out.json.provider.random).toBeDefined();
  });

  test('persistent volumes on the encrypted class', () => {
    const claim = out.named(STS, 'cache').spec.volume_claim_template[0];
    expect(claim.spec.storage_class_name).toBe('enc');
    expect(claim.spec.resources.requests.storage).toBe('5Gi');
  });

  test('pods pass the restricted profile', () => {
    for (const sts of out.list(STS)) {
      const spec = sts.spec.template.spec;
      expect(spec.automount_service_account_token).toBe(false);
      expect(spec.security_context).toMatchObject({ run_as_non_root: true, seccomp_profile: { type: 'RuntimeDefault' } });
      for (const c of spec.container) {
        expect(c.security_context).toMatchObject({ allow_privilege_escalation: false, capabilities: { drop: ['ALL'] }, read_only_root_filesystem: true, run_as_non_root: true });
        expect(Number(c.security_context.run_as_user)).toBeGreaterThan(0);
      }
    }
  });

  test('each pod template rolls only for its own changes (checksum annotation)', () => {
    const sum = (o: typeof out, sts: string) => o.named(STS, sts).spec.template.metadata.annotations['redis-topologies.io/config-checksum'];
    const rolled = (props: Parameters<typeof build>[0]) => {
      const other = build(props).out;
      return { data: sum(other, 'cache') !== sum(out, 'cache'), sentinel: sum(other, 'cache-sentinel') !== sum(out, 'cache-sentinel') };
    };
    expect(sum(out, 'cache')).toMatch(/^[0-9a-f]{64}$/);
    // A data-member setting rolls the data members only.
    expect(rolled({ evictionPolicy: EvictionPolicy.ALLKEYS_LRU })).toEqual({ data: true, sentinel: false });
    expect(rolled({ memoryLimit: '2Gi' })).toEqual({ data: true, sentinel: false });
    expect(rolled({ aclUsers: [{ name: 'app' }] })).toEqual({ data: true, sentinel: false });
    // A sentinel setting rolls the sentinels only.
    expect(rolled({ downAfterMilliseconds: 5000 })).toEqual({ data: false, sentinel: true });
    expect(rolled({ parallelSyncs: 2 })).toEqual({ data: false, sentinel: true });
    // Scaling: more members restart nobody (they read members.sh again); more sentinels roll the sentinels.
    expect(rolled({ dataMembers: 3 })).toEqual({ data: false, sentinel: false });
    expect(rolled({ sentinels: 5 })).toEqual({ data: false, sentinel: true });
    // An image is run by both.
    expect(rolled({ image: 'redis:7.2.8' })).toEqual({ data: false, sentinel: false });
    const image = (o: typeof out, sts: string) => o.named(STS, sts).spec.template.spec.container[0].image;
    const upgraded = build({ image: 'redis:7.2.8' }).out;
    expect([image(upgraded, 'cache'), image(upgraded, 'cache-sentinel')]).toEqual(['redis:7.2.8', 'redis:7.2.8']);
  });

  test('a primary hands its role over before it stops: preStop hook inside the grace period', () => {
    const pod = out.named(STS, 'cache').spec.template.spec;
    expect(pod.container[0].lifecycle.pre_stop[0].exec.command).toEqual(['sh', '/etc/redis-topologies/scripts/redis-prestop.sh']);
    expect(pod.termination_grace_period_seconds).toBe(30);
    const hook = out.renderedData(CM, 'cache-scripts')['redis-prestop.sh'];
    expect(hook).toContain('HANDOVER_SECONDS=20');
    // Writes wait, every replica catches up, the sentinels promote, the old primary follows at once.
    // The failover request is timed against the sentinel's INFO period (it records the promotion from
    // its next INFO reply); the old primary follows at once, and its clients are let go once the
    // sentinel names the new primary (dropped and unpaused in one session).
    const steps = ['\nalign_failover\n', "printf 'CLIENT PAUSE %s WRITE\\nINFO replication\\n'", 'field slave_repl_offset', 'SENTINEL FAILOVER "$MASTER_NAME"',
      'find_other_master "$SELF"', 'REPLICAOF "$new" "$REDIS_PORT"', 'SENTINEL get-master-addr-by-name "$MASTER_NAME"',
      "printf 'CLIENT KILL TYPE normal\\nCLIENT KILL TYPE pubsub\\nCLIENT UNPAUSE\\n'"];
    let at = -1;
    for (const step of steps) {
      const next = hook.indexOf(step, at + 1);
      expect([step, next > at]).toEqual([step, true]);
      at = next;
    }
    expect(build({ handoverSeconds: 40 }).out.named(STS, 'cache').spec.template.spec.termination_grace_period_seconds).toBe(50);
    expect(hook).toMatch(/\nINFO_PERIOD=1000\n[^]*\nSYNC_BUDGET=3000\nPAUSE_BUDGET=6000\nFAILOVER_AT_AGE=500\n/);
    // Once a sentinel may have been asked to fail over, writes never resume on this member before the
    // promotion is done: resuming while a promotion can still happen could lose acknowledged writes.
    const afterRequest = hook.slice(hook.indexOf('stamp; t_started=$NOW'), hook.indexOf("printf 'CLIENT KILL TYPE normal"));
    expect(afterRequest.length).toBeGreaterThan(500);
    expect(afterRequest).not.toMatch(/\bresume\b/);
    // A request that timed out may have started a failover: no second sentinel is asked then.
    expect(hook).toContain('if [ "$st" = 124 ]; then unsure=$s; break; fi');
    // Each sentinel asks every member for INFO every second (Sentinel's default is 10 s).
    expect(out.renderedData(CM, 'cache-scripts')['sentinel-entrypoint.sh']).toContain('SENTINEL DEBUG info-period 1000 min-link-reconnect-period 3000');
    // A sentinel stopping triggers no failover; its hook only lets a failover it runs end first (at most
    // the failover timeout, 10 s, and 2 s), inside its grace period.
    const sentinelPod = out.named(STS, 'cache-sentinel').spec.template.spec;
    expect(sentinelPod.container[0].lifecycle.pre_stop[0].exec.command).toEqual(['sh', '/etc/redis-topologies/scripts/sentinel-prestop.sh']);
    const sentinelHook = out.renderedData(CM, 'cache-scripts')['sentinel-prestop.sh'];
    expect(sentinelHook).toContain('*failover_in_progress*) ;;');
    expect(sentinelHook).toContain('while [ "$n" -lt 60 ]; do');
    expect(sentinelPod.termination_grace_period_seconds).toBe(17);
    expect(build({ failoverTimeoutMilliseconds: 30000 }).out.named(STS, 'cache-sentinel').spec.template.spec.termination_grace_period_seconds).toBe(37);
  });

  test('every script is POSIX sh that parses, with no control characters but newlines and tabs', () => {
    for (const [name, script] of Object.entries(out.renderedData(CM, 'cache-scripts'))) {
      expect({ name, control: script.match(/[\u0000-\u0008\u000b-\u001f\u007f]/g) ?? [] }).toEqual({ name, control: [] });
      const r = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
      expect({ name, status: r.status, stderr: r.stderr }).toEqual({ name, status: 0, stderr: '' });
    }
  });

  test('scaled-in members are forgotten by the sentinels, one sentinel at a time', () => {
    const scripts = out.renderedData(CM, 'cache-scripts');
    expect(scripts['members.sh']).toContain('DATA_MEMBERS=2\nSENTINELS=3\nQUORUM=2\n');
    expect(scripts['common.sh']).toContain('load_members() { . "$SCRIPTS_DIR/members.sh"; }');
    expect(scripts['common.sh']).not.toMatch(/^DATA_MEMBERS=/m);
    const sentinel = scripts['sentinel-entrypoint.sh'];
    expect(sentinel).toContain('sleep $(( ORDINAL * 5 ))');
    expect(sentinel).toContain('SENTINEL RESET "$MASTER_NAME"');
    expect(sentinel).toContain('*failover*|*s_down*) continue ;;');
  });

  test('probes: startup covers the boot timeout, liveness tolerates a minute', () => {
    const c = out.named(STS, 'cache').spec.template.spec.container[0];
    expect(c.startup_probe.period_seconds * c.startup_probe.failure_threshold).toBeGreaterThanOrEqual(600);
    expect(c.liveness_probe.period_seconds * c.liveness_probe.failure_threshold).toBeGreaterThanOrEqual(60);
    expect(c.readiness_probe.exec.command).toEqual(['sh', '/etc/redis-topologies/scripts/redis-probe.sh', 'readiness']);
  });

  test('network policies: deny by default, peers on 6379/26379, label convention', () => {
    const deny = out.named(NP, 'cache-default-deny');
    expect(deny.spec.pod_selector.match_labels).toEqual({ 'app.kubernetes.io/instance': 'cache', 'app.kubernetes.io/part-of': 'sentinel-redis' });
    expect(out.named(NP, 'cache-allow-peers').spec.ingress[0].ports.map((p: any) => p.port)).toEqual(['6379', '26379']);
    expect(out.named(NP, 'cache-allow-clients').spec.ingress[0].from[0].pod_selector.match_labels).toEqual({ 'redis-topologies.io/redis-cache-access': 'allow' });
    // both StatefulSets' pods carry the labels the policies select
    for (const sts of out.list(STS)) {
      expect(sts.spec.template.metadata.labels).toMatchObject(deny.spec.pod_selector.match_labels);
    }
  });

  test('connection contract and interface attributes', () => {
    expect(out.named(CM, 'cache-redis-config').data).toEqual({
      REDIS_CLUSTER_NAME: 'cache', REDIS_SENTINEL_HOST: 'cache-sentinel.data', REDIS_SENTINEL_PORT: '26379',
      REDIS_SENTINEL_MASTER_NAME: 'mymaster', REDIS_SENTINEL_AUTH: 'true', REDIS_TLS: 'false',
    });
    expect(redis.sentinelHosts).toEqual([0, 1, 2].map((i) => `cache-sentinel-${i}.cache-sentinel-headless.data.svc.cluster.local`));
    expect(redis.dataMemberHosts).toEqual(['cache-0.cache-headless.data.svc.cluster.local', 'cache-1.cache-headless.data.svc.cluster.local']);
    expect(out.outputs().redis_data_cache_url.sensitive).toBe(true);
  });
});

describe('SentinelRedis options', () => {
  test('development mode: one member, no sentinels, flagged in the plan', () => {
    const { out, redis } = build({ availability: Availability.DEVELOPMENT });
    expect(out.named(STS, 'cache').spec.replicas).toBe('1');
    expect(out.list(STS)).toHaveLength(1);
    expect(out.named(STS, 'cache').metadata.annotations['redis-topologies.io/availability']).toBe('development');
    expect(redis.highlyAvailable).toBe(false);
    expect(redis.scriptFiles['members.sh']).toContain('SENTINELS=0');
  });

  test('persistence modes', () => {
    expect(configOf(build({ persistence: Persistence.none() }).out, 'redis.conf')).toMatch(/appendonly no\nsave ""/);
    expect(configOf(build({ persistence: Persistence.rdb([{ seconds: 60, changes: 10 }]) }).out, 'redis.conf')).toContain('save "60 10"');
  });

  test('write safety and failover timing are configurable', () => {
    const { out } = build({ minReplicasToWrite: 1, minReplicasMaxLagSeconds: 5, downAfterMilliseconds: 5000, failoverTimeoutMilliseconds: 60000 });
    expect(configOf(out, 'redis.conf')).toContain('min-replicas-to-write 1\nmin-replicas-max-lag 5');
    expect(configOf(out, 'sentinel-master.conf')).toContain('down-after-milliseconds mymaster 5000');
  });

  test('ACL users: rules in the ConfigMap, passwords in the Secret', () => {
    const { out } = build({ aclUsers: [{ name: 'app' }, { name: 'reader', permissions: AclPermissions.readOnly() }] });
    expect(configOf(out, 'acl-rules')).toBe('app ~* &* +@all -@dangerous -@admin\nreader ~* &* +@read +@connection -@dangerous\n');
    expect(Object.keys(out.named(SECRET, 'cache-auth').data).sort()).toEqual(['acl-app', 'acl-reader', 'password']);
  });

  test('an existing Secret keeps the password out of Terraform', () => {
    const { out, redis } = build({ auth: RedisAuth.fromExistingSecret({ secretName: 'my-redis-pw', passwordKey: 'pw' }) });
    expect(out.list('random_password')).toHaveLength(0);
    expect(out.list(SECRET)).toHaveLength(0);
    expect(redis.auth).toEqual({ secretName: 'my-redis-pw', passwordKey: 'pw' });
    expect(out.outputs().redis_data_cache_url).toBeUndefined();
    // The scripts read <auth>/password: the Secret's own key is mounted under that name, in every pod.
    for (const sts of ['cache', 'cache-sentinel']) {
      const vol = out.named(STS, sts).spec.template.spec.volume.find((v: any) => v.name === 'auth');
      expect(vol.secret).toMatchObject({ secret_name: 'my-redis-pw', items: [{ key: 'pw', path: 'password' }] });
    }
  });

  test('TLS inside the topology', () => {
    const { out } = build({ tlsSecretName: 'cache-tls' });
    expect(configOf(out, 'redis.conf')).toMatch(/port 0\ntls-port 6379/);
    expect(configOf(out, 'redis.conf')).toContain('tls-replication yes');
    expect(configOf(out, 'sentinel.conf')).toMatch(/port 0\ntls-port 26379/);
    const vol = out.named(STS, 'cache-sentinel').spec.template.spec.volume.find((v: any) => v.name === 'tls');
    expect(vol.secret.secret_name).toBe('cache-tls');
  });

  test('placement: strict zones, dedicated pool', () => {
    const { out } = build({ zoneSpread: Spread.REQUIRED, nodeSelector: { pool: 'redis' }, tolerations: [{ key: 'dedicated', value: 'redis', effect: 'NoSchedule' }] });
    const spec = out.named(STS, 'cache-sentinel').spec.template.spec;
    expect(spec.topology_spread_constraint[0].when_unsatisfiable).toBe('DoNotSchedule');
    expect(spec.node_selector).toEqual({ pool: 'redis' });
    expect(spec.toleration).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'redis', effect: 'NoSchedule' }]);
  });

  test('ephemeral storage is an emptyDir, no claims', () => {
    const { out } = build({ storage: DataStorage.ephemeral({ sizeLimit: '2Gi' }), persistence: Persistence.none() });
    const sts = out.named(STS, 'cache');
    expect(sts.spec.volume_claim_template).toBeUndefined();
    expect(sts.spec.template.spec.volume.find((v: any) => v.name === 'data')).toEqual({ name: 'data', empty_dir: { size_limit: '2Gi' } });
  });

  test('metrics sidecar and policy', () => {
    const { out } = build({ metrics: {}, clients: [AccessClient.namespace('web')] });
    const containers = out.named(STS, 'cache').spec.template.spec.container;
    expect(containers.map((c: any) => c.name)).toEqual(['redis', 'metrics']);
    expect(containers[1].env.find((e: any) => e.name === 'REDIS_PASSWORD').value_from.secret_key_ref.key).toBe('password');
    expect(out.named(NP, 'cache-allow-metrics').spec.ingress[0].ports).toEqual([{ port: '9121', protocol: 'TCP' }]);
  });

  test('same input, same output', () => {
    expect(JSON.stringify(build().out.json)).toBe(JSON.stringify(build().out.json));
  });
});

describe('SentinelRedis validation', () => {
  const make = (over: Partial<SentinelRedisProps>) => () => {
    const s = emptyStack();
    new SentinelRedis(s, 'Cache', { namespace: 'data', storage: storage(s), ...over });
  };
  test.each<[Partial<SentinelRedisProps>, string]>([
    [{ sentinels: 4 }, 'invalid prop "sentinels" = 4; allowed: an odd integer from 3 to 9'],
    [{ sentinels: 1 }, 'invalid prop "sentinels" = 1; allowed: an odd integer from 3 to 9'],
    [{ quorum: 1 }, 'invalid prop "quorum" = 1; allowed: an integer from 2 to 3: more than half of the sentinels, at most all of them'],
    [{ sentinels: 5, quorum: 6 }, 'invalid prop "quorum" = 6; allowed: an integer from 3 to 5'],
    [{ dataMembers: 1 }, 'invalid prop "dataMembers" = 1; allowed: an integer from 2 to 9'],
    [{ availability: Availability.DEVELOPMENT, dataMembers: 2 }, 'invalid prop "dataMembers" = 2; allowed: 1 in development mode: replicas without sentinels never fail over'],
    [{ availability: Availability.DEVELOPMENT, sentinels: 3 }, 'invalid prop "sentinels" = 3; allowed: unset in development mode'],
    [{ minReplicasToWrite: 2 }, 'invalid prop "minReplicasToWrite" = 2; allowed: an integer from 0 to 1'],
    [{ memoryLimit: '1GB' }, 'invalid prop "memoryLimit" = "1GB"; allowed: a positive memory quantity such as 256Mi or 2Gi'],
    [{ memoryLimit: '16Mi' }, 'invalid prop "memoryLimit" = "16Mi"; allowed: at least 32Mi'],
    [{ maxmemoryRatio: 1 }, 'invalid prop "maxmemoryRatio" = 1'],
    [{ namespace: 'Data' }, 'invalid prop "namespace" = "Data"'],
    [{ name: 'x'.repeat(41) }, `invalid prop "name" = "${'x'.repeat(41)}"; allowed: a DNS-1123 label of at most 40 characters`],
    [{ masterName: 'my master' }, 'invalid prop "masterName" = "my master"'],
    [{ downAfterMilliseconds: 100 }, 'invalid prop "downAfterMilliseconds" = 100; allowed: an integer from 500 to 600000'],
    [{ aclUsers: [{ name: 'default' }] }, 'invalid prop "aclUsers[0].name" = "default"'],
    [{ aclUsers: [{ name: 'a' }, { name: 'a' }] }, 'invalid prop "aclUsers[1].name" = "a"; allowed: a name not used by another ACL user'],
    [{ storage: DataStorage.unencrypted({ size: '1Gi', acknowledgeUnencrypted: false }) }, 'invalid prop "storage.acknowledgeUnencrypted" = false'],
    [{ auth: RedisAuth.fromExistingSecret({ secretName: 's' }), threeScaleSecret: {} }, 'invalid prop "threeScaleSecret" = "with RedisAuth.fromExistingSecret"'],
    [{ auth: RedisAuth.generated({ length: 8 }) }, 'invalid prop "auth.length" = 8; allowed: an integer from 16 to 128'],
  ])('rejects %j', (over, message) => {
    expect(make(over)).toThrow(`test/Cache: ${message}`);
  });

  test('unencrypted storage is accepted only when explicitly acknowledged', () => {
    expect(make({ storage: DataStorage.unencrypted({ size: '1Gi', acknowledgeUnencrypted: true }) })).not.toThrow();
  });

  test('every problem is reported at once', () => {
    expect(make({ sentinels: 4, memoryLimit: 'x' })).toThrow(/"sentinels" = 4[\s\S]*"memoryLimit" = "x"/);
  });
});

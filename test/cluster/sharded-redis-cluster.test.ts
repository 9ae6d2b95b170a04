import { spawnSync } from 'child_process';
import { Construct } from 'constructs';
import {
  AccessClient, AzureTier, ClusterPolicy, ClusterSizing, DataStorage, EncryptedStorageClass, PortalCertificates, RedisAuth, ShardedRedisCluster,
  ShardedRedisClusterProps, slotRanges, StorageEncryption,
} from '../../lib';
import { CM, DEPLOY, emptyStack, NP, PDB, PVC, STS, SVC, synth, Synthed } from '../helpers';

function storage(scope: Construct) {
  return DataStorage.encrypted(new EncryptedStorageClass(scope, 'Sc', { encryption: StorageEncryption.awsEbs() }), '10Gi');
}

function build(over: Partial<ShardedRedisClusterProps> = {}): { s: Synthed; c: ShardedRedisCluster } {
  let c: ShardedRedisCluster | undefined;
  const s = synth((stack) => {
    c = new ShardedRedisCluster(stack, 'Kv', { namespace: 'data', storage: storage(stack), ...over });
  });
  return { s, c: c! };
}

/** The construct alone, not synthesized (cheaper, for what its attributes show). */
function construct(over: Partial<ShardedRedisClusterProps>): ShardedRedisCluster {
  const st = emptyStack();
  return new ShardedRedisCluster(st, 'Kv', { namespace: 'data', storage: storage(st), ...over });
}

/** The message ShardedRedisCluster `Kv` throws for these props (or '' when it builds). */
function messageFor(over: Record<string, unknown>): string {
  const st = emptyStack();
  try {
    new ShardedRedisCluster(st, 'Kv', { namespace: 'data', storage: storage(st), ...over } as ShardedRedisClusterProps);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('ShardedRedisCluster: the default topology', () => {
  const { s, c } = build();

  test('snapshot: resources by type and name, and the rendered files', () => {
    const byType = Object.fromEntries(Object.entries<any>(s.json.resource).map(([type, rs]) => [type, Object.values<any>(rs).map((r) => r.metadata?.name ?? '(unnamed)').sort()]));
    expect({ byType, config: c.configFiles, scripts: Object.keys(c.scriptFiles).sort(), layout: c.scriptFiles['layout.sh'] }).toMatchSnapshot();
  });

  test('3 shards of a primary and a replica: one StatefulSet per shard, 2 pods each, an encrypted claim per pod', () => {
    const sts = s.list(STS);
    expect(sts.map((x) => [x.metadata.name, x.spec.replicas])).toEqual([['kv-shard-0', '2'], ['kv-shard-1', '2'], ['kv-shard-2', '2']]);
    const claims = s.list(PVC);
    expect(claims).toHaveLength(6);
    for (const claim of claims) expect(claim.metadata.annotations['redis-topologies.io/encryption']).toBe('aws-ebs: account default EBS KMS key');
    expect(claims.map((x) => x.metadata.name).sort()).toEqual(['data-kv-shard-0-0', 'data-kv-shard-0-1', 'data-kv-shard-1-0', 'data-kv-shard-1-1', 'data-kv-shard-2-0', 'data-kv-shard-2-1']);
    expect(c.dataMemberHosts[0]).toBe('kv-shard-0-0.kv-headless.data.svc.cluster.local');
  });

  test('placement: a shard\'s members never share a node, spread over zones; all members spread over zones', () => {
    for (const [k, sts] of s.list(STS).entries()) {
      const pod = sts.spec.template.spec;
      const shardSelector = sts.spec.selector.match_labels;
      expect(shardSelector['redis-topologies.io/shard']).toBe(String(k));
      const term = pod.affinity.pod_anti_affinity.required_during_scheduling_ignored_during_execution[0];
      expect(term.topology_key).toBe('kubernetes.io/hostname');
      expect(term.label_selector[0].match_labels).toEqual(shardSelector);
      expect(pod.topology_spread_constraint.map((t: any) => [t.topology_key, t.label_selector[0].match_labels['redis-topologies.io/shard'] ?? 'all'])).toEqual([
        ['topology.kubernetes.io/zone', String(k)], ['topology.kubernetes.io/zone', 'all'],
      ]);
    }
  });

  test('members: redis and bus ports, the pod address from the downward API, restricted, preStop handover, grace = handover + 10 s', () => {
    const pod = s.list(STS)[0].spec.template.spec;
    const redis = pod.container[0];
    expect(redis.port.map((p: any) => [p.name, p.container_port])).toEqual([['redis', 6379], ['bus', 16379]]);
    expect(redis.env.find((e: any) => e.name === 'POD_IP').value_from.field_ref.field_path).toBe('status.podIP');
    expect(redis.security_context.run_as_non_root).toBe(true);
    expect(redis.security_context.allow_privilege_escalation).toBe(false);
    expect(redis.lifecycle.pre_stop[0].exec.command).toEqual(['sh', '/etc/redis-topologies/scripts/member-prestop.sh']);
    expect(pod.termination_grace_period_seconds).toBe(30);
    expect(redis.volume_mount.find((m: any) => m.name === 'data').mount_path).toBe('/data');
  });

  test('services: a headless one publishing not-ready members (redis, bus), a client Service as seed; one PDB, one member at a time', () => {
    const headless = s.named(SVC, 'kv-headless');
    expect(headless.spec.cluster_ip).toBe('None');
    expect(headless.spec.publish_not_ready_addresses).toBe(true);
    expect(headless.spec.port.map((p: any) => p.port)).toEqual([6379, 16379]);
    expect(s.named(SVC, 'kv').spec.port.map((p: any) => p.port)).toEqual([6379]);
    expect(s.list(PDB).map((p) => p.spec.max_unavailable)).toEqual(['1']);
    expect(c.serviceHost).toBe('kv.data');
  });

  test('redis.conf: cluster mode, nodes.conf on the data volume, hostnames announced, replicas stay in their shard', () => {
    const conf = c.configFiles['redis.conf'];
    for (const line of ['cluster-enabled yes', 'cluster-config-file /data/nodes.conf', 'cluster-node-timeout 5000', 'cluster-port 16379',
      'cluster-preferred-endpoint-type hostname', 'cluster-allow-replica-migration no', 'appendonly yes']) {
      expect(conf.split('\n')).toContain(line);
    }
    expect(conf).not.toMatch(/requirepass/);
  });

  test('the bootstrap Job: the apply waits for it, the layout in its template (a new layout re-runs it), restricted', () => {
    const job = Object.values<any>(s.resources('kubernetes_job_v1'))[0];
    expect(job.metadata.name).toMatch(/^kv-bootstrap-[0-9a-f]{8}$/);
    // A new layout is a new name: the provider replaces the Job (its template is immutable), so it runs again.
    const scaled = construct({ shards: 4 }).bootstrapJobName;
    expect(scaled).toMatch(/^kv-bootstrap-[0-9a-f]{8}$/);
    expect(scaled).not.toBe(job.metadata.name);
    expect(job.spec.active_deadline_seconds).toBe(2400);
    // The shard StatefulSets do not wait for ready members (the Job, after them, makes them ready).
    for (const sts of s.list(STS)) expect(sts.wait_for_rollout).toBe(false);
    expect(job.wait_for_completion).toBe(true);
    expect(job.spec.template.metadata.annotations['redis-topologies.io/layout']).toBe('3x2');
    expect(job.spec.template.spec.container[0].command).toEqual(['sh', '/etc/redis-topologies/scripts/cluster-bootstrap.sh']);
    expect(job.spec.template.spec.container[0].security_context.run_as_non_root).toBe(true);
  });

  test('network policies: clients on 6379 only; the bus (16379) between the topology\'s own pods only', () => {
    const policies = s.list(NP);
    const ingressPorts = (p: any) => (p.spec.ingress ?? []).flatMap((i: any) => (i.ports ?? []).map((x: any) => Number(x.port)));
    const peers = policies.find((p) => ingressPorts(p).includes(16379));
    expect(peers).toBeDefined();
    expect(peers.spec.ingress[0].from.every((f: any) => f.pod_selector && !f.namespace_selector)).toBe(true);
    for (const p of policies.filter((x) => x !== peers)) expect(ingressPorts(p)).not.toContain(16379);
    expect(policies.some((p) => p.spec.policy_types?.includes('Ingress') && (p.spec.ingress ?? []).length === 0)).toBe(true);
  });

  test('scale-in guard: a precondition on shard 0 fails a plan with fewer shards than the StatefulSets running', () => {
    const lifecycle = s.list(STS)[0].lifecycle;
    expect(lifecycle.precondition[0].condition).toMatch(/^\$\{\(length\(data\.kubernetes_resources\.Kv_RunningShards_[A-F0-9]+\.objects\) <= 3\)\}$/);
    expect(lifecycle.precondition[0].error_message).toMatch(/allowShardRemoval/);
    expect(s.list(STS)[1].lifecycle.precondition).toBeUndefined();
    expect((construct({ allowShardRemoval: true }).shardStatefulSets[0].lifecycle as any).precondition).toBeUndefined();
  });

  test('the connection ConfigMap: every member, the seed Service, no password', () => {
    expect(s.renderedData(CM, 'kv-redis-cluster')).toEqual({
      REDIS_CLUSTER_NAME: 'kv',
      REDIS_CLUSTER_MODE: 'oss',
      REDIS_CLUSTER_NODES: c.dataMemberHosts.map((h) => `${h}:6379`).join(','),
      REDIS_CLUSTER_SEED: 'kv.data:6379',
      REDIS_TLS: 'false',
    });
  });

  test('every script is POSIX sh that parses, with no control characters but newlines and tabs', () => {
    for (const [name, script] of Object.entries(c.scriptFiles)) {
      expect({ name, control: script.match(/[\u0000-\u0008\u000b-\u001f\u007f]/g) ?? [] }).toEqual({ name, control: [] });
      const r = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
      expect({ name, status: r.status, stderr: r.stderr }).toEqual({ name, status: 0, stderr: '' });
    }
  });

  test('parse_nodes reads Redis 7.0 and 7.2 lines (7.2 adds tls-port and shard-id after the hostname)', () => {
    const lines = [
      'aaaa 198.18.0.5:6379@16379,kv-shard-0-1.kv-headless.data.svc.cluster.local slave bbbb 0 1700000000000 2 connected',
      'bbbb 198.18.0.6:6379@16379,kv-shard-0-0.kv-headless.data.svc.cluster.local,tls-port=0,shard-id=0123 myself,master - 0 0 1 connected 0-5460',
      'cccc :0@0,,tls-port=0,shard-id=4567 master,fail,noaddr - 0 0 3 disconnected',
      'vars currentEpoch 3 lastVoteEpoch 0',
    ].join('\n');
    const script = `${c.scriptFiles['common.sh']}\nparse_nodes <<'EOF'\n${lines}\nEOF\n`;
    const out = spawnSync('sh', ['-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH, POD_NAME: 'kv-shard-0-0' } });
    expect(out.stdout.trim().split('\n')).toEqual([
      'aaaa 198.18.0.5 6379 16379 kv-shard-0-1.kv-headless.data.svc.cluster.local slave bbbb connected',
      'bbbb 198.18.0.6 6379 16379 kv-shard-0-0.kv-headless.data.svc.cluster.local myself,master - connected 0-5460',
      'cccc - 0 0 - master,fail,noaddr - disconnected',
    ]);
  });
});

describe('slot ranges', () => {
  test('redis-cli\'s even split: 3 shards 0-5460 / 5461-10922 / 10923-16383, every slot once, sizes within one', () => {
    expect(slotRanges(3)).toEqual([{ first: 0, last: 5460 }, { first: 5461, last: 10922 }, { first: 10923, last: 16383 }]);
    expect(slotRanges(1)).toEqual([{ first: 0, last: 16383 }]);
    for (let n = 1; n <= 64; n++) {
      const r = slotRanges(n);
      expect(r[0].first).toBe(0);
      expect(r[n - 1].last).toBe(16383);
      for (let k = 1; k < n; k++) expect(r[k].first).toBe(r[k - 1].last + 1);
      const sizes = r.map((x) => x.last - x.first + 1);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });
});

describe('the enterprise policy: one TLS endpoint through Envoy', () => {
  const { s, c } = build({ policy: ClusterPolicy.enterprise({ certificates: PortalCertificates.selfSigned() }), clients: [AccessClient.namespace('shop')] });

  test('two Envoy pods on separate nodes behind one Service, the config seeded with every member, password from the Secret file', () => {
    const d = s.named(DEPLOY, 'kv-proxy');
    expect(d.spec.replicas).toBe('2');
    expect(d.spec.template.spec.affinity.pod_anti_affinity.required_during_scheduling_ignored_during_execution[0].topology_key).toBe('kubernetes.io/hostname');
    expect(d.spec.template.spec.container[0].image).toMatch(/^envoyproxy\/envoy:v1\.\d+\.\d+$/);
    const yaml = c.proxy!.configFiles['envoy.yaml'];
    for (const h of c.dataMemberHosts) expect(yaml).toContain(h);
    expect(yaml).toContain('/etc/redis-topologies/auth/password');
    expect(yaml).toContain('TLSv1_2');
    expect(s.named(SVC, 'kv-proxy').spec.port.map((p: any) => p.port)).toEqual([6379]);
    const data = s.named(CM, 'kv-redis-cluster').data;
    expect(data).toMatchObject({ REDIS_CLUSTER_MODE: 'enterprise', REDIS_HOST: 'kv-proxy.data', REDIS_PORT: '6379', REDIS_PROXY_TLS: 'true' });
    // The proxy's CA (a self-signed one, known to Terraform) is published for clients to verify it.
    expect(data['ca.crt']).toMatch(/^\$\{tls_self_signed_cert\.Kv_Proxy_Tls_Ca_[A-F0-9]+\.cert_pem\}$/);
  });

  test('clients are admitted to the proxy; the members admit only their peers and the proxy, on the client port', () => {
    const policies = s.list(NP);
    const from = (p: any) => (p.spec.ingress ?? []).flatMap((i: any) => i.from ?? []);
    const toMembers = policies.filter((p) => p.spec.pod_selector.match_labels['app.kubernetes.io/part-of'] === 'sharded-redis-cluster');
    expect(toMembers.flatMap(from).some((f: any) => f.namespace_selector?.match_labels?.['kubernetes.io/metadata.name'] === 'shop')).toBe(false);
    const toProxy = policies.filter((p) => p.spec.pod_selector.match_labels['app.kubernetes.io/component'] === 'proxy');
    expect(toProxy.flatMap(from).some((f: any) => f.namespace_selector?.match_labels?.['kubernetes.io/metadata.name'] === 'shop')).toBe(true);
  });
});

describe('the twemproxy policy: standalone shards behind nutcracker', () => {
  const policy = ClusterPolicy.twemproxy({ image: 'registry.example/nutcracker:0.5.0', acknowledgeNoTls: true });
  const { s, c } = build({ policy });

  test('three standalone shards without replicas or bus, no bootstrap Job, two nutcracker pods; the password only in the Secret', () => {
    expect(s.list(STS).map((x) => [x.metadata.name, x.spec.replicas])).toEqual([['kv-shard-0', '1'], ['kv-shard-1', '1'], ['kv-shard-2', '1']]);
    expect(c.configFiles['redis.conf'].split('\n')).toContain('cluster-enabled no');
    expect(s.list(STS)[0].spec.template.spec.container[0].port.map((p: any) => p.container_port)).toEqual([6379]);
    expect(s.resources('kubernetes_job_v1')).toEqual({});
    expect(Object.keys(c.scriptFiles).sort()).toEqual(['common.sh', 'member-entrypoint.sh', 'member-prestop.sh', 'member-probe.sh']);
    const d = s.named(DEPLOY, 'kv-proxy');
    expect(d.spec.replicas).toBe('2');
    const conf = c.proxy!.configFiles['nutcracker.yml'];
    expect(conf).toContain('   - kv-shard-1-0.kv-headless.data.svc.cluster.local:6379:1 kv-shard-1-0');
    expect(conf).toMatch(/hash: murmur\n\s+distribution: ketama/);
    expect(conf).not.toMatch(/^\s*redis_auth:/m);
    expect(d.spec.template.spec.volume.find((v: any) => v.name === 'run').empty_dir.medium).toBe('Memory');
    expect(s.renderedData(CM, 'kv-redis-cluster')).toMatchObject({ REDIS_CLUSTER_MODE: 'twemproxy', REDIS_HOST: 'kv-proxy.data', REDIS_PROXY_TLS: 'false' });
    for (const [name, script] of Object.entries(c.proxy!.configFiles).filter(([n]) => n.endsWith('.sh'))) {
      const r = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
      expect({ name, status: r.status }).toEqual({ name, status: 0 });
    }
  });

  test.each<[string, Record<string, unknown>, string]>([
    ['no acknowledgement of plain text', { policy: ClusterPolicy.twemproxy({ image: 'x/nutcracker:1', acknowledgeNoTls: false }) }, 'invalid prop "policy.acknowledgeNoTls" = false; allowed: true: twemproxy has no TLS'],
    ['no image', { policy: ClusterPolicy.twemproxy({ acknowledgeNoTls: true } as any) }, 'invalid prop "policy.image" = undefined'],
    ['replicas behind twemproxy', { policy, replicasPerShard: 1 }, 'invalid prop "replicasPerShard" = 1; allowed: 0 with ClusterPolicy.twemproxy()'],
  ])('%s', (_name, over, message) => {
    expect(messageFor(over)).toContain(message);
  });
});

describe('sizing presets', () => {
  test('Azure Balanced 12 GB: 2 primary shards raised to 3, the preset and its arithmetic on the pod templates', () => {
    const { s, c } = build({ sizing: ClusterSizing.azure(AzureTier.BALANCED, 12) });
    expect(c.model.shards).toBe(3);
    const ann = s.list(STS)[0].spec.template.metadata.annotations;
    expect(ann['redis-topologies.io/sizing']).toMatch(/Balanced/);
    expect(ann['redis-topologies.io/sizing-derivation']).toMatch(/3 shards/);
  });
});

describe('ShardedRedisCluster props: one clear message per mistake', () => {
  test.each<[string, Record<string, unknown>, string]>([
    ['two shards', { shards: 2 }, 'test/Kv: invalid prop "shards" = 2; allowed: an integer from 3 to 64: a replica is promoted only by a majority of the primaries'],
    ['one shard', { shards: 1 }, 'invalid prop "shards" = 1; allowed: an integer from 3 to 64'],
    ['a one-shard sizing', { sizing: ClusterSizing.explicit({ shards: 1, memoryLimit: '1Gi', cpuRequest: '100m' }) }, 'invalid prop "sizing.shards" = 1; allowed: an integer from 3'],
    ['65 shards', { shards: 65 }, 'invalid prop "shards" = 65'],
    ['no replica', { replicasPerShard: 0 }, 'invalid prop "replicasPerShard" = 0; allowed: an integer from 1 to 5'],
    ['ephemeral storage', { storage: DataStorage.ephemeral() }, 'invalid prop "storage" = "DataStorage.ephemeral()"; allowed: persistent storage'],
    ['sizing and shards', { sizing: ClusterSizing.explicit({ shards: 3, memoryLimit: '1Gi', cpuRequest: '100m' }), shards: 3 }, 'invalid prop "shards" = 3; allowed: unset when sizing is given'],
    ['policy look-alike', { policy: { kind: 'oss' } }, 'invalid prop "policy" = {"kind":"oss"}; allowed: one of ClusterPolicy.oss(), ClusterPolicy.enterprise(options)'],
    ['enterprise with one proxy', { policy: ClusterPolicy.enterprise({ certificates: PortalCertificates.selfSigned(), replicas: 1 }) }, 'invalid prop "policy.replicas" = 1; allowed: an integer from 2 to 20'],
    ['enterprise with member TLS', { policy: ClusterPolicy.enterprise({ certificates: PortalCertificates.selfSigned() }), tlsSecretName: 'kv-tls' }, 'invalid prop "tlsSecretName" = "kv-tls"; allowed: unset with ClusterPolicy.enterprise()'],
    ['node timeout', { clusterNodeTimeoutMilliseconds: 500 }, 'invalid prop "clusterNodeTimeoutMilliseconds" = 500; allowed: an integer from 1000 to 60000'],
    ['password secret with an existing Secret', { auth: RedisAuth.fromExistingSecret({ secretName: 'mine' }), passwordSecret: { name: 'p', namespaces: ['app'] } }, 'invalid prop "passwordSecret"'],
    ['allowShardRemoval from JavaScript', { allowShardRemoval: 'yes' }, 'invalid prop "allowShardRemoval" = "yes"; allowed: true or false'],
  ])('%s', (_name, over, message) => {
    expect(messageFor(over)).toContain(message);
  });

  test('valid props build', () => {
    expect(messageFor({ shards: 3 })).toBe('');
    expect(messageFor({ replicasPerShard: 2 })).toBe('');
  });
});

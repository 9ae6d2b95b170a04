/**
 * LiveCluster: boots a synthesized ShardedRedisCluster with Debian's redis-server, one network
 * namespace per pod, every container (members and the bootstrap Job) started exactly as the
 * plan's pod templates say (command, env, mounts, user), with ConfigMap data as Terraform renders
 * it. Shared by the cluster live test and bench:cluster.
 */
import { Plan, ClaimStore, PlanContainer } from './plan-pods';
import { runInitContainers, runToCompletion } from './pod-runs';
import { PodNetwork } from './harness/netns';
import { EmulatedContainer } from './harness/pod';
import * as fs from 'fs';
import * as path from 'path';
import { execIn, redisCli, waitFor, ExecResult } from './harness/client';
import { harnessRoot } from './harness/pod';
import { TestCertificates } from './certificates';
import { startWriter, Writer } from './harness/writer';
import { synth } from '../helpers';
import { DataStorage, EncryptedStorageClass, ShardedRedisCluster, ShardedRedisClusterProps } from '../../lib';

export const CLUSTER_NAMESPACE = 'live';
export const CLUSTER_NAME = 'kv';
/** Reads keys through ioredis's Cluster client: prints the missing sequence numbers as JSON. */
const CLUSTER_CHECK_JS = path.join(__dirname, 'harness', 'bin', 'cluster-check.js');

/** The hash slot of a key without a hash tag: CRC16 (XMODEM) of the key, mod 16384 (the cluster spec's keyHashSlot). */
export function keySlot(key: string): number {
  let crc = 0;
  for (const byte of Buffer.from(key)) {
    crc ^= byte << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

/** Whether `slot` is in one of CLUSTER NODES' slot fields (`a-b` or `a`; importing/migrating markers ignored). */
export function inSlots(slot: number, fields: string[]): boolean {
  return fields.some((f) => {
    if (f.startsWith('[')) return false;
    const [a, b] = f.split('-').map(Number);
    return slot >= a && slot <= (b ?? a);
  });
}

/** One line of CLUSTER NODES. */
export interface ClusterNode {
  id: string;
  ip: string;
  host: string;
  flags: string[];
  master: string;
  configEpoch: number;
  link: string;
  slots: string[];
}

export function parseClusterNodes(text: string): ClusterNode[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const f = l.split(' ');
    const [addr, host] = f[1].split(',');
    return {
      id: f[0], ip: addr.slice(0, addr.lastIndexOf(':')), host: host ?? '', flags: f[2].split(','), master: f[3],
      configEpoch: Number(f[6]), link: f[7], slots: f.slice(8),
    };
  });
}

/** The live stack's plan: the ShardedRedisCluster with `props` on encrypted claims. */
export function synthesizeCluster(props: Partial<ShardedRedisClusterProps>): { plan: Plan; topology: ShardedRedisCluster } {
  let topology: ShardedRedisCluster | undefined;
  const synthed = synth((stack) => {
    const storageClass = EncryptedStorageClass.fromExisting(stack, 'Encrypted', { storageClassName: 'encrypted-rwo', vouchedBy: 'live test' });
    topology = new ShardedRedisCluster(stack, 'Kv', {
      namespace: CLUSTER_NAMESPACE,
      name: CLUSTER_NAME,
      storage: DataStorage.encrypted(storageClass, '1Gi'),
      ...props,
    });
  });
  return { plan: new Plan(synthed.json), topology: topology! };
}

export class LiveCluster {
  /**
   * `tls`: the certificates the topology's TLS Secret (`props.tlsSecretName`) holds; test clients
   * then speak TLS too, verifying against their CA.
   */
  public static async boot(opts: { prefix: string; password: string; subnetIndex?: number; props?: Partial<ShardedRedisClusterProps>; tls?: TestCertificates; secrets?: Record<string, Record<string, string>> }): Promise<LiveCluster> {
    const { plan, topology } = synthesizeCluster(opts.props ?? {});
    const live = new LiveCluster(plan, topology, opts.password, await PodNetwork.create(opts.prefix, opts.subnetIndex), opts.props ?? {}, opts.tls, opts.secrets);
    for (const { pod, host } of live.members()) await live.net.addPod(pod, [host]);
    live.clientNs = (await live.net.addPod('client', [])).ns;
    // A proxy Deployment's pods (enterprise: Envoy is not installed here; twemproxy: nutcracker).
    for (let k = 0; k < live.proxyReplicas; k++) await live.net.addPod(`proxy-${k}`, []);
    await live.net.addPod('bootstrap', []);
    return live;
  }

  public readonly redisPort = 6379;
  public clientNs = '';
  private readonly claims = new ClaimStore();
  private readonly containers = new Map<string, EmulatedContainer>();
  private bootstrapRuns = 0;

  private constructor(public plan: Plan, public topology: ShardedRedisCluster, public readonly password: string, public readonly net: PodNetwork, private props: Partial<ShardedRedisClusterProps>,
    private readonly tls?: TestCertificates, private readonly secrets: Record<string, Record<string, string>> = {}) {}

  /**
   * Secrets the plan references but does not make: the topology's TLS Secret with the test
   * certificates, and those the test gives (object-storage credentials).
   */
  private externalSecrets(): Record<string, Record<string, string>> {
    const name = this.props.tlsSecretName;
    const tls = this.tls && name ? { [name]: { 'tls.crt': this.tls.cert, 'tls.key': this.tls.key, 'ca.crt': this.tls.ca } } : {};
    return { ...tls, ...this.secrets };
  }

  /**
   * A pull request changing `changes`: synthesizes again and applies what `terraform apply` does
   * before the controllers act: pods for new members get their network namespaces and start (new
   * StatefulSets, new ordinals). The caller then runs the bootstrap, as the replaced Job does.
   */
  public async replan(changes: Partial<ShardedRedisClusterProps>): Promise<void> {
    this.props = { ...this.props, ...changes };
    const next = synthesizeCluster(this.props);
    this.plan = next.plan;
    this.topology = next.topology;
    const existing = new Set(this.net.podList().map((p) => p.name));
    for (const m of this.members()) {
      if (existing.has(m.pod)) continue;
      await this.net.addPod(m.pod, [m.host]);
      await this.start(m.shard, m.ordinal);
    }
  }

  /** Deletes member (shard, ordinal) as the kubelet does: preStop hook, SIGTERM, SIGKILL after the grace period. */
  public async terminate(shard: number, ordinal: number): Promise<{ preStopMs: number; preStopOutput: string; stopMs: number }> {
    const c = this.container(shard, ordinal)!;
    const spec = c.spec as PlanContainer;
    const r = await c.terminate(spec.preStop, spec.terminationGraceSeconds * 1000);
    return { preStopMs: r.preStopMs, preStopOutput: r.preStopOutput.trim(), stopMs: r.stopMs };
  }

  /** The proxy Deployment of the plan, if any. */
  public get proxyDeployment(): any | undefined {
    return Object.values<any>(this.plan.json.resource.kubernetes_deployment_v1 ?? {}).find((d) => d.metadata.name === `${CLUSTER_NAME}-proxy`);
  }

  public get proxyReplicas(): number {
    return Number(this.proxyDeployment?.spec.replicas ?? 0);
  }

  /** Starts proxy pod k from the plan's Deployment. */
  public async startProxy(k: number): Promise<EmulatedContainer> {
    const [spec] = this.plan.podContainers(`${CLUSTER_NAME}-proxy`, `${CLUSTER_NAME}-proxy-${k}`, {
      namespace: CLUSTER_NAMESPACE, claims: this.claims, secretValues: { password: this.password },
    });
    const c = new EmulatedContainer(this.net.nsOf(`proxy-${k}`), spec);
    this.containers.set(`proxy-${k}`, c);
    await c.start();
    return c;
  }

  public proxyContainer(k: number): EmulatedContainer | undefined {
    return this.containers.get(`proxy-${k}`);
  }

  public get shards(): number {
    return this.topology.model.shards;
  }

  public get perShard(): number {
    return this.topology.model.replicasPerShard + 1;
  }

  /** Every member: shard, ordinal, pod name, stable DNS name. */
  public members(): Array<{ shard: number; ordinal: number; pod: string; host: string }> {
    return this.topology.shards.flatMap((s) => s.memberHosts.map((host, i) => ({ shard: s.index, ordinal: i, pod: `${CLUSTER_NAME}-shard-${s.index}-${i}`, host })));
  }

  public host(shard: number, ordinal: number): string {
    return this.topology.shards[shard].memberHosts[ordinal];
  }

  public pod(shard: number, ordinal: number): string {
    return `${CLUSTER_NAME}-shard-${shard}-${ordinal}`;
  }

  /** Starts member (shard, ordinal) as a new pod: fresh emptyDirs, its claim kept, the pod's current address. */
  public async start(shard: number, ordinal: number): Promise<EmulatedContainer> {
    const pod = this.pod(shard, ordinal);
    const opts = {
      namespace: CLUSTER_NAMESPACE, claims: this.claims, secretValues: { password: this.password }, podIP: this.net.addressOf(pod), externalSecrets: this.externalSecrets(),
      emptyDirs: new Map<string, string>(),
    };
    // Init containers (the restore download) run to completion first, as the kubelet runs them.
    await runInitContainers(this.net.nsOf(pod), this.plan.podContainers(`${CLUSTER_NAME}-shard-${shard}`, pod, { ...opts, init: true }));
    const [spec] = this.plan.podContainers(`${CLUSTER_NAME}-shard-${shard}`, pod, opts);
    const c = new EmulatedContainer(this.net.nsOf(pod), spec);
    this.containers.set(pod, c);
    await c.start();
    return c;
  }

  public async startAll(): Promise<void> {
    await Promise.all(this.members().map((m) => this.start(m.shard, m.ordinal)));
  }

  public container(shard: number, ordinal: number): EmulatedContainer | undefined {
    return this.containers.get(this.pod(shard, ordinal));
  }

  public async kill(shard: number, ordinal: number): Promise<void> {
    await this.container(shard, ordinal)?.kill('SIGKILL');
  }

  /** Runs the bootstrap Job's container to completion (bounded); returns its exit code and log. */
  public async bootstrap(timeoutMs = 180_000): Promise<{ code: number | null; log: string }> {
    this.bootstrapRuns++;
    const job = Object.values<any>(this.plan.json.resource.kubernetes_job_v1 ?? {}).find((j) => j.metadata.name.startsWith(`${CLUSTER_NAME}-bootstrap-`));
    if (!job) throw new Error('no bootstrap Job in the plan');
    const [spec] = this.plan.podContainers(job.metadata.name, `${CLUSTER_NAME}-bootstrap-run${this.bootstrapRuns}`, {
      namespace: CLUSTER_NAMESPACE, claims: this.claims, secretValues: { password: this.password }, externalSecrets: this.externalSecrets(),
    });
    const c = new EmulatedContainer(this.net.nsOf('bootstrap'), spec);
    this.containers.set(`bootstrap-${this.bootstrapRuns}`, c);
    return runToCompletion(c, timeoutMs);
  }

  public cli(host: string, args: string[], timeoutMs = 3000): Promise<ExecResult> {
    return redisCli(this.clientNs, args, { host, port: this.redisPort, password: this.password, timeoutMs, tls: this.tls ? { caFile: this.tls.caFile } : undefined });
  }

  public async nodes(shard: number, ordinal: number): Promise<ClusterNode[]> {
    const r = await this.cli(this.host(shard, ordinal), ['CLUSTER', 'NODES'], 2000).catch(() => undefined);
    return r && r.code === 0 ? parseClusterNodes(r.stdout) : [];
  }

  /** A `field:value` reply (CLUSTER INFO, INFO section) of member (shard, ordinal) as a map ({} when it does not answer). */
  private async fields(shard: number, ordinal: number, args: string[]): Promise<Record<string, string>> {
    const r = await this.cli(this.host(shard, ordinal), args, 2000).catch(() => undefined);
    const out: Record<string, string> = {};
    for (const line of (r?.code === 0 ? r.stdout : '').split(/\r?\n/)) {
      const at = line.indexOf(':');
      if (at > 0) out[line.slice(0, at)] = line.slice(at + 1).trim();
    }
    return out;
  }

  public info(shard: number, ordinal: number): Promise<Record<string, string>> {
    return this.fields(shard, ordinal, ['CLUSTER', 'INFO']);
  }

  public replication(shard: number, ordinal: number): Promise<Record<string, string>> {
    return this.fields(shard, ordinal, ['INFO', 'replication']);
  }

  /**
   * Healthy: every member reports cluster_state:ok with all 16384 slots, each shard has exactly one
   * primary owning slots, and its other members are replicas of it with the link up.
   */
  public async healthy(): Promise<boolean> {
    for (const m of this.members()) {
      const info = await this.info(m.shard, m.ordinal);
      if (info.cluster_state !== 'ok' || info.cluster_slots_assigned !== '16384') return false;
    }
    const nodes = await this.nodes(0, 0);
    for (let s = 0; s < this.shards; s++) {
      const hosts = this.topology.shards[s].memberHosts;
      const shardNodes = nodes.filter((n) => hosts.includes(n.host));
      const primaries = shardNodes.filter((n) => n.flags.includes('master') && n.slots.length > 0);
      if (primaries.length !== 1 || shardNodes.length !== hosts.length) return false;
      for (const n of shardNodes) {
        if (n === primaries[0]) continue;
        const ordinal = hosts.indexOf(n.host);
        const r = await this.replication(s, ordinal);
        if (n.master !== primaries[0].id || r.master_link_status !== 'up') return false;
      }
    }
    return true;
  }

  public async waitForHealthy(what: string, timeoutMs = 60_000): Promise<number> {
    const started = Date.now();
    await waitFor(() => this.healthy(), { timeoutMs, intervalMs: 250, what });
    return Date.now() - started;
  }

  /** The shard whose primary is `host`'s current primary, and that primary's ordinal. */
  public async primaryOf(shard: number): Promise<number> {
    const nodes = await this.nodes(shard, 0).then((n) => (n.length > 0 ? n : this.nodes(shard, 1)));
    const hosts = this.topology.shards[shard].memberHosts;
    const p = nodes.find((n) => hosts.includes(n.host) && n.flags.includes('master') && !n.flags.includes('fail') && n.slots.length > 0);
    if (!p) throw new Error(`shard ${shard} has no primary in CLUSTER NODES`);
    return hosts.indexOf(p.host);
  }

  public writer(config: { keyPrefix: string; maxWrites: number; maxSeconds: number; intervalMs?: number }): Writer {
    return startWriter(this.clientNs, {
      mode: 'cluster',
      nodes: this.members().map((m) => ({ host: m.host, port: this.redisPort })),
      password: this.password,
      ...config,
    });
  }

  /** Which of `seqs` have no key `<prefix>:<seq>` holding its number, read by ioredis's Cluster client in the client pod. */
  public async missingKeys(prefix: string, seqs: number[]): Promise<number[]> {
    const file = path.join(harnessRoot(), `check-${process.pid}-${Date.now()}.json`);
    fs.writeFileSync(file, JSON.stringify({ nodes: this.members().map((m) => ({ host: m.host, port: this.redisPort })), password: this.password, prefix, seqs }));
    try {
      const r = await execIn(this.clientNs, [process.execPath, CLUSTER_CHECK_JS, file], { timeoutMs: 60_000 });
      if (r.code !== 0) throw new Error(`cluster-check failed: ${r.stderr || r.stdout}`);
      return JSON.parse(r.stdout) as number[];
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  /**
   * Every member deleted (kill -9) and re-created at a new address, in `order`, `gapMs` apart: a
   * deleted pod's DNS name resolves to nothing until its replacement has an address, as a headless
   * Service publishes it. Returns when the last one has started.
   */
  public async recreateAll(order: Array<{ shard: number; ordinal: number }>, gapMs: number): Promise<void> {
    await Promise.all(order.map((m) => this.kill(m.shard, m.ordinal)));
    for (const m of order) this.net.unpublish(this.pod(m.shard, m.ordinal));
    for (const [k, m] of order.entries()) {
      if (k > 0 && gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      await this.readdress(m.shard, m.ordinal);
      this.net.publish(this.pod(m.shard, m.ordinal));
      await this.start(m.shard, m.ordinal);
    }
  }

  public async readdress(shard: number, ordinal: number): Promise<string> {
    return this.net.readdress(this.pod(shard, ordinal));
  }

  public async destroy(): Promise<void> {
    await Promise.all([...this.containers.values()].map((c) => c.kill('SIGKILL').catch(() => undefined)));
    await this.net.destroy();
  }

  public specOf(shard: number, ordinal: number): PlanContainer | undefined {
    return this.container(shard, ordinal)?.spec as PlanContainer | undefined;
  }
}

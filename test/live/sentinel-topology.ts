/**
 * LiveSentinelRedis: boots a synthesized SentinelRedis with the real daemons, one network
 * namespace per pod, each container started exactly as the plan's pod template says (command,
 * env, mounts, user). Shared by the SentinelRedis live test, the failover benchmark and the
 * portal tests.
 */
import { Plan, ClaimStore, PlanContainer } from './plan-pods';
import { runInitContainers } from './pod-runs';
import { PodNetwork } from './harness/netns';
import { EmulatedContainer } from './harness/pod';
import { redisCli, waitFor, ExecResult } from './harness/client';
import { startWriter, Writer, WriterConfig } from './harness/writer';
import { Construct } from 'constructs';
import { TestCertificates } from './certificates';
import { synth } from '../helpers';
import { DataStorage, EncryptedStorageClass, FlashSizing, FlashTierRedis, FlashTierRedisProps, ISentinelRedis, SentinelRedis, SentinelRedisProps } from '../../lib';

export interface LiveSentinelOptions {
  /** Namespace-name prefix for this topology's pods (1-6 characters, unique per test file). */
  readonly prefix: string;
  /** The password the test stands in for Terraform's random_password. */
  readonly password: string;
  /** Props beyond namespace, name and storage. */
  readonly props?: Partial<SentinelRedisProps>;
  /** Subnet index for the pod network (distinct per concurrently running file). */
  readonly subnetIndex?: number;
  /**
   * TLS inside the topology: the certificates the external Secret `props.tlsSecretName` holds.
   * Test clients then speak TLS too, verifying against their CA.
   */
  readonly tls?: TestCertificates;
  /** Adds more constructs (e.g. a portal) to the same stack, so they are in the same plan. */
  readonly extend?: (stack: Construct, topology: ISentinelRedis) => void;
  /**
   * A FlashTierRedis (Kvrocks data members inside a SentinelRedis) with these props instead of a
   * SentinelRedis with `props`; `topology` is then its inner SentinelRedis.
   */
  readonly flash?: Partial<FlashTierRedisProps>;
  /** Environment added to the data containers (a test's stand-in binaries on PATH). */
  readonly dataEnv?: Record<string, string>;
  /** Secrets the plan references but does not make (e.g. object-storage credentials), by name. */
  readonly secrets?: Record<string, Record<string, string>>;
}

export const LIVE_NAMESPACE = 'live';
export const LIVE_NAME = 'cache';

type Kind = 'data' | 'sentinel';

/** How a StatefulSet's pod was replaced in a rolling update (see LiveSentinelRedis.rollStatefulSet). */
export interface PodReplacement {
  pod: string;
  /** How long the preStop hook ran (0 without one). */
  preStopMs: number;
  /** What the hook printed. */
  preStopOutput: string;
  /** From SIGTERM until the container exited. */
  stopMs: number;
  /** From the new pod's start until its readiness probe passed. */
  readyMs: number;
}

/**
 * One synthesized plan of the live stack: the SentinelRedis with `props` on encrypted claims of
 * `storageSize`, and what `extend` adds (e.g. portals).
 */
export function synthesizeLive(props: Partial<SentinelRedisProps>, extend?: (stack: Construct, topology: ISentinelRedis) => void, storageSize = '1Gi', flash?: Partial<FlashTierRedisProps>): { plan: Plan; topology: SentinelRedis } {
  let topology: SentinelRedis | undefined;
  const synthed = synth((stack) => {
    const storageClass = EncryptedStorageClass.fromExisting(stack, 'Encrypted', { storageClassName: 'encrypted-rwo', vouchedBy: 'live test' });
    if (flash) {
      const f = new FlashTierRedis(stack, 'Cache', {
        namespace: LIVE_NAMESPACE,
        name: LIVE_NAME,
        sizing: FlashSizing.explicit({ capacity: '8Gi', ramRatio: 0.2 }),
        storage: DataStorage.encrypted(storageClass, '10Gi'),
        ...flash,
      });
      topology = f.topology;
      extend?.(stack, f);
      return;
    }
    topology = new SentinelRedis(stack, 'Cache', {
      namespace: LIVE_NAMESPACE,
      name: LIVE_NAME,
      storage: DataStorage.encrypted(storageClass, storageSize),
      ...props,
    });
    extend?.(stack, topology);
  });
  return { plan: new Plan(synthed.json), topology: topology as SentinelRedis };
}

export class LiveSentinelRedis {
  public static async boot(opts: LiveSentinelOptions): Promise<LiveSentinelRedis> {
    const { plan, topology } = synthesizeLive(opts.props ?? {}, opts.extend, '1Gi', opts.flash);
    const live = new LiveSentinelRedis(plan, topology, opts, await PodNetwork.create(opts.prefix, opts.subnetIndex));
    await live.createPods();
    return live;
  }

  public readonly clientNs: string;
  public readonly masterName: string;
  public dataCount: number;
  public sentinelCount: number;
  public readonly redisPort = 6379;
  /** The test's stand-in for the generated password. */
  public readonly password: string;
  public readonly sentinelPort = 26379;
  private readonly claims = new ClaimStore();
  /** The members' claims, for a pod that mounts one (a Kvrocks backup Job). */
  public get claimStore(): ClaimStore {
    return this.claims;
  }
  private readonly containers = new Map<string, EmulatedContainer>();

  /** The props of the current plan (beyond namespace, name and storage, unless given). */
  private props: Partial<SentinelRedisProps>;
  /** The size of the encrypted claims (DataStorage.encrypted(class, size)). */
  private storageSize = '1Gi';

  private constructor(public plan: Plan, public topology: SentinelRedis, private readonly opts: LiveSentinelOptions, public readonly net: PodNetwork) {
    this.clientNs = '';
    this.password = opts.password;
    this.masterName = topology.masterName;
    this.dataCount = Number(plan.statefulSet(this.dataSts).spec.replicas);
    this.sentinelCount = Number(plan.statefulSet(this.sentinelSts).spec.replicas);
    this.props = { ...(opts.props ?? {}) };
  }

  /**
   * A pull request: synthesizes the topology again with `changes` merged over the current props,
   * and applies what `terraform apply` changes before any controller acts: the ConfigMaps and
   * Secrets of running pods are updated in place (as the kubelet does, here at once, the soonest it
   * can happen), and pods for new ordinals get their network namespaces. Returns the previous plan;
   * rollStatefulSet then replaces the pods as the StatefulSet controller would.
   */
  public async replan(changes: Partial<SentinelRedisProps>, opts: { storageSize?: string } = {}): Promise<Plan> {
    const before = this.plan;
    this.props = { ...this.props, ...changes };
    if (opts.storageSize !== undefined) this.storageSize = opts.storageSize;
    const next = synthesizeLive(this.props, this.opts.extend, this.storageSize, this.opts.flash);
    this.plan = next.plan;
    this.topology = next.topology;
    this.dataCount = Number(this.plan.statefulSet(this.dataSts).spec.replicas);
    this.sentinelCount = Number(this.plan.statefulSet(this.sentinelSts).spec.replicas);
    const existing = new Set(this.net.podList().map((p) => p.name));
    for (const kind of ['data', 'sentinel'] as const) {
      const n = kind === 'data' ? this.dataCount : this.sentinelCount;
      for (let i = 0; i < n; i++) if (!existing.has(this.podName(kind, i))) await this.net.addPod(this.podName(kind, i), [this.host(kind, i)]);
    }
    for (const [name, c] of this.containers) {
      if (!c.isRunning()) continue;
      const kind: Kind = name.startsWith(`${this.sentinelSts}-`) ? 'sentinel' : 'data';
      const ordinal = Number(name.slice(name.lastIndexOf('-') + 1));
      const n = kind === 'data' ? this.dataCount : this.sentinelCount;
      if (ordinal >= n) continue; // condemned: its ConfigMaps are the same objects, updated too, but it is about to go
      for (const m of this.containerSpec(kind, ordinal).volumeMounts) {
        if (m.volume.kind === 'files') c.updateFiles(m.mountPath, m.volume.files);
      }
    }
    return before;
  }

  /**
   * The StatefulSet controller applying `this.plan` over `before` (podManagementPolicy Parallel,
   * RollingUpdate): pods beyond the new replica count are deleted at once, new ordinals are created
   * at once, then, if the pod template changed, every other pod is replaced one at a time, highest
   * ordinal first, each deleted (preStop hook, SIGTERM, SIGKILL after the grace period), re-created
   * from the new template at a new address and awaited until its readiness probe passes.
   * `handover: false` skips the preStop hook (a pod without one). `endpoints`, if given, is told the
   * ordinals a Service would route to, as the endpoint controller does: a pod leaves when its deletion
   * starts and joins once its replacement is ready.
   */
  public async rollStatefulSet(kind: Kind, before: Plan, opts: { handover?: boolean; readyTimeoutMs?: number; endpoints?: (ready: number[]) => Promise<void> } = {}): Promise<PodReplacement[]> {
    const sts = kind === 'data' ? this.dataSts : this.sentinelSts;
    const oldSts = before.statefulSet(sts);
    const newSts = this.plan.statefulSet(sts);
    const oldN = Number(oldSts.spec.replicas);
    const newN = Number(newSts.spec.replicas);
    const changed = JSON.stringify(oldSts.spec.template) !== JSON.stringify(newSts.spec.template);
    const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);
    const replaced: PodReplacement[] = [];
    const ready = new Set(range(0, oldN));
    const publish = async (i: number, isReady: boolean) => {
      if (isReady) ready.add(i);
      else ready.delete(i);
      await opts.endpoints?.([...ready].sort((x, y) => x - y));
    };
    await Promise.all(range(newN, oldN).map(async (i) => {
      await publish(i, false);
      replaced.push({ ...(await this.terminate(kind, i, opts.handover !== false)), readyMs: 0 });
    }));
    await Promise.all(range(oldN, newN).map(async (i) => {
      const started = Date.now();
      await this.start(kind, i);
      await this.waitReady(kind, i, opts.readyTimeoutMs);
      await publish(i, true);
      replaced.push({ pod: this.podName(kind, i), preStopMs: 0, preStopOutput: '', stopMs: 0, readyMs: Date.now() - started });
    }));
    if (changed) {
      for (let i = Math.min(oldN, newN) - 1; i >= 0; i--) {
        await publish(i, false);
        const gone = await this.terminate(kind, i, opts.handover !== false);
        await this.readdress(kind, i);
        const started = Date.now();
        await this.start(kind, i);
        await this.waitReady(kind, i, opts.readyTimeoutMs);
        await publish(i, true);
        replaced.push({ ...gone, readyMs: Date.now() - started });
      }
    }
    return replaced;
  }

  /**
   * Makes data member `target` the primary through the sentinels (a test's setup, not a library
   * feature): every other member gets replica-priority 0 until the sentinels have seen it (they read
   * it from INFO every 10 s), then SENTINEL FAILOVER, retried until `target` is primary; the
   * priorities are restored.
   */
  public async promote(target: number, timeoutMs = 90_000): Promise<void> {
    const others = Array.from({ length: this.dataCount }, (_, i) => i).filter((i) => i !== target);
    const setPriority = async (value: number) => {
      for (const i of others) await this.cli(this.dataHost(i), this.redisPort, ['CONFIG', 'SET', 'replica-priority', String(value)]);
    };
    await setPriority(0);
    try {
      await waitFor(async () => {
        const roles = await this.roles();
        if (roles[target] === 'master') return true;
        // Every sentinel must see the other replicas at priority 0 before it can only pick the target.
        const replicas = others.filter((i) => roles[i] === 'slave');
        for (let s = 0; s < this.sentinelCount; s++) {
          const r = await this.cli(this.host('sentinel', s), this.sentinelPort, ['SENTINEL', 'REPLICAS', this.masterName], 1500).catch(() => undefined);
          const lines = r?.stdout.split('\n').map((l) => l.trim()) ?? [];
          if (!replicas.every((i) => this.replicaPrioritySeen(lines, this.dataHost(i)))) return false;
        }
        await this.cli(this.host('sentinel', 0), this.sentinelPort, ['SENTINEL', 'FAILOVER', this.masterName]);
        return false;
      }, { timeoutMs, intervalMs: 2000, what: `${this.dataHost(target)} promoted` });
      await this.waitForHealthy(`${this.dataHost(target)} primary`, 60_000);
    } finally {
      await setPriority(100);
    }
  }

  /** Whether SENTINEL REPLICAS output (one field per line) lists `host` with slave-priority 0. */
  private replicaPrioritySeen(lines: string[], host: string): boolean {
    let current = '';
    for (let k = 0; k + 1 < lines.length; k++) {
      if (lines[k] === 'ip') current = lines[k + 1];
      if (lines[k] === 'slave-priority' && current === host) return lines[k + 1] === '0';
    }
    return false;
  }

  /** Deletes pod i as the kubelet does: its preStop hook (unless `handover` is false), SIGTERM, SIGKILL after the grace period. */
  public async terminate(kind: Kind, i: number, handover = true): Promise<Omit<PodReplacement, 'readyMs'>> {
    const pod = this.podName(kind, i);
    const c = this.container(kind, i);
    if (!c?.isRunning()) return { pod, preStopMs: 0, preStopOutput: '', stopMs: 0 };
    const spec = c.spec as PlanContainer;
    const r = await c.terminate(handover ? spec.preStop : undefined, spec.terminationGraceSeconds * 1000);
    return { pod, preStopMs: r.preStopMs, preStopOutput: r.preStopOutput.trim(), stopMs: r.stopMs };
  }

  /** Waits until pod i's readiness probe (from the plan) passes. */
  public async waitReady(kind: Kind, i: number, timeoutMs = 120_000): Promise<void> {
    const c = this.container(kind, i);
    const probe = (c?.spec as PlanContainer | undefined)?.readiness?.exec;
    if (!c || !probe) throw new Error(`${this.podName(kind, i)} has no exec readiness probe`);
    await waitFor(async () => c.isRunning() && (await c.exec(probe, 5000)).code === 0, { timeoutMs, intervalMs: 300, what: `${this.podName(kind, i)} ready` });
  }

  public get dataSts(): string {
    return LIVE_NAME;
  }

  public get sentinelSts(): string {
    return `${LIVE_NAME}-sentinel`;
  }

  public podName(kind: Kind, i: number): string {
    return `${kind === 'data' ? this.dataSts : this.sentinelSts}-${i}`;
  }

  /** The pod's stable DNS name, as the headless Service gives it. */
  public host(kind: Kind, i: number): string {
    const headless = kind === 'data' ? `${LIVE_NAME}-headless` : `${LIVE_NAME}-sentinel-headless`;
    return `${this.podName(kind, i)}.${headless}.${LIVE_NAMESPACE}.svc.cluster.local`;
  }

  public dataHost(i: number): string {
    return this.host('data', i);
  }

  public sentinelHosts(): Array<{ host: string; port: number }> {
    return Array.from({ length: this.sentinelCount }, (_, i) => ({ host: this.host('sentinel', i), port: this.sentinelPort }));
  }

  private async createPods(): Promise<void> {
    for (let i = 0; i < this.dataCount; i++) await this.net.addPod(this.podName('data', i), [this.host('data', i)]);
    for (let i = 0; i < this.sentinelCount; i++) await this.net.addPod(this.podName('sentinel', i), [this.host('sentinel', i)]);
    (this as { clientNs: string }).clientNs = (await this.net.addPod('client', [])).ns;
  }

  /** The plan's container for a pod: a new pod gets fresh emptyDirs, its claims persist. */
  public containerSpec(kind: Kind, i: number, emptyDirs?: Map<string, string>): PlanContainer {
    const spec = this.podSpecs(kind, i, { emptyDirs })[0];
    return kind === 'data' && this.opts.dataEnv ? { ...spec, env: { ...spec.env, ...this.opts.dataEnv } } : spec;
  }

  /** The plan's containers (or, with `init`, init containers) of pod i. */
  public podSpecs(kind: Kind, i: number, o: { init?: boolean; emptyDirs?: Map<string, string> } = {}): PlanContainer[] {
    const sts = kind === 'data' ? this.dataSts : this.sentinelSts;
    return this.plan.podContainers(sts, this.podName(kind, i), {
      namespace: LIVE_NAMESPACE,
      claims: this.claims,
      secretValues: { password: this.opts.password },
      externalSecrets: { ...this.externalSecrets(), ...this.opts.secrets },
      ...o,
    });
  }

  /** Secrets the plan references but does not make (the topology's TLS Secret), with test contents. */
  public externalSecrets(): Record<string, Record<string, string>> | undefined {
    const name = this.opts.props?.tlsSecretName;
    if (!this.opts.tls || !name) return undefined;
    return { [name]: { 'tls.crt': this.opts.tls.cert, 'tls.key': this.opts.tls.key, 'ca.crt': this.opts.tls.ca } };
  }

  public container(kind: Kind, i: number): EmulatedContainer | undefined {
    return this.containers.get(this.podName(kind, i));
  }

  /**
   * Starts pod `i`: a new pod (fresh emptyDirs) unless `restartContainer`, which restarts the
   * same container in place as the kubelet does after a crash (emptyDirs kept).
   */
  public async start(kind: Kind, i: number, restartContainer = false): Promise<EmulatedContainer> {
    const name = this.podName(kind, i);
    let c = this.containers.get(name);
    if (!c || !restartContainer) {
      if (c?.isRunning()) throw new Error(`${name} is running`);
      // Init containers (the restore download) run to completion first, as the kubelet runs them.
      const emptyDirs = new Map<string, string>();
      await runInitContainers(this.net.nsOf(name), this.podSpecs(kind, i, { init: true, emptyDirs }));
      c = new EmulatedContainer(this.net.nsOf(name), this.containerSpec(kind, i, emptyDirs));
      this.containers.set(name, c);
    }
    await c.start();
    return c;
  }

  public async startAll(): Promise<void> {
    const starts: Array<Promise<unknown>> = [];
    for (let i = 0; i < this.sentinelCount; i++) starts.push(this.start('sentinel', i));
    for (let i = 0; i < this.dataCount; i++) starts.push(this.start('data', i));
    await Promise.all(starts);
  }

  public async kill(kind: Kind, i: number): Promise<void> {
    await this.container(kind, i)?.kill('SIGKILL');
  }

  public cli(host: string, port: number, args: string[], timeoutMs = 3000): Promise<ExecResult> {
    return redisCli(this.clientNs, args, { host, port, password: this.opts.password, timeoutMs, tls: this.opts.tls ? { caFile: this.opts.tls.caFile } : undefined });
  }

  /** ROLE's first line for each data member: master, slave, or '' when it does not answer. */
  public async roles(): Promise<string[]> {
    return Promise.all(Array.from({ length: this.dataCount }, async (_, i) => {
      const r = await this.cli(this.dataHost(i), this.redisPort, ['ROLE'], 1500).catch(() => undefined);
      return r && r.code === 0 ? r.stdout.split('\n')[0].trim() : '';
    }));
  }

  /** INFO replication of data member i as a map ({} when it does not answer). */
  public async replication(i: number): Promise<Record<string, string>> {
    const r = await this.cli(this.dataHost(i), this.redisPort, ['INFO', 'replication'], 1500).catch(() => undefined);
    const out: Record<string, string> = {};
    for (const line of (r?.code === 0 ? r.stdout : '').split(/\r?\n/)) {
      const at = line.indexOf(':');
      if (at > 0) out[line.slice(0, at)] = line.slice(at + 1).trim();
    }
    return out;
  }

  /** What sentinel i names as the primary's host ('' when it does not answer). */
  public async sentinelMaster(i: number): Promise<string> {
    const r = await this.cli(this.host('sentinel', i), this.sentinelPort, ['SENTINEL', 'get-master-addr-by-name', this.masterName], 1500).catch(() => undefined);
    return r && r.code === 0 ? r.stdout.split('\n')[0].trim() : '';
  }

  /**
   * Waits until exactly one data member is primary, every other running one is its replica with
   * the link up, and every running sentinel names it. Returns its ordinal.
   */
  public async waitForHealthy(what: string, timeoutMs = 60_000, skipSentinels: number[] = []): Promise<number> {
    let primary = -1;
    const downAfter = JSON.stringify(this.plan.json).match(/sentinel down-after-milliseconds \S+ (\d+)/)?.[1];
    await waitFor(async () => {
      const roles = await this.roles();
      const masters = roles.map((r, i) => (r === 'master' ? i : -1)).filter((i) => i >= 0);
      if (masters.length !== 1) return false;
      primary = masters[0];
      for (let i = 0; i < this.dataCount; i++) {
        if (i === primary) continue;
        const info = await this.replication(i);
        if (info.role !== 'slave' || info.master_link_status !== 'up' || info.master_host !== this.dataHost(primary)) return false;
      }
      for (let s = 0; s < this.sentinelCount; s++) {
        if (skipSentinels.includes(s)) continue;
        if ((await this.sentinelMaster(s)) !== this.dataHost(primary)) return false;
        // Healthy means a failover could happen now: every sentinel sees every replica up and linked.
        const r = await this.cli(this.host('sentinel', s), this.sentinelPort, ['SENTINEL', 'replicas', this.masterName], 1500).catch(() => undefined);
        const lines = r && r.code === 0 ? r.stdout.split('\n').map((l) => l.trim()) : [];
        const linked = lines.filter((l, i) => lines[i - 1] === 'master-link-status' && l === 'ok').length;
        const down = lines.filter((l, i) => lines[i - 1] === 'flags' && /s_down|disconnected/.test(l)).length;
        if (linked < this.dataCount - 1 || down > 0) return false;
        // ... and no sentinel is still in its cold start (a long down-after period until its own ping
        // to the primary was answered): until then it would not see a crash within the usual period.
        if (downAfter !== undefined) {
          const m = (await this.cli(this.host('sentinel', s), this.sentinelPort, ['SENTINEL', 'master', this.masterName], 1500).catch(() => undefined))?.stdout.split('\n').map((l) => l.trim());
          if (!m || m[m.indexOf('down-after-milliseconds') + 1] !== downAfter) return false;
        }
      }
      return true;
    }, { timeoutMs, intervalMs: 300, what });
    return primary;
  }

  public writer(config: Partial<WriterConfig> & { keyPrefix: string; maxWrites: number; maxSeconds: number }): Writer {
    return startWriter(this.clientNs, {
      mode: 'sentinel',
      sentinels: this.sentinelHosts(),
      masterName: this.masterName,
      password: this.opts.password,
      sentinelPassword: this.opts.password,
      ...(this.opts.tls ? { tls: { caFile: this.opts.tls.caFile } } : {}),
      ...config,
    });
  }

  /** Which of the sequence numbers `seqs` have no key `<prefix>:<seq>` on data member i. */
  public async missingKeys(i: number, prefix: string, seqs: number[]): Promise<number[]> {
    const missing: number[] = [];
    for (let at = 0; at < seqs.length; at += 500) {
      const batch = seqs.slice(at, at + 500);
      const r = await this.cli(this.dataHost(i), this.redisPort, ['MGET', ...batch.map((s) => `${prefix}:${s}`)], 10_000);
      if (r.code !== 0) throw new Error(`MGET on ${this.dataHost(i)} failed: ${r.stderr || r.stdout}`);
      const values = r.stdout.split('\n');
      batch.forEach((seq, k) => {
        if (values[k] !== String(seq)) missing.push(seq);
      });
    }
    return missing;
  }

  /** Starts pod i again after a kill, with a new address under the same DNS name. */
  public async readdress(kind: Kind, i: number): Promise<string> {
    return this.net.readdress(this.podName(kind, i));
  }

  public async destroy(): Promise<void> {
    await Promise.all([...this.containers.values()].map((c) => c.kill('SIGKILL').catch(() => undefined)));
    await this.net.destroy();
  }
}

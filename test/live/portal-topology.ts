/**
 * LivePortals: the HaproxyPortal pods of a synthesized plan, run with Debian's haproxy in their
 * own network namespaces beside a LiveSentinelRedis. The certificates that Terraform's tls
 * provider would make are made here by openssl, with the SANs the plan's certificate request
 * names, and handed to the plan's Secret as test values.
 */
import { makeCertificates, TestCertificates } from './certificates';
import { ClaimStore, Plan, PlanContainer } from './plan-pods';
import { EmulatedContainer, ExitInfo } from './harness/pod';
import { execIn, ExecResult, redisCli, waitFor } from './harness/client';
import { sleep } from './harness/proc';
import { startWriter, Writer, WriterConfig } from './harness/writer';
import { LIVE_NAMESPACE, LiveSentinelOptions, LiveSentinelRedis } from './sentinel-topology';

export { makeCertificates, TestCertificates };

/**
 * A LiveSentinelRedis with `portals` pods (default 2) of its portal Deployment `deployment` (default
 * cache-portal), started as a first deployment starts them: members and sentinels first, awaited
 * until healthy (`what` names the wait), then the portals. What it made is destroyed if a step fails.
 */
export async function bootWithPortals(opts: LiveSentinelOptions & { what: string; deployment?: string; portals?: number }): Promise<{ t: LiveSentinelRedis; p: LivePortals; primary: number }> {
  const t = await LiveSentinelRedis.boot(opts);
  let p: LivePortals | undefined;
  try {
    p = await LivePortals.create(t, opts.deployment ?? 'cache-portal', opts.portals ?? 2);
    await t.startAll();
    const primary = await t.waitForHealthy(opts.what, 60_000);
    await p.startAll();
    return { t, p, primary };
  } catch (e) {
    await p?.destroy().catch(() => undefined);
    await t.destroy().catch(() => undefined);
    throw e;
  }
}

export class LivePortals {
  /** The portal Service's DNS name (the certificate's main SAN), which clients verify. */
  public readonly serviceHost: string;
  public readonly port: number;
  public readonly certs: TestCertificates;
  /** The SANs the plan asks for, the Service's full name first. */
  public readonly dnsNames: string[];
  private readonly containers = new Map<string, EmulatedContainer>();
  /** The plan and spec each pod's current container was started from (its preStop, readiness, grace). */
  private readonly specs = new Map<string, { plan: Plan; spec: PlanContainer }>();
  private readonly claims = new ClaimStore();

  /** `pods` portal pods (a, b, ...) of Deployment `deployment`, each with its own namespace. */
  public static async create(t: LiveSentinelRedis, deployment: string, pods = 2): Promise<LivePortals> {
    const p = new LivePortals(t, deployment, Array.from({ length: pods }, (_, i) => `${deployment}-${String.fromCharCode(97 + i)}`));
    for (const pod of p.pods) await t.net.addPod(pod, [p.podHost(pod)]);
    return p;
  }

  /** Adds portal pod `pod` of this Deployment (a replacement in a rolling update) with its own namespace. */
  public async addPod(pod: string): Promise<void> {
    if (this.pods.includes(pod)) throw new Error(`portal pod ${pod} already exists`);
    await this.t.net.addPod(pod, [this.podHost(pod)]);
    this.pods.push(pod);
  }

  /** The next unused pod name (a, b, c, ...): what a replacement pod is called. */
  public nextPodName(): string {
    for (let i = 0; i < 26; i++) {
      const pod = `${this.deployment}-${String.fromCharCode(97 + i)}`;
      if (!this.pods.includes(pod)) return pod;
    }
    throw new Error(`no pod name left for ${this.deployment}`);
  }

  /** The pods whose container runs now. */
  public running(): string[] {
    return this.pods.filter((pod) => this.containers.get(pod)?.isRunning());
  }

  private constructor(public readonly t: LiveSentinelRedis, public readonly deployment: string, public readonly pods: string[]) {
    const d = t.plan.deployment(deployment);
    const tlsPort = d.spec.template.spec.container[0].port.find((x: any) => x.name === 'redis-tls');
    this.port = Number(tlsPort.container_port);
    // The SANs the plan asks Terraform's tls provider for.
    const request = Object.values<any>(t.plan.json.resource.tls_cert_request ?? {}).find((r) => r.dns_names[0] === deployment);
    if (!request) throw new Error(`no certificate request for ${deployment} in the plan`);
    const dnsNames: string[] = request.dns_names;
    this.serviceHost = dnsNames.find((n) => n.endsWith('.svc.cluster.local'))!;
    this.dnsNames = [this.serviceHost, ...dnsNames.filter((n) => n !== this.serviceHost)];
    this.certs = makeCertificates(this.dnsNames);
  }

  /** A pod's own DNS name (Deployment pods have none in a cluster; the test needs one per portal). */
  public podHost(pod: string): string {
    return `${pod}.pods.${LIVE_NAMESPACE}.test`;
  }

  /** The portal container of pod `pod` as `plan` (default: the topology's plan) describes it. */
  public containerSpec(pod: string, plan: Plan = this.t.plan): PlanContainer {
    const [c] = plan.podContainers(this.deployment, pod, {
      namespace: LIVE_NAMESPACE,
      claims: this.claims,
      secretValues: { password: this.t.password, 'tls.crt': this.certs.cert, 'tls.key': this.certs.key, 'ca.crt': this.certs.ca },
      externalSecrets: this.t.externalSecrets(),
    });
    return c;
  }

  /** The spec pod `pod`'s current container was started from. */
  public spec(pod: string): PlanContainer {
    const s = this.specs.get(pod);
    if (!s) throw new Error(`portal pod ${pod} was never started`);
    return s.spec;
  }

  /** Starts pod `pod` from `plan` (default: the topology's plan). */
  public async start(pod: string, plan: Plan = this.t.plan): Promise<EmulatedContainer> {
    const old = this.containers.get(pod);
    if (old?.isRunning()) throw new Error(`${pod} is running`);
    const spec = this.containerSpec(pod, plan);
    const c = new EmulatedContainer(this.t.net.nsOf(pod), spec);
    this.containers.set(pod, c);
    this.specs.set(pod, { plan, spec });
    await c.start();
    return c;
  }

  /**
   * Whether pod `pod` passes its plan's readiness probe now: its exec command succeeds in the
   * container, or its TCP port (a number or a named container port) accepts a connection.
   */
  public async ready(pod: string): Promise<boolean> {
    const c = this.containers.get(pod);
    const started = this.specs.get(pod);
    const probe = started?.spec.readiness;
    if (!c?.isRunning() || !started || !probe) return false;
    if (probe.exec) return (await c.exec(probe.exec, 2000)).code === 0;
    let port = probe.tcpPort;
    if (typeof port === 'string') {
      const named = started.plan.deployment(this.deployment).spec.template.spec.container[0].port.find((x: any) => x.name === port);
      if (!named) throw new Error(`${this.deployment}: readiness port ${port} is not a container port`);
      port = Number(named.container_port);
    }
    const r = await execIn(this.t.clientNs, ['bash', '-c', `exec 3<>/dev/tcp/${this.podHost(pod)}/${port}`], { timeoutMs: 2000 });
    return r.code === 0;
  }

  public container(pod: string): EmulatedContainer | undefined {
    return this.containers.get(pod);
  }

  /** Starts every portal pod and waits until each answers PING through TLS (its readiness). */
  public async startAll(): Promise<void> {
    await Promise.all(this.pods.map((p) => this.start(p)));
    for (const pod of this.pods) {
      await waitFor(async () => (await this.cli(pod, ['PING'], 1500)).stdout.trim() === 'PONG', { timeoutMs: 30_000, intervalMs: 200, what: `portal ${pod} answering PING` });
    }
  }

  /** redis-cli through portal `pod` with TLS, verifying the chain against the CA. */
  public cli(pod: string, args: string[], timeoutMs = 3000): Promise<ExecResult> {
    return redisCli(this.t.clientNs, args, {
      host: this.podHost(pod), port: this.port, password: this.t.password, timeoutMs,
      tls: { caFile: this.certs.caFile, sni: this.serviceHost },
    });
  }

  /** A writer through portal `pod`: TLS, the Service name verified against the certificate. */
  public writer(pod: string, config: Partial<WriterConfig> & { keyPrefix: string; maxWrites: number; maxSeconds: number }): Writer {
    return startWriter(this.t.clientNs, {
      mode: 'direct',
      host: this.podHost(pod),
      port: this.port,
      password: this.t.password,
      tls: { caFile: this.certs.caFile, servername: this.serviceHost },
      ...config,
    });
  }

  /**
   * A writer through the portal Service (`serviceHost`, which the certificate covers), as an
   * application connects: each new connection goes where PodNetwork.setService points the name now.
   */
  public serviceWriter(config: Partial<WriterConfig> & { keyPrefix: string; maxWrites: number; maxSeconds: number }): Writer {
    return startWriter(this.t.clientNs, {
      mode: 'direct',
      host: this.serviceHost,
      port: this.port,
      password: this.t.password,
      tls: { caFile: this.certs.caFile, servername: this.serviceHost },
      ...config,
    });
  }

  /** HAProxy's Prometheus metrics of portal `pod`, as `name{labels}` -> value. */
  public async metrics(pod: string): Promise<Map<string, number>> {
    const url = `http://${this.podHost(pod)}:8404/metrics`;
    const r = await execIn(this.t.clientNs, [process.execPath, '-e',
      `require('http').get(${JSON.stringify(url)}, (res) => res.pipe(process.stdout)).on('error', (e) => { console.error(e.message); process.exit(1); })`], { timeoutMs: 5000 });
    if (r.code !== 0) throw new Error(`metrics of ${pod}: ${r.stderr}`);
    const out = new Map<string, number>();
    for (const line of r.stdout.split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      const at = line.lastIndexOf(' ');
      out.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
    return out;
  }

  /** Connections HAProxy has made to backend server `server` (total, since start). */
  public async serverSessions(pod: string, server: string): Promise<number> {
    const m = await this.metrics(pod);
    return m.get(`haproxy_server_sessions_total{proxy="redis_primary",server="${server}"}`) ?? NaN;
  }

  /** Servers of the backend HAProxy currently has UP. */
  public async serversUp(pod: string): Promise<string[]> {
    const m = await this.metrics(pod);
    const up: string[] = [];
    for (const [k, v] of m) {
      const match = /^haproxy_server_status\{proxy="redis_primary",server="([^"]+)",state="UP"\}$/.exec(k);
      if (match && v === 1) up.push(match[1]);
    }
    return up.sort();
  }

  /** Servers of the backend in HAProxy state `state` (UP, DOWN, MAINT, ...). */
  public async serversIn(pod: string, state: string): Promise<string[]> {
    const m = await this.metrics(pod);
    const out: string[] = [];
    for (const [k, v] of m) {
      const match = /^haproxy_server_status\{proxy="redis_primary",server="([^"]+)",state="([^"]+)"\}$/.exec(k);
      if (match && match[2] === state && v === 1) out.push(match[1]);
    }
    return out.sort();
  }

  /** Where portal `pod`'s log ends now, for logSince(). */
  public logMark(pod: string): number {
    return Buffer.byteLength(this.container(pod)?.logs() ?? '');
  }

  /** What portal `pod` logged after `mark` (HAProxy's server state changes among it). */
  public logSince(pod: string, mark: number): string {
    return Buffer.from(this.container(pod)?.logs() ?? '').subarray(mark).toString();
  }

  public async destroy(): Promise<void> {
    await Promise.all([...this.containers.values()].map((c) => c.kill('SIGKILL').catch(() => undefined)));
  }
}

export interface RollPortalsOptions {
  /** The old pods, in the order the Deployment deletes them. @default every running pod of `p`, in creation order */
  readonly pods?: string[];
  /**
   * How long after a pod's deletion the Service stops sending it new connections (the endpoint
   * controller and kube-proxy): the preStop drain has to cover it. @default 0 (at once)
   */
  readonly endpointLagMs?: number;
  /** Bound on a replacement becoming ready. @default 30 000 */
  readonly readyTimeoutMs?: number;
  /** Progress, one line per step. @default silent */
  readonly log?: (line: string) => void;
  /**
   * Where the Service's endpoints go, instead of PodNetwork.setService on `p.serviceHost`: called
   * with the ready pods that are not being deleted, oldest first, whenever they change (e.g. an
   * EmulatedService's setEndpoints). @default PodNetwork.setService
   */
  readonly endpoints?: (pods: string[]) => Promise<void>;
  /** Whether the kubelet runs the pods' preStop hooks (false: a pod without one). @default true */
  readonly preStop?: boolean;
}

/** One old pod replaced. Times in ms. */
export interface PortalPodReplacement {
  readonly pod: string;
  readonly replacement: string;
  /** When the pod was deleted, got SIGTERM, and exited (epoch ms). */
  readonly deletedAt: number;
  readonly sigtermAt: number;
  readonly exitedAt: number;
  /** How long its preStop hook ran (0 without one), its exit code and what it printed. */
  readonly preStopMs: number;
  readonly preStopCode: number | null;
  readonly preStopOutput: string;
  /** From SIGTERM until its main process exited. */
  readonly exitMs: number;
  readonly exit: ExitInfo;
  /** From the replacement's start until its readiness probe passed. */
  readonly readyMs: number;
}

export interface RollPortalsResult {
  /** Per old pod, in order: from SIGTERM until it exited. */
  readonly exitMs: number[];
  readonly replaced: PortalPodReplacement[];
  /** The pods that run `newPlan` now, in order. */
  readonly replacements: string[];
  /** From the first deletion until the last old pod exited. */
  readonly totalMs: number;
}

/**
 * A rolling update of the portal Deployment to `newPlan`, as the Deployment controller and the
 * kubelet do it with the plan's strategy (maxSurge 0, maxUnavailable 1): for each old pod in turn,
 * 1. the pod is deleted: after `endpointLagMs` the Service (PodNetwork.setService on
 *    `p.serviceHost`) stops sending it new connections, pointing at another ready pod, newest first;
 *    established connections stay where they are, as with kube-proxy;
 * 2. meanwhile the kubelet runs its preStop hook (EmulatedContainer.exec, bounded by the grace
 *    period), then SIGTERM, and SIGKILL when the rest of the grace period (at least 2 s) has passed;
 * 3. at the same time the replacement is created from `newPlan` (a new pod, name and address) and,
 *    once its readiness probe passes, it is an endpoint and the Service points at it; only then is
 *    the next old pod deleted (one unavailable at a time; the old one may still be stopping).
 * Resolves when every old pod has exited; `exitMs` is the time each took after SIGTERM.
 */
export async function rollPortals(p: LivePortals, newPlan: Plan, opts: RollPortalsOptions = {}): Promise<RollPortalsResult> {
  const log = opts.log ?? (() => undefined);
  const lagMs = opts.endpointLagMs ?? 0;
  const old = opts.pods ?? p.running();
  const net = p.t.net;
  // Ready pods that are not being deleted, oldest first.
  const endpoints = p.running();
  const retarget = async (preferred?: string) => {
    if (opts.endpoints) {
      await opts.endpoints([...endpoints]);
      log(`Service endpoints: ${endpoints.join(', ') || 'none'}`);
      return;
    }
    const current = net.serviceTarget(p.serviceHost);
    const next = preferred ?? (current !== undefined && endpoints.includes(current) ? current : endpoints[endpoints.length - 1]);
    if (next !== current) {
      net.setService(p.serviceHost, next);
      log(`Service ${p.serviceHost} -> ${next ?? 'no endpoint'}`);
    }
  };
  const started = Date.now();

  const terminate = async (pod: string) => {
    const c = p.container(pod);
    if (!c?.isRunning()) throw new Error(`portal pod ${pod} is not running`);
    const spec = p.spec(pod);
    const graceMs = spec.terminationGraceSeconds * 1000;
    const deletedAt = Date.now();
    const drop = async () => {
      if (endpoints.includes(pod)) endpoints.splice(endpoints.indexOf(pod), 1);
      log(`${pod}: out of the Service's endpoints ${Date.now() - deletedAt} ms after its deletion`);
      await retarget();
    };
    let dropped: Promise<void> = Promise.resolve();
    if (lagMs <= 0) await drop();
    else dropped = sleep(lagMs).then(drop);
    const startAt = Date.now();
    const r = await c.terminate(opts.preStop !== false ? spec.preStop : undefined, graceMs - (startAt - deletedAt), 2000);
    const { preStopMs, preStopCode, preStopOutput, exit } = r;
    if (spec.preStop && opts.preStop !== false) log(`${pod}: preStop ${spec.preStop.join(' ')} took ${preStopMs} ms (exit ${preStopCode}): ${preStopOutput.trim()}`);
    const termAt = startAt + preStopMs;
    const exitMs = r.stopMs;
    log(`${pod}: exited ${exitMs} ms after SIGTERM (code ${exit.code}, signal ${exit.signal})`);
    await dropped;
    return { deletedAt, sigtermAt: termAt, exitedAt: termAt + exitMs, preStopMs, preStopCode, preStopOutput, exitMs, exit };
  };

  const stopping: Array<ReturnType<typeof terminate>> = [];
  const replacements: Array<{ replacement: string; readyMs: number }> = [];
  try {
    for (const pod of old) {
      log(`${pod}: deleted`);
      stopping.push(terminate(pod));
      const replacement = p.nextPodName();
      await p.addPod(replacement);
      const startAt = Date.now();
      await p.start(replacement, newPlan);
      await waitFor(() => p.ready(replacement), { timeoutMs: opts.readyTimeoutMs ?? 30_000, intervalMs: 100, what: `replacement ${replacement} ready` });
      const readyMs = Date.now() - startAt;
      log(`${replacement}: ready ${readyMs} ms after its start (replaces ${pod})`);
      replacements.push({ replacement, readyMs });
      endpoints.push(replacement);
      await retarget(replacement);
    }
  } finally {
    // Whatever happened, no old pod is left stopping in the background.
    await Promise.allSettled(stopping);
  }
  const stops = await Promise.all(stopping);
  const replaced = old.map((pod, i) => ({ pod, ...replacements[i], ...stops[i] }));
  return { exitMs: stops.map((s) => s.exitMs), replaced, replacements: replacements.map((r) => r.replacement), totalMs: Date.now() - started };
}

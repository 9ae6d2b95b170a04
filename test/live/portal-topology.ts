/**
 * LivePortals: the HaproxyPortal pods of a synthesized plan, run with Debian's haproxy in their
 * own network namespaces beside a LiveSentinelRedis. The certificates that Terraform's tls
 * provider would make are made here by openssl, with the SANs the plan's certificate request
 * names, and handed to the plan's Secret as test values.
 */
import { makeCertificates, TestCertificates } from './certificates';
import { ClaimStore, PlanContainer } from './plan-pods';
import { EmulatedContainer } from './harness/pod';
import { execIn, ExecResult, redisCli, waitFor } from './harness/client';
import { startWriter, Writer, WriterConfig } from './harness/writer';
import { LIVE_NAMESPACE, LiveSentinelRedis } from './sentinel-topology';

export { makeCertificates, TestCertificates };

export class LivePortals {
  /** The portal Service's DNS name (the certificate's main SAN), which clients verify. */
  public readonly serviceHost: string;
  public readonly port: number;
  public readonly certs: TestCertificates;
  /** The SANs the plan asks for, the Service's full name first. */
  public readonly dnsNames: string[];
  private readonly containers = new Map<string, EmulatedContainer>();
  private readonly claims = new ClaimStore();

  /** `pods` portal pods (a, b, ...) of Deployment `deployment`, each with its own namespace. */
  public static async create(t: LiveSentinelRedis, deployment: string, pods = 2): Promise<LivePortals> {
    const p = new LivePortals(t, deployment, Array.from({ length: pods }, (_, i) => `${deployment}-${String.fromCharCode(97 + i)}`));
    for (const pod of p.pods) await t.net.addPod(pod, [p.podHost(pod)]);
    return p;
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

  public containerSpec(pod: string): PlanContainer {
    const [c] = this.t.plan.podContainers(this.deployment, pod, {
      namespace: LIVE_NAMESPACE,
      claims: this.claims,
      secretValues: { password: this.t.password, 'tls.crt': this.certs.cert, 'tls.key': this.certs.key, 'ca.crt': this.certs.ca },
      externalSecrets: this.t.externalSecrets(),
    });
    return c;
  }

  public async start(pod: string): Promise<EmulatedContainer> {
    const old = this.containers.get(pod);
    if (old?.isRunning()) throw new Error(`${pod} is running`);
    const c = new EmulatedContainer(this.t.net.nsOf(pod), this.containerSpec(pod));
    this.containers.set(pod, c);
    await c.start();
    return c;
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

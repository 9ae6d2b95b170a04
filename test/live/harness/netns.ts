/**
 * PodNetwork: emulated Kubernetes pod networking with Linux network namespaces.
 *
 * One hub namespace holds a bridge; each pod is a namespace whose eth0 is a veth into that bridge,
 * with an address in a /24 of 198.18.0.0/15 (the benchmarking range, never routed anywhere). No
 * namespace has a default route, so nothing inside can reach beyond the bridge. Nothing is ever
 * added to the host namespace: veth pairs are created inside the hub namespace.
 *
 * Cluster DNS is emulated with /etc/netns/<ns>/hosts, which `ip netns exec` bind-mounts over
 * /etc/hosts for each process it starts. Running processes keep that inode, so the files are only
 * ever rewritten in place (same inode), never replaced. For programs that query DNS themselves
 * (HAProxy's run-time resolvers), a DNS server (bin/dns.js) on the bridge's address <subnet>.1
 * in the hub namespace answers from the same hosts file; every pod's resolv.conf points at it.
 * dnsFailure() makes it stop answering (a DNS timeout for the asker) or answer with an error for a
 * while, as a cluster DNS under load or restarting does.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import { killGroup, run, runOk, track } from './proc';

const NETNS_ETC = '/etc/netns';
const NETNS_RUN = '/run/netns';
/** Lowest host number given to a pod; addresses are never reused within one network. */
const FIRST_HOST = 10;
const LAST_HOST = 254;
/** Host number of the bridge address in the hub namespace, where the emulated cluster DNS listens. */
const DNS_HOST = 1;
const DNS_JS = path.join(__dirname, 'bin', 'dns.js');

/** How the emulated cluster DNS fails: no answer at all (the asker times out), or an error answer. */
export type DnsFailureMode = 'drop' | 'servfail' | 'refused' | 'nxdomain';

/** The emulated cluster DNS's counters since it started, and what it does now. */
export interface DnsStats {
  /** Queries received. */
  queries: number;
  /** Queries left unanswered by a 'drop' failure. */
  dropped: number;
  /** Queries answered with an injected error. */
  failed: number;
  mode: DnsFailureMode | 'normal';
  /** How long the current failure lasts yet. */
  untilMs: number;
}

/** A pod of a PodNetwork. Live view: `address` follows readdress(). */
export interface PodHost {
  readonly name: string;
  /** The network namespace to run its processes in (`ip netns exec <ns> ...`). */
  readonly ns: string;
  readonly address: string;
  readonly dnsNames: readonly string[];
}

interface Pod {
  name: string;
  ns: string;
  address: string;
  dnsNames: string[];
  /** Bridge-side veth in the hub namespace. */
  hostVeth: string;
}

const live = new Set<PodNetwork>();
let networkCounter = 0;
let availability: string | null | undefined; // undefined: not probed yet; null: available

/** Writes a file over the same inode (no rename), so bind mounts of it see the new content. */
function writeInPlace(file: string, content: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r+');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    fd = fs.openSync(file, 'w', 0o644);
  }
  try {
    // Overwrite then truncate: readers never see an empty file.
    const buf = Buffer.from(content);
    fs.writeSync(fd, buf, 0, buf.length, 0);
    fs.ftruncateSync(fd, buf.length);
    fs.fchmodSync(fd, 0o644);
  } finally {
    fs.closeSync(fd);
  }
}

export class PodNetwork {
  /** Why network namespaces cannot be used here, or undefined when they can (probed once). */
  public static unavailableReason(): string | undefined {
    if (availability === undefined) availability = probe();
    return availability ?? undefined;
  }

  public static available(): boolean {
    return PodNetwork.unavailableReason() === undefined;
  }

  /**
   * A new network. Namespace names are `<prefix><pid % 10000><n>-hub` and `...-<pod>`, unique per
   * test process; the subnet is 198.18.<subnetIndex>.0/24 (random 1..250 when not given).
   */
  public static async create(prefix: string, subnetIndex?: number): Promise<PodNetwork> {
    if (!/^[a-z][a-z0-9]{0,5}$/.test(prefix)) throw new Error(`prefix must be 1-6 lowercase letters/digits, got ${JSON.stringify(prefix)}`);
    const third = subnetIndex ?? 1 + Math.floor(Math.random() * 250);
    if (!Number.isInteger(third) || third < 0 || third > 255) throw new Error(`subnetIndex must be 0..255, got ${third}`);
    const id = `${process.pid % 10000}${(networkCounter++).toString(36)}`;
    const net = new PodNetwork(`${prefix}${id}`, id, `198.18.${third}`);
    live.add(net);
    try {
      await net.addNamespace(net.hubNs);
      // A fixed address: a bridge without one takes the lowest address of its ports, so adding a pod's
      // veth could change it, and the pods' ARP entries for the DNS address would point at the old
      // one until they expire (15-45 s): HAProxy's queries went unanswered that long, and a portal
      // kept checking a re-created member at its old address.
      await runOk('ip', ['-n', net.hubNs, 'link', 'add', 'br0', 'address', `02:00:c6:12:${third.toString(16).padStart(2, '0')}:01`, 'type', 'bridge']);
      await runOk('ip', ['-n', net.hubNs, 'link', 'set', 'br0', 'up']);
      await runOk('ip', ['-n', net.hubNs, 'addr', 'add', `${net.dnsAddress}/24`, 'dev', 'br0']);
      await net.startDns();
    } catch (e) {
      await net.destroy();
      throw e;
    }
    return net;
  }

  public readonly hubNs: string;
  /** The pods' subnet, e.g. 198.18.7.0/24. */
  public readonly subnet: string;
  private readonly pods = new Map<string, Pod>();
  /** Service name -> the pod it points at (see setService). */
  private readonly services = new Map<string, string>();
  /** Every namespace created, in creation order (hub first), for teardown. */
  private readonly namespaces: string[] = [];
  private nextHost = FIRST_HOST;

  /** Where the emulated cluster DNS answers (the bridge, in the hub namespace). */
  public readonly dnsAddress: string;
  private dnsPid: number | undefined;
  private dnsChild: ChildProcess | undefined;
  /** Waiting for the DNS server's answer to a control command, in order. */
  private readonly dnsWaiters: Array<(line: string) => void> = [];

  /** Pods whose DNS names are not published (see unpublish). */
  private readonly hidden = new Set<string>();

  private constructor(public readonly prefix: string, private readonly id: string, private readonly net24: string) {
    this.hubNs = `${prefix}-hub`;
    this.subnet = `${net24}.0/24`;
    this.dnsAddress = `${net24}.${DNS_HOST}`;
  }

  private get resolvConf(): string {
    return `nameserver ${this.dnsAddress}\noptions timeout:1 attempts:2\n`;
  }

  /** Starts bin/dns.js in the hub namespace and waits (at most 5 s) until it listens. */
  private async startDns(): Promise<void> {
    const hostsFile = path.join(NETNS_ETC, this.hubNs, 'hosts');
    const child = spawn('ip', ['netns', 'exec', this.hubNs, process.execPath, DNS_JS, this.dnsAddress, hostsFile], {
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' },
    });
    if (child.pid === undefined) throw new Error('could not spawn the DNS server');
    this.dnsPid = child.pid;
    track(child.pid, `dns in ${this.hubNs}`);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines = readline.createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`DNS server in ${this.hubNs} not ready after 5 s: ${stderr}`)), 5000);
      lines.once('line', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`DNS server in ${this.hubNs} exited (${code}): ${stderr}`));
      });
    });
    // Every later line answers one control command, in order.
    lines.on('line', (line) => this.dnsWaiters.shift()?.(line));
    this.dnsChild = child;
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    (child.stderr as unknown as { unref?: () => void }).unref?.();
  }

  /**
   * Makes the emulated cluster DNS fail for `forMs` milliseconds (it recovers by itself): 'drop'
   * leaves every query unanswered (the asker times out), the others answer SERVFAIL, REFUSED or
   * NXDOMAIN. Resolves once the failure is in effect.
   */
  public async dnsFailure(mode: DnsFailureMode, forMs: number): Promise<DnsStats> {
    if (!Number.isInteger(forMs) || forMs < 1 || forMs > 600_000) throw new Error(`forMs must be an integer in 1..600000, got ${forMs}`);
    return this.dnsControl(`fail ${mode} ${forMs}`);
  }

  /** Ends an injected DNS failure now. */
  public async dnsNormal(): Promise<DnsStats> {
    return this.dnsControl('normal');
  }

  public async dnsStats(): Promise<DnsStats> {
    return this.dnsControl('stats');
  }

  /** Sends one command to the DNS server and waits (at most 2 s) for its acknowledgement. */
  private async dnsControl(command: string): Promise<DnsStats> {
    const child = this.dnsChild;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) throw new Error(`the DNS server of ${this.prefix} is not running`);
    let waiter: ((line: string) => void) | undefined;
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = this.dnsWaiters.indexOf(waiter!);
        if (at >= 0) this.dnsWaiters[at] = () => undefined; // keep the order for later answers
        reject(new Error(`the DNS server of ${this.prefix} did not acknowledge "${command}" within 2 s`));
      }, 2000);
      waiter = (l) => {
        clearTimeout(timer);
        resolve(l);
      };
      this.dnsWaiters.push(waiter);
      child.stdin!.write(`${command}\n`);
    });
    const answer = JSON.parse(line) as DnsStats & { ok?: string; error?: string };
    if (answer.error !== undefined || answer.ok === undefined) throw new Error(`DNS server: ${answer.error ?? line}`);
    return { queries: answer.queries, dropped: answer.dropped, failed: answer.failed, mode: answer.mode, untilMs: answer.untilMs };
  }

  /** Adds a pod namespace with eth0 on the bridge, and publishes dnsNames -> its address. */
  public async addPod(name: string, dnsNames: string[]): Promise<PodHost> {
    if (!/^[a-z0-9][a-z0-9-]{0,19}$/.test(name)) throw new Error(`pod name must match [a-z0-9][a-z0-9-]{0,19}, got ${JSON.stringify(name)}`);
    if (this.pods.has(name)) throw new Error(`pod ${name} already exists`);
    const taken = new Set([...this.pods.values()].flatMap((p) => p.dnsNames));
    const dup = dnsNames.find((n) => taken.has(n));
    if (dup !== undefined) throw new Error(`DNS name ${dup} is already published`);
    const pod: Pod = {
      name,
      ns: `${this.prefix}-${name}`,
      address: this.allocate(),
      dnsNames: [...dnsNames],
      hostVeth: `v${this.id}${this.pods.size}h`,
    };
    if (pod.hostVeth.length > 15) throw new Error(`interface name ${pod.hostVeth} is too long`);
    await this.addNamespace(pod.ns);
    this.pods.set(name, pod);
    const ip = (ns: string, ...args: string[]) => runOk('ip', ['-n', ns, ...args]);
    await ip(pod.ns, 'link', 'set', 'lo', 'up');
    // Created inside the hub namespace (never the host's); the peer goes straight into the pod as eth0.
    await ip(this.hubNs, 'link', 'add', pod.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod.ns);
    await ip(this.hubNs, 'link', 'set', pod.hostVeth, 'master', 'br0');
    await ip(this.hubNs, 'link', 'set', pod.hostVeth, 'up');
    await ip(pod.ns, 'addr', 'add', `${pod.address}/24`, 'dev', 'eth0');
    await ip(pod.ns, 'link', 'set', 'eth0', 'up');
    this.writeHostsFiles();
    return pod;
  }

  /** Moves a pod to a new address (a rescheduled pod keeping its DNS name); returns it. */
  public async readdress(name: string): Promise<string> {
    const pod = this.pod(name);
    const address = this.allocate();
    await runOk('ip', ['-n', pod.ns, 'addr', 'flush', 'dev', 'eth0']);
    await runOk('ip', ['-n', pod.ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    pod.address = address;
    this.writeHostsFiles();
    return address;
  }

  /**
   * Partitions a pod: its bridge port goes down and packets both ways are dropped silently, so
   * connections time out (never refused). Established TCP connections resume after heal().
   */
  public async cut(name: string): Promise<void> {
    await runOk('ip', ['-n', this.hubNs, 'link', 'set', this.pod(name).hostVeth, 'down']);
  }

  /**
   * Ends a cut. Neighbour (ARP) caches are flushed everywhere: entries that failed during the cut
   * would otherwise make connects fail with EHOSTUNREACH for a few more seconds.
   */
  public async heal(name: string): Promise<void> {
    await runOk('ip', ['-n', this.hubNs, 'link', 'set', this.pod(name).hostVeth, 'up']);
    for (const pod of this.pods.values()) await runOk('ip', ['-n', pod.ns, 'neigh', 'flush', 'all']);
  }

  /**
   * Takes a pod's DNS names out of every hosts file (and the DNS server's answers): a deleted pod
   * whose replacement has no address yet, as a headless Service's DNS has no record for it.
   */
  public unpublish(name: string): void {
    this.pod(name);
    this.hidden.add(name);
    this.writeHostsFiles();
  }

  /** Publishes a pod's DNS names again (its replacement has an address). */
  public publish(name: string): void {
    this.hidden.delete(name);
    this.writeHostsFiles();
  }

  public addressOf(name: string): string {
    return this.pod(name).address;
  }

  public nsOf(name: string): string {
    return this.pod(name).ns;
  }

  public podList(): PodHost[] {
    return [...this.pods.values()];
  }

  /**
   * Points a Service name at one pod (or at none): a ClusterIP Service as a client sees it through
   * kube-proxy, new connections to a ready endpoint while established ones stay where they are.
   * The name follows the pod when it is readdressed.
   */
  public setService(name: string, pod: string | undefined): void {
    if (pod !== undefined) this.pod(pod);
    if (pod === undefined) this.services.delete(name);
    else this.services.set(name, pod);
    this.writeHostsFiles();
  }

  /** The pod a Service name points at now. */
  public serviceTarget(name: string): string | undefined {
    return this.services.get(name);
  }

  /** The current hosts file content every pod sees. */
  public hosts(): string {
    return ['127.0.0.1 localhost', ...this.hostsLines()].join('\n') + '\n';
  }

  /** Kills whatever still runs in the pods, deletes the namespaces and their /etc/netns dirs. */
  public async destroy(): Promise<void> {
    live.delete(this);
    const errors: string[] = [];
    if (this.dnsPid !== undefined) {
      await killGroup(this.dnsPid).catch((e: Error) => errors.push(e.message));
      this.dnsPid = undefined;
      this.dnsChild = undefined;
    }
    for (const ns of [...this.namespaces].reverse()) {
      const pids = await run('ip', ['netns', 'pids', ns]);
      for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) killQuietly(Number(pid));
      const del = await run('ip', ['netns', 'del', ns]);
      if (del.code !== 0 && fs.existsSync(path.join(NETNS_RUN, ns))) errors.push(`ip netns del ${ns}: ${del.stderr.trim()}`);
      fs.rmSync(path.join(NETNS_ETC, ns), { recursive: true, force: true });
    }
    this.namespaces.length = 0;
    if (errors.length > 0) throw new Error(errors.join('\n'));
  }

  /** Synchronous best-effort destroy, for process exit. */
  public destroySync(): void {
    live.delete(this);
    for (const ns of [...this.namespaces].reverse()) {
      try {
        const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
        for (const pid of pids.split(/\s+/).filter(Boolean)) killQuietly(Number(pid));
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 5000 });
      } catch {
        // best effort
      }
      fs.rmSync(path.join(NETNS_ETC, ns), { recursive: true, force: true });
    }
    this.namespaces.length = 0;
  }

  private pod(name: string): Pod {
    const pod = this.pods.get(name);
    if (pod === undefined) throw new Error(`no pod ${name} in network ${this.prefix}`);
    return pod;
  }

  private allocate(): string {
    if (this.nextHost > LAST_HOST) throw new Error(`network ${this.prefix} ran out of addresses`);
    return `${this.net24}.${this.nextHost++}`;
  }

  /** Creates a namespace we own (refusing an existing one) with its /etc/netns files. */
  private async addNamespace(ns: string): Promise<void> {
    if (fs.existsSync(path.join(NETNS_RUN, ns))) throw new Error(`network namespace ${ns} already exists: not ours, refusing to touch it`);
    this.namespaces.push(ns); // before creating: a half-made namespace is still cleaned up
    await runOk('ip', ['netns', 'add', ns]);
    const dir = path.join(NETNS_ETC, ns);
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    writeInPlace(path.join(dir, 'hosts'), this.hosts());
    writeInPlace(path.join(dir, 'resolv.conf'), this.resolvConf);
  }

  private hostsLines(): string[] {
    const pods = [...this.pods.values()].filter((p) => p.dnsNames.length > 0 && !this.hidden.has(p.name)).map((p) => `${p.address} ${p.dnsNames.join(' ')}`);
    return [...pods, ...[...this.services].map(([name, pod]) => `${this.pod(pod).address} ${name}`)];
  }

  private writeHostsFiles(): void {
    const content = this.hosts();
    for (const ns of this.namespaces) writeInPlace(path.join(NETNS_ETC, ns, 'hosts'), content);
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function probe(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (run the live tests as root)';
  const ns = `rtprobe${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', ns], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 });
  } catch (e) {
    return `\`ip netns add\` failed: ${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim()}`;
  }
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 5000 });
  } catch {
    return `\`ip netns del ${ns}\` failed`;
  }
  return null;
}

/** Destroys every network this process created and has not destroyed yet. */
export async function cleanupAll(): Promise<void> {
  const errors: string[] = [];
  for (const net of [...live]) {
    try {
      await net.destroy();
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length > 0) throw new Error(errors.join('\n'));
}

process.on('exit', () => {
  for (const net of [...live]) net.destroySync();
});

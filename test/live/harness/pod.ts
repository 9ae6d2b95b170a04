/**
 * EmulatedContainer: runs one container of a Kubernetes pod spec (command, args, env, workingDir,
 * volume mounts, runAsUser/runAsGroup/fsGroup) inside a pod's network namespace and a private
 * mount namespace, the way the kubelet would, with nothing added but PATH and HOME.
 *
 * Differences from a real container that a test may run into: no PID namespace (the main process
 * is not PID 1, so it gets default signal dispositions; when it exits, the rest of its process
 * group is SIGKILLed as a PID-namespace teardown would do), no UTS namespace (`hostname` is the
 * host's: use POD_NAME from env), the host's root filesystem (binaries come from the host), and
 * no image WORKDIR (`/` unless the spec or ContainerOptions say otherwise).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { groupMembers, killAllTracked, killGroup, run, shq, signalGroup, sleep, track, within } from './proc';

/**
 * A ConfigMap/Secret projection (each key a file, root-owned, `mode` default 0644 like the
 * kubelet's defaultMode) or a host directory the test owns (emptyDir / PVC, see makeVolumeDir).
 */
export type VolumeSource =
  | { kind: 'files'; files: Record<string, string>; mode?: number }
  | { kind: 'dir'; hostDir: string };

export interface VolumeMount {
  mountPath: string;
  /** 'files' volumes are always read-only, as the kubelet mounts ConfigMaps and Secrets. */
  readOnly?: boolean;
  volume: VolumeSource;
}

export interface ContainerSpec {
  name: string;
  command: string[];
  args?: string[];
  env?: Record<string, string>;
  workingDir?: string;
  runAsUser: number;
  runAsGroup: number;
  fsGroup?: number;
  volumeMounts: VolumeMount[];
}

export interface ContainerOptions {
  /** The working directory when the spec has none, standing in for the image's WORKDIR (default '/'). */
  imageWorkingDir?: string;
  /** Grace period stop() gives SIGTERM before SIGKILL (default 10 s, like a short terminationGracePeriodSeconds). */
  stopGraceMs?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

// Docker's default PATH (images such as haproxy keep their binary in an sbin directory).
const BASE_ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/tmp'];

let tempRoot: string | undefined;
const containers = new Set<EmulatedContainer>();
/**
 * Mount targets created on the host filesystem by any harness process (see hostMountTargets),
 * one empty file per directory, named by its encoded path. Shared, so that whichever process
 * cleans up last removes them even when parallel test files used the same mountPaths.
 */
const CREATED_DIRS = '/run/rt-live-harness-dirs';

/** The per-process scratch root (volumes, projected files, logs): not under /tmp, a common mountPath. */
export function harnessRoot(): string {
  if (tempRoot === undefined) {
    fs.mkdirSync('/var/tmp', { recursive: true });
    tempRoot = fs.mkdtempSync(`/var/tmp/rt-live-${process.pid}-`);
    fs.chmodSync(tempRoot, 0o755);
  }
  return tempRoot;
}

function scratchDir(kind: string, name: string): string {
  const parent = path.join(harnessRoot(), kind);
  fs.mkdirSync(parent, { recursive: true, mode: 0o755 });
  return fs.mkdtempSync(path.join(parent, `${name}-`));
}

/**
 * A host directory for a 'dir' volume (emptyDir or PVC), owned uid:gid with mode 0770. It lives
 * until killAll(): reuse it across container restarts to emulate a persistent volume.
 */
export function makeVolumeDir(owner: { uid: number; gid: number }, name = 'vol'): string {
  const dir = scratchDir('volumes', name);
  fs.chownSync(dir, owner.uid, owner.gid);
  fs.chmodSync(dir, 0o770);
  return dir;
}

function isUnder(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith('/') ? parent : `${parent}/`);
}

/** Mounts in the order the kubelet uses: parents before the paths nested in them. */
function sortedMounts(mounts: VolumeMount[]): VolumeMount[] {
  const depth = (p: string) => p.split('/').filter(Boolean).length;
  return [...mounts].sort((a, b) => depth(a.mountPath) - depth(b.mountPath));
}

function validate(spec: ContainerSpec): void {
  if (spec.command.length === 0) throw new Error(`${spec.name}: command is empty`);
  const seen = new Set<string>();
  for (const m of spec.volumeMounts) {
    if (!path.isAbsolute(m.mountPath) || path.normalize(m.mountPath) !== m.mountPath || m.mountPath === '/') {
      throw new Error(`${spec.name}: mountPath must be an absolute normalized path other than /, got ${m.mountPath}`);
    }
    if (seen.has(m.mountPath)) throw new Error(`${spec.name}: mountPath ${m.mountPath} is mounted twice`);
    seen.add(m.mountPath);
    if (m.volume.kind === 'files') {
      for (const key of Object.keys(m.volume.files)) {
        if (!/^[-._a-zA-Z0-9]+$/.test(key) || key === '.' || key === '..') throw new Error(`${spec.name}: invalid file key ${key}`);
      }
    } else if (!fs.statSync(m.volume.hostDir).isDirectory()) {
      throw new Error(`${spec.name}: hostDir ${m.volume.hostDir} is not a directory`);
    }
  }
  for (const name of Object.keys(spec.env ?? {})) {
    if (!/^[A-Za-z_][-._A-Za-z0-9]*$/.test(name)) throw new Error(`${spec.name}: invalid env name ${name}`);
  }
}

/**
 * Creates, on the host filesystem, the missing directories of every mount target that is not
 * nested in another mount (those are created inside their parent volume by the mount script).
 * The bind mounts themselves stay private to the container, but these empty directories (e.g.
 * /data) appear on the host; removeCreatedHostDirs() takes them away again in killAll().
 */
function hostMountTargets(mounts: VolumeMount[]): void {
  for (const m of mounts) {
    if (mounts.some((o) => o !== m && isUnder(m.mountPath, o.mountPath))) continue;
    const missing: string[] = [];
    for (let p = m.mountPath; !fs.existsSync(p); p = path.dirname(p)) missing.unshift(p);
    for (const p of missing) {
      registerCreated(p);
      fs.mkdirSync(p, { mode: 0o755 });
    }
  }
}

function registerCreated(dir: string): void {
  const entry = path.join(CREATED_DIRS, encodeURIComponent(dir));
  try {
    fs.mkdirSync(CREATED_DIRS, { recursive: true, mode: 0o700 });
    fs.writeFileSync(entry, '');
  } catch (e) {
    // Another process's cleanup may have removed the (empty) registry in between: retry once.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    fs.mkdirSync(CREATED_DIRS, { recursive: true, mode: 0o700 });
    fs.writeFileSync(entry, '');
  }
}

/** Every mount point of every mount namespace on the machine (to avoid rmdir of a live one). */
function mountPointsInUse(): Set<string> {
  const seenNs = new Set<string>();
  const points = new Set<string>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ns = fs.readlinkSync(`/proc/${entry}/ns/mnt`);
      if (seenNs.has(ns)) continue;
      seenNs.add(ns);
      for (const line of fs.readFileSync(`/proc/${entry}/mountinfo`, 'utf8').split('\n')) {
        const field = line.split(' ')[4];
        if (field) points.add(field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
      }
    } catch {
      // process gone
    }
  }
  return points;
}

/**
 * Removes the empty host directories hostMountTargets() created, deepest first. rmdir of a
 * directory that is a mount point in another mount namespace would silently detach that mount
 * from a container still running there (another test file's), so those are left for later.
 */
function removeCreatedHostDirs(): void {
  if (!fs.existsSync(CREATED_DIRS)) return;
  const inUse = [...mountPointsInUse()];
  const entries = fs.readdirSync(CREATED_DIRS).map((e) => ({ entry: path.join(CREATED_DIRS, e), dir: decodeURIComponent(e) }));
  for (const { entry, dir } of entries.sort((a, b) => b.dir.length - a.dir.length)) {
    if (inUse.some((p) => isUnder(p, dir))) continue;
    try {
      fs.rmdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') continue; // not empty: keep the entry
    }
    fs.rmSync(entry, { force: true });
  }
  try {
    fs.rmdirSync(CREATED_DIRS);
  } catch {
    // entries left, or another process just added one
  }
}

export class EmulatedContainer {
  /** stdout and stderr of every run, appended. */
  public readonly logPath: string;
  /** The current or last run; groupGone once its whole process group is confirmed dead (pgids get reused). */
  private child: { pid: number; exited: Promise<ExitInfo>; groupGone: boolean } | undefined;
  private running = false;
  /** The current run's 'files' volumes: host dir by mountPath. */
  private projected = new Map<string, { dir: string; mode?: number }>();
  private starts = 0;

  constructor(public readonly ns: string, public readonly spec: ContainerSpec, private readonly opts: ContainerOptions = {}) {
    validate(spec);
    this.logPath = path.join(scratchDir('logs', spec.name), 'container.log');
    containers.add(this);
  }

  /** PID of the container's main process (the spec's command) in the current or last run. */
  public get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Resolves when the main process of the current (or last) run exits. */
  public get exited(): Promise<ExitInfo> {
    if (this.child === undefined) throw new Error(`${this.spec.name} was never started`);
    return this.child.exited;
  }

  public isRunning(): boolean {
    return this.running;
  }

  /** How many times start() has been called. */
  public get startCount(): number {
    return this.starts;
  }

  public logs(): string {
    return fs.existsSync(this.logPath) ? fs.readFileSync(this.logPath, 'utf8') : '';
  }

  /**
   * Starts a run: fresh projected files, the same 'dir' volumes. Resolves once the spec's command
   * has been exec'd (mounts and uid switch done), or the run already ended (see exited, logs()).
   */
  public async start(): Promise<void> {
    if (this.running) throw new Error(`${this.spec.name} is already running (pid ${this.pid})`);
    const spec = this.spec;
    const mounts = sortedMounts(spec.volumeMounts);
    const runDir = scratchDir('runs', spec.name);
    const sources = mounts.map((m, i) => (m.volume.kind === 'dir' ? m.volume.hostDir : this.project(m.volume, path.join(runDir, `vol${i}`))));
    this.projected = new Map(mounts.flatMap((m, i) => (m.volume.kind === 'files' ? [[m.mountPath, { dir: sources[i], mode: m.volume.mode }] as const] : [])));
    for (const src of sources) {
      const shadow = mounts.find((m) => isUnder(src, m.mountPath));
      if (shadow !== undefined) throw new Error(`${spec.name}: volume source ${src} lies under mountPath ${shadow.mountPath}, which hides it`);
    }
    hostMountTargets(mounts);

    const script: string[] = ['set -e'];
    mounts.forEach((m, i) => script.push(`mkdir -p ${shq(m.mountPath)}`, `mount --bind ${shq(sources[i])} ${shq(m.mountPath)}`));
    // Read-only remounts last, so nested mount points could still be created beneath them.
    for (const m of mounts) if (m.readOnly || m.volume.kind === 'files') script.push(`mount -o remount,bind,ro ${shq(m.mountPath)}`);
    const groups = spec.fsGroup !== undefined ? [`--groups=${spec.fsGroup}`] : ['--clear-groups'];
    const env = [...BASE_ENV, ...Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`)];
    const exec = [
      'setpriv', `--reuid=${spec.runAsUser}`, `--regid=${spec.runAsGroup}`, ...groups,
      'env', '-i', '-C', spec.workingDir ?? this.opts.imageWorkingDir ?? '/', ...env,
      ...spec.command, ...(spec.args ?? []),
    ];
    script.push(`exec ${exec.map(shq).join(' ')}`);
    const shArgv = ['sh', '-c', script.join('\n')];
    const argv = ['ip', 'netns', 'exec', this.ns, 'unshare', '--mount', '--propagation', 'private', ...shArgv];
    // The command lines the process has until it execs the spec's command (each tool execs the next).
    const wrappers = new Set([argv, argv.slice(4), shArgv, exec, exec.slice(exec.indexOf('env'))].map((a) => a.join('\0')));

    this.starts++;
    fs.appendFileSync(this.logPath, `=== ${spec.name} start #${this.starts} at ${new Date().toISOString()} in ${this.ns} ===\n`);
    const log = fs.openSync(this.logPath, 'a');
    const child = spawn(argv[0], argv.slice(1), {
      detached: true, // own session and process group: pgid == pid
      stdio: ['ignore', log, log],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    fs.closeSync(log);
    const exited = new Promise<ExitInfo>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let pid: number;
    try {
      pid = await new Promise<number>((resolve, reject) => {
        child.once('spawn', () => resolve(child.pid as number));
        child.once('error', reject);
      });
    } catch (e) {
      fs.rmSync(runDir, { recursive: true, force: true });
      throw e;
    }
    track(pid, `container ${spec.name} in ${this.ns}`);
    this.running = true;
    const run = { pid, exited, groupGone: false };
    this.child = run;
    // Registered first, so this runs before anyone else awaiting `exited`.
    void exited.then(({ code, signal }) => {
      this.running = false;
      fs.appendFileSync(this.logPath, `=== ${spec.name} exited code=${code} signal=${signal} ===\n`);
      // The main process is gone: take down the rest, as a PID namespace teardown does.
      return killGroup(pid)
        .then(() => (run.groupGone = true))
        .catch(() => undefined)
        .finally(() => fs.rmSync(runDir, { recursive: true, force: true }));
    });
    await this.untilExeced(pid, wrappers);
  }

  /** Waits (at most 5 s) until the process has left the wrappers, i.e. mounts and setpriv are done. */
  private async untilExeced(pid: number, wrappers: Set<string>): Promise<void> {
    for (let i = 0; i < 500 && this.running; i++) {
      let cmdline: string;
      try {
        cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '');
      } catch {
        return; // exited: the caller sees it in exited / logs()
      }
      if (!wrappers.has(cmdline)) return;
      await sleep(10);
    }
    if (this.running) throw new Error(`${this.spec.name}: still in its setup (mounts, setpriv) after 5 s; log:\n${this.logs()}`);
  }

  /**
   * Runs a command inside the running container, as the kubelet runs an exec probe or a preStop
   * hook: in the container's mount and network namespaces, as its user and groups, with its env.
   * Bounded by timeoutMs (the whole process group is killed after it).
   */
  public async exec(argv: string[], timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
    const run0 = this.child;
    if (run0 === undefined || !this.running) throw new Error(`${this.spec.name} is not running`);
    const spec = this.spec;
    const groups = spec.fsGroup !== undefined ? [`--groups=${spec.fsGroup}`] : ['--clear-groups'];
    const env = [...BASE_ENV, ...Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`)];
    const r = await run('nsenter', [`--target=${run0.pid}`, '--mount', '--net',
      'setpriv', `--reuid=${spec.runAsUser}`, `--regid=${spec.runAsGroup}`, ...groups,
      'env', '-i', '-C', spec.workingDir ?? this.opts.imageWorkingDir ?? '/', ...env, ...argv], { timeoutMs });
    return { code: r.code, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut };
  }

  /** Sends a signal to the whole process group without waiting (e.g. SIGSTOP / SIGCONT to freeze). */
  public signal(signal: NodeJS.Signals): void {
    if (this.child !== undefined && !this.child.groupGone) signalGroup(this.child.pid, signal);
  }

  /** Signals the whole process group, then waits (at most 5 s) until every member is gone. */
  public async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const run = this.child;
    if (run === undefined || run.groupGone) return;
    const pgid = run.pid;
    signalGroup(pgid, signal);
    if (signal !== 'SIGKILL') signalGroup(pgid, 'SIGCONT'); // a stopped group cannot act on it
    const deadline = Date.now() + 5000;
    for (let i = 0; i < 200 && groupMembers(pgid).length > 0 && Date.now() < deadline; i++) await sleep(25);
    if (groupMembers(pgid).length > 0) throw new Error(`${this.spec.name}: process group ${pgid} survived ${signal} for 5 s`);
    await killGroup(pgid); // untracks it
    run.groupGone = true;
    await this.settle();
  }

  /**
   * Graceful stop like the kubelet: SIGTERM to the main process only, SIGKILL to the whole group
   * after the grace period.
   */
  public async stop(graceMs = this.opts.stopGraceMs ?? 10_000): Promise<ExitInfo> {
    if (this.child === undefined) throw new Error(`${this.spec.name} was never started`);
    const run = this.child;
    const { pid, exited } = run;
    if (this.running) {
      try {
        process.kill(pid, 'SIGTERM');
        process.kill(pid, 'SIGCONT');
      } catch {
        // already gone
      }
      await within(exited, graceMs);
    }
    if (!run.groupGone) await killGroup(pid);
    run.groupGone = true;
    await this.settle();
    return exited;
  }

  /**
   * Deletion of the pod as the kubelet does it: the preStop hook `preStop` (when given) run by exec
   * and bounded by the grace period, then SIGTERM, and SIGKILL when the rest of the grace period
   * (at least `minKillAfterMs`) has passed. Times in ms; stopMs is from SIGTERM to the exit.
   */
  public async terminate(preStop: string[] | undefined, graceMs: number, minKillAfterMs = 1): Promise<{ preStopMs: number; preStopCode: number | null; preStopOutput: string; stopMs: number; exit: ExitInfo }> {
    const t0 = Date.now();
    let preStopCode: number | null = 0;
    let preStopOutput = '';
    if (preStop) {
      const r = await this.exec(preStop, graceMs);
      preStopCode = r.code;
      preStopOutput = `${r.stdout}${r.stderr}`;
    }
    const termAt = Date.now();
    const exitedAt = this.exited.then(() => Date.now());
    const exit = await this.stop(Math.max(minKillAfterMs, graceMs - (termAt - t0)));
    return { preStopMs: termAt - t0, preStopCode, preStopOutput, stopMs: (await exitedAt) - termAt, exit };
  }

  /** Waits (bounded) for Node to reap the main process so isRunning() and exited are final. */
  private async settle(): Promise<void> {
    if (this.child === undefined) return;
    await within(this.child.exited, 2000);
  }

  /**
   * Changes files of a running 'files' volume, as the kubelet does when its ConfigMap or Secret
   * changes: every file is written aside and renamed into place, so a reader sees old or new.
   */
  public updateFiles(mountPath: string, files: Record<string, string>): void {
    const projected = this.projected.get(mountPath);
    if (!projected) throw new Error(`${this.spec.name}: no files volume at ${mountPath} in the current run`);
    const staged = Object.entries(files).map(([key, content]) => {
      if (!/^[-._a-zA-Z0-9]+$/.test(key)) throw new Error(`invalid file key ${key}`);
      const tmp = path.join(projected.dir, `..${key}.new`);
      this.writeProjected(tmp, content, projected.mode);
      return [tmp, path.join(projected.dir, key)] as const;
    });
    for (const [tmp, file] of staged) fs.renameSync(tmp, file);
  }

  /**
   * One projected file: root-owned (group fsGroup when set). 0644 is the kubelet's defaultMode (a
   * `cp` of the file stays writable for its new owner); it adds group read when it applies fsGroup.
   */
  private writeProjected(file: string, content: string, mode?: number): void {
    fs.writeFileSync(file, content);
    fs.chownSync(file, 0, this.spec.fsGroup ?? 0);
    fs.chmodSync(file, (mode ?? 0o644) | (this.spec.fsGroup !== undefined ? 0o440 : 0));
  }

  /** Writes a 'files' volume into dir, each file as writeProjected makes it. */
  private project(volume: { files: Record<string, string>; mode?: number }, dir: string): string {
    const gid = this.spec.fsGroup ?? 0;
    fs.mkdirSync(dir, { mode: 0o755 });
    for (const [key, content] of Object.entries(volume.files)) this.writeProjected(path.join(dir, key), content, volume.mode);
    fs.chownSync(dir, 0, gid);
    return dir;
  }
}

/**
 * Kills every container (whole process groups, and anything else tracked), then removes the
 * scratch root (volumes, logs) unless LIVE_KEEP=1, and the host mount-target dirs it created.
 */
export async function killAll(): Promise<void> {
  const errors: string[] = [];
  for (const c of containers) {
    try {
      await c.kill();
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  containers.clear();
  try {
    await killAllTracked();
  } catch (e) {
    errors.push((e as Error).message);
  }
  removeScratch();
  if (errors.length > 0) throw new Error(errors.join('\n'));
}

function removeScratch(): void {
  removeCreatedHostDirs();
  if (tempRoot === undefined) return;
  if (process.env.LIVE_KEEP === '1') {
    process.stderr.write(`live harness: kept ${tempRoot} (LIVE_KEEP=1)\n`);
  } else {
    fs.rmSync(tempRoot, { recursive: true, force: true });
  }
  tempRoot = undefined;
}

/** The last lines of every container's log, for failure messages. */
export function logsSummary(lines = 40): string {
  return [...containers]
    .map((c) => `--- ${c.spec.name} (${c.ns}) ---\n${c.logs().split('\n').slice(-lines).join('\n')}`)
    .join('\n');
}

// proc.ts SIGKILLs the tracked groups on exit (its handler is registered first); then tidy up.
process.on('exit', () => {
  try {
    removeScratch();
  } catch {
    // best effort
  }
});

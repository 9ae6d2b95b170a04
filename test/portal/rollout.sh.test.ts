// Portal rollouts (issue 11): a stopping portal keeps serving while the Service drops it (preStop),
// then closes its listeners, gives open connections a bounded moment and stops, within about a
// second of SIGTERM. The entrypoint is run here under each POSIX shell on this machine, with a fake
// HAProxy that records the signals it gets, so the supervision itself is tested, not only its text.
import { execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  DataStorage, EncryptedStorageClass, HaproxyPortal, HaproxyPortalProps, PORTAL_PATHS, PortalModel, SentinelRedis,
  portalTerminationGraceSeconds, renderPortalEntrypoint, renderPortalPreStop,
} from '../../lib';
import { CM, DEPLOY, emptyStack, synth, Synthed } from '../helpers';
import { Construct } from 'constructs';

// The entrypoint runs below take a few seconds each, more on a busy machine.
jest.setTimeout(30_000);

function redis(scope: Construct): SentinelRedis {
  const sc = EncryptedStorageClass.fromExisting(scope, 'Sc', { storageClassName: 'enc', vouchedBy: 'test' });
  return new SentinelRedis(scope, 'Cache', { namespace: 'data', storage: DataStorage.encrypted(sc, '5Gi') });
}

function build(over: Partial<HaproxyPortalProps> = {}): { out: Synthed; portal: HaproxyPortal } {
  let portal!: HaproxyPortal;
  const out = synth((s) => {
    portal = new HaproxyPortal(s, 'Portal', { backend: redis(s), ...over });
  });
  return { out, portal };
}

function podSpec(out: Synthed): any {
  return out.named(DEPLOY, 'cache-portal').spec.template.spec;
}

describe('portal rollouts in the plan', () => {
  const { out, portal } = build();

  test('a preStop hook keeps the portal serving for drainSeconds (5) while the Service drops it', () => {
    const c = podSpec(out).container[0];
    expect(c.lifecycle).toEqual({ pre_stop: [{ exec: { command: ['sh', '/etc/redis-topologies/config/portal-prestop.sh'] } }] });
    const hook = out.renderedData(CM, 'cache-portal-config')['portal-prestop.sh'];
    expect(hook).toBe(renderPortalPreStop(portal.model));
    expect(hook).toContain('DRAIN_SECONDS=5\n');
    expect(hook).toMatch(/\nsleep "\$DRAIN_SECONDS"\n$/);
    expect(portal.model).toMatchObject({ drainSeconds: 5, stopSeconds: 1 });
  });

  test('the grace period covers the preStop drain, the bounded stop after SIGTERM and a margin', () => {
    const grace = Number(podSpec(out).termination_grace_period_seconds);
    expect(grace).toBe(portalTerminationGraceSeconds(portal.model));
    expect(grace).toBeGreaterThanOrEqual(portal.model.drainSeconds + portal.model.stopSeconds + 3);
    const long = build({ drainSeconds: 40 });
    expect(Number(podSpec(long.out).termination_grace_period_seconds)).toBeGreaterThanOrEqual(40 + 1 + 3);
    expect(long.out.renderedData(CM, 'cache-portal-config')['portal-prestop.sh']).toContain('DRAIN_SECONDS=40\n');
  });

  test('drainSeconds 0: no hook, no hook script', () => {
    const none = build({ drainSeconds: 0 });
    expect(podSpec(none.out).container[0].lifecycle).toBeUndefined();
    expect(Object.keys(none.out.renderedData(CM, 'cache-portal-config')).sort()).toEqual(['haproxy.cfg', 'portal-entrypoint.sh']);
  });

  test('drainSeconds is an integer from 0 to 300', () => {
    for (const bad of [-1, 301, 2.5]) {
      const s = emptyStack();
      expect(() => new HaproxyPortal(s, 'Portal', { backend: redis(s), drainSeconds: bad }))
        .toThrow(new RegExp(`invalid prop "drainSeconds" = ${bad}; allowed: an integer from 0 to 300`));
    }
  });

  test('the entrypoint and the hook are POSIX sh that parses, with no control characters but newlines and tabs', () => {
    const data = out.renderedData(CM, 'cache-portal-config');
    for (const name of ['portal-entrypoint.sh', 'portal-prestop.sh']) {
      expect({ name, control: data[name].match(/[\u0000-\u0008\u000b-\u001f\u007f]/g) ?? [] }).toEqual({ name, control: [] });
      for (const [bin, args] of SHELLS) {
        const r = spawnSync(bin, [...args, '-n'], { input: data[name], encoding: 'utf8' });
        expect({ name, bin, status: r.status, stderr: r.stderr }).toEqual({ name, bin, status: 0, stderr: '' });
      }
    }
  });

  test('the entrypoint supervises HAProxy instead of becoming it', () => {
    const script = renderPortalEntrypoint(portal.model);
    // exec would make the certificate watcher a child of HAProxy's master, which waits for it after SIGTERM.
    expect(script).not.toMatch(/exec\s+haproxy/);
    expect(script).toContain('\nhaproxy -W -db -f /etc/redis-topologies/config/haproxy.cfg &\nhap=$!\n');
    expect(script).toContain("trap 'stop_asked=1' TERM INT");
    // Soft stop first, the hard stop only after STOP_SECONDS.
    const soft = script.indexOf('kill -USR1 "$hap"');
    const timer = script.indexOf('nap "$STOP_SECONDS"');
    const hard = script.indexOf('kill -TERM "$hap"');
    expect([soft > 0, soft < timer, timer < hard]).toEqual([true, true, true]);
    expect(script).toContain('STOP_SECONDS=1\n');
    expect(script).toContain('kill -USR2 "$hap"');
    expect(script).toMatch(/exit "\$status"\n$/);
  });
});

// --- the entrypoint, run ------------------------------------------------------------------------

/** POSIX shells here: dash (Debian's sh, the haproxy image's), busybox ash, bash in POSIX mode. */
const SHELLS: Array<[string, string[]]> = ([['dash', []], ['busybox', ['sh']], ['bash', ['--posix']]] as Array<[string, string[]]>)
  .filter(([bin]) => {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });

/**
 * A stand-in for HAProxy's master: logs each signal; FAKE_MODE says how it ends. Bounded by itself:
 * it exits when its run's directory is gone or after about 60 s, so even a run whose test process was
 * killed before its cleanup leaves nothing looping.
 */
const FAKE_HAPROXY = `#!/bin/sh
log() { echo "$1" >> "$FAKE_LOG"; }
run_dir=\${FAKE_LOG%/*}
log "start $*"
soft=""
trap 'log USR1; soft=1' USR1
trap 'log USR2' USR2
trap 'log TERM; exit 7' TERM
n=0
while :; do
  sleep 0.05
  n=$((n + 1))
  [ -d "$run_dir" ] && [ "$n" -lt 1200 ] || exit 9
  # drains: its last connection closes right after the soft stop.
  [ "$FAKE_MODE" = drains ] && [ -n "$soft" ] && exit 0
  # crashes: exits by itself.
  [ "$FAKE_MODE" = crashes ] && [ "$n" -ge 6 ] && exit 3
done
`;

interface Run {
  dir: string;
  pid: number;
  exited: Promise<{ code: number | null; at: number }>;
  /** The signals the fake HAProxy got, after its start line. */
  log: () => string[];
  stderr: () => string;
}

/** Runs the rendered entrypoint under `shell` with the fake HAProxy; kills whatever is left afterwards. */
async function withRun(shell: [string, string[]], mode: 'holds' | 'drains' | 'crashes', model: PortalModel, body: (run: Run) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-entrypoint-'));
  let pid: number | undefined;
  try {
    for (const d of ['bin', 'etc/config', 'etc/auth', 'etc/tls', 'run']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    fs.writeFileSync(path.join(dir, 'bin/haproxy'), FAKE_HAPROXY, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'etc/auth', model.passwordKey), 'pw');
    fs.writeFileSync(path.join(dir, 'etc/tls/tls.crt'), 'CERT 1\n');
    fs.writeFileSync(path.join(dir, 'etc/tls/tls.key'), 'KEY 1\n');
    const script = renderPortalEntrypoint(model).split('/etc/redis-topologies').join(path.join(dir, 'etc')).split(PORTAL_PATHS.run).join(path.join(dir, 'run'));
    fs.writeFileSync(path.join(dir, 'etc/config/portal-entrypoint.sh'), script);
    const child = spawn(shell[0], [...shell[1], path.join(dir, 'etc/config/portal-entrypoint.sh')], {
      detached: true, // its own process group, to find leftovers
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: `${path.join(dir, 'bin')}:/usr/local/bin:/usr/bin:/bin`, FAKE_LOG: path.join(dir, 'fake.log'), FAKE_MODE: mode },
    });
    pid = child.pid!;
    runningGroups.add(pid);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })));
    const logFile = path.join(dir, 'fake.log');
    // Complete lines only.
    const lines = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(0, -1) : []);
    await until('HAProxy started', () => lines().length > 0 || !isAlive(pid!));
    expect(lines()[0]).toMatch(/^start -W -db -f \S+\/config\/haproxy\.cfg$/);
    await body({ dir, pid, exited, log: () => lines().slice(1), stderr: () => stderr });
    // Nothing of the run is left: no watcher, no timer, no sleep.
    await until('the process group to be empty', () => groupMembers(pid!).length === 0, 10_000).catch(() => undefined);
    expect(groupMembers(pid).map(describeProcess)).toEqual([]);
  } finally {
    if (pid !== undefined) killGroup(pid);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Process groups of runs not cleaned up yet: killed after the file, and when this process exits. */
const runningGroups = new Set<number>();

function killGroup(pgid: number): void {
  runningGroups.delete(pgid);
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // gone
  }
}

const killAllGroups = () => [...runningGroups].forEach(killGroup);
afterAll(killAllGroups);
process.once('exit', killAllGroups);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** `<pid> <command line>`, for a failure message. */
function describeProcess(pid: number): string {
  try {
    return `${pid} ${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()}`;
  } catch {
    return `${pid} (gone)`;
  }
}

/** Live members of process group `pgid` (zombies excluded). */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (f[0] !== 'Z' && Number(f[2]) === pgid) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

const MODEL = build().portal.model;

describe.each(SHELLS)('the portal entrypoint under %s', (bin, args) => {
  const shell: [string, string[]] = [bin, args];

  test.concurrent('SIGTERM: soft stop at once, hard stop after stopSeconds, exit with HAProxy\'s status, nothing left', () => withRun(shell, 'holds', MODEL, async (run) => {
    const termAt = Date.now();
    process.kill(run.pid, 'SIGTERM');
    const { code, at } = await run.exited;
    expect({ signals: run.log(), code }).toEqual({ signals: ['USR1', 'TERM'], code: 7 });
    // stopSeconds (1) for the open connections, then out: never the kubelet's SIGKILL.
    expect(at - termAt).toBeGreaterThanOrEqual(900);
    expect(at - termAt).toBeLessThan(10_000);
    expect(run.stderr()).toContain('portal: stopping: listeners closed, open connections get 1 s');
  }));

  test.concurrent('SIGTERM while every connection ends by itself: out at once, no hard stop', () => withRun(shell, 'drains', MODEL, async (run) => {
    const termAt = Date.now();
    process.kill(run.pid, 'SIGTERM');
    const { code, at } = await run.exited;
    expect({ signals: run.log(), code }).toEqual({ signals: ['USR1'], code: 0 });
    expect(at - termAt).toBeLessThan(10_000);
  }));

  test.concurrent('HAProxy exits by itself: the container exits with its status, the watcher with it', () => withRun(shell, 'crashes', MODEL, async (run) => {
    const { code } = await run.exited;
    expect({ signals: run.log(), code }).toEqual({ signals: [], code: 3 });
  }));

  test.concurrent('a renewed certificate: the PEM is rebuilt and HAProxy reloaded (SIGUSR2); SIGTERM still stops it', () => withRun(shell, 'holds', { ...MODEL, certificateReloadSeconds: 1 }, async (run) => {
    expect(fs.readFileSync(path.join(run.dir, 'run/portal.pem'), 'utf8')).toBe('CERT 1\nKEY 1\n');
    fs.writeFileSync(path.join(run.dir, 'etc/tls/tls.crt'), 'CERT 2\n');
    fs.writeFileSync(path.join(run.dir, 'etc/tls/tls.key'), 'KEY 2\n');
    await until('the reload', () => run.log().includes('USR2'), 10_000);
    expect(fs.readFileSync(path.join(run.dir, 'run/portal.pem'), 'utf8')).toBe('CERT 2\nKEY 2\n');
    process.kill(run.pid, 'SIGTERM');
    const { code } = await run.exited;
    expect({ signals: run.log(), code }).toEqual({ signals: ['USR2', 'USR1', 'TERM'], code: 7 });
  }));

  test.concurrent('the preStop hook sleeps drainSeconds and notes it in the entrypoint\'s log', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-prestop-'));
    const log = path.join(dir, 'main.log');
    // Stands in for the entrypoint: the pid file names a process whose stderr is `log`.
    const logFd = fs.openSync(log, 'a');
    const main = spawn('sleep', ['10'], { stdio: ['ignore', 'ignore', logFd] });
    fs.closeSync(logFd);
    try {
      fs.writeFileSync(path.join(dir, 'portal.pid'), `${main.pid}\n`);
      const hook = renderPortalPreStop({ ...MODEL, drainSeconds: 1 }).split(PORTAL_PATHS.run).join(dir);
      const t0 = Date.now();
      const hookStderr = await new Promise<string>((resolve, reject) => {
        const h = spawn(shell[0], [...shell[1], '-c', hook], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        h.stderr!.on('data', (d: Buffer) => (err += d.toString()));
        h.once('exit', (code) => (code === 0 ? resolve(err) : reject(new Error(`hook exited ${code}: ${err}`))));
      });
      const took = Date.now() - t0;
      expect(took).toBeGreaterThanOrEqual(950);
      const note = 'portal: preStop: serving 1 s more while the Service drops this pod\n';
      expect({ hook: hookStderr, main: fs.readFileSync(log, 'utf8') }).toEqual({ hook: note, main: note });
    } finally {
      main.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

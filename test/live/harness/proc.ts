/**
 * Process plumbing shared by the live-test harness: bounded command runs, process-group
 * tracking and killing, and a synchronous last-resort kill on process exit.
 *
 * Every long-lived process the harness starts is spawned `detached` (its own session and process
 * group, pgid == pid) and tracked here until its whole group is confirmed gone.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits for a promise at most ms; 'timeout' if it did not settle. Leaves no timer behind. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** POSIX sh single-quoting: safe for any string, including quotes and newlines. */
export function shq(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** pgid -> label, for every group that may still have live members. */
const tracked = new Map<number, string>();

export function track(pgid: number, label: string): void {
  tracked.set(pgid, label);
}

/** Live (non-zombie) members of a process group, found by scanning /proc. */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while scanning
    }
    // Fields after "(comm)": state ppid pgrp ...
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] !== 'Z' && fields[0] !== 'X' && Number(fields[2]) === pgid) members.push(Number(entry));
  }
  return members;
}

/** Sends a signal to a whole process group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

/**
 * SIGKILLs a process group and waits (polling /proc, bounded by timeoutMs) until it has no live
 * member; then stops tracking it. Throws if members survive the bound.
 */
export async function killGroup(pgid: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let left: number[] = [];
  for (let i = 0; i <= Math.ceil(timeoutMs / 25); i++) {
    signalGroup(pgid, 'SIGKILL');
    left = groupMembers(pgid);
    if (left.length === 0) {
      tracked.delete(pgid);
      return;
    }
    if (Date.now() >= deadline) break;
    await sleep(25);
  }
  throw new Error(`process group ${pgid} (${tracked.get(pgid) ?? '?'}) still has members ${left.join(',')} after ${timeoutMs} ms`);
}

/** Kills every tracked group and waits for each (bounded); collects failures into one error. */
export async function killAllTracked(): Promise<void> {
  const failures: string[] = [];
  for (const pgid of [...tracked.keys()]) {
    try {
      await killGroup(pgid);
    } catch (e) {
      failures.push((e as Error).message);
    }
  }
  if (failures.length > 0) throw new Error(failures.join('\n'));
}

// Last resort when the test process exits without cleanup (crash, jest bail): no waiting possible.
process.on('exit', () => {
  for (const pgid of tracked.keys()) {
    try {
      signalGroup(pgid, 'SIGKILL');
    } catch {
      // best effort
    }
  }
});

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  timeoutMs?: number;
  /** The child's whole environment (default: just PATH). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs a command to completion in its own process group, killed (whole group, SIGKILL) when it
 * outlives timeoutMs (default 10 s). Never rejects for a non-zero exit: see runOk.
 */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const pid = child.pid;
    if (pid !== undefined) track(pid, `${cmd} ${args.join(' ')}`.slice(0, 200));
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) signalGroup(pid, 'SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      if (pid !== undefined) tracked.delete(pid);
      reject(e);
    });
    // 'close' fires after the stdio pipes are drained, i.e. once every holder of them is gone.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (pid !== undefined) {
        signalGroup(pid, 'SIGKILL'); // leftovers that closed their stdio
        tracked.delete(pid);
      }
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), timedOut });
    });
  });
}

/** run(), throwing with the command's stderr unless it exits 0. */
export async function runOk(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const why = r.timedOut ? 'timed out' : `exited ${r.code ?? r.signal}`;
    throw new Error(`${cmd} ${args.join(' ')} ${why}: ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return r.stdout;
}

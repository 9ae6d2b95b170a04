/**
 * startWriter: runs writer.js (a bounded SET loop against the current primary) inside a client
 * namespace and collects its events, to check acknowledged writes survive and to time outages.
 */
import { spawn } from 'child_process';
import * as path from 'path';
import * as readline from 'readline';
import { killGroup, sleep, track, within } from './proc';

export interface WriterConfig {
  mode: 'sentinel' | 'direct' | 'cluster';
  /** Cluster mode (cluster-writer.js, ioredis Cluster): the seed nodes. */
  nodes?: Array<{ host: string; port: number }>;
  sentinels?: Array<{ host: string; port: number }>;
  masterName?: string;
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  sentinelUsername?: string;
  sentinelPassword?: string;
  keyPrefix: string;
  /** Hard bound on SET attempts. */
  maxWrites: number;
  /** Hard bound on run time. */
  maxSeconds: number;
  /** Pause after each acknowledged write (default 10 ms). */
  intervalMs?: number;
  /** Pause before rediscovering after an error (default max(intervalMs, 100)). */
  retryMs?: number;
  tls?: { caFile: string; certFile?: string; keyFile?: string; servername?: string };
}

export interface AckEvent {
  ev: 'ack';
  seq: number;
  /** Epoch ms. */
  t: number;
  addr: string;
}

export interface ErrEvent {
  ev: 'err';
  /** null when no write was attempted (discovery / connect failed). */
  seq: number | null;
  t: number;
  stage: 'connect' | 'write';
  addr?: string;
  msg: string;
}

export interface WriterSummary {
  /** Acknowledged sequence numbers: keys `<keyPrefix>:<seq>` that must exist. */
  acked: number[];
  attempts: number;
  /** maxWrites, maxSeconds, SIGTERM, ... or why there was no done line (killed, crash). */
  reason: string;
  stderr: string;
}

// In bin/ so that `import './writer'` never resolves to it (jest tries .js before .ts).
const WRITER_JS = path.join(__dirname, 'bin', 'writer.js');
/** The same events from ioredis's Cluster client, which follows MOVED and ASK. */
const CLUSTER_WRITER_JS = path.join(__dirname, 'bin', 'cluster-writer.js');

export class Writer {
  private readonly acks: AckEvent[] = [];
  private readonly errs: ErrEvent[] = [];
  private stderrText = '';
  private exitedFlag = false;
  /** Resolves when the writer process has exited, with its summary. */
  public readonly done: Promise<WriterSummary>;

  constructor(public readonly pid: number, stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream, exit: Promise<number | null>) {
    stderr.on('data', (d: Buffer) => (this.stderrText += d.toString()));
    let final: { acked: number[]; attempts: number; reason: string } | undefined;
    const lines = readline.createInterface({ input: stdout });
    lines.on('line', (line) => {
      let ev: { ev?: string };
      try {
        ev = JSON.parse(line) as { ev?: string };
      } catch {
        this.stderrText += `unparsable stdout line: ${line}\n`;
        return;
      }
      if (ev.ev === 'ack') this.acks.push(ev as AckEvent);
      else if (ev.ev === 'err') this.errs.push(ev as ErrEvent);
      else if (ev.ev === 'done') final = ev as unknown as typeof final;
    });
    const linesClosed = new Promise<void>((resolve) => lines.once('close', () => resolve()));
    this.done = exit.then(async (code) => {
      await within(linesClosed, 1000);
      this.exitedFlag = true;
      if (final !== undefined) return { acked: final.acked, attempts: final.attempts, reason: final.reason, stderr: this.stderrText };
      // No done line (SIGKILLed or crashed): what was seen acknowledged is still acknowledged.
      return { acked: this.acked(), attempts: this.acks.length + this.errs.filter((e) => e.seq !== null).length, reason: `no done line (exit ${code})`, stderr: this.stderrText };
    });
  }

  public acked(): number[] {
    return this.acks.map((a) => a.seq);
  }

  public ackEvents(): readonly AckEvent[] {
    return this.acks;
  }

  public errors(): readonly ErrEvent[] {
    return this.errs;
  }

  public isRunning(): boolean {
    return !this.exitedFlag;
  }

  /** The first acknowledgement at or after t (epoch ms): when writes resumed. */
  public firstAckAfter(t: number): AckEvent | undefined {
    return this.acks.find((a) => a.t >= t);
  }

  /** The last acknowledgement at or after t (epoch ms), i.e. the latest one if any came after t. */
  public lastAckAfter(t: number): AckEvent | undefined {
    const last = this.acks[this.acks.length - 1];
    return last !== undefined && last.t >= t ? last : undefined;
  }

  /** The last acknowledgement before t (epoch ms): when writes stopped. */
  public lastAckBefore(t: number): AckEvent | undefined {
    for (let i = this.acks.length - 1; i >= 0; i--) if (this.acks[i].t < t) return this.acks[i];
    return undefined;
  }

  /** Waits until at least n writes are acknowledged (bounded by timeoutMs); throws with the last error otherwise. */
  public async waitForAcks(n: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.acks.length < n) {
      if (Date.now() >= deadline || this.exitedFlag) {
        const last = this.errs[this.errs.length - 1];
        throw new Error(`writer has ${this.acks.length}/${n} acks${this.exitedFlag ? ' and exited' : ` after ${timeoutMs} ms`}; last error: ${last?.msg ?? 'none'}; stderr: ${this.stderrText.trim()}`);
      }
      await sleep(20);
    }
  }

  /** SIGTERM, then the done line (at most 5 s), else SIGKILL; returns the summary. */
  public async stop(): Promise<WriterSummary> {
    if (!this.exitedFlag) {
      try {
        process.kill(this.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      // done resolves only after the exit handler has confirmed the whole group gone.
      if ((await within(this.done, 5000)) === 'timeout') await killGroup(this.pid);
    }
    return this.done;
  }
}

/** Starts writer.js (cluster-writer.js in cluster mode) in a namespace (own process group, tracked for cleanup). */
export function startWriter(ns: string, config: WriterConfig): Writer {
  const script = config.mode === 'cluster' ? CLUSTER_WRITER_JS : WRITER_JS;
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, script, JSON.stringify(config)], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' },
  });
  if (child.pid === undefined) throw new Error('could not spawn the writer');
  track(child.pid, `writer in ${ns}`);
  const pid = child.pid;
  const exit = new Promise<number | null>((resolve) => {
    // Once the writer is gone, make sure its group is too (and untracked).
    child.once('exit', (code) => void killGroup(pid).catch(() => undefined).finally(() => resolve(code)));
    child.once('error', () => resolve(null));
  });
  return new Writer(pid, child.stdout, child.stderr, exit);
}

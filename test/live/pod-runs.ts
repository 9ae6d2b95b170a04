/**
 * Running a plan's containers to completion, as the kubelet runs a Job's containers and any pod's
 * init containers: bounded in time, killed by PID when the bound passes.
 */
import { EmulatedContainer } from './harness/pod';
import { PlanContainer } from './plan-pods';

export interface CompletedRun {
  /** Exit code; null when the run was killed at its time bound. */
  code: number | null;
  log: string;
}

/** Starts `c` and waits for it to exit, killing it after `timeoutMs`. */
export async function runToCompletion(c: EmulatedContainer, timeoutMs: number): Promise<CompletedRun> {
  await c.start();
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([c.exited, new Promise<undefined>((r) => { timer = setTimeout(() => r(undefined), timeoutMs); })]);
  clearTimeout(timer);
  if (exit === undefined) {
    await c.kill('SIGKILL');
    return { code: null, log: c.logs() };
  }
  return { code: exit.code, log: c.logs() };
}

/** A pod's init container that did not succeed: the pod's containers never start. */
export class InitContainerFailed extends Error {
  constructor(public readonly container: string, public readonly run: CompletedRun) {
    super(`init container ${container} ${run.code === null ? 'timed out' : `exited with ${run.code}`}:\n${run.log}`);
  }
}

/** Runs a pod's init containers in order in network namespace `ns`; throws InitContainerFailed at the first that fails. */
export async function runInitContainers(ns: string, specs: PlanContainer[], timeoutMs = 120_000): Promise<CompletedRun[]> {
  const runs: CompletedRun[] = [];
  for (const spec of specs) {
    const run = await runToCompletion(new EmulatedContainer(ns, spec), timeoutMs);
    runs.push(run);
    if (run.code !== 0) throw new InitContainerFailed(spec.name, run);
  }
  return runs;
}

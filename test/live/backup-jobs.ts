/**
 * Runs a backup CronJob's Job as the plan defines it: one pod in its own network namespace, the
 * snapshot init container to completion, then the upload container to completion, sharing the
 * pod's emptyDirs. Shared by the backup live tests.
 */
import { PodNetwork } from './harness/netns';
import { EmulatedContainer } from './harness/pod';
import { ClaimStore, Plan } from './plan-pods';
import { CompletedRun, runToCompletion } from './pod-runs';
import { ObjectStore } from './harness/object-store';

export interface BackupJobRun {
  /** The snapshot init container's run. */
  snapshot: CompletedRun;
  /** The upload container's run; undefined when the snapshot failed (the pod never gets there). */
  upload?: CompletedRun;
  /** The backup's id and shard directory, read from the upload's log. */
  id?: string;
}

let runs = 0;

/**
 * One Job of CronJob `cronJob`: its pod `<cronJob>-<n>` joins `net`, the containers run in order.
 * `claims`: the topology's, when the Job mounts a member's claim (a Kvrocks backup).
 */
export async function runBackupJob(plan: Plan, net: PodNetwork, cronJob: string, o: { namespace: string; password: string; secrets: Record<string, Record<string, string>>; timeoutMs?: number; claims?: ClaimStore }): Promise<BackupJobRun> {
  const pod = `${cronJob}-run${++runs}`;
  const host = await net.addPod(pod, []);
  const opts = { namespace: o.namespace, claims: o.claims ?? new ClaimStore(), secretValues: { password: o.password }, externalSecrets: o.secrets, emptyDirs: new Map<string, string>() };
  const [init] = plan.podContainers(cronJob, pod, { ...opts, init: true });
  const [main] = plan.podContainers(cronJob, pod, opts);
  const snapshot = await runToCompletion(new EmulatedContainer(host.ns, init), o.timeoutMs ?? 120_000);
  if (snapshot.code !== 0) return { snapshot };
  const upload = await runToCompletion(new EmulatedContainer(host.ns, main), o.timeoutMs ?? 120_000);
  const id = /backup ([0-9]{8}T[0-9]{6}Z) stored at/.exec(upload.log)?.[1];
  return { snapshot, upload, id };
}

/** The Secret the live stacks name for the store's keys (StorageCredentials.fromSecret). */
export const STORE_SECRET = 'backup-store';

/** That Secret's data for `store`. */
export function storeSecret(store: Pick<ObjectStore, 'accessKeyId' | 'secretAccessKey'>): Record<string, Record<string, string>> {
  return { [STORE_SECRET]: { 'access-key-id': store.accessKeyId, 'secret-access-key': store.secretAccessKey } };
}
